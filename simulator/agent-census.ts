/**
 * Where every simulated agent is, by count: what bench:fleet prints at the end of a storm (and on
 * its timeout), from each agent's own state (device/features/feature.ts `phase` and `step`),
 * crossed with the hosts the control plane reports online. Pure: the worker processes send
 * snapshots (`snapshotOf`), the bench aggregates them (`census`).
 */
import type { AgentPhase, AgentState, AgentStep } from '../device/features/feature.js';

/** One agent as it is now: small enough to send 10,000 of over IPC. */
export interface AgentSnapshot {
  readonly uid: string;
  /** Set once registered (the control plane's host id). */
  readonly hostId?: string;
  readonly phase: AgentPhase;
  readonly step?: AgentStep;
  readonly registrationRetries: number;
  readonly mqttRetries: number;
  /** Its failed attempts by kind of reason (device/features/feature.ts `countRetry`). */
  readonly retryReasons?: Readonly<Record<string, number>>;
}

/**
 * The census's places, in the order an agent passes them:
 * - `not-started`: its agent has not begun (or reads its key and CSR);
 * - `registering`: a registration request in flight;
 * - `register-backoff`: waiting after a 408/429/5xx, an unreachable control plane or a retryable refusal;
 * - `awaiting-approval`: registered, pending, polling;
 * - `registered-not-connecting`: holds its certificate, has not started its first MQTT connect;
 * - `mqtt-connecting`: TLS handshake / MQTT CONNECT under way;
 * - `mqtt-backoff`: waiting before the next connect attempt (after a failed one);
 * - `connected-not-online`: its MQTT session is up, but the control plane does not report it online;
 * - `online`: connected, and online in the control plane;
 * - `gave-up`: refused for good or failed;
 * - `stopped`: its agent was stopped.
 */
export const CENSUS_PLACES = [
  'not-started', 'registering', 'register-backoff', 'awaiting-approval', 'registered-not-connecting',
  'mqtt-connecting', 'mqtt-backoff', 'connected-not-online', 'online', 'gave-up', 'stopped',
] as const;
export type CensusPlace = (typeof CENSUS_PLACES)[number];

export interface RetryCount {
  /** Agents that retried at least once. */
  readonly agents: number;
  /** Retries in all. */
  readonly total: number;
  readonly max: number;
}

export interface Census {
  readonly agents: number;
  readonly places: Record<CensusPlace, number>;
  readonly registrationRetries: RetryCount;
  readonly mqttRetries: RetryCount;
  /** Every agent's failed attempts summed by kind of reason, most frequent first. */
  readonly retryReasons: Record<string, number>;
}

export function snapshotOf(uid: string, s: Readonly<AgentState>): AgentSnapshot {
  return {
    uid, phase: s.phase, registrationRetries: s.registrationRetries ?? 0, mqttRetries: s.mqttRetries ?? 0,
    ...(s.retryReasons ? { retryReasons: { ...s.retryReasons } } : {}),
    ...(s.hostId ? { hostId: s.hostId } : {}), ...(s.step ? { step: s.step } : {}),
  };
}

/** Where one agent is; `onlineInControlPlane` is undefined when the control plane was not asked (its MQTT session up counts as online). */
export function placeOf(a: AgentSnapshot, onlineInControlPlane?: ReadonlySet<string>): CensusPlace {
  switch (a.phase) {
    case 'refused':
    case 'failed':
      return 'gave-up';
    case 'stopped':
      return 'stopped';
    case 'starting':
      return 'not-started';
    case 'registering':
      return a.step === 'register-backoff' ? 'register-backoff' : a.step === 'awaiting-approval' ? 'awaiting-approval' : a.step === 'register-request' ? 'registering' : 'not-started';
    case 'connecting':
    case 'offline':
      return a.step === 'mqtt-connecting' ? 'mqtt-connecting' : a.step === 'mqtt-backoff' ? 'mqtt-backoff' : a.step === 'connected' ? 'mqtt-connecting' : 'registered-not-connecting';
    case 'online':
    case 'rebooting':
      if (!onlineInControlPlane) return 'online';
      return a.hostId !== undefined && onlineInControlPlane.has(a.hostId) ? 'online' : 'connected-not-online';
  }
}

function retries(xs: readonly number[]): RetryCount {
  const tried = xs.filter((n) => n > 0);
  return { agents: tried.length, total: tried.reduce((s, n) => s + n, 0), max: tried.reduce((m, n) => Math.max(m, n), 0) };
}

/** The agents by place (every place listed, 0 included) and their retries. */
export function census(agents: readonly AgentSnapshot[], onlineInControlPlane?: ReadonlySet<string>): Census {
  const places: Record<CensusPlace, number> = {
    'not-started': 0, registering: 0, 'register-backoff': 0, 'awaiting-approval': 0, 'registered-not-connecting': 0,
    'mqtt-connecting': 0, 'mqtt-backoff': 0, 'connected-not-online': 0, online: 0, 'gave-up': 0, stopped: 0,
  };
  const reasons = new Map<string, number>();
  for (const a of agents) {
    places[placeOf(a, onlineInControlPlane)]++;
    for (const [kind, n] of Object.entries(a.retryReasons ?? {})) reasons.set(kind, (reasons.get(kind) ?? 0) + n);
  }
  return {
    agents: agents.length, places,
    registrationRetries: retries(agents.map((a) => a.registrationRetries)),
    mqttRetries: retries(agents.map((a) => a.mqttRetries)),
    retryReasons: Object.fromEntries([...reasons].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))),
  };
}
