/** Exponential backoff with full jitter: delay = random() × min(cap, base × 2^attempt). */
export interface BackoffOptions {
  readonly baseMs: number;
  readonly capMs: number;
  /** Uniform in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

export function fullJitterDelay(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), 52));
  return Math.floor(random() * ceiling);
}

/** The spread added to a server's Retry-After: one second, the width of the admission's windows. */
export const RETRY_AFTER_JITTER_MS = 1000;

/**
 * The wait for an answer that says when to come back: its Retry-After, kept within [1 s, cap]
 * against a broken proxy, plus up to one second of jitter, so hosts told the same second come
 * back spread over that second rather than in one instant. Not spread wider: the control plane's
 * Retry-After already spreads a storm, one second of turns after another (its admission gives the
 * first `perSecond` refused 1 s, the next 2 s …), and a host spread over [RA, 2·RA) instead left
 * most of those seconds part-empty (bench/admission-model.ts, BENCHMARKS.md).
 */
export function retryAfterDelay(retryAfterMs: number, capMs: number, random: () => number = Math.random): number {
  return Math.round(Math.min(capMs, Math.max(1000, retryAfterMs)) + random() * RETRY_AFTER_JITTER_MS);
}

export class Backoff {
  private attempt = 0;
  constructor(private readonly options: BackoffOptions) {}

  /** The next delay; every call doubles the ceiling up to the cap. */
  next(): number {
    return fullJitterDelay(this.attempt++, this.options.baseMs, this.options.capMs, this.options.random);
  }

  reset(): void {
    this.attempt = 0;
  }

  get attempts(): number {
    return this.attempt;
  }
}

export type Sleep = (ms: number, signal?: AbortSignal) => Promise<void>;

/** Resolves after `ms`, or early (without throwing) when the signal aborts. */
export const sleep: Sleep = (ms, signal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
