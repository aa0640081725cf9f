import { CONTROL_PLANE_SIZES, MAX_HOSTS_PER_CLUSTER } from './cluster.js';
import type { ClusterRecord } from './model.js';

/** The pool name that means the control plane (the contracts' CONTROL_PLANE_POOL has the same value). */
export const CONTROL_PLANE_POOL = 'control-plane';

export interface ScaleRequest {
  readonly pool: string;
  readonly add?: readonly string[];
  readonly remove?: readonly string[];
}

export type ScaleErrorCode =
  | 'invalid-scale'
  | 'control-plane-size'
  | 'vip-required'
  | 'host-already-in-cluster'
  | 'host-not-in-pool'
  | 'pool-not-found'
  | 'too-many-hosts';

export type ScaleDecision =
  | {
    ok: true;
    direction: 'out' | 'in';
    pool: string;
    /** The hosts added or removed. */
    hostIds: string[];
    /** The topology after the change. */
    controlPlane: string[];
    workers: { name: string; hostIds: string[] }[];
  }
  | { ok: false; code: ScaleErrorCode; message: string };

type Cluster = Pick<ClusterRecord, 'controlPlane' | 'workers' | 'vip'>;

const fail = (code: ScaleErrorCode, message: string): ScaleDecision => ({ ok: false, code, message });
const list = (ids: readonly string[]) => ids.join(', ');
const poolName = (pool: string) => (pool === CONTROL_PLANE_POOL ? 'the control plane' : `worker pool "${pool}"`);

/** Where each host of the cluster is: host id -> pool name. */
function membership(c: Cluster): Map<string, string> {
  const where = new Map<string, string>();
  for (const id of c.controlPlane.hostIds) where.set(id, CONTROL_PLANE_POOL);
  for (const w of c.workers) for (const id of w.hostIds) where.set(id, w.name);
  return where;
}

function controlPlaneChecks(c: Cluster, size: number, verb: string): ScaleDecision | undefined {
  if (!CONTROL_PLANE_SIZES.includes(size)) {
    const now = c.controlPlane.hostIds.length;
    return fail('control-plane-size', `${verb} would leave the control plane with ${size} hosts (now ${now}); it must have 1, 3 or 5 for etcd quorum. Scale the control plane by 2 at a time (1 -> 3 -> 5, or back)`);
  }
  if (size > 1 && !c.vip) {
    return fail('vip-required', `a control plane of ${size} hosts needs a virtual IP (kube-vip) for the API server, and this cluster has none; a cluster created with one control-plane host cannot grow its control plane, so add worker hosts instead or create a new cluster with a vip`);
  }
  return undefined;
}

/**
 * Validates a scale-out or scale-in request against the cluster's current topology and returns
 * the topology after it. Pure: the caller claims or releases the hosts.
 */
export function planScale(cluster: Cluster, req: ScaleRequest): ScaleDecision {
  const add = req.add ?? [];
  const remove = req.remove ?? [];
  if ((add.length > 0) === (remove.length > 0)) {
    return fail('invalid-scale', `give either hosts to add or hosts to remove for pool "${req.pool}", not ${add.length ? 'both' : 'neither'}; one operation scales one way`);
  }
  if (!req.pool.trim()) return fail('invalid-scale', 'name the pool to scale: "control-plane" or a worker pool name');
  const hostIds = add.length ? add : remove;
  const dupes = [...new Set(hostIds.filter((id, i) => hostIds.indexOf(id) !== i))];
  if (dupes.length) return fail('invalid-scale', `host ${list(dupes)} is listed more than once in the request for ${poolName(req.pool)}; list each host once`);

  const where = membership(cluster);
  const isCp = req.pool === CONTROL_PLANE_POOL;
  let controlPlane = [...cluster.controlPlane.hostIds];
  let workers = cluster.workers.map((w) => ({ name: w.name, hostIds: [...w.hostIds] }));

  if (add.length) {
    const taken = add.filter((id) => where.has(id));
    if (taken.length) {
      const detail = taken.map((id) => `${id} (in ${poolName(where.get(id)!)})`).join(', ');
      return fail('host-already-in-cluster', `cannot add ${detail} to ${poolName(req.pool)}: already in this cluster. A host belongs to one pool; remove it from its pool first to move it`);
    }
    if (where.size + add.length > MAX_HOSTS_PER_CLUSTER) {
      return fail('too-many-hosts', `adding ${add.length} hosts to ${poolName(req.pool)} would make the cluster ${where.size + add.length} hosts; a cluster has at most ${MAX_HOSTS_PER_CLUSTER}. Add fewer hosts or create another cluster`);
    }
    if (isCp) {
      const problem = controlPlaneChecks(cluster, controlPlane.length + add.length, `adding ${list(add)}`);
      if (problem) return problem;
      controlPlane = [...controlPlane, ...add];
    } else if (workers.some((w) => w.name === req.pool)) {
      workers = workers.map((w) => (w.name === req.pool ? { name: w.name, hostIds: [...w.hostIds, ...add] } : w));
    } else {
      workers = [...workers, { name: req.pool, hostIds: [...add] }];
    }
    return { ok: true, direction: 'out', pool: req.pool, hostIds: [...add], controlPlane, workers };
  }

  const current = isCp ? controlPlane : workers.find((w) => w.name === req.pool)?.hostIds;
  if (!current) {
    const known = [CONTROL_PLANE_POOL, ...workers.map((w) => w.name)].map((n) => `"${n}"`).join(', ');
    return fail('pool-not-found', `this cluster has no pool "${req.pool}", so nothing can be removed from it; its pools are ${known}`);
  }
  const missing = remove.filter((id) => !current.includes(id));
  if (missing.length) {
    const detail = missing.map((id) => (where.has(id) ? `${id} (it is in ${poolName(where.get(id)!)})` : `${id} (not in this cluster)`)).join(', ');
    return fail('host-not-in-pool', `cannot remove ${detail} from ${poolName(req.pool)}: not a member. Remove each host from the pool it is in`);
  }
  if (isCp) {
    const problem = controlPlaneChecks(cluster, controlPlane.length - remove.length, `removing ${list(remove)}`);
    if (problem) return problem;
    controlPlane = controlPlane.filter((id) => !remove.includes(id));
  } else {
    workers = workers
      .map((w) => (w.name === req.pool ? { name: w.name, hostIds: w.hostIds.filter((id) => !remove.includes(id)) } : w))
      .filter((w) => w.hostIds.length > 0);
  }
  return { ok: true, direction: 'in', pool: req.pool, hostIds: [...remove], controlPlane, workers };
}
