import { createRequire } from 'node:module';
import { Duration } from 'aws-cdk-lib';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { WORKFLOW_ENV, WORKFLOWS, type MachineKind, type WorkflowKind } from '../../lambdas/contracts/workflows.js';
import { scanTemplateAsl } from '../../lib/asl-guard.js';
import { OPERATION_FAILED_ERROR } from '../../lib/constructs/cluster-workflows.js';
import { functionIdOf, logicalIdOf, statementsOfFunction, synthStack, tableActions, type Statement } from './helpers.js';

/** asl-validator 4 is CommonJS without type declarations: `validator(definition, options?)`. */
const aslValidator = createRequire(import.meta.url)('asl-validator') as (definition: unknown) => { isValid: boolean; errorsText(separator?: string): string };

const { stack, template } = synthStack();
const json = template.toJSON();
const resources = json.Resources as Record<string, any>;
const KINDS = Object.keys(WORKFLOWS) as WorkflowKind[];
const machineId = (kind: MachineKind) => logicalIdOf(stack.workflows.stateMachines[kind]);
const ALL: MachineKind[] = [...KINDS, 'rollout'];
const stepId = logicalIdOf(stack.workflows.functions.step.function);
const hostCommandId = logicalIdOf(stack.workflows.functions.hostCommand.function);

/** The definition with intrinsics joined in: GetAtt → `arn:aws:lambda:…:function:<LogicalId>`, Ref → a fixed value. */
function definitionOf(kind: MachineKind): any {
  const part = (p: unknown): string => {
    if (typeof p === 'string') return p;
    const v = p as Record<string, any>;
    if (v['Fn::GetAtt']) return `arn:aws:lambda:eu-west-1:123456789012:function:${v['Fn::GetAtt'][0]}`;
    if (v.Ref === 'AWS::Partition') return 'aws';
    if (v.Ref) return `ref-${v.Ref}`;
    throw new Error(`unexpected intrinsic ${JSON.stringify(p)}`);
  };
  const ds = resources[machineId(kind)].Properties.DefinitionString;
  return JSON.parse(typeof ds === 'string' ? ds : (ds['Fn::Join'][1] as unknown[]).map(part).join(ds['Fn::Join'][0]));
}
const fnArn = (id: string) => `arn:aws:lambda:eu-west-1:123456789012:function:${id}`;
const actionsOn = (st: readonly Statement[], match: (resource: string) => boolean): Set<string> => new Set(st
  .filter((s) => s.Effect === 'Allow' && [s.Resource].flat().some((r) => match(JSON.stringify(r))))
  .flatMap((s) => [s.Action].flat()));
const allActions = (st: readonly Statement[]) => new Set(st.flatMap((s) => [s.Action].flat()));

describe('cluster workflows (WORKFLOWS → state machines)', () => {
  it('one Standard state machine per workflow, traced, logging ALL to a log group with retention, with the execution timeout', () => {
    template.resourceCountIs('AWS::StepFunctions::StateMachine', KINDS.length + 1);
    const retained = Object.keys(template.findResources('AWS::Logs::LogGroup', { Properties: { RetentionInDays: 90 } }));
    for (const kind of KINDS) {
      const logGroup = new Capture();
      template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
        StateMachineName: `TestStack-${WORKFLOWS[kind].constructId}`,
        StateMachineType: 'STANDARD',
        TracingConfiguration: { Enabled: true },
        LoggingConfiguration: Match.objectLike({ Level: 'ALL', Destinations: [{ CloudWatchLogsLogGroup: { LogGroupArn: { 'Fn::GetAtt': [logGroup, 'Arn'] } } }] }),
      });
      expect(retained).toContain(logGroup.asString());
      expect(definitionOf(kind).TimeoutSeconds).toBe(86_400);
    }
  });

  it.each(KINDS)('%s: Begin → its phases in order → Finish → Succeeded; every step caught into RecordFailure → Fail', (kind) => {
    const d = definitionOf(kind);
    const spec = WORKFLOWS[kind];
    const path = [d.StartAt];
    while (d.States[path.at(-1)].Next) path.push(d.States[path.at(-1)].Next);
    expect(path).toEqual(['Begin', ...spec.phases.map((p) => `Phase ${p.id}`), 'Finish', 'Succeeded']);
    expect(d.States.Begin.Parameters).toEqual({ FunctionName: fnArn(stepId), Payload: { action: 'begin', 'operationId.$': '$.operationId', 'execution.$': '$$.Execution.Name' } });
    expect(d.States.Begin.ResultPath).toBe('$.plan');
    expect(d.States.Begin.ResultSelector).toEqual({
      'phases.$': '$.Payload.phases', 'hostTimeoutSeconds.$': '$.Payload.hostTimeoutSeconds',
      ...(spec.phases.some((p) => p.maxConcurrencyFromPlan) ? { 'maxUnavailable.$': '$.Payload.maxUnavailable' } : {}),
    });
    expect(d.States.Finish.Parameters.Payload).toEqual({ action: 'finish', 'operationId.$': '$.operationId', 'execution.$': '$$.Execution.Name' });
    for (const name of path.slice(0, -1)) {
      expect(d.States[name].Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
    }
    expect(d.States.RecordFailure.Parameters).toEqual({
      FunctionName: fnArn(stepId), Payload: { action: 'fail', 'operationId.$': '$.operationId', 'execution.$': '$$.Execution.Name', 'error.$': '$.error' },
    });
    expect(d.States.RecordFailure.Retry[0].ErrorEquals).toContain('Lambda.ServiceException');
    expect(d.States.RecordFailure.Next).toBe('Failed');
    expect(d.States.Failed).toEqual(expect.objectContaining({ Type: 'Fail', Error: OPERATION_FAILED_ERROR }));
  });

  const simplePhases = KINDS.flatMap((kind) => WORKFLOWS[kind].phases.filter((p) => !p.sequence).map((p) => [kind, p.id, p.maxConcurrency, !!p.tolerateHostFailure] as const));
  it.each(simplePhases)(
    '%s phase %s: Map over the plan with MaxConcurrency %d, each host a waitForTaskToken HostCommand (tolerant: %s)',
    (kind, phase, maxConcurrency, tolerant) => {
      const map = definitionOf(kind).States[`Phase ${phase}`];
      expect(map).toEqual(expect.objectContaining({ Type: 'Map', ItemsPath: `$.plan.phases.${phase}`, MaxConcurrency: maxConcurrency, ResultPath: null }));
      expect(map.ItemSelector).toEqual({
        'operationId.$': '$.operationId', phase, 'hostTimeoutSeconds.$': '$.plan.hostTimeoutSeconds', 'task.$': '$$.Map.Item.Value',
      });
      const task = map.ItemProcessor.States[map.ItemProcessor.StartAt];
      expect(task.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(task.TimeoutSecondsPath).toBe('$.hostTimeoutSeconds');
      expect(task.Parameters).toEqual({
        FunctionName: fnArn(hostCommandId),
        Payload: { 'token.$': '$$.Task.Token', 'operationId.$': '$.operationId', 'execution.$': '$$.Execution.Name', 'phase.$': '$.phase', 'task.$': '$.task' },
      });
      if (tolerant) {
        expect(task.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: `Host failed (${phase})` }]);
        expect(map.ItemProcessor.States[`Host failed (${phase})`]).toEqual({ Type: 'Pass', End: true });
      } else {
        expect(task.Catch).toBeUndefined();
      }
    });

  const sequencePhases = KINDS.flatMap((kind) => WORKFLOWS[kind].phases.filter((p) => p.sequence).map((p) => [kind, p.id, p.maxConcurrency, !!p.maxConcurrencyFromPlan] as const));
  it.each(sequencePhases)(
    '%s phase %s (node sequences): nodes %d at a time (from the plan: %s), each node\'s steps one after the other',
    (kind, phase, maxConcurrency, fromPlan) => {
      const map = definitionOf(kind).States[`Phase ${phase}`];
      expect(map).toEqual(expect.objectContaining({ Type: 'Map', ItemsPath: `$.plan.phases.${phase}`, ResultPath: null }));
      if (fromPlan) {
        expect(map.MaxConcurrencyPath).toBe('$.plan.maxUnavailable');
        expect(map.MaxConcurrency).toBeUndefined();
      } else {
        expect(map.MaxConcurrency).toBe(maxConcurrency);
      }
      const inner = map.ItemProcessor.States[map.ItemProcessor.StartAt];
      expect(inner).toEqual(expect.objectContaining({ Type: 'Map', ItemsPath: '$.task.steps', MaxConcurrency: 1, ResultPath: null }));
      expect(inner.ItemSelector).toEqual({
        'operationId.$': '$.operationId', 'phase.$': '$.phase', 'hostTimeoutSeconds.$': '$.hostTimeoutSeconds', 'task.$': '$$.Map.Item.Value',
      });
      const task = inner.ItemProcessor.States[inner.ItemProcessor.StartAt];
      expect(task.Resource).toBe('arn:aws:states:::lambda:invoke.waitForTaskToken');
      expect(task.TimeoutSecondsPath).toBe('$.hostTimeoutSeconds');
      expect(task.Catch).toBeUndefined();
    });

  it('the rollout: Tick (retried, caught into RecordFailure → Fail) → Done? → Wait $.tick.waitSeconds → Tick; 7-day timeout; valid ASL', () => {
    template.hasResourceProperties('AWS::StepFunctions::StateMachine', {
      StateMachineName: 'TestStack-Rollout', StateMachineType: 'STANDARD', TracingConfiguration: { Enabled: true },
      LoggingConfiguration: Match.objectLike({ Level: 'ALL', IncludeExecutionData: false }),
    });
    const d = definitionOf('rollout');
    expect(d.TimeoutSeconds).toBe(7 * 86_400);
    expect(d.StartAt).toBe('Tick');
    const tick = d.States.Tick;
    expect(tick).toMatchObject({ Type: 'Task', Next: 'Done?', ResultPath: '$.tick' });
    expect(tick.Parameters.FunctionName).toBe(fnArn(stepId));
    expect(tick.Parameters.Payload).toEqual({ action: 'rollout-tick', 'rolloutId.$': '$.rolloutId', 'execution.$': '$$.Execution.Name' });
    expect(tick.Retry).toEqual(expect.arrayContaining([expect.objectContaining({ ErrorEquals: ['States.ALL'], MaxAttempts: 3 })]));
    expect(tick.Catch).toEqual([{ ErrorEquals: ['States.ALL'], ResultPath: '$.error', Next: 'RecordFailure' }]);
    expect(d.States['Done?']).toMatchObject({ Type: 'Choice', Default: 'Wait', Choices: [{ Variable: '$.tick.done', BooleanEquals: true, Next: 'Ended' }] });
    expect(d.States.Wait).toEqual({ Type: 'Wait', SecondsPath: '$.tick.waitSeconds', Next: 'Tick' });
    expect(d.States.RecordFailure.Parameters.Payload).toMatchObject({ action: 'rollout-fail' });
    expect(d.States.Failed).toMatchObject({ Type: 'Fail', Error: 'EdgeFleet.RolloutFailed' });
    // Only the step function: the rollout sends no host command itself.
    expect(JSON.stringify(d)).not.toContain(hostCommandId);
    expect(aslValidator(d).errorsText('\n')).toBe('');
  });

  it('uses nothing the local engine cannot run (no JSONata, Assign, heartbeats)', () => {
    const scan = scanTemplateAsl(json);
    expect([...scan.scanned].sort()).toEqual(ALL.map(machineId).sort());
    expect(scan.findings).toEqual([]);
  });

  it.each(KINDS)('%s: the definition is valid ASL (asl-validator)', (kind) => {
    const result = aslValidator(definitionOf(kind));
    expect(result.errorsText('\n')).toBe('');
    expect(result.isValid).toBe(true);
  });

  it('rejects an out-of-range hostTimeout and an executionTimeout below it', () => {
    expect(() => synthStack({}, { workflows: { hostTimeout: Duration.seconds(30) } })).toThrow(/hostTimeout must be between 1 minute and 24 hours/);
    expect(() => synthStack({}, { workflows: { hostTimeout: Duration.hours(2), executionTimeout: Duration.hours(1) } })).toThrow(/at least hostTimeout/);
  });

  it('outputs every state machine ARN', () => {
    for (const kind of KINDS) {
      expect(json.Outputs[`${WORKFLOWS[kind].constructId}StateMachineArn`].Value).toEqual({ Ref: machineId(kind) });
    }
  });
});

describe('who may drive the workflows', () => {
  const stateId = logicalIdOf(stack.data.stateTable);
  const auditId = logicalIdOf(stack.data.auditTable);
  const refsMachine = (r: string) => KINDS.some((k) => r === `{"Ref":"${machineId(k)}"}`);
  const machineArns = ALL.map((k) => ({ Ref: machineId(k) }));
  const env = (id: string) => resources[id].Properties.Environment.Variables;

  it('the clusters API may stop executions of its workflows (pause, cancel, delete during create), nothing else', () => {
    const st = statementsOfFunction(template, functionIdOf(template, 'clusters'));
    const stops = st.filter((s) => [s.Action].flat().includes('states:StopExecution'));
    expect(stops.flatMap((s) => [s.Action].flat())).toEqual(['states:StopExecution']);
    const resources = JSON.stringify(stops.flatMap((s) => [s.Resource].flat()));
    for (const kind of KINDS) expect(resources).toContain(`:execution:TestStack-${WORKFLOWS[kind].constructId}:*`);
  });

  it('the clusters API may start every workflow and knows their ARNs and the secret prefix', () => {
    const id = functionIdOf(template, 'clusters');
    const st = statementsOfFunction(template, id);
    expect(actionsOn(st, refsMachine)).toEqual(new Set(['states:StartExecution']));
    const started = st.filter((s) => [s.Action].flat().includes('states:StartExecution')).flatMap((s) => [s.Resource].flat());
    expect(started).toEqual(expect.arrayContaining(machineArns));
    expect(started).toHaveLength(machineArns.length);
    expect(env(id)[WORKFLOW_ENV.secretPrefix]).toBe('edgefleet/TestStack/');
    const arns = JSON.stringify(env(id)[WORKFLOW_ENV.stateMachines]);
    for (const kind of KINDS) {
      expect(arns).toContain(kind);
      expect(arns).toContain(JSON.stringify({ Ref: machineId(kind) }));
    }
  });

  it('no other API handler may start or complete workflows', () => {
    for (const group of ['hosts', 'profiles', 'operations', 'device', 'tokens'] as const) {
      const actions = [...allActions(statementsOfFunction(template, functionIdOf(template, group)))];
      expect(actions.filter((a) => a.startsWith('states:'))).toEqual([]);
    }
  });

  it('the IoT results handler may only complete tasks (SendTaskSuccess/Failure) of the workflows', () => {
    const id = logicalIdOf(stack.iotRules.functions.results.function);
    const st = statementsOfFunction(template, id);
    expect([...allActions(st)].filter((a) => a.startsWith('states:')).sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
    // No resource type for task responses (AWS authorization data): "*".
    expect(new Set([...actionsOn(st, (r) => r === '"*"')].filter((a) => a.startsWith('states:')))).toEqual(new Set(['states:SendTaskFailure', 'states:SendTaskSuccess']));
    expect(env(id)[WORKFLOW_ENV.stateMachines]).toBeDefined();
  });

  it('the pending-commands handler may fail tasks of expired commands and read cluster secrets (it re-sends commands with the join token)', () => {
    const id = logicalIdOf(stack.iotRules.functions['pending-commands'].function);
    const st = statementsOfFunction(template, id);
    expect([...allActions(st)].filter((a) => a.startsWith('states:'))).toEqual(['states:SendTaskFailure']);
    expect(new Set([...actionsOn(st, (r) => r === '"*"')].filter((a) => a.startsWith('states:')))).toEqual(new Set(['states:SendTaskFailure']));
    const secrets = st.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secrets.map((s) => s.Action)).toEqual(['secretsmanager:GetSecretValue']);
    expect(JSON.stringify(secrets[0]!.Resource)).toContain(':secret:edgefleet/TestStack/*');
    expect(env(id)[WORKFLOW_ENV.secretPrefix]).toBe('edgefleet/TestStack/');
    expect(env(id)[WORKFLOW_ENV.stateMachines]).toBeDefined();
  });

  it('the status handler has no workflow or secret access', () => {
    const actions = [...allActions(statementsOfFunction(template, logicalIdOf(stack.iotRules.functions.status.function)))];
    expect(actions.filter((a) => a.startsWith('states:') || a.startsWith('secretsmanager:'))).toEqual([]);
  });

  it('the presence handler (zero-touch site clusters) starts only create and scale-out, and reads and writes cluster secrets only', () => {
    const st = statementsOfFunction(template, logicalIdOf(stack.iotRules.functions.presence.function));
    expect([...allActions(st)].filter((a) => a.startsWith('states:'))).toEqual(['states:StartExecution']);
    const started = JSON.stringify(st.filter((s) => [s.Action].flat().includes('states:StartExecution')).map((s) => s.Resource));
    for (const kind of ['create-cluster', 'scale-out'] as const) expect(started).toContain(logicalIdOf(stack.workflows.stateMachines[kind]));
    for (const kind of ['scale-in', 'reconfigure', 'delete-cluster', 'upgrade-cluster'] as const) expect(started).not.toContain(logicalIdOf(stack.workflows.stateMachines[kind]));
    const secrets = st.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    for (const s of secrets) expect(JSON.stringify(s.Resource)).toContain(':secret:edgefleet/TestStack/*');
  });

  it('the command sweeper may start, stop and fail tasks of the workflows', () => {
    const id = logicalIdOf(stack.iotRules.commandSweeper.function);
    const st = statementsOfFunction(template, id);
    expect([...allActions(st)].filter((a) => a.startsWith('states:')).sort())
      .toEqual(['states:SendTaskFailure', 'states:StartExecution', 'states:StopExecution']);
    const stop = st.find((s) => [s.Action].flat().includes('states:StopExecution'))!;
    expect(JSON.stringify(stop.Resource)).toContain(':execution:TestStack-CreateCluster:*');
    expect(JSON.stringify(stop.Resource)).not.toContain('stateMachine:*');
    expect(env(id)[WORKFLOW_ENV.stateMachines]).toBeDefined();
  });

  it('HostCommand: publishes commands, reads secrets under the prefix, completes tasks; appends audit only', () => {
    const st = statementsOfFunction(template, hostCommandId);
    const stmt = (action: string) => st.find((s) => [s.Action].flat().includes(action))!;
    expect(JSON.stringify(stmt('iot:Publish').Resource)).toContain(':topic/edgefleet/hosts/*/commands');
    expect(stmt('secretsmanager:GetSecretValue').Action).toBe('secretsmanager:GetSecretValue');
    expect(JSON.stringify(stmt('secretsmanager:GetSecretValue').Resource)).toContain(':secret:edgefleet/TestStack/*');
    expect(stmt('states:SendTaskSuccess').Resource).toBe('*');
    expect([...allActions(st)].filter((a) => a.startsWith('states:')).sort()).toEqual(['states:SendTaskFailure', 'states:SendTaskSuccess']);
    expect(tableActions(st, auditId)).toEqual(new Set(['dynamodb:PutItem']));
    expect(tableActions(st, stateId).has('dynamodb:UpdateItem')).toBe(true);
    expect(env(hostCommandId)[WORKFLOW_ENV.secretPrefix]).toBe('edgefleet/TestStack/');
  });

  it('WorkflowStep: creates, reads and deletes secrets under the prefix only; publishes commands (resets of a failed create); starts only upgrade executions (rollbacks)', () => {
    const st = statementsOfFunction(template, stepId);
    const secrets = st.filter((s) => [s.Action].flat().some((a) => a.startsWith('secretsmanager:')));
    expect(secrets).toHaveLength(1);
    expect([secrets[0]!.Action].flat().sort()).toEqual(['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue']);
    expect(JSON.stringify(secrets[0]!.Resource)).toContain(':secret:edgefleet/TestStack/*');
    expect([...allActions(st)].filter((a) => a.startsWith('iot:')).sort()).toEqual(['iot:DescribeEndpoint', 'iot:Publish']);
    expect(JSON.stringify(st.find((s) => s.Action === 'iot:Publish')!.Resource)).toContain(':topic/edgefleet/hosts/*/commands');
    const sfn = st.filter((s) => [s.Action].flat().some((a) => a.startsWith('states:')));
    expect(sfn.map((s) => [s.Action].flat())).toEqual([['states:StartExecution']]);
    expect(JSON.stringify(sfn[0]!.Resource)).toMatch(/stateMachine:TestStack-UpgradeCluster"/);
    expect(tableActions(st, auditId)).toEqual(new Set(['dynamodb:PutItem']));
    expect(env(stepId)[WORKFLOW_ENV.hostTimeoutSeconds]).toBe('1800');
  });

  it('each state machine may invoke exactly the two workflow functions', () => {
    for (const kind of KINDS) {
      const roleId = resources[machineId(kind)].Properties.RoleArn['Fn::GetAtt'][0];
      const policies = Object.values(template.findResources('AWS::IAM::Policy'))
        .filter((p: any) => (p.Properties.Roles as any[]).some((r) => r?.Ref === roleId));
      const invoke = policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement as Statement[])
        .filter((s) => [s.Action].flat().includes('lambda:InvokeFunction'));
      const targets = new Set(invoke.flatMap((s) => [s.Resource].flat()).map((r) => JSON.stringify(r).match(/"(Workflows\w+Function\w+)"/)?.[1]));
      expect([...targets].sort()).toEqual([hostCommandId, stepId].sort());
    }
  });
});
