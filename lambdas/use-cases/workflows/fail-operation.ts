import type { ClusterStatus, OperationRecord } from '../../domain/model.js';
import { refreshAfterMembership } from '../refresh-health.js';
import { issueCommand } from '../device-messages.js';
import { loadOperation, OPEN_STATUSES, type WorkflowDeps } from './deps.js';
import { runEnded } from '../../domain/workflow.js';
import { failUpgrade } from './upgrade-steps.js';

export interface WorkflowFailure {
  readonly Error?: string;
  readonly Cause?: string;
}

/** Step Functions wraps a Lambda error's cause as JSON ({errorMessage, errorType}); show the message. */
export function readableCause(e: WorkflowFailure): string {
  const raw = e.Cause ?? '';
  try {
    const parsed = JSON.parse(raw) as { errorMessage?: string };
    if (parsed && typeof parsed.errorMessage === 'string') return parsed.errorMessage;
  } catch { /* plain text */ }
  if (e.Error === 'States.Timeout') return 'a host did not answer within the host timeout';
  return raw || e.Error || 'unknown error';
}

/** After a failure the cluster is left… (the stated cleanup policy, per operation type). */
const CLUSTER_AFTER_FAILURE: Readonly<Record<string, ClusterStatus>> = {
  'create-cluster': 'failed', 'scale-out': 'degraded', 'scale-in': 'degraded', reconfigure: 'degraded', 'delete-cluster': 'failed', 'upgrade-cluster': 'degraded',
};

/**
 * `fail` (every Catch ends here, and the deadline sweep): the operation ends failed with the
 * step it was in and the reason. Cleanup policy:
 * - create-cluster: hosts that were sent a node configuration are reset (statereset), every
 *   claim is released, the cluster stays as `failed` with the reason until it is deleted;
 * - scale-out: hosts being added are reset if they got a configuration and released;
 * - scale-in, reconfigure: nothing is undone; the cluster is `degraded` with the reason;
 * - delete-cluster: the cluster stays `failed`; deleting again retries the remaining hosts.
 * Idempotent: an operation that already ended is left as it is.
 */
export async function failOperation(deps: WorkflowDeps, operationId: string, error: WorkflowFailure, execution?: string): Promise<{ status: string }> {
  const loaded = await loadOperation(deps, operationId);
  if (!(OPEN_STATUSES as readonly string[]).includes(loaded.status)) return { status: loaded.status };
  // A run that was paused or replaced fails nothing: only the live run (or the sweep, which names none) ends it.
  if (execution !== undefined && runEnded({ ...loaded, ending: undefined }, execution)) return { status: loaded.status };
  const now = deps.clock.now().toISOString();
  const reason = `${loaded.type} failed during ${loaded.step}: ${readableCause(error)}`;
  // From here on no run of it sends a command (run-host-task checks `ending`), before anything is undone.
  const op = (await deps.operations.update(loaded.id, { ending: reason }, [...OPEN_STATUSES], now)) ?? loaded;
  if (op.type === 'upgrade-cluster') return failUpgrade(deps, op, reason);
  // Clean up first, end the operation last: whoever sees it failed sees the cluster and hosts
  // as they are left. Every step is idempotent (a concurrent sweep and Catch may both run it).
  const cluster = await deps.clusters.get(op.target.id);
  if (cluster) {
    let released: readonly string[] = [];
    if (op.type === 'create-cluster' || op.type === 'scale-out') {
      released = op.type === 'create-cluster'
        ? [...cluster.controlPlane.hostIds, ...cluster.workers.flatMap((w) => w.hostIds)]
        : op.input.add;
      await resetConfigured(deps, op, released);
      await deps.clusters.releaseHosts(cluster.id, released, now);
    }
    await deps.clusters.updateForOperation(cluster.id, op.id, { status: CLUSTER_AFTER_FAILURE[op.type] ?? 'degraded', statusReason: reason }, { endOperation: true, now });
    // Released hosts left the cluster: their health and the cluster's are derived again.
    if (released.length > 0) await refreshAfterMembership(deps.health, cluster.id, released);
  }
  const ended = await deps.operations.update(op.id, { status: 'failed', reason, endedAt: now }, [...OPEN_STATUSES], now);
  if (!ended) return { status: (await deps.operations.get(op.id))?.status ?? 'failed' };
  return { status: 'failed' };
}

/** Hosts that were sent a node configuration get a reset, so none is left half-joined. */
async function resetConfigured(deps: WorkflowDeps, op: OperationRecord, hosts: readonly string[]): Promise<void> {
  for (const h of hosts) {
    if (!op.hosts[h]?.commandId) continue;
    await issueCommand(deps, h, {
      commandId: `cleanup-${op.id}`.slice(0, 64), type: 'reset', params: {},
      deadline: new Date(deps.clock.now().getTime() + 7 * 24 * 3600 * 1000).toISOString(),
    });
  }
}
