import type { Presence } from './model.js';

/** What is stored about a host's connection: the state and the broker timestamp it came from. */
export interface PresenceState {
  readonly presence: Presence;
  /** Broker event time, epoch milliseconds. */
  readonly at: number;
  readonly sessionIdentifier?: string;
}

/** One lifecycle event, as the domain sees it. */
export interface PresenceChange {
  readonly eventType: 'connected' | 'disconnected';
  readonly at: number;
  readonly sessionIdentifier?: string;
}

export const presenceOf = (eventType: PresenceChange['eventType']): Presence => (eventType === 'connected' ? 'online' : 'offline');

/**
 * The timestamp guard: an event is applied only if it is strictly newer than the stored one. A
 * duplicate (same time) or an older event (delivered out of order) changes nothing, so any
 * delivery order of the same events ends in the same state. The adapter repeats the guard as a
 * condition on the write (`attribute_not_exists(at) OR at < :at`) against concurrent handlers.
 */
export function nextPresence(stored: PresenceState | undefined, event: PresenceChange): PresenceState | undefined {
  if (!Number.isFinite(event.at) || event.at < 0) return undefined;
  if (stored && event.at <= stored.at) return undefined;
  return {
    presence: presenceOf(event.eventType), at: event.at,
    ...(event.sessionIdentifier !== undefined ? { sessionIdentifier: event.sessionIdentifier } : {}),
  };
}
