/**
 * What the main thread and the broker's thread (mqtt-broker-thread.ts) tell each other. Both
 * sides are ours and in one process (structured clone, no parsing): the device's bytes are
 * checked by the broker itself, as before.
 */
import type { BrokerEndpoint, BrokerStats, SessionMatch } from './mqtt-broker-core.js';

/** The broker thread's `workerData`. */
export type BrokerThreadStart = BrokerEndpoint;

/** From the main thread to the broker. */
export type ToBroker =
  | { readonly type: 'admitted'; readonly id: number; readonly revoked: boolean; readonly attached: boolean }
  | { readonly type: 'publish'; readonly id: number; readonly topic: string; readonly payload: string | Uint8Array; readonly qos: 0 | 1 }
  | { readonly type: 'close-sessions'; readonly match: SessionMatch }
  | { readonly type: 'stop' };

/** From the broker to the main thread; `stats` is the broker's counters as they were when it was sent. */
export type FromBroker =
  | { readonly type: 'ready'; readonly port: number; readonly stats: BrokerStats }
  | { readonly type: 'failed'; readonly message: string }
  | { readonly type: 'admit'; readonly id: number; readonly thing: string; readonly certificateId: string }
  | { readonly type: 'message'; readonly topic: string; readonly payload: Uint8Array; readonly clientId?: string; readonly stats: BrokerStats }
  | { readonly type: 'stats'; readonly stats: BrokerStats }
  | { readonly type: 'published'; readonly id: number; readonly error?: string }
  | { readonly type: 'stopped'; readonly stats: BrokerStats };
