/**
 * The order in which this machine's local waits are served: a function's invocations waiting for
 * a concurrency slot (lambda-invocation.ts) and requests waiting in the API's front door for a
 * connection to the functions (api-front-thread.ts). These waits exist only here: on AWS each
 * request gets its own execution environment and starts at once. So no AWS behaviour is copied;
 * the rule is chosen so that a local storm loses as little as possible to the wait itself.
 *
 * In order (first in, first out) while the oldest waiter has waited less than `lifoAfterMs`;
 * past that, the newest first ("adaptive LIFO", as Facebook's and others' servers shed load).
 * Served in order under a standing overload, every request ages toward the HTTP API's 30 s
 * integration timeout: the API answers 503 while its function is still running, the work is
 * done and its answer lost, and the caller retries it (bench:fleet's 10,000-host storm did 8.7
 * attempts per host). Newest first, the requests that run are answered while their callers still
 * wait, and the ones that wait longest are those that would have been lost anyway; they get the
 * same 503 at the same deadline without having run.
 */
export const LIFO_AFTER_MS = 1_000;

interface Entry<T> { readonly item: T; readonly since: number }

export class WaitQueue<T> {
  private entries: Entry<T>[] = [];

  constructor(readonly lifoAfterMs: number = LIFO_AFTER_MS) {
    if (!(lifoAfterMs >= 0)) throw new Error(`lifoAfterMs must be a number of milliseconds of at least 0, not ${lifoAfterMs}`);
  }

  get length(): number { return this.entries.length; }

  push(item: T, now: number): void {
    this.entries.push({ item, since: now });
  }

  /** The next waiter to serve at `now`, removed: the oldest while it waited less than `lifoAfterMs`, else the newest. */
  take(now: number): T | undefined {
    const oldest = this.entries[0];
    if (!oldest) return undefined;
    return (now - oldest.since < this.lifoAfterMs ? this.entries.shift() : this.entries.pop())!.item;
  }

  /** Removes every waiter for which `gone` is true (its caller left, its time ran out) and returns them, oldest first. */
  removeWhere(gone: (item: T) => boolean): T[] {
    const removed: T[] = [];
    const kept: Entry<T>[] = [];
    for (const e of this.entries) {
      if (gone(e.item)) removed.push(e.item);
      else kept.push(e);
    }
    if (removed.length > 0) this.entries = kept;
    return removed;
  }
}

interface SlotWaiter {
  /** True: the slot is now the waiter's; false: its caller left while it waited, and it holds none. */
  readonly resolve: (held: boolean) => void;
  readonly gone?: () => boolean;
}

/**
 * At most `limit` holders at a time; the others wait in a WaitQueue (in order, then newest first
 * once the oldest has waited `lifoAfterMs`). A waiter whose caller is gone is dropped without a
 * slot. Both local waits are one of these: a function's invocations (lambda-invocation.ts's
 * InvocationSlots) and the API front door's requests to the functions (api-front-thread.ts).
 */
export class BoundedSlots {
  private active = 0;
  private readonly waiting: WaitQueue<SlotWaiter>;

  /** `what` names the bound in the error for a bad `limit` ("the local concurrency of a function"). */
  constructor(what: string, readonly limit: number, lifoAfterMs: number = LIFO_AFTER_MS) {
    if (!Number.isInteger(limit) || limit < 1) throw new Error(`${what} must be a whole number of at least 1, not ${limit}`);
    this.waiting = new WaitQueue(lifoAfterMs);
  }

  /** Holders, and waiters for a slot (gone ones included until the next release drops them). */
  get load(): { readonly running: number; readonly waiting: number } {
    return { running: this.active, waiting: this.waiting.length };
  }

  /** Resolves true once a slot is the caller's, or false when `gone` said its caller left first (no slot held). */
  async acquire(gone?: () => boolean): Promise<boolean> {
    if (this.active < this.limit) { this.active++; return true; }
    return new Promise<boolean>((resolve) => this.waiting.push({ resolve, ...(gone ? { gone } : {}) }, Date.now()));
  }

  /** Hands the slot to the next waiter still wanted (this file's order), or frees it. */
  release(): void {
    for (const w of this.waiting.removeWhere((x) => x.gone?.() ?? false)) w.resolve(false);
    const next = this.waiting.take(Date.now());
    if (next) next.resolve(true);
    else this.active--;
  }
}
