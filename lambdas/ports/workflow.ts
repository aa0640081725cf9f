import type { MachineKind, WorkflowInput } from '../domain/workflow.js';

/**
 * The workflow engine: Step Functions on AWS, aws-local-stepfunctions running the same
 * synthesized definitions locally. Executions are named after their operation, so starting
 * one twice is harmless.
 */
export interface WorkflowEngine {
  /** Starts `kind` named `executionName`; `started: false` when that execution already exists. */
  start(kind: MachineKind, executionName: string, input: WorkflowInput): Promise<{ started: boolean }>;
  /** Completes a `.waitForTaskToken` task. An unknown, finished or timed-out token is ignored. */
  sendTaskSuccess(token: string, output: Readonly<Record<string, unknown>>): Promise<void>;
  /** Fails a `.waitForTaskToken` task with `error` (matched by Catch) and a readable `cause`. */
  sendTaskFailure(token: string, error: string, cause: string): Promise<void>;
  /** Stops a running execution (overall deadline passed, cluster deleted); idempotent. */
  stop(kind: MachineKind, executionName: string, cause: string): Promise<void>;
}

/**
 * Secrets of clusters (the join token, secret profile variables): Secrets Manager on AWS, a 0600 file under the data
 * directory locally. Values never reach the state table, the logs or the audit trail.
 */
export interface SecretStore {
  /** The secret called `name`; created from `generate()` when absent (idempotent, race-safe). */
  ensure(name: string, generate: () => string): Promise<string>;
  get(name: string): Promise<string | undefined>;
  /** Sets the secret called `name` to `value`, creating it when absent (a later put wins). */
  put(name: string, value: string): Promise<void>;
  /** Removes the secret; absent is fine. */
  delete(name: string): Promise<void>;
}
