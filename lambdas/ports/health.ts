import type { StoredClusterHealth } from '../domain/cluster-health.js';
import type { StoredStatus } from '../domain/device-status.js';
import type { StoredHostHealth } from '../domain/host-health.js';
import type { ClusterRecord, HostRecord } from '../domain/model.js';
import type { PresenceState } from '../domain/presence.js';
import type { HealthEvent } from '../domain/health-events.js';

export type { StoredClusterHealth } from '../domain/cluster-health.js';
export type { StoredHostHealth } from '../domain/host-health.js';

/** Everything a host's health is derived from, read at once. */
export interface HostHealthSnapshot {
  readonly host: HostRecord;
  readonly presence?: PresenceState;
  readonly status?: StoredStatus;
  readonly health?: StoredHostHealth;
}

export interface HealthStore {
  hostSnapshot(hostId: string): Promise<HostHealthSnapshot | undefined>;
  /** Writes if the stored health's rev is `expectedRev` (undefined: none stored); false on a lost race. */
  putHostHealth(host: HostRecord, health: StoredHostHealth, expectedRev: number | undefined): Promise<boolean>;
  /** The stored health of these hosts (missing ones absent from the map). */
  hostHealths(hostIds: readonly string[]): Promise<Map<string, StoredHostHealth>>;
  /** Writes the cluster's health if its stored rev is `expectedRev`; false on a lost race or when the cluster is gone. */
  putClusterHealth(cluster: ClusterRecord, health: StoredClusterHealth, expectedRev: number | undefined): Promise<boolean>;
}

/** Publishes health changes (EventBridge on AWS; the local alert dispatcher locally). */
export interface EventPublisher {
  publish(event: HealthEvent): Promise<void>;
}
