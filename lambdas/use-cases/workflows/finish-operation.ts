import { ConflictError } from '../../domain/errors.js';
import type { ClusterRecord, OperationRecord } from '../../domain/model.js';
import { secretVariableName } from '../../domain/profile-variables.js';
import type { ClusterChanges } from '../../ports/index.js';
import { upgradeFinishChanges } from './upgrade-steps.js';
import { joinTokenSecret, kubeconfigSecret, loadOperation, OPEN_STATUSES, type WorkflowDeps } from './deps.js';
import { runEnded } from '../../domain/workflow.js';
import { refreshAfterMembership } from '../refresh-health.js';

const hostsOf = (c: Pick<ClusterRecord, 'controlPlane' | 'workers'>) => [...c.controlPlane.hostIds, ...c.workers.flatMap((w) => w.hostIds)];

/**
 * `finish`: every host did its part; the cluster takes its new shape and the operation
 * succeeds. Idempotent: a repeat finds the operation ended and the cluster already released.
 */
export async function finishOperation(deps: WorkflowDeps, operationId: string, execution?: string): Promise<{ status: string }> {
  const op = await loadOperation(deps, operationId);
  // Only the live run finishes it: not a run that was paused, stopped or replaced.
  if (runEnded(op, execution)) return { status: op.status };
  const now = deps.clock.now().toISOString();
  const cluster = await deps.clusters.get(op.target.id);
  if (op.type === 'delete-cluster') return finishDelete(deps, op, cluster, now);
  if (!cluster) throw new ConflictError('cluster-gone', `cluster ${op.target.id} disappeared while ${op.type} ran`);
  let changes: ClusterChanges = { status: 'running' };
  switch (op.type) {
    case 'create-cluster':
      await deps.clusters.markJoined(cluster.id, hostsOf(cluster), now);
      break;
    case 'scale-out':
      await deps.clusters.markJoined(cluster.id, op.input.add, now);
      changes = { ...changes, controlPlane: op.input.after.controlPlane, workers: op.input.after.workers };
      break;
    case 'scale-in':
      await deps.clusters.releaseHosts(cluster.id, op.input.remove, now);
      changes = { ...changes, controlPlane: op.input.after.controlPlane, workers: op.input.after.workers };
      break;
    case 'reconfigure':
      changes = {
        ...changes, profile: op.input.profile,
        ...(op.input.variables ? { variables: op.input.variables.values, secretVariables: op.input.variables.secrets } : {}),
      };
      break;
    case 'upgrade-cluster':
      changes = upgradeFinishChanges(op);
      break;
  }
  await deps.clusters.updateForOperation(cluster.id, op.id, { statusReason: '', ...changes }, { endOperation: true, now });
  await deps.operations.update(op.id, { status: 'succeeded', step: 'done', endedAt: now }, [...OPEN_STATUSES], now);
  // Members joined, were added or removed: their health and the cluster's are derived again.
  const changed = op.type === 'create-cluster' ? hostsOf(cluster) : op.type === 'scale-out' ? op.input.add : op.type === 'scale-in' ? op.input.remove : [];
  if (changed.length > 0) await refreshAfterMembership(deps.health, cluster.id, changed);
  return { status: 'succeeded' };
}

/** Delete: hosts whose reset was confirmed are released; any other keeps the cluster (failed) for a retry. */
async function finishDelete(deps: WorkflowDeps, op: OperationRecord, cluster: ClusterRecord | undefined, now: string): Promise<{ status: string }> {
  if (!cluster) {
    await deps.operations.update(op.id, { status: 'succeeded', step: 'done', endedAt: now }, [...OPEN_STATUSES], now);
    return { status: 'succeeded' };
  }
  const notReset: string[] = [];
  const reset: string[] = [];
  for (const h of hostsOf(cluster)) {
    const p = op.hosts[h];
    if (!p) continue; // not claimed any more: nothing was asked of it
    (p.status === 'succeeded' ? reset : notReset).push(h);
  }
  if (notReset.length === 0) {
    await deps.clusters.deleteReleasing(cluster);
    // The released hosts' health (no cluster any more); the cluster is gone, its health with it.
    await refreshAfterMembership(deps.health, cluster.id, hostsOf(cluster));
    await deps.secrets.delete(joinTokenSecret(cluster.id));
    await deps.secrets.delete(kubeconfigSecret(cluster.id));
    for (const name of cluster.secretVariables ?? []) await deps.secrets.delete(secretVariableName(cluster.id, name));
    await deps.operations.update(op.id, { status: 'succeeded', step: 'done', endedAt: now }, [...OPEN_STATUSES], now);
    return { status: 'succeeded' };
  }
  await deps.clusters.releaseHosts(cluster.id, reset, now);
  await refreshAfterMembership(deps.health, cluster.id, reset);
  const reason = `hosts ${notReset.join(', ')} did not confirm their reset; they stay with cluster ${cluster.name} so that nothing is left running unnoticed. ` +
    'Bring them online and delete the cluster again (the reset is retried), or decommission them';
  await deps.clusters.updateForOperation(cluster.id, op.id, { status: 'failed', statusReason: reason }, { endOperation: true, now });
  await deps.operations.update(op.id, { status: 'failed', step: 'reset', reason, endedAt: now }, [...OPEN_STATUSES], now);
  return { status: 'failed' };
}
