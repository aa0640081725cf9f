import { StateMachine } from 'aws-local-stepfunctions';

/**
 * Keeps Step Functions' semantics on failure, stop and timeout in aws-local-stepfunctions 3,
 * which on its own (seen in 3.0.0):
 * - starts Map iterations queued behind MaxConcurrency after the Map failed (its p-limit queue
 *   is never cleared; only the started iterations are aborted);
 * - enters a child's first state even when the child starts with an aborted signal (the state
 *   loop is a do…while that checks the signal only after a state);
 * - retries a failed state after an abort (the retry sleep returns at once on abort, then runs
 *   the state again).
 * AWS: once an execution failed, was stopped or timed out, none of its states runs again; "If any
 * iteration fails, entire Map state fails, and all iterations are terminated" (Map state docs).
 *
 * How: `StateMachine.prototype.execute` (the library's per-run state loop, used by the root run
 * and by every Map iteration and Parallel branch) is wrapped once. For runs started by
 * LocalWorkflowEngine (recognised by their context object) it wraps the run's event logger so
 * that entering a state or retrying one first asks the ExecutionGuard; a refused entry throws
 * before the state runs, so no Task handler is called. The library in node_modules is not edited.
 */

/** One run of a state machine: the root execution, or one Map iteration / Parallel branch. */
export interface GuardFrame {
  readonly signal: AbortSignal;
  /** The StateMachine instance running it; all iterations of one Map attempt share it. */
  readonly machine: object;
  readonly root: boolean;
}

export type GuardTraceType = 'state-entered' | 'state-retried' | 'state-refused' | 'retry-refused';
export interface GuardTrace { readonly type: GuardTraceType; readonly state: string; readonly at: number; readonly reason?: string }

export interface GuardHooks {
  /** The execution is dead (failed, stopped, timed out or ended): called once, synchronously. */
  readonly onDead?: (reason: string) => void;
  /** A Map iteration (or Parallel branch) failed: its siblings are dead from now on. */
  readonly onFrameFailed?: () => void;
  /** A run started (+1) or settled (-1). */
  readonly onFrameCount?: (delta: 1 | -1) => void;
  readonly trace?: (event: GuardTrace) => void;
}

/** Thrown instead of entering a state of a dead execution: the state never runs. */
export class ExecutionClosedError extends Error {
  constructor(state: string, reason: string) {
    super(`state '${state}' was not entered: ${reason}`);
    this.name = 'EdgeFleetLocal.ExecutionClosed';
  }
}

/** The life of one execution as the guard sees it; created by the engine per execution. */
export class ExecutionGuard {
  private deadReason: string | undefined;
  private readonly failedMachines = new WeakSet<object>();
  /** The frame and state entered (or retried) last: a Task override is called synchronously right after. */
  private lastEntered: { readonly frame: GuardFrame; readonly state: string } | undefined;

  constructor(readonly rootMachine: object, private readonly hooks: GuardHooks = {}) {}

  get dead(): boolean { return this.deadReason !== undefined; }
  get reason(): string | undefined { return this.deadReason; }

  /** Marks the whole execution dead (idempotent). Nothing of it runs after this call. */
  kill(reason: string): void {
    if (this.deadReason !== undefined) return;
    this.deadReason = reason;
    this.hooks.onDead?.(reason);
  }

  /** Why `frame` may not run anything (undefined: it may). */
  whyDead(frame: GuardFrame | undefined): string | undefined {
    if (this.deadReason !== undefined) return this.deadReason;
    if (!frame) return undefined;
    if (this.failedMachines.has(frame.machine)) return 'another iteration of its Map state failed, so the Map state failed';
    if (frame.signal.aborted) return 'its Map iteration or Parallel branch was aborted';
    return undefined;
  }

  /** The frame whose state `state` was entered last, if that is the state asking. */
  frameOf(state: string): GuardFrame | undefined {
    return this.lastEntered?.state === state ? this.lastEntered.frame : undefined;
  }

  /** @internal called by the wrapped event logger. */
  enter(frame: GuardFrame, state: string, retry: boolean): void {
    const why = this.whyDead(frame);
    if (why !== undefined) {
      this.hooks.trace?.({ type: retry ? 'retry-refused' : 'state-refused', state, at: Date.now(), reason: why });
      throw new ExecutionClosedError(state, why);
    }
    this.lastEntered = { frame, state };
    this.hooks.trace?.({ type: retry ? 'state-retried' : 'state-entered', state, at: Date.now() });
  }

  /** @internal a run's execution failed. */
  failed(frame: GuardFrame, error: unknown): void {
    if (frame.root) {
      this.kill(`the execution failed (${errorName(error)})`);
      return;
    }
    this.failedMachines.add(frame.machine);
    this.hooks.onFrameFailed?.();
  }

  /** @internal */
  count(delta: 1 | -1): void { this.hooks.onFrameCount?.(delta); }
}

const errorName = (e: unknown): string => (e instanceof Error ? e.name : String(e));

const guards = new WeakMap<object, ExecutionGuard>();

/** Binds `context` (the object passed as RunOptions.context) to `guard`; nested runs share it. */
export function guardContext<T extends object>(context: T, guard: ExecutionGuard): T {
  installGuard();
  guards.set(context, guard);
  return context;
}

/** The library's EventLogger methods the guard intercepts (all called synchronously by the state loop). */
interface EventLoggerLike {
  dispatchStateEnteredEvent(stateName: string, stateType: string, input: unknown): void;
  dispatchStateRetriedEvent(stateName: string, stateType: string, input: unknown, retrier: unknown, attempt: number): void;
  dispatchExecutionFailedEvent(error: unknown): void;
  dispatchExecutionSucceededEvent(output: unknown): void;
  dispatchExecutionTimeoutEvent(): void;
}
interface ExecuteOptions {
  readonly runOptions?: { readonly context?: object };
  readonly abortSignal: AbortSignal;
  readonly eventLogger: EventLoggerLike;
}
type Execute = (this: object, input: unknown, options: ExecuteOptions, cleanup: () => void) => Promise<unknown>;
interface PatchableStateMachine { execute?: Execute; __edgefleetGuarded?: boolean }

/** Wraps StateMachine.prototype.execute once (idempotent). Throws if the library's shape changed. */
export function installGuard(): void {
  // The library declares `execute` private; reach it through a structural view of the prototype.
  const proto: PatchableStateMachine = StateMachine.prototype as unknown as PatchableStateMachine;
  if (proto.__edgefleetGuarded) return;
  const original = proto.execute;
  if (typeof original !== 'function' || original.length !== 3) {
    throw new Error('aws-local-stepfunctions no longer has StateMachine.prototype.execute(input, options, cleanup); '
      + 'the local engine cannot keep Step Functions semantics on failure/stop. Pin aws-local-stepfunctions@3.0.0 or update local/step-functions-guard.ts');
  }
  proto.execute = function guardedExecute(this: object, input: unknown, options: ExecuteOptions, cleanup: () => void): Promise<unknown> {
    const context = options?.runOptions?.context;
    const guard = context ? guards.get(context) : undefined;
    if (!guard) return original.call(this, input, options, cleanup);
    const frame: GuardFrame = { signal: options.abortSignal, machine: this, root: this === guard.rootMachine };
    if (frame.root) frame.signal.addEventListener('abort', () => guard.kill('the execution was aborted'), { once: true });
    wrapLogger(options.eventLogger, guard, frame);
    guard.count(1);
    const run = original.call(this, input, options, cleanup);
    const settled = () => guard.count(-1);
    run.then(settled, settled);
    return run;
  };
  proto.__edgefleetGuarded = true;
}

function wrapLogger(log: EventLoggerLike, guard: ExecutionGuard, frame: GuardFrame): void {
  const entered = log.dispatchStateEnteredEvent.bind(log);
  const retried = log.dispatchStateRetriedEvent.bind(log);
  const failed = log.dispatchExecutionFailedEvent.bind(log);
  const succeeded = log.dispatchExecutionSucceededEvent.bind(log);
  const timedOut = log.dispatchExecutionTimeoutEvent.bind(log);
  log.dispatchStateEnteredEvent = (name, type, input) => {
    guard.enter(frame, name, false);
    entered(name, type, input);
  };
  log.dispatchStateRetriedEvent = (name, type, input, retrier, attempt) => {
    guard.enter(frame, name, true);
    retried(name, type, input, retrier, attempt);
  };
  log.dispatchExecutionFailedEvent = (error) => {
    guard.failed(frame, error);
    failed(error);
  };
  log.dispatchExecutionSucceededEvent = (output) => {
    if (frame.root) guard.kill('the execution succeeded');
    succeeded(output);
  };
  log.dispatchExecutionTimeoutEvent = () => {
    if (frame.root) guard.kill('the execution timed out (TimeoutSeconds)');
    timedOut();
  };
}
