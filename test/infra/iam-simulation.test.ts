import { runSimulation, type Simulation } from '@cloud-copilot/iam-simulate';
import { Template } from 'aws-cdk-lib/assertions';
import { HTTP_AWS_CALLS, ADAPTER_ACTIONS, type AwsCall } from '../../lambdas/handlers/aws-calls.js';
import { IOT_AWS_CALLS } from '../../lambdas/handlers/iot/aws-calls.js';
import { SCHEDULED_AWS_CALLS } from '../../lambdas/handlers/scheduled/aws-calls.js';
import { WORKFLOW_AWS_CALLS } from '../../lambdas/handlers/workflow/aws-calls.js';
import { EVENT_AWS_CALLS } from '../../lambdas/handlers/events/aws-calls.js';
import { WORKFLOW_ENV } from '../../lambdas/contracts/workflows.js';
import { EdgeFleetStack } from '../../lib/edgefleet-stack.js';
import { testApp } from './helpers.js';
import { CONSOLE_DEPLOYMENT_CALLS, SERVICE_ROLE_CALLS, serviceRoleKey } from '../../lib/service-role-calls.js';
import { TemplateResolver, type Environment } from './template-resolver.js';

/**
 * Every AWS call every function makes is allowed by its synthesized role, and every action a
 * role grants is used by some call — evaluated with @cloud-copilot/iam-simulate against AWS's
 * service authorization data (resource types per action), for a stack synthesized with an
 * account and region as `cdk deploy` does.
 */
const ENV: Environment = { account: '123456789012', region: 'eu-west-1', partition: 'aws' };
const FUNCTION_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  ...HTTP_AWS_CALLS, ...IOT_AWS_CALLS, ...WORKFLOW_AWS_CALLS, ...SCHEDULED_AWS_CALLS, ...EVENT_AWS_CALLS,
};

const stack = new EdgeFleetStack(testApp(), 'EdgeFleet', { env: ENV });
const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, any> };
const resolver = new TemplateResolver(template, ENV);
const resources = Object.entries(template.Resources);
/** The console's BucketDeployment handler (aws-cdk-lib's): proven on its own below. */
const deploymentResources = resources.filter(([, r]) => r.Type === 'Custom::CDKBucketDeployment');
const deploymentFunctionIds = new Set(deploymentResources.map(([, r]) => r.Properties.ServiceToken['Fn::GetAtt'][0] as string));
const functions = resources.filter(([id, r]) => r.Type === 'AWS::Lambda::Function' && !deploymentFunctionIds.has(id));
const serviceName = (fn: any): string => fn.Properties.Environment?.Variables?.POWERTOOLS_SERVICE_NAME ?? '(none)';
const functionArnByService = new Map(functions.map(([id, fn]) => [serviceName(fn), resolver.getAtt(id, 'Arn')]));

interface Statement { Effect: string; Action: string | string[]; Resource: string | string[] }

/** The role's policy documents (inline policies and AWS::IAM::Policy resources), resolved. */
function policiesOf(roleId: string): { name: string; policy: { Version: string; Statement: Statement[] } }[] {
  const role = template.Resources[roleId];
  if ((role.Properties.ManagedPolicyArns ?? []).length > 0) throw new Error(`${roleId} has managed policies; list their actions too`);
  const attached = resources.filter(([, r]) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
    .map(([id, r]) => ({ name: id, document: r.Properties.PolicyDocument }));
  const inline = (role.Properties.Policies ?? []).map((p: any) => ({ name: p.PolicyName, document: p.PolicyDocument }));
  return [...attached, ...inline].map((p) => ({ name: p.name, policy: resolver.resolve(p.document) }));
}

function fill(template: string, vars: (name: string) => string): string {
  return template.replace(/\{([^}]+)\}/g, (_m, name: string) => vars(name));
}

/** KMS keys authorize through their key policy too (it must let the account's IAM policies in): each key's ARN → its resolved key policy. */
const keyPolicies = new Map(resources.filter(([, r]) => r.Type === 'AWS::KMS::Key')
  .map(([id, r]) => [resolver.getAtt(id, 'Arn'), resolver.resolve(r.Properties.KeyPolicy)] as const));

async function simulate(principal: string, policies: ReturnType<typeof policiesOf>, action: string, resource: string): Promise<string> {
  const keyPolicy = keyPolicies.get(resource);
  const simulation: Simulation = {
    request: { principal, action, resource: { resource, accountId: ENV.account }, contextVariables: {} },
    identityPolicies: policies, serviceControlPolicies: [], resourceControlPolicies: [],
    ...(keyPolicy ? { resourcePolicy: keyPolicy } : {}),
  };
  const out = await runSimulation(simulation, {});
  if (out.resultType === 'error') return `error: ${out.errors.message}`;
  return out.overallResult;
}

/** Both directions for one role: each call Allowed; each statement allows at least one call. */
async function prove(principal: string, policies: ReturnType<typeof policiesOf>, calls: readonly { action: string; resource: string }[]) {
  const denied: string[] = [];
  for (const c of calls) {
    const result = await simulate(principal, policies, c.action, c.resource);
    if (result !== 'Allowed') denied.push(`${c.action} on ${c.resource}: ${result}`);
  }
  const unused: string[] = [];
  for (const p of policies) {
    for (const [i, st] of p.policy.Statement.entries()) {
      if (st.Effect !== 'Allow') continue;
      const single = [{ name: `${p.name}#${i}`, policy: { Version: '2012-10-17', Statement: [st] } }];
      for (const action of [st.Action].flat()) {
        let used = false;
        for (const c of calls.filter((x) => x.action === action)) {
          if ((await simulate(principal, single, c.action, c.resource)) === 'Allowed') { used = true; break; }
        }
        if (!used) unused.push(`${action} on ${JSON.stringify(st.Resource)}`);
      }
    }
  }
  return { denied, unused };
}

describe('IAM proven against AWS authorization data (stack for 123456789012 / eu-west-1)', () => {
  it('every Lambda function in the template has exactly one call list, and every list a function', () => {
    const names = functions.map(([, fn]) => serviceName(fn)).sort();
    expect(names).toEqual(Object.keys(FUNCTION_CALLS).sort());
    expect(new Set(names).size).toBe(names.length);
  });

  it('every call names an adapter that really sends that action (ADAPTER_ACTIONS, pinned by the adapter tests)', () => {
    for (const [name, calls] of Object.entries(FUNCTION_CALLS)) {
      for (const c of calls) {
        if (c.via === 'lambda') continue;
        expect({ name, call: c, sent: (ADAPTER_ACTIONS[c.via] as readonly string[]).includes(c.action) }).toEqual({ name, call: c, sent: true });
      }
    }
  });

  it.each(functions.map(([id, fn]) => [serviceName(fn), id] as const))('%s: every call allowed by its role, every granted action called', async (name, fnId) => {
    const fn = template.Resources[fnId];
    const roleId: string = fn.Properties.Role['Fn::GetAtt'][0];
    const env: Record<string, string> = resolver.resolve(fn.Properties.Environment?.Variables ?? {});
    const machines = env[WORKFLOW_ENV.stateMachines] ? JSON.parse(env[WORKFLOW_ENV.stateMachines]!) as Record<string, string> : {};
    const vars = (v: string): string => {
      const [kind, arg] = v.split(/:(.*)/s) as [string, string | undefined];
      switch (kind) {
        case 'partition': return ENV.partition;
        case 'region': return ENV.region;
        case 'account': return ENV.account;
        case 'logGroup': return resolver.nameOf(fn.Properties.LoggingConfig.LogGroup.Ref);
        case 'deadLetterQueue': return resolver.resolve(fn.Properties.DeadLetterConfig?.TargetArn ?? 'no-dead-letter-queue');
        case 'env': {
          if (env[arg!] === undefined) throw new Error(`${name}: its call list uses {env:${arg}}, which its environment does not set`);
          return env[arg!]!;
        }
        case 'stateMachine':
        case 'execution': {
          const arn = machines[arg!];
          if (!arn) throw new Error(`${name}: its call list uses {${v}}, but ${WORKFLOW_ENV.stateMachines} has no such machine`);
          return kind === 'stateMachine' ? arn : arn.replace(':stateMachine:', ':execution:') + ':op-1';
        }
        default: throw new Error(`unknown placeholder {${v}}`);
      }
    };
    const calls = FUNCTION_CALLS[name]!.map((c) => ({ action: c.action, resource: fill(c.resource, vars) }));
    const { denied, unused } = await prove(resolver.getAtt(roleId, 'Arn'), policiesOf(roleId), calls);
    expect({ name, denied }).toEqual({ name, denied: [] });
    expect({ name, unused }).toEqual({ name, unused: [] });
  });

  const serviceRoles = resources.filter(([, r]) => r.Type === 'AWS::IAM::Role')
    .map(([id, r]) => [id, r.Properties.AssumeRolePolicyDocument.Statement[0].Principal.Service as string] as const)
    .filter(([, service]) => service !== 'lambda.amazonaws.com');

  it('the service roles are the seven state machines\' (six cluster workflows and the rollout) and the IoT rules\' error action role', () => {
    expect(serviceRoles.map(([, s]) => s).sort()).toEqual([...Array(7).fill('states.amazonaws.com'), 'iot.amazonaws.com'].sort());
  });

  it.each(serviceRoles)('%s (%s): every call allowed, every granted action called', async (roleId, service) => {
    const errorLogGroup = resources.find(([id, r]) => r.Type === 'AWS::Logs::LogGroup' && id.startsWith('IotRulesErrorLogs'))![0];
    const vars = (v: string): string => {
      if (v === 'partition') return ENV.partition;
      if (v === 'region') return ENV.region;
      if (v === 'account') return ENV.account;
      if (v === 'errorLogGroup') return resolver.nameOf(errorLogGroup);
      const fnArn = v.startsWith('function:') ? functionArnByService.get(v.slice('function:'.length)) : undefined;
      if (!fnArn) throw new Error(`unknown placeholder {${v}}`);
      return fnArn;
    };
    const calls = SERVICE_ROLE_CALLS[serviceRoleKey(roleId, service)]!.map((c) => ({ action: c.action, resource: fill(c.resource, vars) }));
    const { denied, unused } = await prove(resolver.getAtt(roleId, 'Arn'), policiesOf(roleId), calls);
    expect({ roleId, denied }).toEqual({ roleId, denied: [] });
    expect({ roleId, unused }).toEqual({ roleId, unused: [] });
  });

  it('the console deployment (one BucketDeployment): reads its two source zips, syncs the console bucket, invalidates its distribution, logs', async () => {
    expect(deploymentResources).toHaveLength(1);
    const [, cr] = deploymentResources[0]!;
    const [fnId] = [...deploymentFunctionIds] as [string];
    const fn = template.Resources[fnId];
    const roleId: string = fn.Properties.Role['Fn::GetAtt'][0];
    const sources: string[] = (cr.Properties.SourceBucketNames as unknown[]).map((b, i) => `arn:aws:s3:::${resolver.resolve(b)}/${resolver.resolve(cr.Properties.SourceObjectKeys[i])}`);
    expect(sources).toHaveLength(2);
    const vars = (v: string): string => {
      switch (v) {
        case 'partition': return ENV.partition;
        case 'region': return ENV.region;
        case 'account': return ENV.account;
        case 'consoleBucket': return resolver.resolve(cr.Properties.DestinationBucketName);
        case 'distribution': return resolver.resolve(cr.Properties.DistributionId);
        case 'logGroup': return resolver.nameOf(fn.Properties.LoggingConfig.LogGroup.Ref);
        default: throw new Error(`unknown placeholder {${v}}`);
      }
    };
    const calls = CONSOLE_DEPLOYMENT_CALLS.flatMap((c) => (c.resource === '{asset}' ? sources.map((resource) => ({ action: c.action, resource })) : [{ action: c.action, resource: fill(c.resource, vars) }]));
    const { denied, unused } = await prove(resolver.getAtt(roleId, 'Arn'), policiesOf(roleId), calls);
    expect({ denied, unused }).toEqual({ denied: [], unused: [] });
    // Nothing else: another bucket's object or another source key is refused.
    const other = await simulate(resolver.getAtt(roleId, 'Arn'), policiesOf(roleId), 's3:GetObject', `arn:aws:s3:::cdk-hnb659fds-assets-${ENV.account}-${ENV.region}/other.zip`);
    expect(other).not.toBe('Allowed');
  });

  it('is really checking: AttachThingPrincipal on a thing ARN (the old grant) is refused by the authorization data', async () => {
    const policy = [{ name: 'old', policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'iot:AttachThingPrincipal', Resource: 'arn:aws:iot:eu-west-1:123456789012:thing/*' }] } }];
    expect(await simulate('arn:aws:iam::123456789012:role/r', policy, 'iot:AttachThingPrincipal', 'arn:aws:iot:eu-west-1:123456789012:cert/c0ffee')).not.toBe('Allowed');
  });
});
