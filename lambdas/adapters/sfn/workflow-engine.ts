import {
  ExecutionAlreadyExists, ExecutionDoesNotExist, InvalidToken, SendTaskFailureCommand, SendTaskSuccessCommand,
  StartExecutionCommand, StopExecutionCommand, TaskDoesNotExist, TaskTimedOut, type SFNClient,
} from '@aws-sdk/client-sfn';
import type { MachineKind, WorkflowInput } from '../../contracts/workflows.js';
import type { WorkflowEngine } from '../../ports/workflow.js';

/** API limits of SendTaskFailure / StopExecution (characters). */
export const SFN_LIMITS = { error: 256, cause: 32_768 } as const;

const clip = (s: string, max: number): string => (s.length <= max ? s : `${s.slice(0, max - 1)}…`);

/** `arn:<p>:states:<r>:<a>:stateMachine:<name>` → `arn:<p>:states:<r>:<a>:execution:<name>:<executionName>`. */
export function executionArn(stateMachineArn: string, executionName: string): string {
  const m = /^arn:([^:]+):states:([^:]*):([^:]*):stateMachine:([^:]+)$/.exec(stateMachineArn);
  if (!m) throw new Error(`not a state machine ARN: '${stateMachineArn}' (expected arn:<partition>:states:<region>:<account>:stateMachine:<name>)`);
  return `arn:${m[1]}:states:${m[2]}:${m[3]}:execution:${m[4]}:${executionName}`;
}

/** The WorkflowEngine on AWS Step Functions. */
export class SfnWorkflowEngine implements WorkflowEngine {
  constructor(
    private readonly client: SFNClient,
    private readonly stateMachineArns: Readonly<Record<MachineKind, string>>,
  ) {}

  private arnOf(kind: MachineKind): string {
    const arn = this.stateMachineArns[kind];
    if (!arn) throw new Error(`no state machine ARN configured for workflow '${kind}'; check STATE_MACHINE_ARNS in the function's environment`);
    return arn;
  }

  async start(kind: MachineKind, executionName: string, input: WorkflowInput): Promise<{ started: boolean }> {
    try {
      await this.client.send(new StartExecutionCommand({
        stateMachineArn: this.arnOf(kind), name: executionName, input: JSON.stringify(input),
      }));
      return { started: true };
    } catch (e) {
      // Same name (running, or finished within the 90-day retention): the operation already has its workflow.
      if (e instanceof ExecutionAlreadyExists) return { started: false };
      throw e;
    }
  }

  async sendTaskSuccess(token: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    await ignoreFinishedTask(() => this.client.send(new SendTaskSuccessCommand({ taskToken: token, output: JSON.stringify(output) })));
  }

  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    await ignoreFinishedTask(() => this.client.send(new SendTaskFailureCommand({
      taskToken: token, error: clip(error, SFN_LIMITS.error), cause: clip(cause, SFN_LIMITS.cause),
    })));
  }

  async stop(kind: MachineKind, executionName: string, cause: string): Promise<void> {
    try {
      await this.client.send(new StopExecutionCommand({
        executionArn: executionArn(this.arnOf(kind), executionName), cause: clip(cause, SFN_LIMITS.cause),
      }));
    } catch (e) {
      if (e instanceof ExecutionDoesNotExist) return;
      throw e;
    }
  }
}

/** A task that finished, timed out or never existed: the workflow has moved on; not an error. */
async function ignoreFinishedTask(send: () => Promise<unknown>): Promise<void> {
  try {
    await send();
  } catch (e) {
    if (e instanceof TaskDoesNotExist || e instanceof InvalidToken || e instanceof TaskTimedOut) return;
    throw e;
  }
}
