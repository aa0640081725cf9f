/**
 * The one poll loop behind every `watch` of the CLI (operations, upgrades, rollouts): GET until
 * the thing ended or Ctrl-C, retrying throttling (429), timeouts (408), 5xx and — after the first
 * answer — an unreachable control plane, with the API's Retry-After or a doubling back-off.
 */
import { ApiError, UnreachableError } from './errors.js';
import { parseRetryAfter } from './progress.js';

/** Consecutive failed polls (throttled, 5xx, unreachable) before the watch gives up. */
export const MAX_FAILED_POLLS = 12;

export interface PollOptions<T> {
  /** One GET; throws ApiError / UnreachableError. */
  readonly get: () => Promise<T>;
  /** True when the answer is final: the loop returns it. */
  readonly ended: (t: T) => boolean;
  /** The Retry-After header of the last response, if any. */
  readonly retryAfter: () => string | null | undefined;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly onUpdate: (t: T) => void;
  /** A poll failed and will be retried after waitMs. */
  readonly onRetry: (why: string, waitMs: number) => void;
  /** The wait after an answer (with `changed`: after an answer that changed). */
  readonly intervalMs: number;
  /** No wait is shorter. */
  readonly minWaitMs: number;
  /** The back-off ceiling: of failed polls, and (with `changed`) of unchanged answers. */
  readonly maxWaitMs: number;
  /**
   * Adaptive pace. Given, an unchanged answer stretches the wait by half (up to maxWaitMs) and a
   * Retry-After sent with an answer sets the next wait; absent, answers come every intervalMs.
   */
  readonly changed?: (prev: T, next: T) => boolean;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

/** Why a failed poll is worth retrying, or undefined when it is not (the error is thrown). */
export function retryable(err: unknown, seenOnce: boolean): string | undefined {
  if (err instanceof ApiError && (err.status === 429 || err.status === 408 || err.status >= 500)) {
    return err.status === 429 ? 'the control plane is throttling (HTTP 429)' : `the control plane answered HTTP ${err.status}`;
  }
  // A first poll that cannot connect is a wrong URL; later, the control plane is restarting.
  if (err instanceof UnreachableError && seenOnce) return `cannot reach the control plane (${err.reason})`;
  return undefined;
}

/**
 * Polls until `ended` (returns that answer) or the signal is aborted (returns undefined, at once
 * even during a slow request). Retryable failures wait Retry-After, else intervalMs doubled per
 * failure in a row up to maxWaitMs; MAX_FAILED_POLLS in a row, or any other error, is thrown.
 */
export async function pollUntil<T>(d: PollOptions<T>): Promise<T | undefined> {
  const now = d.now ?? Date.now;
  let failures = 0;
  let prev: T | undefined;
  let quiet = d.intervalMs;
  // Ctrl-C must not wait for a slow request to finish.
  const aborted = new Promise<undefined>((resolve) => {
    if (d.signal.aborted) resolve(undefined);
    d.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  while (!d.signal.aborted) {
    let wait: number;
    try {
      const t = await Promise.race([d.get(), aborted]);
      if (t === undefined || d.signal.aborted) return undefined;
      failures = 0;
      if (d.changed) quiet = prev === undefined || d.changed(prev, t) ? d.intervalMs : Math.min(d.maxWaitMs, Math.round(quiet * 1.5));
      prev = t;
      d.onUpdate(t);
      if (d.ended(t)) return t;
      wait = d.changed ? (parseRetryAfter(d.retryAfter(), now()) ?? quiet) : d.intervalMs;
    } catch (err) {
      const why = retryable(err, prev !== undefined);
      if (!why || ++failures >= MAX_FAILED_POLLS) throw err;
      const backoff = Math.min(d.maxWaitMs, d.intervalMs * 2 ** failures);
      wait = Math.max(d.minWaitMs, parseRetryAfter(d.retryAfter(), now()) ?? backoff);
      d.onRetry(why, wait);
    }
    await d.sleep(Math.max(d.minWaitMs, wait), d.signal);
  }
  return undefined;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}
