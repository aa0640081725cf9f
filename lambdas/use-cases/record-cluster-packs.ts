import { decidePackReport, type PackReportDecision, type PackStatus } from '../domain/packs.js';
import type { ClusterRepository } from '../ports/index.js';
import type { DeviceDeps } from './device-deps.js';

/** What recording a pack report needs: the host's cluster (lifecycle read) and the cluster repository. */
export type PackDeps = Pick<DeviceDeps, 'hostLifecycle'> & { readonly clusters?: Pick<ClusterRepository, 'get' | 'recordPacks'> };

/**
 * A host reported its packs: stored on its cluster when it is the cluster's init node and the
 * list of (name, state, reason) changed (domain/packs.ts decidePackReport), through a
 * conditional write that re-checks the init node and refuses an older report over a newer one.
 */
export async function recordClusterPacks(deps: PackDeps, hostId: string, packs: readonly PackStatus[], at: string): Promise<(PackReportDecision & { readonly clusterId?: string }) | { store: false; reason: 'lost-race' }> {
  if (!deps.clusters) return { store: false, reason: 'not-in-cluster' };
  const clusterId = (await deps.hostLifecycle.lifecycle(hostId))?.clusterId;
  const cluster = clusterId ? await deps.clusters.get(clusterId) : undefined;
  const decision = decidePackReport(cluster, hostId, packs, at);
  if (!decision.store || !cluster) return decision;
  return (await deps.clusters.recordPacks(cluster.id, hostId, packs, at)) ? { ...decision, clusterId: cluster.id } : { store: false, reason: 'lost-race' };
}
