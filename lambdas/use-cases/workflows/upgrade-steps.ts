import type { NodeSequence } from '../../contracts/workflows.js';
import type { ClusterRecord, UpgradeOperation } from '../../domain/model.js';
import type { NodePlan, UpgradePlan } from '../../domain/upgrade-plan.js';
import { leftDrained, planRollback } from '../../domain/upgrade-rollback.js';
import { startRollback } from './start-rollback.js';
import type { WorkflowDeps } from './deps.js';
import { OPEN_STATUSES } from './deps.js';
import { atTarget } from './node-state.js';
import { clusterView } from './cluster-view.js';
import { choosePeer, whyOut, type NodeView } from '../../domain/availability.js';

const planOf = (op: UpgradeOperation): UpgradePlan => op.input.plan;


/** Whether the host runs the target: judged from its reported running image identity (see node-state.ts). */
export { atTarget };

/**
 * The upgrade's host tasks from the stored plan and each node's real state: a repave whose
 * node already runs the target (an earlier run got that far, or the node was upgraded before)
 * is not done again; if it was left drained it is only uncordoned.
 */
export async function upgradePhases(deps: WorkflowDeps, op: UpgradeOperation, cluster: ClusterRecord): Promise<{ phases: Record<string, NodeSequence[]>; maxUnavailable: number }> {
  const plan = planOf(op);
  const cp = cluster.controlPlane.hostIds;
  const view = await clusterView(deps, cluster, op);
  const viewOf = (hostId: string) => view.find((v) => v.hostId === hostId);
  // Peers are chosen again when each step runs (run-host-task); this is the first choice.
  const peerFor = (hostId: string) => choosePeer(view, hostId) ?? cp.find((h) => h !== hostId) ?? hostId;
  const items = async (planned: readonly NodePlan[]): Promise<NodeSequence[]> => {
    const out: NodeSequence[] = [];
    for (const n of outFirst(planned, view)) {
      const progress = op.hosts[n.hostId];
      const versionChange = n.behaviour === 'repave';
      let steps = n.steps.map((s) => ({ hostId: s.on === 'peer' ? peerFor(n.hostId) : n.hostId, step: s.step, subject: n.hostId }));
      if (versionChange && await atTarget(deps, n.hostId, plan.target)) {
        // Left drained by this operation, or found cordoned from any earlier one: uncordoned
        // (it passed its gate: it runs the target, booted active, Ready), never left out.
        const drained = leftDrained(progress) || viewOf(n.hostId)?.report?.cordoned === true;
        steps = drained ? steps.filter((s) => s.step === 'uncordon') : [];
        if (steps.length === 0) {
          await deps.operations.setHost(op.id, n.hostId, { status: 'succeeded', step: 'verified', detail: `already at ${plan.target.kairosVersion ?? plan.target.kubeletVersion}; not upgraded again`, at: deps.clock.now().toISOString() });
        }
      }
      out.push({ hostId: n.hostId, steps });
    }
    return out;
  };
  return { phases: { controlPlane: await items(plan.controlPlane), workers: await items(plan.workers) }, maxUnavailable: plan.maxUnavailable };
}

/**
 * Within each run of same-role nodes, the nodes that are already out (cordoned, not Ready)
 * go first: they cost no availability, and a node left out would otherwise block every other
 * node's drain. Roles keep their order (control plane first; a rollback's workers first).
 */
export function outFirst(nodes: readonly NodePlan[], view: readonly NodeView[]): NodePlan[] {
  const isOut = (n: NodePlan) => {
    const v = view.find((x) => x.hostId === n.hostId);
    return v ? whyOut({ ...v, progress: undefined }) !== undefined : false;
  };
  const out: NodePlan[] = [];
  for (let i = 0; i < nodes.length;) {
    let j = i;
    while (j < nodes.length && nodes[j]!.role === nodes[i]!.role) j++;
    const group = nodes.slice(i, j);
    out.push(...group.filter(isOut), ...group.filter((n) => !isOut(n)));
    i = j;
  }
  return out;
}

/** Finish of an upgrade: the cluster is at the target version. */
export function upgradeFinishChanges(op: UpgradeOperation): Partial<ClusterRecord> {
  const { to, rollbackOf } = op.input;
  const plan = planOf(op);
  const note = rollbackOf
    ? `rolled back to ${to.name}@${to.version} after upgrade ${rollbackOf} failed (see that operation's reason)`
    : plan.skippedWorkers ? `control plane at ${to.version}; workers were skipped and still run the previous version` : '';
  const vars = op.input.variables;
  return { profile: to, status: 'running', statusReason: note, ...(vars ? { variables: vars.values, secretVariables: vars.secrets } : {}) };
}

/**
 * A failed upgrade, per its policy:
 * - `pause`: the operation is paused with the reason (resume continues from each node's real state);
 * - `rollback`: the nodes that were upgraded go back to the previous image through the same
 *   verified per-node path, and a node left drained is uncordoned — in a new upgrade operation
 *   (`input.rollbackOf`), started at once. A rollback that fails is not rolled back again.
 * The cluster is `degraded` with the node and reason until then.
 */
export async function failUpgrade(deps: WorkflowDeps, op: UpgradeOperation, reason: string): Promise<{ status: string }> {
  const now = deps.clock.now().toISOString();
  const onFailure = op.input.onFailure;
  // The operation's status changes first: from then on no step of this run sends anything.
  if (onFailure === 'pause') {
    await deps.operations.update(op.id, { status: 'paused', ending: '', reason: `${reason}; paused (policy pause): fix the node and resume, or cancel` }, [...OPEN_STATUSES], now);
    await deps.clusters.updateForOperation(op.target.id, op.id, { status: 'degraded', statusReason: `upgrade ${op.id} paused: ${reason}` }, { endOperation: false, now });
    return { status: 'paused' };
  }
  const cluster = await deps.clusters.get(op.target.id);
  const rollback = !op.input.rollbackOf && onFailure !== 'none' && cluster ? await rollbackPlan(deps, op, cluster) : undefined;
  // The rollback's id is known before the failure is recorded: whoever sees the upgrade failed sees what undoes it.
  const rolledBackBy = rollback ? `op-${deps.ids.newId()}` : undefined;
  const full = rollback && rolledBackBy
    ? `${reason}; rolling back ${[...rollback.controlPlane, ...rollback.workers].map((n) => n.hostId).join(', ')} to ${op.input.from.version} in upgrade ${rolledBackBy}`
    : reason;
  const failed = await deps.operations.update(op.id, { status: 'failed', reason: full, ...(rolledBackBy ? { input: { ...op.input, rolledBackBy } } : {}) }, [...OPEN_STATUSES], now);
  if (!failed) return { status: (await deps.operations.get(op.id))?.status ?? 'failed' };
  // No node was touched (e.g. its maintenance window passed first): the cluster is as it was.
  const touched = Object.values(op.hosts).some((h) => h.status !== 'pending');
  await deps.clusters.updateForOperation(op.target.id, op.id,
    { status: touched ? 'degraded' : 'running', statusReason: `upgrade ${op.id} ${touched ? 'failed' : 'did not run'}: ${reason}` }, { endOperation: true, now });
  if (rollback && cluster && rolledBackBy) {
    const fresh = (await deps.clusters.get(cluster.id)) ?? cluster;
    try {
      await startRollback(deps, op, fresh, rollback, rolledBackBy);
    } catch (e) {
      const { rolledBackBy: _none, ...input } = op.input;
      const why = e instanceof Error ? e.message : String(e);
      await deps.operations.update(op.id, { reason: `${reason}; the rollback could not start (${why}): roll back with a new upgrade to ${op.input.from.version}`, input }, ['failed'], now);
    }
  }
  return { status: 'failed' };
}

/** The rollback plan of a failed upgrade (domain/upgrade-rollback.ts), from the profile versions it moved between. */
async function rollbackPlan(deps: WorkflowDeps, op: UpgradeOperation, cluster: ClusterRecord): Promise<UpgradePlan | undefined> {
  const { from, to } = op.input;
  const [prev, next] = await Promise.all([deps.profiles.getVersion(op.project, from.name, from.version), deps.profiles.getVersion(op.project, to.name, to.version)]);
  if (!prev || !next) return undefined;
  return planRollback({ plan: planOf(op), hosts: op.hosts, cluster, upgradedTo: next.layers, previous: prev.layers });
}
