import type { CommandRecord } from '../domain/command.js';
import type { StoredStatus } from '../domain/device-status.js';
import type { PresenceState } from '../domain/presence.js';

/** Ports of the MQTT plane: what the IoT rule handlers need from the outside world. */

export interface PresenceWriter {
  /**
   * Stores `state` unless a newer (or equally new) one is stored: the write is conditional on
   * `at`, so out-of-order and duplicate lifecycle events converge. Resolves whether it wrote.
   */
  apply(hostId: string, state: PresenceState): Promise<boolean>;
}

export interface StatusStore {
  get(hostId: string): Promise<StoredStatus | undefined>;
  /** Conditional on the stored report being older (by `at`, then `seq`); resolves whether it wrote. */
  put(hostId: string, status: StoredStatus): Promise<boolean>;
}

export interface CommandStore {
  /** Stores a new command (before it is published); false if the id exists for this host. */
  create(command: CommandRecord): Promise<boolean>;
  get(hostId: string, commandId: string): Promise<CommandRecord | undefined>;
  /** Replaces the command if the stored version is `next.version - 1`; false on a lost race. */
  update(next: CommandRecord): Promise<boolean>;
  /** Commands of the host that are not finished (queued, sent, accepted, progress), oldest first. */
  listUnfinished(hostId: string): Promise<CommandRecord[]>;
  /**
   * The command with its parameters: `c` itself, unless they are stored apart (`paramsRef`),
   * then read. Throws if that item is gone (it outlives the command's deadline by days).
   */
  withParams(c: CommandRecord): Promise<CommandRecord>;
  /** Unfinished commands of any host whose deadline is before `now` (up to `limit` per index shard). */
  listOverdue(now: Date, limit: number): Promise<CommandRecord[]>;
}

/** What goes on the wire to the device (edgefleet/hosts/{hostId}/commands). */
export interface CommandEnvelope {
  readonly commandId: string;
  readonly type: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  readonly deadline: string;
}

/** Publishes a command to its host's command topic (QoS 1). */
export interface CommandPublisher {
  publish(hostId: string, command: CommandEnvelope): Promise<void>;
}
