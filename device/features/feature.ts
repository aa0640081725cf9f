/**
 * One part of the agent with its own lifecycle, as aws-iot-device-client organises its
 * features (its `Feature` interface: getName, start, stop): the agent (agent.ts) builds the
 * features, starts them in order and stops them all when it stops.
 *
 * - `start()` resolves once the feature is running (a background loop keeps running after it).
 * - `stop()` is idempotent; it marks the feature stopped synchronously, before its first
 *   `await`, so that stopping several features in a row silences all of them at once, then
 *   ends the feature's timers and waits for its background work to settle.
 */
export interface Feature {
  getName(): string;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** A live view of the agent, for the local runtime and tests. */
export type AgentPhase = 'starting' | 'registering' | 'connecting' | 'online' | 'offline' | 'rebooting' | 'refused' | 'failed' | 'stopped';

/**
 * What the agent is doing within its phase, for observers (the simulator's census, bench:fleet):
 * `identity` reading or making its key and CSR; `register-request` a registration request in
 * flight; `register-backoff` waiting after a 408/429/5xx, an unreachable control plane or a
 * retryable refusal; `awaiting-approval` polling while pending; `mqtt-connecting` a TLS handshake
 * and MQTT CONNECT under way; `mqtt-backoff` waiting before the next connect attempt;
 * `connected` the MQTT session is up.
 */
export type AgentStep = 'identity' | 'register-request' | 'register-backoff' | 'awaiting-approval' | 'mqtt-connecting' | 'mqtt-backoff' | 'connected';

export interface AgentState {
  phase: AgentPhase;
  step?: AgentStep;
  /** Registration requests retried so far (after a 408/429/5xx, a network error or a retryable refusal). */
  registrationRetries?: number;
  /** MQTT connect attempts that failed so far (each followed by a backoff). */
  mqttRetries?: number;
  /** Why those retries happened: failed attempts by kind (`countRetry`), for observers such as the simulator's census. */
  retryReasons?: Record<string, number>;
  hostId?: string;
  /** Set when registration was refused for good or the agent failed: what to tell the technician. */
  message?: string;
  commandsRun: number;
  statusSent: number;
}

/** At most this many kinds of retry reason are kept; later kinds count as `<what>: other`. */
export const MAX_RETRY_REASONS = 20;

/**
 * The kind of a failed attempt's reason, to count like ones together: the error's code when there
 * is one — aws-c-io's ("Failed to connect: aws-c-io: AWS_IO_TLS_NEGOTIATION_TIMEOUT, …"), undici's
 * ("cannot reach …: fetch failed (UND_ERR_HEADERS_TIMEOUT)") or the system's ("(ECONNRESET)") —
 * otherwise the reason's first 80 characters with numbers as `#` (ports, minutes) but an answer's
 * HTTP status ("answered 503": a 503 and a 429 are different stories).
 */
export const retryReasonKind = (reason: string): string =>
  /\b(?:AWS_[A-Z0-9_]+|UND_ERR_[A-Z0-9_]+|E[A-Z]{4,})\b/.exec(reason)?.[0]
    ?? reason.replace(/(answered [1-5]\d\d)\b|\d+/g, (digits, status?: string) => status ?? '#').slice(0, 80);

/** Counts one failed attempt of `what` ('registration' or 'mqtt') under its reason's kind, in the agent's state. */
export function countRetry(state: AgentState, what: 'registration' | 'mqtt', reason: string | undefined): void {
  const reasons = (state.retryReasons ??= {});
  let key = `${what}: ${reason === undefined ? 'unknown' : retryReasonKind(reason)}`;
  if (!(key in reasons) && Object.keys(reasons).length >= MAX_RETRY_REASONS) key = `${what}: other`;
  reasons[key] = (reasons[key] ?? 0) + 1;
}

/** Sends one message on the agent's MQTT session (the session logs a failed publish; this never rejects). */
export type Publish = (topic: string, body: unknown) => Promise<void>;
