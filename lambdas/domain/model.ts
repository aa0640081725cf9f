import type { StoredHostHealth } from './host-health.js';
import type { StoredClusterHealth } from './cluster-health.js';
import type { HostStatus } from './host-lifecycle.js';
import type { PackStatus } from './packs.js';
import type { Layer, ProfileVariable } from './profile.js';
import type { ChangeBehaviour, LayerChange } from './reconfigure.js';
import type { UpgradePlan } from './upgrade-plan.js';

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
  /** The stored derived health (absent: never derived: the host has not connected or reported since). */
  readonly health?: StoredHostHealth;
  /** The last stored status report (device time `at`, epoch ms) and its content (contracts/mqtt.ts statusMessage). */
  readonly reported?: { readonly at: number; readonly content: Readonly<Record<string, unknown>> };
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
  /** Variables the layers' values use as `{{ .vars.NAME }}` (domain/profile-variables.ts). */
  readonly variables?: readonly ProfileVariable[];
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
  /**
   * Without a VIP: the address the nodes reach the Kubernetes API at (`control_plane_host`,
   * kubeadm's controlPlaneEndpoint): the init node's reported address, stored when the create
   * begins and kept for every later join (domain/control-plane-address.ts).
   */
  readonly controlPlaneAddress?: string;
  /** Values of the profile's non-secret variables this cluster sets (the rest render their defaults). */
  readonly variables?: Readonly<Record<string, string | number | boolean>>;
  /** Names of the secret variables this cluster sets; their values are in the secret store (clusters/<id>/vars/<NAME>), never here. */
  readonly secretVariables?: readonly string[];
  readonly status: ClusterStatus;
  readonly statusReason?: string;
  /** The operation that created it (create) or last changed it. */
  readonly operationId?: string;
  /** Set while a workflow runs on the cluster: one at a time. */
  readonly activeOperationId?: string;
  /** When the init node's admin kubeconfig was stored in the secret store (the value never is here). */
  readonly kubeconfigStoredAt?: string;
  /** Each pack's state as the init node last reported it (written on change only, never by an operator). */
  readonly packs?: readonly PackStatus[];
  /** The init node's time of that report. */
  readonly packsReportedAt?: string;
  /** Derived from its nodes' health and packs (domain/cluster-health.ts), stored when it changes. */
  readonly health?: StoredClusterHealth;
  /** The cluster template that built it (zero-touch) and still manages it; cleared by detach. */
  readonly templateId?: string;
  /** The site it was built for by its template. */
  readonly site?: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export type OperationStatus = 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled' | 'paused';

/**
 * What every operation has. The kinds below add their typed `input`; the wire schema
 * (contracts/operations.ts `operationRecord`) is the same union, kept equal by a compile-time
 * test (test/unit/contracts/operations.test.ts). A new kind is one more member in both.
 */
interface OperationBase {
  readonly id: string;
  readonly project: string;
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
  /** Steps a host did not need, with the reason (a create's repave of a host already at the profile's image). */
  readonly skipped?: readonly SkippedStep[];
}

/** A host step an operation left out, and why. */
export interface SkippedStep {
  readonly hostId: string;
  readonly step: string;
  readonly reason: string;
}

export interface ProfileRef {
  readonly name: string;
  readonly version: string;
}

/** A cluster's nodes: what a scale leaves it with. */
export interface Topology {
  readonly controlPlane: { readonly hostIds: readonly string[] };
  readonly workers: readonly { readonly name: string; readonly hostIds: readonly string[] }[];
}

export interface ScaleOutInput {
  readonly pool: string;
  readonly add: readonly string[];
  readonly after: Topology;
}

export interface ScaleInInput {
  readonly pool: string;
  readonly remove: readonly string[];
  readonly after: Topology;
}

/** A reconfigure's variables (contracts/operations.ts `reconfigureVariables`). */
export interface ReconfigureVariables {
  /** Non-secret values after the reconfigure (the cluster takes them when it succeeds). */
  readonly values: Readonly<Record<string, string | number | boolean>>;
  /** Names of the secret variables set after it (values in the secret store). */
  readonly secrets: readonly string[];
  /** Names of the variables this reconfigure changes, secret ones included. */
  readonly changed: readonly string[];
}

export interface ReconfigureInput {
  readonly profile: ProfileRef;
  readonly behaviour: ChangeBehaviour;
  readonly changes: readonly LayerChange[];
  readonly variables?: ReconfigureVariables;
}

/** What a failed upgrade does: roll back (the default), pause, or nothing (a rollback is not rolled back). */
export type UpgradeFailurePolicy = 'rollback' | 'pause' | 'none';

export interface UpgradeInput {
  readonly to: ProfileRef;
  readonly from: ProfileRef;
  /** @default 'rollback' */
  readonly onFailure?: UpgradeFailurePolicy;
  /** @default 600 */
  readonly drainTimeoutSeconds?: number;
  /** A maintenance window's start: the operation stays queued until then. */
  readonly notBefore?: string;
  readonly window?: { readonly start: string; readonly end: string };
  readonly plan: UpgradePlan;
  /** The failed upgrade this one rolls back. */
  readonly rollbackOf?: string;
  /** The rollback upgrade started when this one failed. */
  readonly rolledBackBy?: string;
  /** The cluster's variables after the upgrade, when it sets any (as a reconfigure's). */
  readonly variables?: ReconfigureVariables;
}

export interface CreateClusterOperation extends OperationBase { readonly type: 'create-cluster' }
export interface ScaleOutOperation extends OperationBase { readonly type: 'scale-out'; readonly input: ScaleOutInput }
export interface ScaleInOperation extends OperationBase { readonly type: 'scale-in'; readonly input: ScaleInInput }
export interface ReconfigureOperation extends OperationBase { readonly type: 'reconfigure'; readonly input: ReconfigureInput }
export interface DeleteClusterOperation extends OperationBase { readonly type: 'delete-cluster' }
export interface UpgradeOperation extends OperationBase { readonly type: 'upgrade-cluster'; readonly input: UpgradeInput }
/** A host's agent update: the version asked for, the one the host reported before, the command that carries it. */
export interface AgentUpdateInput { readonly version: string; readonly from?: string; readonly commandId: string }
export interface AgentUpdateOperation extends OperationBase { readonly type: 'agent-update'; readonly input: AgentUpdateInput }

/** An operation: one member per workflow kind (`type`), each with its typed input. */
export type OperationRecord =
  | CreateClusterOperation | ScaleOutOperation | ScaleInOperation | ReconfigureOperation | DeleteClusterOperation | UpgradeOperation | AgentUpdateOperation;
export type OperationType = OperationRecord['type'];
/** The input of any kind (what an update may replace). */
export type OperationInput = ScaleOutInput | ScaleInInput | ReconfigureInput | UpgradeInput | AgentUpdateInput;
export type OperationOf<K extends OperationType> = Extract<OperationRecord, { readonly type: K }>;
/** A new operation's kind and input, as its use case states it. */
export type OperationSpec = OperationRecord extends infer O ? O extends OperationRecord ? Pick<O, Extract<keyof O, 'type' | 'input'>> : never : never;

/**
 * Where a host stands in an operation: `pending` (planned), `queued` (its command is stored),
 * then its command's states (sent → accepted → progress → succeeded | failed | timed-out |
 * superseded); `claimed`, `skipped` and `released` appear in older records.
 */
export type HostProgressStatus =
  | 'pending' | 'claimed' | 'queued' | 'sent' | 'accepted' | 'progress' | 'succeeded' | 'failed' | 'timed-out' | 'superseded' | 'skipped' | 'released';

/** Per-host progress of an operation. */
export interface HostProgress {
  readonly status: HostProgressStatus;
  /** The workflow step the host is at (a host step, or `verified` when found at the target). */
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
