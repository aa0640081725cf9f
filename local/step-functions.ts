import { randomUUID } from 'node:crypto';
import { ExecutionAbortedError, ExecutionError, ExecutionTimeoutError, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';

type JSONValue = Parameters<StateMachine['run']>[0];
import {
  ROLLOUT_MACHINE, WORKFLOWS, type MachineKind, type WorkflowFunction, type WorkflowInput, type WorkflowKind,
} from '../lambdas/contracts/workflows.js';
import type { WorkflowEngine } from '../lambdas/ports/workflow.js';
import {
  ACCOUNT, collectTasks, lambdaFunctions, localizeTimeoutPaths, PARTITION, REGION, resolveIntrinsics, type AslNode, type CfnResource, type TaskTarget,
} from './step-functions-template.js';
import type { Context } from 'aws-lambda';
import { FunctionTimeouts } from './function-timeouts.js';
import { FunctionTimedOutError, invokeLocal, type LocalFunction } from './lambda-invocation.js';
import { ExecutionClosedError, ExecutionGuard, guardContext, installGuard, type GuardFrame, type GuardTrace } from './step-functions-guard.js';

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22); Node 20 lacks it.
type WithResolvers = { withResolvers?: <T>() => { promise: Promise<T>; resolve: (v: T) => void; reject: (e: unknown) => void } };
if (!(Promise as WithResolvers).withResolvers) {
  (Promise as WithResolvers).withResolvers = function withResolvers<T>() {
    let resolve!: (v: T) => void;
    let reject!: (e: unknown) => void;
    const promise = new Promise<T>((a, b) => { resolve = a; reject = b; });
    return { promise, resolve, reject };
  };
}

export { resolveIntrinsics };

export type WorkflowLogLevel = 'debug' | 'info' | 'warn' | 'error';
export type WorkflowHandler = (payload: unknown, context?: Context) => Promise<unknown>;

export interface ExecutionOutcome {
  readonly status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
  readonly error?: string;
  readonly cause?: string;
}

export interface LocalWorkflowEngineOptions {
  /** The synthesized CloudFormation template (lib/synth.ts, local/template-cache.ts). */
  readonly template: Readonly<Record<string, unknown>>;
  /** The Lambda handlers the Task states invoke, by workflow function. */
  readonly handlers: Readonly<Record<WorkflowFunction, WorkflowHandler>>;
  readonly log?: (level: WorkflowLogLevel, message: string, fields: Record<string, unknown>) => void;
  /** Called once when an execution ends. */
  readonly onEnd?: (kind: MachineKind, executionName: string, outcome: ExecutionOutcome) => void;
  /** Every state entered, retried or refused (after the execution died), in order; for tests and debugging. */
  readonly trace?: (executionName: string, event: GuardTrace) => void;
  /** Shorter function timeouts on this machine, in seconds by service name (tests); the template's otherwise. */
  readonly functionTimeoutSeconds?: Readonly<Record<string, number>>;
  /** This machine's bound on each function's concurrent invocations (local/lambda-invocation.ts). @default - unbounded */
  readonly functionConcurrency?: number;
}

/** What AWS answers SendTaskSuccess/SendTaskFailure with; the port ignores both refusals, as the AWS adapter does. */
export type TaskTokenVerdict = 'accepted' | 'TaskTimedOut' | 'InvalidToken';

/** The context's `$$.Task.Token`; each waitForTaskToken task swaps it for a fresh token. */
const TOKEN_PLACEHOLDER = '__EDGEFLEET_LOCAL_TASK_TOKEN__';

interface Pending {
  readonly resolve: (v: unknown) => void; readonly reject: (e: Error) => void; readonly execution: string;
  readonly guard: ExecutionGuard; readonly frame: GuardFrame | undefined;
}
interface Running { readonly kind: MachineKind; readonly abort: () => void; readonly tokens: Set<string>; readonly guard: ExecutionGuard; stopping: boolean }
/** Closed task tokens remembered (to answer TaskTimedOut rather than InvalidToken), newest kept. */
const CLOSED_TOKENS_KEPT = 10_000;

const namedError = (name: string, message: string): Error => Object.assign(new Error(message), { name });

/**
 * Runs the synthesized state machines with aws-local-stepfunctions, the Task states mapped to
 * the local handlers: `lambda:invoke` returns `{ StatusCode, Payload }`; `.waitForTaskToken`
 * hands the handler a fresh token and waits for `sendTaskSuccess`/`sendTaskFailure`. State
 * lives in memory only: after a restart the caller starts the executions again.
 */
export class LocalWorkflowEngine implements WorkflowEngine {
  private readonly machines = new Map<MachineKind, { definition: StateMachineDefinition; arn: string; tasks: Map<string, TaskTarget> }>();
  private readonly running = new Map<string, Running>();
  /** Each task function as Lambda runs it: its timeout from the template. */
  private readonly functions = new Map<WorkflowFunction, LocalFunction>();
  private readonly ended = new Set<string>();
  private readonly tokens = new Map<string, Pending>();
  /** Tokens whose task closed (completed, failed, or its execution/iteration died) → the execution. */
  private readonly closedTokens = new Map<string, string>();
  private idleWaiters: (() => void)[] = [];
  private quietWaiters: (() => void)[] = [];
  /** Runs (root executions, Map iterations, Parallel branches) whose state loop has not returned yet. */
  private frames = 0;
  private closed = false;
  /**
   * What the runs cost on AWS: Standard workflows bill per state transition (each state
   * entered, Map iterations included), Lambda per invocation. Counted from the engine's events.
   */
  /** `lambdaMs`: time in the task handlers (direct and invoke patterns), measured in-process. */
  readonly stats = { executions: 0, stateTransitions: 0, lambdaInvocations: 0, lambdaMs: 0 };

  constructor(private readonly opts: LocalWorkflowEngineOptions) {
    installGuard();
    const resources = (opts.template?.Resources ?? {}) as Record<string, CfnResource>;
    const functions = lambdaFunctions(resources);
    const timeouts = new FunctionTimeouts(opts.template, opts.functionTimeoutSeconds, opts.functionConcurrency);
    for (const [arn, fn] of functions) {
      const local = timeouts.resource(arn.split(':').pop()!);
      if (local) this.functions.set(fn, local);
    }
    const specs: [MachineKind, { readonly constructId: string }][] = [...(Object.entries(WORKFLOWS) as [WorkflowKind, (typeof WORKFLOWS)[WorkflowKind]][]), ['rollout', ROLLOUT_MACHINE]];
    for (const [kind, spec] of specs) {
      const suffix = `/Workflows/${spec.constructId}/Resource`;
      const found = Object.entries(resources).find(([, r]) => r?.Type === 'AWS::StepFunctions::StateMachine'
        && String(r?.Metadata?.['aws:cdk:path'] ?? '').endsWith(suffix));
      if (!found) {
        throw new Error(`the template has no state machine at …${suffix} for workflow '${kind}'; synthesize the stack again (path metadata on)`);
      }
      const [logicalId, resource] = found;
      const text = resolveIntrinsics(resource.Properties?.['DefinitionString'], resources, `${logicalId}.DefinitionString`);
      if (typeof text !== 'string') throw new Error(`state machine ${logicalId} has no DefinitionString`);
      const definition = JSON.parse(text) as StateMachineDefinition & AslNode;
      const tasks = new Map<string, TaskTarget>();
      collectTasks(definition, functions, tasks, logicalId);
      localizeTimeoutPaths(definition);
      const name = String(resource.Properties?.['StateMachineName'] ?? logicalId);
      this.machines.set(kind, { definition, arn: `arn:${PARTITION}:states:${REGION}:${ACCOUNT}:stateMachine:${name}`, tasks });
    }
  }

  async start(kind: MachineKind, executionName: string, input: WorkflowInput): Promise<{ started: boolean }> {
    if (this.closed) throw new Error('the local workflow engine is closed; start the local runtime again');
    const machine = this.machines.get(kind);
    if (!machine) throw new Error(`unknown workflow '${kind}'`);
    if (this.running.has(executionName) || this.ended.has(executionName)) return { started: false };
    const tokens = new Set<string>();
    const sm = new StateMachine(machine.definition, { validationOptions: { checkArn: false, checkPaths: true } });
    const trace = this.opts.trace;
    const guard = new ExecutionGuard(sm, {
      // Dead (failed, stopped, timed out): close its open tasks; nothing they answer runs anything.
      onDead: () => queueMicrotask(() => this.closeTokens(executionName, 'States.Aborted', `execution ${executionName} ended`)),
      // A Map iteration failed: the tasks of its sibling iterations are closed with it.
      onFrameFailed: () => queueMicrotask(() => this.closeTokens(executionName, 'States.Aborted', 'another iteration of its Map state failed')),
      onFrameCount: (delta) => this.countFrame(delta),
      ...(trace ? { trace: (event: GuardTrace) => trace(executionName, event) } : {}),
    });
    const overrides: Record<string, (input: JSONValue) => Promise<JSONValue>> = {};
    for (const [stateName, target] of machine.tasks) {
      overrides[stateName] = (taskInput) => this.runTask(target, taskInput as TaskInput, executionName, stateName, guard, tokens) as Promise<JSONValue>;
    }
    const executionArn = machine.arn.replace(':stateMachine:', ':execution:') + `:${executionName}`;
    const context = guardContext({
      Execution: { Id: executionArn, Name: executionName, RoleArn: `arn:${PARTITION}:iam::${ACCOUNT}:role/local` },
      StateMachine: { Id: machine.arn, Name: machine.arn.split(':').pop()! },
      Task: { Token: TOKEN_PLACEHOLDER },
    }, guard);
    const execution = sm.run({ ...input }, { overrides: { taskResourceLocalHandlers: overrides }, context });
    this.stats.executions++;
    void (async () => {
      for await (const event of execution.eventLogs) if (event.type === 'StateEntered') this.stats.stateTransitions++;
    })().catch(() => undefined);
    const entry: Running = { kind, abort: execution.abort, tokens, guard, stopping: false };
    this.running.set(executionName, entry);
    this.log('info', 'workflow execution started', { kind, execution: executionName });
    execution.result.then(
      () => this.finish(executionName, { status: 'SUCCEEDED' }),
      (e: unknown) => this.finish(executionName, outcomeOf(e)),
    );
    return { started: true };
  }

  /** Completes a `.waitForTaskToken` task. A closed or unknown token is refused (logged) and changes nothing. */
  async sendTaskSuccess(token: string, output: Readonly<Record<string, unknown>>): Promise<void> {
    this.settleToken(token, (p) => p.resolve(output));
  }

  /** Fails a `.waitForTaskToken` task. A closed or unknown token is refused (logged) and changes nothing. */
  async sendTaskFailure(token: string, error: string, cause: string): Promise<void> {
    this.settleToken(token, (p) => p.reject(namedError(error, cause)));
  }

  /**
   * What AWS would answer SendTaskSuccess/SendTaskFailure on `token` now, without settling it:
   * `TaskTimedOut` ("the task associated with the token has already been closed": completed,
   * timed out, or its execution failed, was stopped or timed out), `InvalidToken` (never issued).
   */
  taskTokenVerdict(token: string): TaskTokenVerdict {
    const pending = this.tokens.get(token);
    if (pending) return pending.guard.whyDead(pending.frame) === undefined ? 'accepted' : 'TaskTimedOut';
    return this.closedTokens.has(token) ? 'TaskTimedOut' : 'InvalidToken';
  }

  /**
   * StopExecution: from this call on no state of the execution runs (no queued Map iteration,
   * no Retry, no Catch, no Task handler); its open task tokens are closed (TaskTimedOut).
   */
  async stop(kind: MachineKind, executionName: string, cause: string): Promise<void> {
    const entry = this.running.get(executionName);
    if (!entry || entry.kind !== kind || entry.stopping) return;
    entry.stopping = true;
    // Dead first, then abort, then settle the waiting tasks: whatever the library schedules in
    // reaction to the abort or the rejected tokens is refused by the guard.
    entry.guard.kill(`the execution was stopped: ${cause}`);
    this.log('info', 'workflow execution stopped', { kind, execution: executionName, cause });
    entry.abort();
    this.closeTokens(executionName, 'States.Aborted', `execution stopped: ${cause}`);
  }

  /** Resolves once no execution is running. */
  whenIdle(): Promise<void> {
    if (this.running.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /**
   * Resolves once no execution is running AND every Map iteration / Parallel branch of them has
   * returned (checked again after the event loop's pending callbacks ran): nothing left to run.
   */
  async whenQuiet(): Promise<void> {
    for (;;) {
      await this.whenIdle();
      await new Promise<void>((resolve) => setImmediate(resolve));
      if (this.running.size === 0 && this.frames === 0) return;
      if (this.frames > 0) await new Promise<void>((resolve) => this.quietWaiters.push(resolve));
    }
  }

  /** Aborts every execution and waits for them to end; later starts fail. */
  async close(): Promise<void> {
    this.closed = true;
    for (const [name, entry] of this.running) await this.stop(entry.kind, name, 'the local runtime is shutting down');
    await this.whenIdle();
  }

  private async runTask(target: TaskTarget, input: TaskInput, execution: string, stateName: string, guard: ExecutionGuard, tokens: Set<string>): Promise<unknown> {
    // Called synchronously right after the guard let this state in; refuse anyway if the run died.
    const frame = guard.frameOf(stateName);
    const why = guard.whyDead(frame);
    if (why !== undefined) throw new ExecutionClosedError(stateName, why);
    const fn = this.functions.get(target.fn);
    if (!fn) throw new Error(`the template has no Lambda function (with a Timeout and POWERTOOLS_SERVICE_NAME) for workflow function '${target.fn}'; synthesize the stack again`);
    const h = this.opts.handlers[target.fn];
    const handler: WorkflowHandler = (payload) => invokeLocal(fn, (context) => h(payload, context));
    this.stats.lambdaInvocations++;
    const began = performance.now();
    const timed = async <T>(p: Promise<T>): Promise<T> => {
      try {
        return await p;
      } finally {
        this.stats.lambdaMs += performance.now() - began;
      }
    };
    if (target.pattern === 'invoke') return { StatusCode: 200, Payload: await timed(invoke(handler, input?.Payload)) };
    if (target.pattern === 'direct') return timed(invoke(handler, input));
    // .waitForTaskToken: register a real token before the handler runs (it may complete it at once).
    const token = randomUUID();
    const { promise, resolve, reject } = (Promise as WithResolvers).withResolvers!<unknown>();
    promise.catch(() => undefined);
    this.tokens.set(token, { resolve, reject, execution, guard, frame });
    tokens.add(token);
    try {
      await invoke(handler, replaceDeep(input?.Payload, TOKEN_PLACEHOLDER, token));
    } catch (e) {
      this.closeToken(token, execution);
      tokens.delete(token);
      throw e;
    }
    try {
      return await promise;
    } finally {
      tokens.delete(token);
      this.closeToken(token, execution);
    }
  }

  private settleToken(token: string, settle: (pending: Pending) => void): void {
    const pending = this.tokens.get(token);
    const why = pending ? pending.guard.whyDead(pending.frame) : undefined;
    if (pending && why === undefined) {
      this.closeToken(token, pending.execution);
      settle(pending);
      return;
    }
    const error: TaskTokenVerdict = pending || this.closedTokens.has(token) ? 'TaskTimedOut' : 'InvalidToken';
    this.log('info', 'task token refused: its task is already closed (completed, or its execution or Map iteration ended) or was never issued; the answer changes nothing', {
      error, execution: pending?.execution ?? this.closedTokens.get(token), reason: why,
    });
    if (pending) this.closeTokens(pending.execution, 'States.Aborted', why ?? 'its execution ended');
  }

  /** Closes the open tokens of `executionName` whose run is dead, rejecting their tasks (the guard refuses what follows). */
  private closeTokens(executionName: string, error: string, cause: string): void {
    const entry = this.running.get(executionName);
    const open = entry ? [...entry.tokens] : [...this.tokens].filter(([, p]) => p.execution === executionName).map(([t]) => t);
    for (const token of open) {
      const pending = this.tokens.get(token);
      if (!pending || pending.guard.whyDead(pending.frame) === undefined) continue;
      entry?.tokens.delete(token);
      this.closeToken(token, executionName);
      pending.reject(namedError(error, cause));
    }
  }

  private closeToken(token: string, execution: string): void {
    this.tokens.delete(token);
    this.closedTokens.delete(token);
    this.closedTokens.set(token, execution);
    if (this.closedTokens.size > CLOSED_TOKENS_KEPT) this.closedTokens.delete(this.closedTokens.keys().next().value!);
  }

  private countFrame(delta: 1 | -1): void {
    this.frames += delta;
    if (this.frames === 0) {
      const waiters = this.quietWaiters;
      this.quietWaiters = [];
      for (const w of waiters) w();
    }
  }

  private finish(executionName: string, outcome: ExecutionOutcome): void {
    const entry = this.running.get(executionName);
    if (!entry) return;
    // Normally dead already (the guard saw the end first); tasks still waiting are closed.
    entry.guard.kill(`the execution ended: ${outcome.status}`);
    this.closeTokens(executionName, 'States.Aborted', `execution ended: ${outcome.status}`);
    this.running.delete(executionName);
    this.ended.add(executionName);
    this.log(outcome.status === 'SUCCEEDED' ? 'info' : 'warn', 'workflow execution ended', { kind: entry.kind, execution: executionName, ...outcome });
    try {
      this.opts.onEnd?.(entry.kind, executionName, outcome);
    } catch (e) {
      this.log('error', 'onEnd callback failed', { execution: executionName, error: (e as Error).message });
    }
    if (this.running.size === 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  private log(level: WorkflowLogLevel, message: string, fields: Record<string, unknown>): void {
    this.opts.log?.(level, message, fields);
  }
}

/**
 * The error of a lambda:invoke task whose function timed out: "Unhandled errors in Lambda are
 * reported as Lambda.Unknown ... These include out-of-memory errors and function timeouts"
 * (Step Functions developer guide, "Handle Lambda service exceptions"). States.ALL and
 * States.TaskFailed match it; CDK's retryOnServiceExceptions does not (it is not transient).
 */
export const LAMBDA_TIMEOUT_ERROR = 'Lambda.Unknown';

/** A handler failure becomes a Lambda task error: Error = its name, Cause = its message. */
async function invoke(handler: WorkflowHandler, payload: unknown): Promise<unknown> {
  try {
    return await handler(payload);
  } catch (e) {
    // A timed-out function: Step Functions reports Lambda's unhandled errors, timeouts included, as Lambda.Unknown.
    if (e instanceof FunctionTimedOutError) throw namedError(LAMBDA_TIMEOUT_ERROR, e.message);
    const err = e instanceof Error ? e : new Error(String(e));
    throw namedError(err.name || 'Error', err.message);
  }
}

function outcomeOf(e: unknown): ExecutionOutcome {
  if (e instanceof ExecutionAbortedError) return { status: 'ABORTED' };
  if (e instanceof ExecutionTimeoutError) return { status: 'FAILED', error: 'States.Timeout', cause: 'the execution timed out' };
  if (e instanceof ExecutionError && e.cause instanceof Error) return { status: 'FAILED', error: e.cause.name, cause: e.cause.message };
  const err = e as Error;
  return { status: 'FAILED', error: err?.name ?? 'Error', cause: err?.message ?? String(e) };
}

interface TaskInput { readonly Payload?: unknown }

function replaceDeep(value: unknown, from: string, to: string): unknown {
  if (value === from) return to;
  if (Array.isArray(value)) return value.map((v) => replaceDeep(v, from, to));
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceDeep(v, from, to)]));
  return value;
}
