import type { HostProgress, Topology } from './model.js';
import type { Layer } from './profile.js';
import { planUpgrade, type NodePlan, type UpgradePlan } from './upgrade-plan.js';

/**
 * The step bookkeeping of an upgrade, from each host's recorded progress, and the rollback
 * plan of a failed upgrade. Pure: the workflow steps read the operation and profile versions
 * and call these.
 */

/** Steps after which a node is drained and must be uncordoned before the upgrade moves on. */
export const DRAINED_STEPS: ReadonlySet<string> = new Set(['drain', 'cordon', 'upgrade', 'reboot']);
/** Steps after which the node may run (or have tried to boot) the target image (`verified`: found at the target). */
export const UPGRADED_STEPS: ReadonlySet<string> = new Set(['upgrade', 'reboot', 'uncordon', 'verified']);

/** The host's last recorded step left it drained (cordoned, its pods evicted). */
export const leftDrained = (p: HostProgress | undefined): boolean => p?.step !== undefined && DRAINED_STEPS.has(p.step);
/** The host reached the upgrade step: it may run, or have tried to boot, the target image. */
export const reachedUpgrade = (p: HostProgress | undefined): boolean => p?.step !== undefined && UPGRADED_STEPS.has(p.step);

export interface RollbackInput {
  /** The failed upgrade's plan and its hosts' progress. */
  readonly plan: UpgradePlan;
  readonly hosts: Readonly<Record<string, HostProgress>>;
  /** The whole cluster (drains run from a peer; downtime and quorum are judged from all nodes). */
  readonly cluster: Topology;
  /** The layers the failed upgrade went to, and the ones it came from (where the rollback goes). */
  readonly upgradedTo: readonly Layer[];
  readonly previous: readonly Layer[];
}

/**
 * The rollback plan: upgraded nodes back to the previous image; a drained node only
 * uncordoned; undefined when no node was touched (or no plan back exists).
 * Going back, workers first (one at a time), then the control plane: a kubelet must never be
 * newer than its API server (version-skew policy). The first phase runs one node at a time.
 */
export function planRollback(input: RollbackInput): UpgradePlan | undefined {
  const { plan, hosts, cluster } = input;
  const nodes = [...plan.controlPlane, ...plan.workers];
  // Nodes that reached the upgrade step go back to the previous image, including the one that
  // failed it: a node that fell back boots *passive*, and its active partition holds the new
  // image it could not boot; writing the previous image back makes it boot active again.
  const upgraded = nodes.filter((n) => reachedUpgrade(hosts[n.hostId]));
  const drained = nodes.filter((n) => !upgraded.includes(n) && leftDrained(hosts[n.hostId]));
  if (upgraded.length === 0 && drained.length === 0) return undefined;
  // The upgraded nodes are planned against the whole cluster: in a multi-node cluster each one
  // is drained from a peer and uncordoned again, like any upgrade.
  const all = [
    ...cluster.controlPlane.hostIds.map((hostId) => ({ hostId, role: 'control-plane' as const, pool: 'control-plane' })),
    ...cluster.workers.flatMap((w) => w.hostIds.map((hostId) => ({ hostId, role: 'worker' as const, pool: w.name }))),
  ];
  const back = upgraded.length > 0
    ? planUpgrade({ from: input.upgradedTo, to: input.previous, nodes: all, options: { rollback: true, acknowledgeDowntime: true, maxUnavailable: 1, only: upgraded.map((n) => n.hostId) } })
    : undefined;
  if (back && !back.ok) return undefined;
  const uncordon = (n: NodePlan): NodePlan => ({ ...n, steps: all.length > 1 ? [{ step: 'uncordon', on: 'peer' }] : [] });
  const base: UpgradePlan = back?.ok ? back.plan : { ...plan, controlPlane: [], workers: [], changes: [], maxUnavailable: 1 };
  return {
    ...base,
    controlPlane: [...drained.map(uncordon), ...base.workers, ...base.controlPlane],
    workers: [],
  };
}
