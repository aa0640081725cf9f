import { parseVersion, compareVersions } from './versions.js';

/**
 * Identity over version strings: whether a node runs an image is judged from the image it
 * reports running (reference and digest, from /etc/kairos-release and the agent), its OS
 * flavour and the partition it booted — never from a Kairos version string alone, which two
 * flavours (or two builds of one flavour) share.
 */

export interface ImageIdentity {
  /** registry/repo:tag (a trailing @sha256:… is split off into `digest`). */
  readonly image: string;
  readonly digest?: string;
}

/** What a node's last status report says it runs (the fields of the MQTT status message this judges). */
export interface ReportedNode {
  readonly boot: {
    readonly state: 'active' | 'passive' | 'recovery' | 'unknown';
    readonly kairosVersion?: string;
    readonly image?: string;
    readonly digest?: string;
    readonly flavor?: string;
    readonly partitions?: { readonly active?: ImageIdentity; readonly passive?: ImageIdentity };
  };
  readonly kubernetes?: { readonly ready: boolean; readonly version?: string };
}

/** What the node must run to be "at" a target (an upgrade's target or a rollback's previous version). */
export interface NodeTarget {
  readonly image?: string;
  readonly digest?: string;
  /** The OS flavour (the os layer's pack: ubuntu, opensuse…; KAIROS_FLAVOR on the node). */
  readonly flavor?: string;
  readonly kairosVersion?: string;
  readonly kubeletVersion: string;
}

export type TargetVerdict = { readonly at: true } | { readonly at: false; readonly reason: string };

interface ParsedRef { readonly name: string; readonly tag: string; readonly digest?: string }

/** 'quay.io/kairos/ubuntu:24.04-…@sha256:…' → name, tag (default latest), digest; Docker Hub names normalized. */
export function parseImageRef(ref: string): ParsedRef {
  const [withTag, digest] = ref.trim().split('@', 2) as [string, string | undefined];
  const slash = withTag.lastIndexOf('/');
  const colon = withTag.lastIndexOf(':');
  const hasTag = colon > slash;
  let name = hasTag ? withTag.slice(0, colon) : withTag;
  const tag = hasTag ? withTag.slice(colon + 1) : 'latest';
  const first = name.split('/', 1)[0]!;
  // Docker Hub: "ubuntu" = "docker.io/library/ubuntu"; a first component with "." or ":" (or localhost) is a registry.
  if (!name.includes('/')) name = `docker.io/library/${name}`;
  else if (!/[.:]/.test(first) && first !== 'localhost') name = `docker.io/${name}`;
  if (name.startsWith('index.docker.io/')) name = `docker.io/${name.slice('index.docker.io/'.length)}`;
  return { name: name.toLowerCase(), tag, ...(digest ? { digest } : {}) };
}

/** Same image: equal digests when both are known, else the same repository and tag. */
export function sameImage(a: ImageIdentity, b: ImageIdentity): boolean {
  const x = parseImageRef(a.image);
  const y = parseImageRef(b.image);
  const dx = a.digest ?? x.digest;
  const dy = b.digest ?? y.digest;
  if (dx && dy) return dx === dy;
  return x.name === y.name && x.tag === y.tag;
}

/** 'v1.31.2+k3s1' and '1.31.2' are the same kubelet (distribution suffix ignored). */
export function sameKubelet(reported: string | undefined, expected: string): boolean {
  const a = reported ? parseVersion(reported) : undefined;
  const b = parseVersion(expected);
  return !!a && !!b && compareVersions(a, b) === 0;
}

const show = (i: ImageIdentity) => `${i.image}${i.digest ? `@${i.digest}` : ''}`;

/**
 * Whether the host runs an OS image, whatever its Kubernetes: booted *active*, running the
 * image (digest or repo:tag) of the flavour, its active partition holding that image. Used
 * before a host joins (a create or scale-out repaves a host that does not run the profile's
 * image) and as the OS half of judgeAtTarget. The reason names what differs.
 */
export function judgeImage(hostId: string, report: ReportedNode | undefined, target: Omit<NodeTarget, 'kubeletVersion'>): TargetVerdict {
  const no = (reason: string): TargetVerdict => ({ at: false, reason: `${hostId} ${reason}` });
  if (!report) return no('has not reported its status yet');
  const b = report.boot;
  const want: ImageIdentity | undefined = target.image ? { image: target.image, ...(target.digest ? { digest: target.digest } : {}) } : undefined;
  const running: ImageIdentity | undefined = b.image ? { image: b.image, ...(b.digest ? { digest: b.digest } : {}) } : undefined;
  if (b.state !== 'active') {
    const active = b.partitions?.active ? `; its active partition holds ${show(b.partitions.active)}` : '';
    return no(`booted ${b.state}${running ? ` running ${show(running)}` : ''}${active}${b.state === 'passive' ? ' (Kairos fell back)' : ''}`);
  }
  if (want) {
    if (!running) return no(`reports no running image identity (its agent predates image reporting), so it cannot be shown to run ${show(want)}`);
    if (!sameImage(running, want)) return no(`runs ${show(running)}, not ${show(want)}`);
    const active = b.partitions?.active;
    if (active && !sameImage(active, want)) return no(`booted active but its active partition holds ${show(active)}, not ${show(want)}`);
  } else if (target.kairosVersion && b.kairosVersion !== target.kairosVersion) {
    return no(`runs Kairos ${b.kairosVersion ?? 'unknown'}, not ${target.kairosVersion}`);
  }
  if (target.flavor && b.flavor && b.flavor.toLowerCase() !== target.flavor.toLowerCase()) return no(`runs the ${b.flavor} flavour, not ${target.flavor}`);
  return { at: true };
}

/**
 * Whether the node runs the target: booted *active*, running the target image (digest or
 * repo:tag) of the target flavour, its active partition holding that image, and its
 * Kubernetes node Ready at the target kubelet. The reason names what differs.
 */
export function judgeAtTarget(hostId: string, report: ReportedNode | undefined, target: NodeTarget): TargetVerdict {
  const os = judgeImage(hostId, report, target);
  if (!os.at) return os;
  const no = (reason: string): TargetVerdict => ({ at: false, reason: `${hostId} ${reason}` });
  const k = report!.kubernetes;
  if (!k?.ready) return no(`is not Ready in Kubernetes${k ? '' : ' (no Kubernetes node reported)'}`);
  if (!sameKubelet(k.version, target.kubeletVersion)) return no(`is Ready at kubelet ${k.version ?? 'unknown'}, not ${target.kubeletVersion}`);
  return { at: true };
}
