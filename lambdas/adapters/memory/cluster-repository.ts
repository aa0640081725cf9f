import { ConflictError } from '../../domain/errors.js';
import type { ClusterRecord, HostRecord, OperationRecord } from '../../domain/model.js';
import type { PackStatus } from '../../domain/packs.js';
import type { ClaimFailure, ClusterChanges, ClusterFilter, ClusterRepository, Page, PageRequest } from '../../ports/index.js';
import { fingerprint, pageOf } from './page.js';
import { copy, withoutUndefined, type MemoryState } from './state.js';

const nameLock = (c: Pick<ClusterRecord, 'project' | 'name'>) => `${c.project}#${c.name}`;

/**
 * Clusters in memory. Each multi-item write checks every condition first and writes only when
 * all hold, as the DynamoDB adapter's transactions do; the results name the same failures.
 */
export class MemoryClusterRepository implements ClusterRepository {
  constructor(private readonly state: MemoryState) {}

  async createWithClaims(cluster: ClusterRecord, operation: OperationRecord, expected: Readonly<Record<string, number>>):
    Promise<{ ok: true } | { ok: false; nameTaken?: boolean; failures: ClaimFailure[] }> {
    const failures = this.claimFailures(cluster, expected, 'this cluster was being created');
    const nameTaken = this.state.clusterNames.has(nameLock(cluster));
    if (nameTaken || failures.length > 0 || this.state.clusters.has(cluster.id) || this.state.operations.has(operation.id)) {
      return { ok: false, nameTaken, failures };
    }
    this.state.clusters.set(cluster.id, withoutUndefined(cluster));
    this.state.clusterNames.set(nameLock(cluster), cluster.id);
    this.state.operations.set(operation.id, withoutUndefined(operation));
    this.claim(cluster, expected, cluster.createdAt);
    return { ok: true };
  }

  async get(id: string): Promise<ClusterRecord | undefined> {
    const c = this.state.clusters.get(id);
    return c ? copy(c) : undefined;
  }

  async list(project: string, page: PageRequest, filter: ClusterFilter = {}): Promise<Page<ClusterRecord>> {
    const matches = [...this.state.clusters.values()].filter((c) => c.project === project
      && (filter.health === undefined || (c.health?.state ?? 'unknown') === filter.health));
    const found = pageOf(matches, (c) => c.name, page, fingerprint(['clusters', project, ...(filter.health ? [filter.health] : [])]));
    return { ...found, items: found.items.map(copy) };
  }

  async deleteReleasing(cluster: ClusterRecord, endOperation?: { id: string; reason: string; at: string }): Promise<void> {
    const now = endOperation?.at ?? this.state.clock.now().toISOString();
    const stored = this.state.clusters.get(cluster.id);
    const op = endOperation ? this.state.operations.get(endOperation.id) : undefined;
    const opOpen = op !== undefined && ['queued', 'running', 'paused'].includes(op.status);
    if (!stored || stored.version !== cluster.version || (endOperation && !opOpen)) {
      throw Object.assign(new Error(`deleting cluster ${cluster.id}: a condition of the transaction failed`), { name: 'TransactionCanceledException' });
    }
    this.state.clusters.delete(cluster.id);
    this.state.clusterNames.delete(nameLock(cluster));
    const claimed = [...this.state.hosts.values()].filter((h) => h.clusterId === cluster.id).map((h) => h.id);
    this.release(cluster.id, claimed, now);
    if (endOperation && op) {
      this.state.operations.set(op.id, { ...op, status: 'cancelled', reason: endOperation.reason, endedAt: now, updatedAt: now, step: 'cancelled' });
    }
  }

  async startOperation(cluster: ClusterRecord, operation: OperationRecord, changes: ClusterChanges, claim: Readonly<Record<string, number>> = {}):
    Promise<{ ok: true; cluster: ClusterRecord } | { ok: false; busy?: boolean; stale?: boolean; failures: ClaimFailure[] }> {
    const now = operation.startedAt;
    const failures = this.claimFailures(cluster, claim, `this ${operation.type} was being started`);
    const current = this.state.clusters.get(cluster.id);
    if (!current || current.version !== cluster.version || current.activeOperationId !== undefined) {
      return { ok: false, busy: current?.activeOperationId !== undefined, stale: !current || current.version !== cluster.version, failures };
    }
    if (this.state.operations.has(operation.id)) {
      throw new ConflictError('operation-exists', `operation ${operation.id} already exists; start the ${operation.type} again to get a new operation id`);
    }
    if (failures.length > 0) return { ok: false, failures };
    const next = withoutUndefined({ ...current, ...changes, operationId: operation.id, activeOperationId: operation.id, updatedAt: now, version: current.version + 1 });
    this.state.clusters.set(cluster.id, next);
    this.state.operations.set(operation.id, withoutUndefined(operation));
    this.claim(cluster, claim, now);
    return { ok: true, cluster: copy(next) };
  }

  async recordPacks(clusterId: string, initHostId: string, packs: readonly PackStatus[], at: string): Promise<boolean> {
    const current = this.state.clusters.get(clusterId);
    if (!current || current.controlPlane.hostIds[0] !== initHostId) return false;
    if (current.packsReportedAt !== undefined && current.packsReportedAt > at) return false;
    this.state.clusters.set(clusterId, { ...current, packs: packs.map((p) => withoutUndefined({ ...p })), packsReportedAt: at });
    return true;
  }

  async updateForOperation(clusterId: string, operationId: string, changes: ClusterChanges, opts: { endOperation: boolean; now: string }): Promise<ClusterRecord | undefined> {
    const current = this.state.clusters.get(clusterId);
    if (!current || current.activeOperationId !== operationId) return undefined;
    const next = withoutUndefined({ ...current, ...changes, updatedAt: opts.now, version: current.version + 1 });
    if (opts.endOperation) Reflect.deleteProperty(next, 'activeOperationId');
    this.state.clusters.set(clusterId, next);
    return copy(next);
  }

  async markJoined(clusterId: string, hostIds: readonly string[], now: string): Promise<void> {
    for (const id of hostIds) {
      const h = this.state.hosts.get(id);
      // Only a claimed, approved host joins; one already in-cluster or claimed elsewhere is left as it is.
      if (h && h.clusterId === clusterId && h.status === 'approved') this.state.hosts.set(id, { ...h, status: 'in-cluster', version: h.version + 1, updatedAt: now });
    }
  }

  async releaseHosts(clusterId: string, hostIds: readonly string[], now: string): Promise<void> {
    this.release(clusterId, hostIds, now);
  }

  async attachedTo(project: string, templateId: string, limit: number): Promise<ClusterRecord[]> {
    return [...this.state.clusters.values()].filter((c) => c.project === project && c.templateId === templateId).slice(0, limit).map(copy);
  }

  async attachedPage(project: string, templateId: string, page: PageRequest): Promise<Page<ClusterRecord>> {
    const all = [...this.state.clusters.values()].filter((c) => c.project === project && c.templateId === templateId);
    const found = pageOf(all, (c) => c.id, page, fingerprint(['clusters-of-template', project, templateId]));
    return { ...found, items: found.items.map(copy) };
  }

  async detach(clusterId: string, expectedVersion: number, now: string): Promise<ClusterRecord | undefined> {
    const c = this.state.clusters.get(clusterId);
    if (!c || c.version !== expectedVersion) return undefined;
    const { templateId: _t, ...rest } = c;
    const next = { ...rest, version: c.version + 1, updatedAt: now };
    this.state.clusters.set(clusterId, next);
    return copy(next);
  }

  private release(clusterId: string, hostIds: readonly string[], now: string): void {
    for (const id of hostIds) {
      const h = this.state.hosts.get(id);
      if (!h || h.clusterId !== clusterId) continue;
      const next: HostRecord = { ...h, status: 'approved', version: h.version + 1, updatedAt: now };
      Reflect.deleteProperty(next, 'clusterId');
      this.state.hosts.set(id, next);
    }
  }

  /** Hosts that cannot be claimed: not at the expected version, not approved, claimed, or of another project. */
  private claimFailures(cluster: Pick<ClusterRecord, 'project'>, expected: Readonly<Record<string, number>>, during: string): ClaimFailure[] {
    return Object.entries(expected)
      .filter(([id, version]) => {
        const h = this.state.hosts.get(id);
        return !h || h.version !== version || h.status !== 'approved' || h.clusterId !== undefined || h.project !== cluster.project;
      })
      .map(([hostId]) => ({ hostId, reason: `was claimed, changed or is no longer approved while ${during}` }));
  }

  private claim(cluster: Pick<ClusterRecord, 'id'>, expected: Readonly<Record<string, number>>, now: string): void {
    for (const id of Object.keys(expected)) {
      const h = this.state.hosts.get(id);
      if (h) this.state.hosts.set(id, { ...h, clusterId: cluster.id, version: h.version + 1, updatedAt: now });
    }
  }
}
