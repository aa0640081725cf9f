import {
  ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand, SFNClient,
  StartExecutionCommand, StopExecutionCommand, TaskDoesNotExist, TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import type { MachineKind } from '../../../lambdas/contracts/workflows.js';
import { executionArn, SfnWorkflowEngine } from '../../../lambdas/adapters/sfn/workflow-engine.js';

const arn = (name: string) => `arn:aws-cn:states:cn-north-1:123456789012:stateMachine:${name}`;
const ARNS: Record<MachineKind, string> = {
  'create-cluster': arn('EdgeFleet-CreateCluster'), 'scale-out': arn('EdgeFleet-ScaleOut'), 'scale-in': arn('EdgeFleet-ScaleIn'),
  reconfigure: arn('EdgeFleet-Reconfigure'), 'delete-cluster': arn('EdgeFleet-DeleteCluster'), 'upgrade-cluster': arn('EdgeFleet-UpgradeCluster'), rollout: arn('EdgeFleet-Rollout'),
};
const meta = { $metadata: {} };

describe('SfnWorkflowEngine', () => {
  const sfn = mockClient(SFNClient);
  const engine = new SfnWorkflowEngine(new SFNClient({}), ARNS);
  beforeEach(() => sfn.reset());

  it('start: StartExecution named after the operation, input as JSON', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: 'x', startDate: new Date() });
    await expect(engine.start('scale-out', 'op-1', { operationId: 'op-1' })).resolves.toEqual({ started: true });
    expect(sfn.commandCalls(StartExecutionCommand)[0]!.args[0].input).toEqual({
      stateMachineArn: ARNS['scale-out'], name: 'op-1', input: '{"operationId":"op-1"}',
    });
  });

  it('start: an existing execution of that name → started: false; other errors propagate', async () => {
    sfn.on(StartExecutionCommand).rejectsOnce(new ExecutionAlreadyExists({ message: 'exists', ...meta }))
      .rejectsOnce(Object.assign(new Error('throttled'), { name: 'ThrottlingException' }));
    await expect(engine.start('create-cluster', 'op-1', { operationId: 'op-1' })).resolves.toEqual({ started: false });
    await expect(engine.start('create-cluster', 'op-1', { operationId: 'op-1' })).rejects.toThrow('throttled');
  });

  it('sendTaskSuccess: SendTaskSuccess with the output as JSON', async () => {
    sfn.on(SendTaskSuccessCommand).resolves({});
    await engine.sendTaskSuccess('tok', { ok: true });
    expect(sfn.commandCalls(SendTaskSuccessCommand)[0]!.args[0].input).toEqual({ taskToken: 'tok', output: '{"ok":true}' });
  });

  it('sendTaskFailure: error clipped to 256 and cause to 32768 characters', async () => {
    sfn.on(SendTaskFailureCommand).resolves({});
    await engine.sendTaskFailure('tok', 'E'.repeat(300), 'c'.repeat(40_000));
    const input = sfn.commandCalls(SendTaskFailureCommand)[0]!.args[0].input;
    expect(input.error).toHaveLength(256);
    expect(input.cause).toHaveLength(32_768);
    expect(input.taskToken).toBe('tok');
  });

  it.each([
    ['TaskDoesNotExist', new TaskDoesNotExist({ message: 'gone', ...meta })],
    ['InvalidToken', new InvalidToken({ message: 'bad', ...meta })],
    ['TaskTimedOut', new TaskTimedOut({ message: 'late', ...meta })],
  ])('a finished task (%s) is ignored on success and on failure', async (_name, error) => {
    sfn.on(SendTaskSuccessCommand).rejects(error);
    sfn.on(SendTaskFailureCommand).rejects(error);
    await expect(engine.sendTaskSuccess('tok', {})).resolves.toBeUndefined();
    await expect(engine.sendTaskFailure('tok', 'E', 'c')).resolves.toBeUndefined();
  });

  it('task completion: other errors propagate', async () => {
    sfn.on(SendTaskSuccessCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(engine.sendTaskSuccess('tok', {})).rejects.toThrow('denied');
  });

  it('stop: StopExecution on the execution ARN derived from the state machine ARN; a missing execution is fine', async () => {
    sfn.on(StopExecutionCommand).resolvesOnce({ stopDate: new Date() }).rejectsOnce(new ExecutionDoesNotExist({ message: 'no', ...meta }));
    await engine.stop('delete-cluster', 'op-9', 'deadline passed');
    await expect(engine.stop('delete-cluster', 'op-9', 'again')).resolves.toBeUndefined();
    expect(sfn.commandCalls(StopExecutionCommand)[0]!.args[0].input).toEqual({
      executionArn: 'arn:aws-cn:states:cn-north-1:123456789012:execution:EdgeFleet-DeleteCluster:op-9', cause: 'deadline passed',
    });
  });

  it('stop: other errors propagate', async () => {
    sfn.on(StopExecutionCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(engine.stop('scale-in', 'op-2', 'x')).rejects.toThrow('denied');
  });

  it('executionArn rejects what is not a state machine ARN', () => {
    expect(() => executionArn('arn:aws:lambda:eu-west-1:1:function:f', 'op')).toThrow(/not a state machine ARN/);
  });
});
