import { startTsWorker } from './ts-worker.js';
import { HTTP_API_INTEGRATION_TIMEOUT_MS } from './function-timeouts.js';
import type { ApiFrontStart, FromApiFront, ToApiFront } from './api-front-messages.js';
import type { StageThrottles } from './api-throttle.js';
import { LIFO_AFTER_MS } from './wait-queue.js';

/**
 * Connections kept open from the front thread to the main thread's server. Each is accepted once
 * (one per main-loop iteration) and then reused; more requests than this at once wait in the
 * front thread, in order, and newest first once the oldest has waited a second
 * (local/wait-queue.ts). bench:fleet runs 16 invocations per function at a time.
 */
export const API_FRONT_UPSTREAM_SOCKETS = 256;

export interface ApiFront {
  readonly port: number;
  stop(): Promise<void>;
}

const THREAD = new URL('./api-front-thread.ts', import.meta.url);

/**
 * The local HTTP API's front door (api-front-thread.ts) on its own thread, listening on `port`
 * and forwarding every request to `upstreamPort`, the main thread's server on loopback: callers
 * are accepted as API Gateway accepts them, whatever the functions are doing.
 */
export async function startApiFront(opts: {
  readonly port: number; readonly host: string; readonly upstreamPort: number;
  /** @default API_FRONT_UPSTREAM_SOCKETS */
  readonly upstreamSockets?: number;
  /** @default HTTP_API_INTEGRATION_TIMEOUT_MS (the HTTP API's longest integration timeout, and its default) */
  readonly queueLimitMs?: number;
  /** @default LIFO_AFTER_MS (local/wait-queue.ts) */
  readonly lifoAfterMs?: number;
  /** The stage's throttles, from the synthesized template (`stageThrottles`). @default none */
  readonly throttles?: StageThrottles;
}): Promise<ApiFront> {
  const start: ApiFrontStart = {
    port: opts.port, host: opts.host, upstreamPort: opts.upstreamPort,
    upstreamSockets: opts.upstreamSockets ?? API_FRONT_UPSTREAM_SOCKETS,
    queueLimitMs: opts.queueLimitMs ?? HTTP_API_INTEGRATION_TIMEOUT_MS,
    lifoAfterMs: opts.lifoAfterMs ?? LIFO_AFTER_MS,
    throttles: opts.throttles ?? { routes: {} },
  };
  const worker = startTsWorker(THREAD, start);
  let stopRequested = false;
  let onStopped: (() => void) | undefined;
  let up = false;
  // After start, a failed thread leaves the API unreachable: say so where the operator looks.
  const died = (why: string) => {
    const message = `the local API's front thread (the API Gateway stand-in) stopped: ${why}; the API is unreachable until the runtime is restarted`;
    if (up && !stopRequested) process.stderr.write(`${JSON.stringify({ level: 'ERROR', message })}\n`);
    return new Error(message);
  };
  const ready = new Promise<number>((resolve, reject) => {
    worker.on('error', (e) => reject(died(e.message)));
    worker.on('exit', (code) => { reject(died(`its thread exited (code ${code})`)); onStopped?.(); });
    worker.on('message', (m: FromApiFront) => {
      if (m.type === 'ready') resolve(m.port);
      else if (m.type === 'failed') reject(new Error(m.message));
      else onStopped?.();
    });
  });
  let port: number;
  try {
    port = await ready;
    up = true;
  } catch (e) {
    await worker.terminate();
    throw e;
  }
  return {
    port,
    stop: async () => {
      stopRequested = true;
      const stopped = new Promise<void>((r) => { onStopped = r; });
      worker.postMessage({ type: 'stop' } satisfies ToApiFront);
      await Promise.race([stopped, new Promise((r) => setTimeout(r, 5_000).unref())]);
      await worker.terminate();
    },
  };
}
