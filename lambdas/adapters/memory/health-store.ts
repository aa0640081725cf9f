import type { ClusterRecord, HostRecord } from '../../domain/model.js';
import type { EventPublisher, HealthStore, HostHealthSnapshot, StoredClusterHealth, StoredHostHealth } from '../../ports/health.js';
import type { HealthEvent } from '../../domain/health-events.js';
import { copy, type MemoryState } from './state.js';

/** Health in memory, with the DynamoDB adapter's conditions (rev). */
export class MemoryHealthStore implements HealthStore {
  constructor(private readonly state: MemoryState) {}

  async hostSnapshot(hostId: string): Promise<HostHealthSnapshot | undefined> {
    const host = this.state.hosts.get(hostId);
    if (!host) return undefined;
    const presence = this.state.presence.get(hostId);
    const status = this.state.status.get(hostId);
    const health = this.state.health.get(hostId);
    return {
      host: copy(host), ...(presence ? { presence: copy(presence) } : {}), ...(status ? { status: copy(status) } : {}), ...(health ? { health: copy(health) } : {}),
    };
  }

  async putHostHealth(host: HostRecord, health: StoredHostHealth, expectedRev: number | undefined): Promise<boolean> {
    if (this.state.health.get(host.id)?.rev !== expectedRev) return false;
    this.state.health.set(host.id, copy(health));
    return true;
  }

  async hostHealths(hostIds: readonly string[]): Promise<Map<string, StoredHostHealth>> {
    const out = new Map<string, StoredHostHealth>();
    for (const id of hostIds) {
      const h = this.state.health.get(id);
      if (h) out.set(id, copy(h));
    }
    return out;
  }

  async putClusterHealth(cluster: ClusterRecord, health: StoredClusterHealth, expectedRev: number | undefined): Promise<boolean> {
    const stored = this.state.clusters.get(cluster.id);
    if (!stored || stored.health?.rev !== expectedRev) return false;
    this.state.clusters.set(cluster.id, { ...stored, health: copy(health) });
    return true;
  }
}

/** Keeps what was published, in order (tests). */
export class RecordingEventPublisher implements EventPublisher {
  readonly events: HealthEvent[] = [];
  async publish(event: HealthEvent): Promise<void> {
    this.events.push(copy(event));
  }
}
