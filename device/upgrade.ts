import { PREFLIGHT_PARAMS, UPGRADE_PARAMS } from '../lambdas/contracts/mqtt.js';
import { validateImage, versionFromImage } from './kairos.js';
import { InvalidParameter } from './kubernetes.js';

/**
 * Pure helpers of the `upgrade` and `preflight` commands: parameter checks (everything that
 * could end up in an argv or a message is validated here) and kubelet version comparison.
 */

type Params = Readonly<Record<string, string | number | boolean>>;

function onlyKnown(p: Params, allowed: readonly string[]): void {
  for (const k of Object.keys(p)) {
    if (!allowed.includes(k)) throw new InvalidParameter(`unknown parameter ${JSON.stringify(k.slice(0, 40))} (allowed: ${allowed.join(', ')})`);
  }
}

/** `v1.31.2`, `1.31.2`, `v1.31.2+k3s1`, `v1.31.2+rke2r1`, `v1.31.2-rc.1`: what a kubelet reports. */
const KUBELET_VERSION = /^v?(\d{1,4})\.(\d{1,4})\.(\d{1,6})(?:[-+][A-Za-z0-9.+-]{1,40})?$/;

export function validateKubeletVersion(v: unknown): string {
  if (typeof v !== 'string' || v.length === 0) throw new InvalidParameter('kubeletVersion: must be a Kubernetes version such as v1.31.2 or v1.31.2+k3s1');
  if (v.startsWith('-')) throw new InvalidParameter('kubeletVersion: must not start with "-"');
  if (v.length > 64 || !KUBELET_VERSION.test(v)) throw new InvalidParameter(`kubeletVersion: ${JSON.stringify(v.slice(0, 40))} is not a Kubernetes version such as v1.31.2 or v1.31.2+k3s1`);
  return v;
}

/** major.minor.patch of a kubelet version ("v1.31.2+k3s1" → "1.31.2"), or undefined. */
export function kubeletCore(v: string | undefined): string | undefined {
  const m = v === undefined ? null : KUBELET_VERSION.exec(v.trim());
  return m ? `${Number(m[1])}.${Number(m[2])}.${Number(m[3])}` : undefined;
}

/** Same major.minor.patch; distribution suffixes (+k3s1, +rke2r1) are ignored. */
export function sameKubelet(reported: string | undefined, expected: string): boolean {
  const a = kubeletCore(reported);
  return a !== undefined && a === kubeletCore(expected);
}

/** What an OS image carries of Kubernetes, from its tag: the distribution and the kubelet version it reports. */
export interface ImageKubernetes {
  readonly distribution: 'k3s' | 'rke2' | 'kubeadm';
  /** `v1.31.2`, with the distribution's build suffix when the tag names one (`v1.31.2+k3s1`), as the kubelet reports it. */
  readonly kubeletVersion: string;
}

/**
 * The Kubernetes an image tag carries. Two tag shapes are understood:
 * - Kairos standard images (https://kairos.io/docs/reference/image_matrix/):
 *   `<flavor_release>-standard-<arch>-<model>-<kairos>-k3sv1.31.2-k3s1`, `…-rke2v1.31.2-rke2r1`;
 * - CanvOS provider images (https://github.com/spectrocloud/CanvOS): `k3s-1.32.1-v4.5.7-demo`.
 * A "core" image (no distribution in its tag) carries none: undefined.
 */
export function kubernetesFromImage(image: string): ImageKubernetes | undefined {
  const tag = image.split('@')[0]!.split('/').pop()?.split(':')[1] ?? '';
  const m = /(?:^|[-_])(k3s|rke2|kubeadm)[-_]?v?(\d+\.\d+\.\d+)(?:[-_]((?:k3s|rke2r)\d+))?(?=$|[-_])/.exec(tag);
  if (!m) return undefined;
  return { distribution: m[1] as ImageKubernetes['distribution'], kubeletVersion: `v${m[2]}${m[3] ? `+${m[3]}` : ''}` };
}

/**
 * The Kubernetes version an image tag carries (…-k3sv1.31.2-k3s1, …-k3s-v1.33.2-k3s1, …-rke2v1.31.2-rke2r1,
 * k3s-1.32.1-…) → v1.31.2; kept equal to lambdas/domain/image-tag.ts by test/unit/domain/image-tag.test.ts.
 */
export function kubeletFromImage(image: string): string | undefined {
  const k = kubernetesFromImage(image);
  return k ? `v${kubeletCore(k.kubeletVersion)}` : undefined;
}

export interface UpgradeParams {
  readonly image: string;
  /** The Kairos version /etc/kairos-release must report after the reboot (from the tag when not given). */
  readonly version?: string;
  readonly kubeletVersion?: string;
  readonly recovery: boolean;
}

const KAIROS_VERSION = /^[A-Za-z0-9][A-Za-z0-9._+-]{0,63}$/;

export function parseUpgradeParams(p: Params): UpgradeParams {
  onlyKnown(p, UPGRADE_PARAMS);
  const image = validateImage(p.image);
  if (p.recovery !== undefined && typeof p.recovery !== 'boolean') throw new InvalidParameter('recovery: must be true or false');
  if (p.version !== undefined && (typeof p.version !== 'string' || !KAIROS_VERSION.test(p.version))) throw new InvalidParameter('version: must be a Kairos version such as v3.5.0 (letters, digits, ".", "_", "+", "-"; not starting with "-")');
  const version = typeof p.version === 'string' ? p.version : versionFromImage(image);
  const kubeletVersion = p.kubeletVersion === undefined ? undefined : validateKubeletVersion(p.kubeletVersion);
  return { image, recovery: p.recovery === true, ...(version ? { version } : {}), ...(kubeletVersion ? { kubeletVersion } : {}) };
}

export interface PreflightParams {
  readonly image: string;
  readonly requiredFreeMb: number;
  /** Wait this long for the node to be Ready before judging it (a rollback's preflight). */
  readonly readyTimeoutSeconds?: number;
}

export const MAX_REQUIRED_FREE_MB = 1_048_576;

export function parsePreflightParams(p: Params): PreflightParams {
  onlyKnown(p, PREFLIGHT_PARAMS);
  const image = validateImage(p.image);
  const mb = p.requiredFreeMb;
  if (typeof mb !== 'number' || !Number.isInteger(mb) || mb < 0 || mb > MAX_REQUIRED_FREE_MB) throw new InvalidParameter(`requiredFreeMb: must be a whole number of MB from 0 to ${MAX_REQUIRED_FREE_MB}`);
  const wait = p.readyTimeoutSeconds;
  if (wait !== undefined && (typeof wait !== 'number' || !Number.isInteger(wait) || wait < 1 || wait > 3600)) throw new InvalidParameter('readyTimeoutSeconds: must be a whole number of seconds from 1 to 3600');
  return { image, requiredFreeMb: mb, ...(wait !== undefined ? { readyTimeoutSeconds: wait } : {}) };
}

/** An image reference's repository and tag (Docker Hub names normalized) and digest, for identity comparison. */
function refParts(ref: string): { name: string; tag: string; digest?: string } {
  const [withTag, digest] = ref.trim().split('@', 2) as [string, string | undefined];
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  let name = colon > slash ? withTag.slice(0, colon) : withTag;
  const tag = colon > slash ? withTag.slice(colon + 1) : 'latest';
  const first = name.split('/', 1)[0]!;
  if (!name.includes('/')) name = `docker.io/library/${name}`;
  else if (!/[.:]/.test(first) && first !== 'localhost') name = `docker.io/${name}`;
  return { name: name.toLowerCase(), tag, ...(digest ? { digest } : {}) };
}

/**
 * Whether the running image is the one asked for: equal digests when both are known, else the
 * same repository and tag. (The control plane judges the same way from the status report.)
 */
export function sameImage(running: { image: string; digest?: string }, wanted: string): boolean {
  const a = refParts(running.image);
  const b = refParts(wanted);
  const da = running.digest ?? a.digest;
  if (da && b.digest) return da === b.digest;
  return a.name === b.name && a.tag === b.tag;
}

/**
 * Whether a Ready node's kubelet version is a fresh fact of this boot: a Node status last
 * posted before the boot is the previous kubelet's (the node controller has not marked it
 * yet), so a version seen there decides nothing.
 */
export function freshSinceBoot(heartbeatAt: number | undefined, bootedAt: number | undefined): boolean {
  return heartbeatAt === undefined || bootedAt === undefined || heartbeatAt >= bootedAt;
}
