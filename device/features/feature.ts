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

export interface AgentState {
  phase: AgentPhase;
  hostId?: string;
  /** Set when registration was refused for good or the agent failed: what to tell the technician. */
  message?: string;
  commandsRun: number;
  statusSent: number;
}

/** Sends one message on the agent's MQTT session (the session logs a failed publish; this never rejects). */
export type Publish = (topic: string, body: unknown) => Promise<void>;
