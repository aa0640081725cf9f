/** What the main thread and the API's front thread (api-front-thread.ts) tell each other. */
import type { StageThrottles } from './api-throttle.js';

/**
 * Set by the front thread on every request it forwards (any value a caller sent is replaced): when
 * the front received it, in epoch milliseconds. API Gateway's integration timeout counts from
 * there (api-gateway.ts), so a request's wait for a connection to the main thread counts too.
 */
export const GATEWAY_RECEIVED_HEADER = 'x-edgefleet-gateway-received';

/** The front thread's `workerData`. */
export interface ApiFrontStart {
  /** The API's public port (0 picks a free one) and address. */
  readonly port: number;
  readonly host: string;
  /** The main thread's server, on loopback, where the route's function runs. */
  readonly upstreamPort: number;
  /** Connections kept open to it (requests beyond them wait for one to be free, in wait-queue.ts's order). */
  readonly upstreamSockets: number;
  /** Waiting requests go in order until the oldest has waited this long, then newest first (wait-queue.ts). */
  readonly lifoAfterMs: number;
  /**
   * A request still waiting for one of them this long after it arrived is answered 503
   * {"message":"Service Unavailable"} and never forwarded: past the HTTP API's longest integration
   * timeout, API Gateway would have answered so whatever the route.
   */
  readonly queueLimitMs: number;
  /** The stage's throttles (api-throttle.ts), applied per route before a request is forwarded. */
  readonly throttles: StageThrottles;
}

export type ToApiFront = { readonly type: 'stop' };

export type FromApiFront =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' };
