import type { Layer } from './profile.js';
import { kairosVersionOfImage } from './image-tag.js';
import { classifyChanges, type ChangeBehaviour, type LayerChange } from './reconfigure.js';
import { compareVersions, compareSemver, parseVersion, type NumericVersion } from './versions.js';

/**
 * The rolling-upgrade planner: from a cluster's current and target layer stacks and its nodes,
 * which steps each node takes, in which order, and whether the upgrade may run at all.
 *
 * - Behaviour: `classifyChanges(from, to)` (the same for every node; each node gets its plan).
 * - Order: control-plane nodes first, one at a time (3 keeps 2 of 3, 5 keeps 4 of 5: quorum
 *   holds), then workers `maxUnavailable` at a time, both in the order given. Workers are never
 *   upgraded before the control plane, as the Kubernetes version-skew policy requires.
 * - Version skew (https://kubernetes.io/releases/version-skew-policy/): kube-apiserver instances
 *   stay within one minor version, so the control plane moves at most one minor per upgrade;
 *   kubelets may not be newer than the API server and at most 3 minors older (2 below 1.25).
 * - Downtime: a single-node cluster, or a lone control-plane node, that reboots takes its
 *   workloads or the Kubernetes API down for one reboot; that needs an acknowledgement.
 * - No downgrade from what the nodes run: outside a rollback, a node that reports a newer
 *   kubelet or a newer Kairos image than the target is refused (`node-newer-than-target`).
 * - A subset (`options.only`, e.g. a rollback of the nodes an upgrade touched) is planned with
 *   drains, peers, downtime and quorum judged from the whole cluster (`nodes`).
 */

export type NodeRole = 'control-plane' | 'worker';
export interface UpgradeNode {
  readonly hostId: string;
  readonly role: NodeRole;
  readonly pool: string;
  /** current kubelet version, e.g. 'v1.30.4' or 'v1.30.4+k3s1', when known */
  readonly kubeletVersion?: string;
  /** What the node reports running (its status report), when known. */
  readonly running?: { readonly image?: string; readonly kairosVersion?: string };
}
export interface UpgradeOptions {
  /** @default 1 (worker nodes out at a time) */
  readonly maxUnavailable?: number;
  readonly skipWorkers?: boolean;
  readonly acknowledgeDowntime?: boolean;
  readonly maintenanceWindow?: { readonly start: string; readonly end: string };
  /** Rolling back to an older version after a failed upgrade: downgrades allowed. */
  readonly rollback?: boolean;
  /**
   * Plan only these hosts (each must be in `nodes`); `nodes` stays the whole cluster, so
   * drains run from a peer, and downtime, maxUnavailable and quorum are judged from all nodes.
   */
  readonly only?: readonly string[];
}
export type NodeStep = 'preflight' | 'cordon' | 'drain' | 'upgrade' | 'reboot' | 'uncordon' | 'restart' | 'reload';
export interface PlannedStep {
  readonly step: NodeStep;
  /** node: on the host itself; peer: on a control-plane host that stays up (kubectl) */
  readonly on: 'node' | 'peer';
}
export interface NodePlan {
  readonly hostId: string;
  readonly role: NodeRole;
  readonly pool: string;
  readonly behaviour: ChangeBehaviour;
  readonly steps: readonly PlannedStep[];
}
export interface UpgradePlan {
  readonly behaviour: ChangeBehaviour;
  readonly changes: readonly LayerChange[];
  /** upgraded one at a time, in this order */
  readonly controlPlane: readonly NodePlan[];
  /** upgraded maxUnavailable at a time, in this order */
  readonly workers: readonly NodePlan[];
  readonly maxUnavailable: number;
  readonly target: { readonly image?: string; readonly kairosVersion?: string; readonly flavor?: string; readonly kubeletVersion: string };
  readonly downtime: { readonly expected: boolean; readonly reason?: string; readonly estimatedSeconds?: number };
  readonly skippedWorkers: boolean;
}
/** Why the planner refuses an upgrade (plan-refusal.ts says which are conflicts with the cluster's state). */
export type PlanRefusalCode =
  | 'invalid-upgrade' | 'invalid-maintenance-window' | 'downgrade' | 'node-newer-than-target' | 'version-skew'
  | 'image-required' | 'max-unavailable-too-high' | 'downtime-not-acknowledged';
export type PlanResult = { ok: true; plan: UpgradePlan } | { ok: false; code: PlanRefusalCode; message: string };

/** One reboot of an edge host, from shutdown to Kubernetes Ready: the downtime we state. */
export const REBOOT_DOWNTIME_SECONDS = 300;

/** The Kairos version an OS image carries, from its tag (domain/image-tag.ts, the one tag parser). */
export { kairosVersionOfImage };

/** 'v1.31.2+k3s1' and '1.31.2' → { major: 1, minor: 31, patch: 2 } (undefined if unparsable). */
export function parseKubeVersion(v: string): { major: number; minor: number; patch: number } | undefined {
  if (!/^v?\d+\.\d+(?:\.\d+)?(?:[-+].*)?$/.test(v.trim())) return undefined;
  const p = parseVersion(v);
  return p ? { major: p[0], minor: p[1], patch: p[2] } : undefined;
}

type Kube = NonNullable<ReturnType<typeof parseKubeVersion>>;

/** The Kairos version a node runs: its report, else its running image's tag. */
const runningKairos = (n: UpgradeNode): string | undefined => n.running?.kairosVersion ?? (n.running?.image ? kairosVersionOfImage(n.running.image) : undefined);
const KAIROS_SEMVER = /^v?\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/;
/** Whether Kairos version `a` is newer than `b` (false when either is not a version). */
function kairosNewer(a: string | undefined, b: string): boolean {
  if (!a || !KAIROS_SEMVER.test(a) || !KAIROS_SEMVER.test(b)) return false;
  return compareSemver(a.replace(/^v/, ''), b.replace(/^v/, '')) > 0;
}
const fail = (code: PlanRefusalCode, message: string): PlanResult => ({ ok: false, code, message });
const tuple = (k: Kube): NumericVersion => [k.major, k.minor, k.patch];
const show = (k: Kube) => `${k.major}.${k.minor}.${k.patch}`;
const minorsBehind = (older: Kube, newer: Kube) => (newer.major - older.major) * 1000 + newer.minor - older.minor;
const list = (ids: readonly string[]) => ids.join(', ');

const DRAINING: ReadonlySet<ChangeBehaviour> = new Set<ChangeBehaviour>(['repave', 'reboot']);

function stepsFor(behaviour: ChangeBehaviour, kubectlOn: 'node' | 'peer' | undefined): PlannedStep[] {
  const n = (step: NodeStep): PlannedStep => ({ step, on: 'node' });
  const drain: PlannedStep[] = kubectlOn ? [{ step: 'drain', on: kubectlOn }] : [];
  const uncordon: PlannedStep[] = kubectlOn ? [{ step: 'uncordon', on: kubectlOn }] : [];
  switch (behaviour) {
    case 'repave': return [n('preflight'), ...drain, n('upgrade'), ...uncordon];
    case 'reboot': return [...drain, n('reboot'), ...uncordon];
    case 'service-restart': return [n('restart')];
    case 'reload': return [n('reload')];
    case 'no-op': return [];
  }
}

interface Checked { readonly node: UpgradeNode; readonly version?: Kube }

function checkInput(nodes: readonly UpgradeNode[], options: UpgradeOptions, now: Date): PlanResult | Checked[] {
  if (nodes.length === 0) return fail('invalid-upgrade', 'the upgrade names no nodes: a cluster upgrade needs the cluster\'s hosts; check the cluster record lists its control plane and workers');
  const seen = new Set<string>();
  const dup = nodes.find((n) => (seen.has(n.hostId) ? true : (seen.add(n.hostId), false)));
  if (dup) return fail('invalid-upgrade', `host ${dup.hostId} is listed twice in the upgrade; each host is upgraded once: fix the cluster's host lists`);
  const only = options.only;
  const stranger = only?.find((id) => !seen.has(id));
  if (only && (only.length === 0 || stranger !== undefined)) return fail('invalid-upgrade', only.length === 0 ? 'the upgrade plans a subset of no hosts (options.only is empty); name at least one of the cluster\'s hosts' : `host ${stranger} is not one of the cluster's hosts (${list(nodes.map((n) => n.hostId))}), so it cannot be planned; fix the hosts named in options.only`);
  if (!nodes.some((n) => n.role === 'control-plane')) return fail('invalid-upgrade', `none of the hosts (${list(nodes.map((n) => n.hostId))}) is a control-plane node; the control plane is upgraded first, so the upgrade cannot start: fix the cluster's control plane`);
  const m = options.maxUnavailable;
  if (m !== undefined && (!Number.isInteger(m) || m < 1)) return fail('invalid-upgrade', `maxUnavailable must be a whole number of at least 1 (worker nodes out at a time); got ${m}`);
  const w = options.maintenanceWindow;
  if (w) {
    const start = Date.parse(w.start);
    const end = Date.parse(w.end);
    if (Number.isNaN(start) || Number.isNaN(end)) return fail('invalid-maintenance-window', `maintenance window ${w.start} → ${w.end} is not a pair of ISO 8601 times; give start and end like 2026-12-01T02:00:00Z`);
    if (end <= start) return fail('invalid-maintenance-window', `maintenance window ends (${w.end}) before it starts (${w.start}); give an end after the start`);
    if (end <= now.getTime()) return fail('invalid-maintenance-window', `maintenance window ${w.start} → ${w.end} is already over (now ${now.toISOString()}); give a window that ends in the future`);
  }
  const out: Checked[] = [];
  for (const node of nodes) {
    if (node.kubeletVersion === undefined) { out.push({ node }); continue; }
    const version = parseKubeVersion(node.kubeletVersion);
    if (!version) return fail('invalid-upgrade', `host ${node.hostId} reports kubelet version "${node.kubeletVersion}", which is not a Kubernetes version, so the version-skew rules cannot be checked; wait for the host to report its status again or check its agent`);
    out.push({ node, version });
  }
  return out;
}

function checkSkew(nodes: readonly Checked[], current: Kube, target: Kube, options: UpgradeOptions): PlanResult | undefined {
  const upgraded = nodes.filter((c) => (c.node.role === 'control-plane' || !options.skipWorkers) && (!options.only || options.only.includes(c.node.hostId)));
  const at = (c: Checked) => c.version ?? current;
  // Name the cluster's version when the profile itself is the problem, else the hosts that differ from it.
  const who = (bad: readonly Checked[], profileBad: boolean) => (profileBad ? `the cluster (Kubernetes ${show(current)})` : list(bad.filter((c) => c.version).map((c) => `${c.node.hostId} (${show(at(c))})`)));
  const newer = upgraded.filter((c) => compareVersions(tuple(at(c)), tuple(target)) > 0);
  if (!options.rollback && newer.length > 0) {
    const profileBad = compareVersions(tuple(current), tuple(target)) > 0;
    if (profileBad) return fail('downgrade', `the target Kubernetes ${show(target)} is older than what ${who(newer, true)} runs: Kubernetes downgrades are refused; pick a profile version at or above the current one, or pass rollback when recovering from a failed upgrade`);
    return fail('node-newer-than-target', `host ${who(newer, false)} already runs a kubelet newer than the target Kubernetes ${show(target)}: upgrading would downgrade it, which is refused; pick a profile version at or above what the host runs, or remove the host from the cluster and reinstall it at the cluster's version`);
  }
  // kube-apiserver instances stay within one minor of each other: the control plane moves one minor per upgrade.
  const tooFar = (v: Kube) => Math.abs(minorsBehind(v, target)) > 1;
  const jump = nodes.filter((c) => c.node.role === 'control-plane' && tooFar(at(c)));
  if (jump.length > 0) {
    return fail('version-skew', `the control plane would move from ${who(jump, tooFar(current))} to Kubernetes ${show(target)}, more than one minor version at once, which the Kubernetes version-skew policy does not support; upgrade through each minor version in turn (one profile version per minor)`);
  }
  if (!options.skipWorkers) return undefined;
  // Kubelets left behind: not newer than the API server, at most 3 minors older (2 for kubelets below 1.25).
  const bad = nodes.filter((c) => {
    if (c.node.role !== 'worker') return false;
    const v = at(c);
    const lag = minorsBehind(v, target);
    return lag < 0 || lag > (v.major === 1 && v.minor < 25 ? 2 : 3);
  });
  if (bad.length === 0) return undefined;
  const ids = bad.map((c) => `${c.node.hostId} (${show(at(c))})`);
  return fail('version-skew', `skipping workers would leave ${list(ids)} outside the kubelet version-skew policy against an API server at ${show(target)} (a kubelet may not be newer than the API server, nor more than 3 minor versions older; 2 below 1.25); upgrade the workers too (drop skipWorkers)`);
}

function downtimeOf(behaviour: ChangeBehaviour, nodes: readonly UpgradeNode[], cps: readonly UpgradeNode[], planned: (n: UpgradeNode) => boolean): string | undefined {
  if (!DRAINING.has(behaviour)) return undefined;
  // Only a node that is planned reboots: a subset without the lone control plane keeps the API up.
  if (cps.length === 1 && !planned(cps[0]!)) return undefined;
  const what = behaviour === 'repave' ? 'is repaved and reboots' : 'reboots';
  if (nodes.length === 1) {
    return `the cluster has a single node (${nodes[0]!.hostId}); it ${what}, so the cluster's workloads and its Kubernetes API are down for one reboot (about ${REBOOT_DOWNTIME_SECONDS / 60} minutes)`;
  }
  if (cps.length === 1) {
    return `the cluster has a single control-plane node (${cps[0]!.hostId}); it ${what}, so the Kubernetes API is down for one reboot (about ${REBOOT_DOWNTIME_SECONDS / 60} minutes) while workloads on the workers keep running`;
  }
  return undefined;
}

/** Plans a rolling upgrade from `from` to `to` over `nodes`; refuses plans that break skew or need unacknowledged downtime. */
export function planUpgrade(input: { from: readonly Layer[]; to: readonly Layer[]; nodes: readonly UpgradeNode[]; options: UpgradeOptions; now?: Date }): PlanResult {
  const { from, to, nodes, options } = input;
  const checked = checkInput(nodes, options, input.now ?? new Date());
  if (!Array.isArray(checked)) return checked;

  const toK8s = to.find((l) => l.type === 'k8s');
  const fromK8s = from.find((l) => l.type === 'k8s');
  if (!toK8s || !fromK8s) return fail('invalid-upgrade', `the ${toK8s ? 'current' : 'target'} profile version has no Kubernetes (k8s) layer; an upgrade goes between two complete profile versions`);
  const target = parseKubeVersion(toK8s.version);
  const current = parseKubeVersion(fromK8s.version);
  if (!target || !current) return fail('invalid-upgrade', `the Kubernetes layer version "${target ? fromK8s.version : toK8s.version}" is not a Kubernetes version (like 1.31.2); fix the profile version`);

  const { behaviour, changes } = classifyChanges(from, to);
  const image = to.find((l) => l.type === 'os')?.image;
  if (behaviour === 'repave' && !image) {
    return fail('image-required', 'this upgrade repaves every node, but the target profile version\'s os layer has no image for kairos-agent to upgrade to; publish a profile version whose os layer sets image (an OCI reference to the Kairos image)');
  }
  const kairosVersion = image ? kairosVersionOfImage(image) : undefined;
  const flavor = to.find((l) => l.type === 'os')?.pack;
  const fromImage = from.find((l) => l.type === 'os')?.image;
  const fromKairos = fromImage ? kairosVersionOfImage(fromImage) : undefined;
  if (!options.rollback && kairosVersion && fromKairos && compareSemver(kairosVersion.slice(1), fromKairos.slice(1)) < 0) {
    return fail('downgrade', `the target image carries Kairos ${kairosVersion}, older than the ${fromKairos} the nodes run: OS downgrades are refused; pick a newer image, or pass rollback when recovering from a failed upgrade`);
  }
  const skew = checkSkew(checked, current, target, options);
  if (skew) return skew;
  const planned = (n: UpgradeNode) => !options.only || options.only.includes(n.hostId);
  if (!options.rollback && behaviour === 'repave' && kairosVersion) {
    const newer = nodes.filter((n) => planned(n) && (n.role === 'control-plane' || !options.skipWorkers) && kairosNewer(runningKairos(n), kairosVersion));
    if (newer.length > 0) {
      const what = list(newer.map((n) => `${n.hostId} (Kairos ${runningKairos(n)}${n.running?.image ? `, image ${n.running.image}` : ''})`));
      return fail('node-newer-than-target', `host ${what} already runs an OS newer than the target Kairos ${kairosVersion} (image ${image}): upgrading would downgrade it, which is refused; pick a profile version whose os image is at or above what the host runs, or remove the host from the cluster and reinstall it at the cluster's version`);
    }
  }

  const cps = nodes.filter((n) => n.role === 'control-plane');
  const allWorkers = nodes.filter((n) => n.role === 'worker');
  const workers = options.skipWorkers ? [] : allWorkers.filter(planned);
  const maxUnavailable = options.maxUnavailable ?? 1;
  const reasons: string[] = [];
  const outage = downtimeOf(behaviour, nodes, cps, planned);
  if (outage) reasons.push(outage);
  if (workers.length > 0 && DRAINING.has(behaviour) && Math.min(maxUnavailable, workers.length) >= allWorkers.length) {
    const allOut = `maxUnavailable ${maxUnavailable} takes all ${allWorkers.length} worker${allWorkers.length === 1 ? '' : 's'} (${list(workers.map((w) => w.hostId))}) out at once, so workloads that do not fit on the control plane are down while they are drained`;
    if (!options.acknowledgeDowntime) {
      const fix = workers.length > 1 ? `lower maxUnavailable below ${workers.length}, or set acknowledgeDowntime: true` : 'add a worker first, or set acknowledgeDowntime: true';
      return fail('max-unavailable-too-high', `${allOut}; ${fix}`);
    }
    reasons.push(allOut);
  }
  if (outage && !options.acknowledgeDowntime && !options.maintenanceWindow) {
    return fail('downtime-not-acknowledged', `this upgrade cannot avoid downtime: ${outage}. Set acknowledgeDowntime: true to accept it now, or give a maintenanceWindow {start, end} to run it then`);
  }

  // kubectl (drain, uncordon) runs on a control-plane peer that stays up; a lone control plane drains itself; a single node has nothing to drain to.
  const plan = (n: UpgradeNode): NodePlan => {
    const kubectlOn = nodes.length === 1 ? undefined : n.role === 'control-plane' && cps.length === 1 ? 'node' : 'peer';
    return { hostId: n.hostId, role: n.role, pool: n.pool, behaviour, steps: stepsFor(behaviour, kubectlOn) };
  };
  const expected = reasons.length > 0;
  return {
    ok: true,
    plan: {
      behaviour, changes, maxUnavailable,
      controlPlane: cps.filter(planned).map(plan),
      workers: workers.map(plan),
      target: { ...(image ? { image } : {}), ...(kairosVersion ? { kairosVersion } : {}), ...(flavor ? { flavor } : {}), kubeletVersion: toK8s.version.startsWith('v') ? toK8s.version : `v${toK8s.version}` },
      downtime: expected ? { expected, reason: reasons.join('; '), ...(outage ? { estimatedSeconds: REBOOT_DOWNTIME_SECONDS } : {}) } : { expected: false },
      skippedWorkers: Boolean(options.skipWorkers),
    },
  };
}
