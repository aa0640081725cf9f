import type { ClusterHealthState } from './cluster-health.js';
import type { HostHealthState } from './host-health.js';

/**
 * What a health change publishes (EventBridge detail types `edgefleet.host` / `edgefleet.cluster`;
 * the wire schema is contracts/events.ts). Published after the changed health was stored.
 */
export interface HostHealthEvent {
  readonly kind: 'host';
  readonly project: string;
  readonly hostId: string;
  readonly name?: string;
  readonly site?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly clusterId?: string;
  readonly state: HostHealthState;
  /** Absent: the first health ever stored for it. */
  readonly previousState?: HostHealthState;
  readonly reasons: readonly string[];
  /** When it entered `state`. */
  readonly since: string;
  /** When the change was derived. */
  readonly at: string;
}

export interface ClusterHealthEvent {
  readonly kind: 'cluster';
  readonly project: string;
  readonly clusterId: string;
  readonly name: string;
  readonly state: ClusterHealthState;
  readonly previousState?: ClusterHealthState;
  readonly reasons: readonly string[];
  readonly since: string;
  readonly at: string;
}

export type HealthEvent = HostHealthEvent | ClusterHealthEvent;

/** The event of a host's health (a change, or an open alert notified again). */
export function hostHealthEvent(
  host: { readonly id: string; readonly project: string; readonly name?: string; readonly site?: string; readonly tags: Readonly<Record<string, string>>; readonly clusterId?: string },
  health: { readonly state: HostHealthState; readonly reasons: readonly string[]; readonly since: string },
  at: string, previousState?: HostHealthState,
): HostHealthEvent {
  return {
    kind: 'host', project: host.project, hostId: host.id, tags: host.tags, state: health.state, reasons: [...health.reasons], since: health.since, at,
    ...(host.name ? { name: host.name } : {}), ...(host.site ? { site: host.site } : {}), ...(host.clusterId ? { clusterId: host.clusterId } : {}),
    ...(previousState ? { previousState } : {}),
  };
}

/** The event of a cluster's health (a change, or an open alert notified again). */
export function clusterHealthEvent(
  cluster: { readonly id: string; readonly project: string; readonly name: string },
  health: { readonly state: ClusterHealthState; readonly reasons: readonly string[]; readonly since: string },
  at: string, previousState?: ClusterHealthState,
): ClusterHealthEvent {
  return {
    kind: 'cluster', project: cluster.project, clusterId: cluster.id, name: cluster.name, state: health.state, reasons: [...health.reasons],
    since: health.since, at, ...(previousState ? { previousState } : {}),
  };
}
