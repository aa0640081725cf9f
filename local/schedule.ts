import { getLogger } from '../lambdas/handlers/observability.js';

/**
 * An EventBridge schedule (`rate(...)`) invoking a scheduled Lambda handler, on one machine: the
 * same handler on a timer. On AWS a run starts on time even if the previous one has not ended
 * (EventBridge invokes a Lambda target asynchronously,
 * https://docs.aws.amazon.com/lambda/latest/dg/invocation-async.html): `overlap: 'allowed'`.
 * `'skip'` is for a handler whose writes are not all claimed conditionally, which must not run
 * twice at once: a tick while a run is going starts none. A failed run is logged; the next tick
 * runs again. `stop()` clears the timer and waits for every run still going.
 */
export interface LocalSchedule {
  stop(): Promise<void>;
}

export function startSchedule(o: {
  readonly name: string;
  readonly everyMs: number;
  readonly run: () => Promise<unknown>;
  readonly overlap: 'allowed' | 'skip';
}): LocalSchedule {
  const running = new Set<Promise<unknown>>();
  const timer = setInterval(() => {
    if (o.overlap === 'skip' && running.size > 0) return;
    const run: Promise<unknown> = o.run()
      .catch((e: unknown) => getLogger().error(`${o.name} failed; the next run tries again`, { error: e as Error }))
      .finally(() => running.delete(run));
    running.add(run);
  }, o.everyMs);
  timer.unref();
  return {
    async stop() {
      clearInterval(timer);
      while (running.size > 0) await Promise.all([...running]);
    },
  };
}
