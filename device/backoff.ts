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
