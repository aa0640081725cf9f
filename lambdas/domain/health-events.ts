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
