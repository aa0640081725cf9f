import { inMinorRange, parseVersion, type MinorRange } from './versions.js';

/**
 * The validated OS x Kubernetes distribution matrix. Data, not code: a new OS release or
 * Kubernetes minor is one row. Exceptions carry the reason an operator reads when refused.
 */
export interface OsPack {
  readonly pack: string;
  /** Releases Kairos builds for this flavor (major.minor or major). */
  readonly releases: readonly string[];
  readonly init: 'systemd' | 'openrc';
  /** Releases that boot with cgroup v1 by default. */
  readonly cgroupV1Releases?: readonly string[];
}

export interface K8sPack {
  readonly pack: string;
  readonly versions: MinorRange;
  readonly needsSystemd: boolean;
}

export const OS_PACKS: readonly OsPack[] = [
  { pack: 'ubuntu', releases: ['20.04', '22.04', '24.04'], init: 'systemd', cgroupV1Releases: ['20.04'] },
  { pack: 'opensuse', releases: ['15.5', '15.6'], init: 'systemd' },
  { pack: 'alpine', releases: ['3.19', '3.20', '3.21'], init: 'openrc' },
  { pack: 'rocky', releases: ['8', '9'], init: 'systemd', cgroupV1Releases: ['8'] },
  { pack: 'debian', releases: ['11', '12'], init: 'systemd' },
];

export const K8S_PACKS: readonly K8sPack[] = [
  { pack: 'k3s', versions: { min: '1.28', max: '1.33' }, needsSystemd: false },
  { pack: 'rke2', versions: { min: '1.28', max: '1.33' }, needsSystemd: true },
  { pack: 'kubeadm', versions: { min: '1.28', max: '1.33' }, needsSystemd: true },
];

/** Kubernetes 1.31 put cgroup v1 in maintenance mode; newer minors are not validated on v1 hosts. */
const LAST_MINOR_ON_CGROUP_V1 = '1.30';

export type Compatibility = { ok: true } | { ok: false; reason: string };

function releaseMatches(release: string, version: string): boolean {
  const r = parseVersion(release);
  const v = parseVersion(version);
  if (!r || !v) return false;
  return release.includes('.') ? r[0] === v[0] && r[1] === v[1] : r[0] === v[0];
}

/** The release of `pack` that `version` names (e.g. "24.04" for ubuntu 24.04.1), or undefined. */
export function matchRelease(pack: string, version: string): string | undefined {
  return OS_PACKS.find((p) => p.pack === pack)?.releases.find((r) => releaseMatches(r, version));
}

export function checkCompatibility(os: { pack: string; version: string }, k8s: { pack: string; version: string }): Compatibility {
  const osPack = OS_PACKS.find((p) => p.pack === os.pack);
  if (!osPack) return { ok: false, reason: `unknown OS pack "${os.pack}"; supported: ${OS_PACKS.map((p) => p.pack).join(', ')}` };
  const k8sPack = K8S_PACKS.find((p) => p.pack === k8s.pack);
  if (!k8sPack) return { ok: false, reason: `unknown Kubernetes distribution "${k8s.pack}"; supported: ${K8S_PACKS.map((p) => p.pack).join(', ')}` };
  const release = osPack.releases.find((r) => releaseMatches(r, os.version));
  if (!release) return { ok: false, reason: `${os.pack} ${os.version} is not a supported release; supported: ${osPack.releases.join(', ')}` };
  if (!inMinorRange(k8s.version, k8sPack.versions)) {
    return { ok: false, reason: `${k8s.pack} ${k8s.version} is outside the validated range ${k8sPack.versions.min}–${k8sPack.versions.max}` };
  }
  if (k8sPack.needsSystemd && osPack.init !== 'systemd') {
    return { ok: false, reason: `${k8s.pack} needs systemd, but ${os.pack} uses ${osPack.init}; use k3s on ${os.pack} or pick a systemd OS` };
  }
  if (osPack.cgroupV1Releases?.includes(release) && !inMinorRange(k8s.version, { min: '1.0', max: LAST_MINOR_ON_CGROUP_V1 })) {
    return { ok: false, reason: `${os.pack} ${release} boots with cgroup v1, which Kubernetes newer than ${LAST_MINOR_ON_CGROUP_V1} no longer supports well; use a newer ${os.pack} release or Kubernetes ${LAST_MINOR_ON_CGROUP_V1}` };
  }
  return { ok: true };
}
