import type { Layer } from './profile.js';

/**
 * Packs: what a profile's CNI, CSI and add-on layers install into the cluster (issue 11), and
 * the decisions about their state as the cluster's init node reports it. Pure.
 */

export type PackType = 'cni' | 'csi' | 'addon';
export type PackState = 'pending' | 'installing' | 'ready' | 'error';

/** One pack's state (contracts/packs.ts `packStatus`). */
export interface PackStatus {
  readonly name: string;
  readonly type: PackType;
  readonly state: PackState;
  readonly reason?: string;
  readonly version?: string;
}

const PACK_TYPES: ReadonlySet<string> = new Set<PackType>(['cni', 'csi', 'addon']);

/** The layers that are packs (CNI, CSI, add-ons), in layer order. */
export function packLayers(layers: readonly Layer[]): Layer[] {
  return layers.filter((l) => PACK_TYPES.has(l.type));
}

/**
 * The packs a cluster waits for: each CNI, CSI and add-on layer that installs something (a
 * chart or manifests), by its pack name, in layer order. A layer with neither is a name only
 * (e.g. k3s's built-in flannel): there is nothing of it to become ready.
 */
export function packNames(layers: readonly Layer[]): string[] {
  return packLayers(layers).filter((l) => l.chart !== undefined || (l.manifests ?? '').trim() !== '').map((l) => l.pack);
}

/** What decides whether a pack report changed: names, states and reasons (order-independent). */
export function packsFingerprint(packs: readonly PackStatus[]): string {
  return JSON.stringify([...packs].map((p) => [p.name, p.type, p.state, p.reason ?? '', p.version ?? '']).sort((a, b) => (a[0]! < b[0]! ? -1 : a[0]! > b[0]! ? 1 : 0)));
}

export type PackReportDecision =
  | { readonly store: true }
  | { readonly store: false; readonly reason: 'not-in-cluster' | 'not-init-node' | 'unchanged' | 'stale' };

/**
 * Whether a host's pack report is stored on its cluster: only the cluster's init node (the
 * first control-plane host, which installs and watches the packs) speaks for the cluster's
 * packs; a report from any other host is ignored. Only a change is written (names, states,
 * reasons), and never an older report over a newer one.
 */
export function decidePackReport(
  cluster: { readonly id: string; readonly controlPlane: { readonly hostIds: readonly string[] }; readonly packs?: readonly PackStatus[]; readonly packsReportedAt?: string } | undefined,
  hostId: string, packs: readonly PackStatus[], at: string,
): PackReportDecision {
  if (!cluster) return { store: false, reason: 'not-in-cluster' };
  if (cluster.controlPlane.hostIds[0] !== hostId) return { store: false, reason: 'not-init-node' };
  if (cluster.packsReportedAt !== undefined && Date.parse(at) < Date.parse(cluster.packsReportedAt)) return { store: false, reason: 'stale' };
  if (cluster.packs && packsFingerprint(cluster.packs) === packsFingerprint(packs)) return { store: false, reason: 'unchanged' };
  return { store: true };
}
