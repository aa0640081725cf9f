import type { HostStatus } from './host-lifecycle.js';
import type { Layer } from './profile.js';

/** Stored shapes of the domain's records (what repositories read and write). */
export interface TokenRecord {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly secretHash: string;
  readonly expiresAt: string;
  readonly maxUses?: number;
  readonly uses: number;
  readonly autoApprove: boolean;
  readonly allowReregistration: boolean;
  readonly site?: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly revoked: boolean;
  readonly createdAt: string;
  readonly createdBy: string;
}

export type Presence = 'online' | 'offline';

export interface HostRecord {
  readonly id: string;
  readonly uid: string;
  readonly project: string;
  readonly name?: string;
  readonly site?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: HostStatus;
  readonly statusReason?: string;
  readonly clusterId?: string;
  readonly targetClusterId?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly approvedAt?: string;
  /** Shown on the device console while pending; an operator's approval must quote it. */
  readonly pairingCode?: string;
  /** The device certificate issued at registration (IoT certificateId) and its PEM. */
  readonly certificateId?: string;
  readonly certificatePem?: string;
  /** Public key of the registration CSR (SPKI PEM): proof-of-possession on repeat calls. */
  readonly publicKeyPem?: string;
  /** Hardware inventory reported at registration (contracts/device.ts `inventory`). */
  readonly inventory?: Readonly<Record<string, unknown>>;
  readonly registeredAt?: string;
  readonly registrationTokenId?: string;
}

export interface HostWithPresence extends HostRecord {
  readonly presence: Presence;
}

export interface ProfileRecord {
  readonly name: string;
  readonly project: string;
  readonly description?: string;
  readonly latestVersion?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export interface ProfileVersionRecord {
  readonly name: string;
  readonly project: string;
  readonly version: string;
  readonly layers: readonly Layer[];
  readonly status: 'draft' | 'published';
  readonly publishedAt?: string;
  readonly createdAt: string;
  readonly createdBy: string;
}

export type ClusterStatus = 'provisioning' | 'running' | 'updating' | 'upgrading' | 'degraded' | 'failed' | 'deleting';

export interface ClusterRecord {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly profile: { readonly name: string; readonly version: string };
  readonly controlPlane: { readonly hostIds: readonly string[] };
  readonly workers: readonly { readonly name: string; readonly hostIds: readonly string[] }[];
  readonly vip?: string;
  readonly status: ClusterStatus;
  readonly statusReason?: string;
  /** The operation that created it (create) or last changed it. */
  readonly operationId?: string;
  /** Set while a workflow runs on the cluster: one at a time. */
  readonly activeOperationId?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type OperationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'paused';

export interface OperationRecord {
  readonly id: string;
  readonly project: string;
  readonly type: string;
  readonly target: { readonly type: 'cluster' | 'host'; readonly id: string };
  readonly status: OperationStatus;
  readonly step: string;
  readonly hosts: Readonly<Record<string, HostProgress>>;
  readonly reason?: string;
  readonly startedAt: string;
  readonly endedAt?: string;
  readonly updatedAt?: string;
  /** After this time the operation is ended as failed (reason deadline-passed) by the sweep. */
  readonly deadline?: string;
  /** What the workflow works from (e.g. the hosts to add, the target profile version). */
  readonly input?: Readonly<Record<string, unknown>>;
  /** Who asked for it. */
  readonly requestedBy?: string;
  /** The current workflow execution's name (the operation id; `<id>-r<n>` after a resume). */
  readonly execution?: string;
  /** How many executions it has had (a resumed upgrade runs again). */
  readonly runs?: number;
  /**
   * Set (with the reason) the moment the operation starts to end (a failure's cleanup, the
   * deadline sweep): from then on no run of it sends a command, before its status changes.
   */
  readonly ending?: string;
}

/**
 * Per-host progress of an operation. `status`: claimed | pending | sent | accepted | progress |
 * succeeded | failed | timed-out | skipped | released.
 */
export interface HostProgress {
  readonly status: string;
  readonly step?: string;
  readonly detail?: string;
  readonly commandId?: string;
  readonly at?: string;
}

export interface AuditRecord {
  readonly id: string;
  readonly project: string;
  readonly time: string;
  readonly actor: string;
  readonly action: string;
  /** `type/id`, e.g. `host/abc`, `cluster/c-123`. */
  readonly resource: string;
  readonly outcome: 'success' | 'denied' | 'failed';
  readonly requestId: string;
  readonly detail?: string;
}
