import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AGENT_ROUTE_KEYS } from '../../lambdas/contracts/agent-artifacts.js';
import { HANDLER_ENV } from '../../lib/api-routes.js';
import { readBuild } from '../../lib/constructs/agent-artifacts.js';
import { EdgeFleetStack } from '../../lib/edgefleet-stack.js';
import { fakeAgentBuild } from './agent-build.js';
import { cfnLint, cfnLintAvailable, LINT_ENV } from './cfn-lint.js';
import { TemplateResolver } from './template-resolver.js';

const ENV = { account: LINT_ENV.account, region: LINT_ENV.region, partition: 'aws' } as const;
const build = fakeAgentBuild();
const outdirs: string[] = [];
afterAll(() => { for (const d of [...outdirs, build.dir]) rmSync(d, { recursive: true, force: true }); });

function synth(context: Record<string, unknown> = {}) {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agent-synth-'));
  outdirs.push(outdir);
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new EdgeFleetStack(app, 'EdgeFleet', { env: { account: ENV.account, region: ENV.region } });
  const assembly = app.synth();
  return { stack, outdir, template: Template.fromStack(stack), templateFile: path.join(outdir, assembly.getStackByName(stack.stackName).templateFile) };
}
const agentFn = 'edgefleet-api-agent';
const fnId = (t: Template, service: string) => Object.keys(t.findResources('AWS::Lambda::Function', { Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } } }))[0]!;

describe('AgentArtifacts without a build (default)', () => {
  const { stack, template } = synth();

  it('creates a private, versioned, encrypted, TLS-only bucket and an ECC_NIST_P256 SIGN_VERIFY key', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      VersioningConfiguration: { Status: 'Enabled' },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      Bucket: { Ref: 'AgentArtifactsBucket' },
      PolicyDocument: { Statement: Match.arrayWith([Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]) },
    });
    template.hasResourceProperties('AWS::KMS::Key', { KeySpec: 'ECC_NIST_P256', KeyUsage: 'SIGN_VERIFY' });
  });

  it('serves the four agent routes without a JWT from the agent function', () => {
    for (const key of AGENT_ROUTE_KEYS) template.hasResourceProperties('AWS::ApiGatewayV2::Route', { RouteKey: key, AuthorizationType: 'NONE' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({
        POWERTOOLS_SERVICE_NAME: agentFn, [HANDLER_ENV.agentArtifactsBucket]: { Ref: 'AgentArtifactsBucket' },
        [HANDLER_ENV.agentSigningKeyArn]: Match.anyValue(), [HANDLER_ENV.agentPublished]: Match.absent(),
      }) },
    });
  });

  it('publishes nothing: no deployment, user-data keeps baked (no AGENT_PUBLISHED), and says so at synth', () => {
    // The console's deployment (ConsoleSite) is there; none copies into the agent bucket.
    const intoAgentBucket = Object.values(template.findResources('Custom::CDKBucketDeployment'))
      .filter((r) => JSON.stringify(r.Properties?.DestinationBucketName) === JSON.stringify({ Ref: 'AgentArtifactsBucket' }));
    expect(intoAgentBucket).toEqual([]);
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'edgefleet-api-user-data', [HANDLER_ENV.agentSigningKeyArn]: Match.anyValue(), [HANDLER_ENV.agentPublished]: Match.absent() }) },
    });
    const infos = Annotations.fromStack(stack).findInfo('*', Match.stringLikeRegexp('No agent build is published'));
    expect(infos).toHaveLength(1);
    expect(String(infos[0]!.entry.data)).toMatch(/-c edgefleet:agentArtifacts=dist\/device/);
  });
});

describe('AgentArtifacts with a build (-c edgefleet:agentArtifacts=<dir>)', () => {
  const { template, outdir, templateFile } = synth({ 'edgefleet:agentArtifacts': build.dir });
  const json = template.toJSON() as { Resources: Record<string, any> };
  const resolver = new TemplateResolver(json, ENV);

  it('deploys the build under agent/ (pruned) and turns download on for the agent and user-data functions', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', { DestinationBucketName: { Ref: 'AgentArtifactsBucket' }, DestinationBucketKeyPrefix: 'agent/', Prune: true });
    for (const service of [agentFn, 'edgefleet-api-user-data']) {
      template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ POWERTOOLS_SERVICE_NAME: service, [HANDLER_ENV.agentPublished]: 'true' }) } });
    }
    template.hasOutput('*', { Value: '1.4.0' });
  });

  it('stages only the manifest and the files it lists', () => {
    const staged = readdirSync(outdir).filter((d) => d.startsWith('asset.') && existsSync(path.join(outdir, d, 'manifest.json')));
    expect(staged).toHaveLength(1);
    expect(readdirSync(path.join(outdir, staged[0]!)).sort()).toEqual(['manifest.json', ...build.manifest.artifacts.map((a) => a.file)].sort());
  });

  /** IAM proven with the role's policies and, for the key, its key policy (KMS needs both). */
  async function decide(service: string, action: string, resource: string): Promise<string> {
    const roleId: string = json.Resources[fnId(template, service)].Properties.Role['Fn::GetAtt'][0];
    const identityPolicies = Object.entries(json.Resources)
      .filter(([, r]) => r.Type === 'AWS::IAM::Policy' && r.Properties.Roles.some((x: any) => x.Ref === roleId))
      .map(([id, r]) => ({ name: id, policy: resolver.resolve(r.Properties.PolicyDocument) }));
    const keyId = Object.keys(template.findResources('AWS::KMS::Key'))[0]!;
    const keyArn = resolver.getAtt(keyId, 'Arn');
    const out = await runSimulation({
      request: { principal: resolver.getAtt(roleId, 'Arn'), action, resource: { resource: resource.replace('{key}', keyArn), accountId: ENV.account }, contextVariables: {} },
      identityPolicies, serviceControlPolicies: [], resourceControlPolicies: [],
      ...(resource === '{key}' ? { resourcePolicy: resolver.resolve(json.Resources[keyId].Properties.KeyPolicy) } : {}),
    }, {});
    return out.resultType === 'error' ? `error: ${out.errors.message}` : out.overallResult;
  }
  const bucketArn = () => resolver.getAtt('AgentArtifactsBucket', 'Arn');
  const diagnosticsArn = () => resolver.getAtt('DiagnosticsBundlesBucket', 'Arn');

  it.each([
    [agentFn, 's3:GetObject', 'agent/manifest.json', 'Allowed'],
    [agentFn, 's3:GetObject', 'agent/edgefleet-agent-linux-x64', 'Allowed'],
    [agentFn, 's3:GetObject', 'other/manifest.json', 'ImplicitlyDenied'],
    [agentFn, 's3:PutObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    [agentFn, 's3:DeleteObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    ['edgefleet-api-user-data', 's3:GetObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    // Agent updates check the published version: the hosts function reads the manifest, nothing else.
    ['edgefleet-api-hosts', 's3:GetObject', 'agent/manifest.json', 'Allowed'],
    ['edgefleet-api-hosts', 's3:GetObject', 'agent/edgefleet-agent-linux-x64', 'ImplicitlyDenied'],
    ['edgefleet-api-hosts', 's3:GetObject', 'agent/manifest.json.sig', 'ImplicitlyDenied'],
    ['edgefleet-api-hosts', 's3:PutObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    ['edgefleet-api-hosts', 's3:DeleteObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    ['edgefleet-api-hosts', 's3:ListBucket', '', 'ImplicitlyDenied'], // '': the bucket itself
    // Agent-update rollouts check it too: at create (clusters function) and in each tick (workflow step).
    ['edgefleet-api-clusters', 's3:GetObject', 'agent/manifest.json', 'Allowed'],
    ['edgefleet-api-clusters', 's3:GetObject', 'agent/edgefleet-agent-linux-x64', 'ImplicitlyDenied'],
    ['edgefleet-api-clusters', 's3:PutObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    ['edgefleet-workflow-step', 's3:GetObject', 'agent/manifest.json', 'Allowed'],
    ['edgefleet-workflow-step', 's3:GetObject', 'agent/edgefleet-agent-linux-x64', 'ImplicitlyDenied'],
    ['edgefleet-workflow-step', 's3:PutObject', 'agent/manifest.json', 'ImplicitlyDenied'],
    ['edgefleet-workflow-host-command', 's3:GetObject', 'agent/manifest.json', 'ImplicitlyDenied'],
  ])('%s: %s on the agent bucket\'s %s is %s', async (service, action, key, expected) => {
    expect(await decide(service, action, key ? `${bucketArn()}/${key}` : bucketArn())).toBe(expected);
  });

  it.each(['edgefleet-api-hosts', 'edgefleet-api-clusters', 'edgefleet-workflow-step'])('%s is told the bucket (AGENT_MANIFEST_BUCKET) and nothing that serves or signs the agent', (service) => {
    template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({
      POWERTOOLS_SERVICE_NAME: service, [HANDLER_ENV.agentManifestBucket]: { Ref: 'AgentArtifactsBucket' },
      [HANDLER_ENV.agentArtifactsBucket]: Match.absent(), [HANDLER_ENV.agentSigningKeyArn]: Match.absent(), [HANDLER_ENV.agentPublished]: Match.absent(),
    }) } });
  });

  it('the agent function cannot read the diagnostics bundles', async () => {
    expect(await decide(agentFn, 's3:GetObject', `${diagnosticsArn()}/diagnostics/default/h-1/c0ffee.tar.gz`)).toBe('ImplicitlyDenied');
  });

  it.each([
    [agentFn, 'kms:Sign', 'Allowed'],
    [agentFn, 'kms:GetPublicKey', 'Allowed'],
    [agentFn, 'kms:Verify', 'ImplicitlyDenied'],
    [agentFn, 'kms:ScheduleKeyDeletion', 'ImplicitlyDenied'],
    ['edgefleet-api-user-data', 'kms:GetPublicKey', 'Allowed'],
    ['edgefleet-api-user-data', 'kms:Sign', 'ImplicitlyDenied'],
    ['edgefleet-api-hosts', 'kms:Sign', 'ImplicitlyDenied'],
  ])('%s: %s on the signing key is %s', async (service, action, expected) => {
    expect(await decide(service, action, '{key}')).toBe(expected);
  });

  it('the agent function may sign with no other key', async () => {
    expect(await decide(agentFn, 'kms:Sign', `arn:aws:kms:${ENV.region}:${ENV.account}:key/1234abcd-12ab-34cd-56ef-1234567890ab`)).toBe('ImplicitlyDenied');
  });

  (cfnLintAvailable() ? it : it.skip)('passes cfn-lint', () => {
    const result = cfnLint([templateFile]);
    expect({ errors: result.errors, output: result.output.split('\n').filter((l) => /:E\d{4}:/.test(l)) }).toEqual({ errors: false, output: [] });
  }, 120_000);
});

describe('readBuild (checked at synth)', () => {
  it('refuses a missing manifest, and a file that does not match it, naming what to run', () => {
    const empty = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agent-empty-'));
    outdirs.push(empty);
    expect(() => readBuild(empty)).toThrow(/manifest\.json does not exist: run npm run device:build/);
    const b = fakeAgentBuild();
    outdirs.push(b.dir);
    writeFileSync(path.join(b.dir, 'edgefleet-agent-linux-arm64'), 'tampered');
    expect(() => readBuild(b.dir)).toThrow(/edgefleet-agent-linux-arm64 does not match .*manifest\.json.*hosts would refuse it/);
    expect(readBuild(build.dir).version).toBe('1.4.0');
  });

  it('a stack given a bad build fails to synthesize', () => {
    expect(() => synth({ 'edgefleet:agentArtifacts': path.join(build.dir, 'nope') })).toThrow(/does not exist/);
  });
});

