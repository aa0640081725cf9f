import type { ClusterHealthState } from '../domain/cluster-health.js';
import type { HostHealthState } from '../domain/host-health.js';
import type { HostStatus } from '../domain/host-lifecycle.js';
import type { PackStatus } from '../domain/packs.js';
import type {
  AuditRecord, ClusterRecord, HostProgress, HostRecord, HostWithPresence, OperationInput, OperationRecord, OperationStatus, ProfileRecord,
  ProfileVersionRecord, TokenRecord,
} from '../domain/model.js';

/** Ports: what the use cases need from the outside world. Adapters implement them. */

export interface Clock {
  now(): Date;
}

export interface IdGenerator {
  /** A short, URL-safe, lowercase unique id. */
  newId(): string;
  /** `bytes` of cryptographic randomness, base64url-encoded. */
  secret(bytes: number): string;
}

export interface PageRequest {
  readonly limit: number;
  readonly cursor?: string;
}
export interface Page<T> {
  readonly items: T[];
  readonly nextCursor?: string;
}

export interface TokenRepository {
  /** Fails with ConflictError if the id exists. */
  create(token: TokenRecord): Promise<void>;
  get(id: string): Promise<TokenRecord | undefined>;
  list(project: string, page: PageRequest): Promise<Page<TokenRecord>>;
  /** Marks revoked; idempotent. Returns the updated record, or undefined if absent. */
  revoke(id: string): Promise<TokenRecord | undefined>;
}

export interface HostFilter {
  readonly status?: HostStatus;
  /** The stored derived health (hosts whose health was never derived have none, and match no health filter). */
  readonly health?: HostHealthState;
  readonly site?: string;
  readonly tag?: { readonly key: string; readonly value: string };
  readonly clusterId?: string;
}

export type HostChanges = Partial<Pick<HostRecord, 'name' | 'site' | 'tags' | 'status' | 'statusReason' | 'approvedAt' | 'clusterId'
  | 'pairingCode' | 'certificateId' | 'certificatePem' | 'publicKeyPem' | 'inventory' | 'registeredAt' | 'registrationTokenId'>>;

export interface HostRepository {
  /** Conditional create: resolves `false` (and writes nothing) if a host with this id exists. */
  create(host: HostRecord): Promise<boolean>;
  get(id: string): Promise<HostWithPresence | undefined>;
  list(project: string, filter: HostFilter, page: PageRequest): Promise<Page<HostWithPresence>>;
  /**
   * Applies `changes` if the stored version equals `expectedVersion`; bumps the version.
   * Throws VersionMismatchError when it does not, NotFoundError when the host is gone.
   */
  update(id: string, expectedVersion: number, changes: HostChanges, now: string): Promise<HostWithPresence>;
  /** Deletes if the stored version equals `expectedVersion`. */
  delete(id: string, expectedVersion: number): Promise<void>;
}

export interface ProfileRepository {
  create(profile: ProfileRecord): Promise<boolean>;
  get(project: string, name: string): Promise<ProfileRecord | undefined>;
  list(project: string, page: PageRequest): Promise<Page<ProfileRecord>>;
  /** Creates a version; false if it exists. `setLatest` moves the profile's latestVersion to it. */
  createVersion(v: ProfileVersionRecord, opts: { setLatest: boolean }): Promise<boolean>;
  getVersion(project: string, name: string, version: string): Promise<ProfileVersionRecord | undefined>;
  listVersions(project: string, name: string, page: PageRequest): Promise<Page<ProfileVersionRecord>>;
  /** Draft → published, conditional on still being a draft. Returns false if already published. */
  publishVersion(project: string, name: string, version: string, now: string, opts: { setLatest: boolean }): Promise<ProfileVersionRecord | false>;
}

/** Why a claim transaction failed, per host, when it can be told. */
export interface ClaimFailure {
  readonly hostId: string;
  readonly reason: string;
}

export interface ClusterFilter {
  /** The stored derived health (a cluster never evaluated counts as unknown). */
  readonly health?: ClusterHealthState;
}

export interface ClusterRepository {
  /**
   * Atomically: creates the cluster, reserves its name in the project, records the operation,
   * and claims every host (each must still be at `expected[hostId]` version, status approved,
   * unclaimed). Either all of it happens or none; on a lost race returns the failures.
   */
  createWithClaims(cluster: ClusterRecord, operation: OperationRecord, expected: Readonly<Record<string, number>>):
    Promise<{ ok: true } | { ok: false; nameTaken?: boolean; failures: ClaimFailure[] }>;
  get(id: string): Promise<ClusterRecord | undefined>;
  list(project: string, page: PageRequest, filter?: ClusterFilter): Promise<Page<ClusterRecord>>;
  /** Atomically deletes the cluster and its name lock and releases its hosts. */
  deleteReleasing(cluster: ClusterRecord, endOperation?: { id: string; reason: string; at: string }): Promise<void>;
  /**
   * Atomically: records `operation` (status queued), sets the cluster's `activeOperationId`
   * and applies `changes` (conditional on `expectedVersion` and no active operation), and
   * claims `claim` hosts (each at its expected version, approved, unclaimed, same project).
   */
  startOperation(cluster: ClusterRecord, operation: OperationRecord, changes: ClusterChanges, claim?: Readonly<Record<string, number>>):
    Promise<{ ok: true; cluster: ClusterRecord } | { ok: false; busy?: boolean; stale?: boolean; failures: ClaimFailure[] }>;
  /**
   * Applies `changes` to the cluster if its activeOperationId is `operationId` (a finished or
   * superseded workflow cannot touch it); `endOperation` also clears activeOperationId.
   * Returns the updated cluster, or undefined when the condition failed.
   */
  updateForOperation(clusterId: string, operationId: string, changes: ClusterChanges, opts: { endOperation: boolean; now: string }): Promise<ClusterRecord | undefined>;
  /**
   * Stores the packs the cluster's init node reported, only if `initHostId` is still the
   * cluster's first control-plane host and no newer report is stored (`at` is the report's
   * time). Neither the version nor updatedAt change: a device report is not an operator's
   * change. Returns false when the condition failed (or the cluster is gone).
   */
  recordPacks(clusterId: string, initHostId: string, packs: readonly PackStatus[], at: string): Promise<boolean>;
  /** Marks claimed hosts in-cluster (status in-cluster, clusterId kept); idempotent. */
  markJoined(clusterId: string, hostIds: readonly string[], now: string): Promise<void>;
  /**
   * Releases hosts claimed by `clusterId` back to the approved pool (status approved, no
   * clusterId); hosts claimed by another cluster or gone are skipped; idempotent.
   */
  releaseHosts(clusterId: string, hostIds: readonly string[], now: string): Promise<void>;
  /** Clusters attached to a template (indexed: gsi2 `CT#<project>#<templateId>`), at most `limit`. */
  attachedTo(project: string, templateId: string, limit: number): Promise<ClusterRecord[]>;
  /** The clusters attached to a template, a page at a time (a rollout's targets), in cluster id order. */
  attachedPage(project: string, templateId: string, page: PageRequest): Promise<Page<ClusterRecord>>;
  /** Clears the cluster's templateId (and its index keys) if it is still at `expectedVersion`; undefined when it moved. */
  detach(clusterId: string, expectedVersion: number, now: string): Promise<ClusterRecord | undefined>;
}

export type ClusterChanges = Partial<Pick<ClusterRecord, 'status' | 'statusReason' | 'profile' | 'controlPlane' | 'workers' | 'operationId' | 'variables' | 'secretVariables' | 'controlPlaneAddress' | 'kubeconfigStoredAt'>>;

export type OperationChanges = Partial<Pick<OperationRecord, 'status' | 'step' | 'reason' | 'endedAt' | 'deadline' | 'execution' | 'runs' | 'ending' | 'skipped'>> & {
  /** Replaces the input (of the operation's own kind: an upgrade's input stays an upgrade's). */
  readonly input?: OperationInput;
};

export interface OperationFilter {
  readonly status?: OperationStatus;
  readonly type?: OperationRecord['type'];
}

export interface OperationRepository {
  get(id: string): Promise<OperationRecord | undefined>;
  /** Newest first; `filter` keeps only operations of that status and/or type (a page may then hold fewer than `limit`). */
  list(project: string, target: { type: string; id: string } | undefined, page: PageRequest, filter?: OperationFilter): Promise<Page<OperationRecord>>;
  /**
   * Applies `changes` (and sets updatedAt = now) if the stored status is one of `ifStatusIn`;
   * returns the updated record, or undefined when the condition failed or the operation is gone.
   * Ending an operation (status succeeded|failed|cancelled) removes it from the open index.
   */
  update(id: string, changes: OperationChanges, ifStatusIn: readonly OperationStatus[], now: string): Promise<OperationRecord | undefined>;
  /**
   * Sets one host's progress (an atomic per-host write: parallel hosts never overwrite each other).
   * `commandHostId` is the host that runs `progress.commandId` (a peer for a drain): a store may
   * then keep a pointer to that command instead of writing its unfinished states (accepted,
   * progress) and read them from the command itself; a read returns the same progress either way.
   */
  setHost(id: string, hostId: string, progress: HostProgress, commandHostId?: string): Promise<void>;
  /** Operations that are queued, running or paused (any project), oldest first, up to `limit`. */
  listOpen(limit: number): Promise<OperationRecord[]>;
  /** Records an operation that belongs to no cluster (a host's agent update); false if the id exists. */
  create(op: OperationRecord): Promise<boolean>;
  /** The newest operations on `target` (any project), up to `limit`: a device message finds its host's operations. */
  listForTarget(target: { type: string; id: string }, limit: number): Promise<OperationRecord[]>;
}

export interface AuditFilter {
  readonly resource?: string;
  readonly actor?: string;
  readonly since?: string;
}

export interface AuditLog {
  record(event: AuditRecord): Promise<void>;
  list(project: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>>;
}

export type IdempotencyBegin =
  | { readonly state: 'new' }
  | { readonly state: 'replay'; readonly status: number; readonly body: string; readonly headers: Record<string, string> }
  | { readonly state: 'in-progress' }
  | { readonly state: 'mismatch' };

export interface IdempotencyStore {
  /** Reserves `key` for a request with `fingerprint` (hash of method, path and body). */
  begin(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin>;
  complete(key: string, response: { status: number; body: string; headers: Record<string, string> }, now: Date): Promise<void>;
  /** Releases a reservation after a failure the client may retry. */
  release(key: string): Promise<void>;
}
