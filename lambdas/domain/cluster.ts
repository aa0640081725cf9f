import type { FieldError } from './errors.js';

export const CONTROL_PLANE_SIZES: readonly number[] = [1, 3, 5];
/** One TransactWriteItems call holds 100 items; the cluster, its name lock and the operation (2 items) take 4. */
export const MAX_HOSTS_PER_CLUSTER = 90;

export interface ClusterTopology {
  readonly controlPlane: { readonly hostIds: readonly string[] };
  readonly workers?: readonly { readonly name: string; readonly hostIds: readonly string[] }[];
  readonly vip?: string;
}

/** Pure checks on a cluster's desired shape, before any host is looked at. */
export function validateTopology(t: ClusterTopology): FieldError[] {
  const errors: FieldError[] = [];
  const cp = t.controlPlane.hostIds.length;
  if (!CONTROL_PLANE_SIZES.includes(cp)) {
    errors.push({ path: 'controlPlane.hostIds', message: `a control plane has 1, 3 or 5 hosts (etcd quorum); got ${cp}` });
  }
  if (cp > 1 && !t.vip) {
    errors.push({ path: 'vip', message: 'a control plane of more than one host needs a virtual IP (kube-vip) for the API server' });
  }
  const pools = new Set<string>();
  (t.workers ?? []).forEach((w, i) => {
    if (pools.has(w.name)) errors.push({ path: `workers.${i}.name`, message: `worker pool "${w.name}" is named twice` });
    pools.add(w.name);
  });
  const seen = new Map<string, string>();
  const note = (id: string, where: string) => {
    const first = seen.get(id);
    if (first) errors.push({ path: where, message: `host ${id} is listed twice (also in ${first})` });
    else seen.set(id, where);
  };
  t.controlPlane.hostIds.forEach((id, i) => note(id, `controlPlane.hostIds.${i}`));
  (t.workers ?? []).forEach((w, wi) => w.hostIds.forEach((id, i) => note(id, `workers.${wi}.hostIds.${i}`)));
  if (seen.size > MAX_HOSTS_PER_CLUSTER) {
    errors.push({ path: 'workers', message: `a cluster is created with at most ${MAX_HOSTS_PER_CLUSTER} hosts; add more by scaling out` });
  }
  return errors;
}

export function allHostIds(t: ClusterTopology): string[] {
  return [...t.controlPlane.hostIds, ...(t.workers ?? []).flatMap((w) => w.hostIds)];
}
