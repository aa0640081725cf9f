/**
 * Lambda's asynchronous invocation on one machine: what an IoT rule's Lambda action, an
 * EventBridge rule target and a schedule do to a function. As Lambda documents it
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html): when the
 * function returns an error — its code's or the runtime's, a timeout included — Lambda runs it
 * again with the same event, "two more times, with a one-minute wait between the first two
 * attempts, and two minutes between the second and third attempts", as far as the function's
 * `EventInvokeConfig` allows (`MaximumRetryAttempts`, `MaximumEventAgeInSeconds`; without one:
 * 2 attempts, 6 hours); then the event is dropped (to the on-failure destination or dead-letter
 * queue where one is configured). Without this, a message whose handler failed once here was
 * lost, where AWS would have handled it a minute later.
 *
 * The first attempt's outcome is what the caller sees (the router counts it); retries run later
 * on timers that `stop()` clears, so nothing runs after the runtime stopped.
 */

/** Lambda's retry settings of one function (its `AWS::Lambda::EventInvokeConfig`). */
export interface AsyncRetryPolicy {
  /** Attempts after the first one (0–2). */
  readonly retries: number;
  /** An event older than this is dropped instead of retried. */
  readonly maxAgeMs: number;
}

/** Lambda's defaults for a function without an EventInvokeConfig. */
export const LAMBDA_ASYNC_DEFAULTS: AsyncRetryPolicy = { retries: 2, maxAgeMs: 6 * 3600_000 };

/** The waits before the second and the third attempt. */
export const RETRY_WAITS_MS: readonly number[] = [60_000, 120_000];

export interface AsyncFunction {
  readonly name: string;
  readonly asyncRetry?: AsyncRetryPolicy;
}

export type AsyncInvokeLog = (level: 'warn' | 'error', message: string, detail: Record<string, unknown>) => void;

export interface AsyncInvokerOptions {
  /** Multiplies the waits (tests shorten them). @default 1 */
  readonly delayScale?: number;
  readonly log?: AsyncInvokeLog;
  readonly now?: () => number;
}

export class AsyncInvoker {
  private readonly timers = new Set<ReturnType<typeof setTimeout>>();
  private stopped = false;
  /** Attempts after a failure that ran, and events given up (retries spent or too old). */
  readonly stats = { retries: 0, dropped: 0 };

  constructor(private readonly opts: AsyncInvokerOptions = {}) {}

  /** Retries scheduled and not run yet. */
  get pending(): number {
    return this.timers.size;
  }

  /**
   * Runs the first attempt now and settles with its outcome; when it fails, the next attempts
   * run later, as Lambda's policy for `fn` allows, each with the same event (`attempt`).
   */
  invoke<R>(fn: AsyncFunction, attempt: () => Promise<R>): Promise<R> {
    const queuedAt = this.now();
    const run = (n: number): Promise<R> => attempt().catch((error: unknown) => {
      this.afterFailure(fn, n, queuedAt, error, () => { this.stats.retries++; run(n + 1).catch(() => undefined); });
      throw error;
    });
    return run(1);
  }

  /** Clears every scheduled retry; none is scheduled afterwards. */
  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }

  private afterFailure(fn: AsyncFunction, attempt: number, queuedAt: number, error: unknown, retry: () => void): void {
    if (this.stopped) return;
    const policy = fn.asyncRetry ?? LAMBDA_ASYNC_DEFAULTS;
    const reason = error instanceof Error ? error.message : String(error);
    if (attempt > policy.retries) {
      this.drop(fn, `it failed ${attempt} time${attempt === 1 ? '' : 's'} (its retry attempts: ${policy.retries})`, reason);
      return;
    }
    const wait = (RETRY_WAITS_MS[attempt - 1] ?? RETRY_WAITS_MS[RETRY_WAITS_MS.length - 1]) * (this.opts.delayScale ?? 1);
    if (this.now() + wait - queuedAt > policy.maxAgeMs) {
      this.drop(fn, `it would be older than its maximum event age (${policy.maxAgeMs / 1000} s) at the next attempt`, reason);
      return;
    }
    this.opts.log?.('warn', 'an asynchronous invocation failed; Lambda runs it again later with the same event', {
      function: fn.name, attempt, nextAttemptInMs: wait, error: reason,
    });
    const timer = setTimeout(() => { this.timers.delete(timer); if (!this.stopped) retry(); }, wait);
    this.timers.add(timer);
  }

  private drop(fn: AsyncFunction, why: string, reason: string): void {
    this.stats.dropped++;
    this.opts.log?.('error', `an asynchronous invocation was dropped: ${why}; on AWS it would go to the function's on-failure destination, if any`, {
      function: fn.name, error: reason, action: 'find the cause of the error above; the event is not delivered again',
    });
  }

  private now(): number {
    return this.opts.now?.() ?? Date.now();
  }
}
