/** What the main thread and the API's front thread (api-front-thread.ts) tell each other. */

/** The front thread's `workerData`. */
export interface ApiFrontStart {
  /** The API's public port (0 picks a free one) and address. */
  readonly port: number;
  readonly host: string;
  /** The main thread's server, on loopback, where the route's function runs. */
  readonly upstreamPort: number;
  /** Connections kept open to it (requests beyond them wait, in order, for one to be free). */
  readonly upstreamSockets: number;
}

export type ToApiFront = { readonly type: 'stop' };

export type FromApiFront =
  | { readonly type: 'ready'; readonly port: number }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'stopped' };
