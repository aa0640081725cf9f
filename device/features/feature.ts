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
  hostId?: string;
  /** Set when registration was refused for good or the agent failed: what to tell the technician. */
  message?: string;
  commandsRun: number;
  statusSent: number;
}

/** Sends one message on the agent's MQTT session (the session logs a failed publish; this never rejects). */
export type Publish = (topic: string, body: unknown) => Promise<void>;
