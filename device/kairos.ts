import { readFile, stat, statfs, unlink } from 'node:fs/promises';
import { hostname, uptime } from 'node:os';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import type { KubeNodeAction } from '../lambdas/contracts/mqtt.js';
import type { PackStatus } from '../lambdas/contracts/packs.js';
import type { CommandRunner } from './command-runner.js';
import {
  clusterStanza, distributionFromRelease, InvalidParameter, isControlPlane, kubeNodeArgs, LAYOUTS, NODE_INFO_PATH, parseNodeJson, serviceFor, validateNodeName,
  type Distribution, type KubernetesNodeState,
} from './kubernetes.js';
import { validateImage } from './image-ref.js';
import { installPacks, kubeadmPackStates, KUBEADM_PACK_DIR, nodePacksOf, PACK_RESULTS_FILE } from './pack-install.js';
import { readPackStates } from './pack-reader.js';
import { checkImageReachable, type ReachabilityOptions } from './registry.js';
import { writeFileAtomic } from './state-store.js';
import type { DiagnosticsSource } from './diagnostics/collect.js';
import { hostDiagnostics } from './diagnostics/host-source.js';

export { InvalidParameter } from './kubernetes.js';
/** Re-exported for the importers that know it from here (the agent, the simulator, tests). */
export { validateImage } from './image-ref.js';

export type BootState = 'active' | 'passive' | 'recovery' | 'unknown';

/** What a partition holds: the image written to it, and its manifest digest when known. */
export interface PartitionImage {
  readonly image: string;
  readonly digest?: string;
}

export interface KairosState {
  readonly boot: BootState;
  readonly kairosVersion?: string;
  readonly flavor?: string;
  readonly osRelease?: string;
  /** The running image (KAIROS_IMAGE_REPO of /etc/kairos-release: registry/repo:tag), without digest. */
  readonly image?: string;
  /** The running image's manifest digest, when known. */
  readonly digest?: string;
  /** What the A/B partitions hold (after a fallback, active still holds the image that failed to boot). */
  readonly partitions?: { readonly active?: PartitionImage; readonly passive?: PartitionImage };
  /** When the running system booted (epoch ms). */
  readonly bootedAt?: number;
  /** Absent while the host is not a Kubernetes node (no cluster configuration applied). */
  readonly kubernetes?: KubernetesNodeState & { readonly heartbeatAt?: number };
}

export interface UpgradeOptions {
  /** Upgrade the recovery partition instead of active. */
  readonly recovery?: boolean;
}

/**
 * What happened after reboot(): a real host is going down (the agent will be killed and start
 * again after boot); a simulated one has already come back.
 */
export type RebootOutcome = 'rebooting' | 'rebooted';

/** The allow-listed OS operations: the only things the agent does to the host. */
export interface KairosExecutor {
  upgrade(image: string, options?: UpgradeOptions): Promise<void>;
  reboot(): Promise<RebootOutcome>;
  /** Factory reset from the active system: select the statereset boot entry, then reboot. */
  reset(): Promise<RebootOutcome>;
  applyCloudConfig(yaml: string): Promise<void>;
  state(): Promise<KairosState>;
  /**
   * Runs the Kubernetes provider on the running system for the applied cluster stanza (bring
   * Kubernetes up / join the cluster). Returns when the provider has run, not when the node is Ready.
   */
  bootstrap(): Promise<void>;
  /** Restarts the Kubernetes service of this node's distribution and role; returns the unit name. */
  restartKubernetes(): Promise<string>;
  /** Re-applies manifests and add-ons of the applied config; nothing restarts. */
  reloadKubernetes(): Promise<void>;
  /** cordon | uncordon | drain | delete another node, with this (control-plane) host's admin kubeconfig. */
  kubeNode(action: KubeNodeAction, node: string, timeoutSeconds: number): Promise<void>;
  /** Free space on the state partition (COS_STATE: active, passive and transition images), in MiB. */
  stateFreeMb(): Promise<number>;
  /** The same free space, read for the status report (a read like `state()`, not a check). */
  storage?(): Promise<{ stateFreeMb: number }>;
  /** The distribution's admin kubeconfig as written on this (control-plane) host; rejects on a worker or a host without one. */
  exportKubeconfig(): Promise<string>;
  /** Resolves when the image's manifest is reachable from this host; rejects with the reason. */
  checkImage(image: string): Promise<void>;
  /**
   * Each pack (CNI, CSI, add-on) of the applied node configuration and its state, as this
   * control-plane node sees it in the cluster; empty on a worker or a host without packs.
   */
  packs(): Promise<PackStatus[]>;
  /**
   * What a diagnostics collection may use on this host (device/diagnostics/): the allow-listed
   * runner, file reads, TCP connects and the host's facts. Absent: the host cannot collect.
   */
  diagnostics?(): DiagnosticsSource;
}

export const MAX_CLOUD_CONFIG_BYTES = 64 * 1024;

/** A cloud-config document: YAML mapping, ≤ 64 KiB; returned with the `#cloud-config` header. */
export function validateCloudConfig(text: unknown): string {
  if (typeof text !== 'string' || !text.trim()) throw new InvalidParameter('cloudConfig: required, a YAML document');
  if (Buffer.byteLength(text) > MAX_CLOUD_CONFIG_BYTES) throw new InvalidParameter(`cloudConfig: larger than ${MAX_CLOUD_CONFIG_BYTES} bytes`);
  const doc = parseDocument(text);
  if (doc.errors.length) throw new InvalidParameter(`cloudConfig: not valid YAML: ${doc.errors[0]!.message.split('\n')[0]}`);
  const value: unknown = doc.toJS();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new InvalidParameter('cloudConfig: must be a YAML mapping');
  clusterStanza(text);
  const body = text.replace(/^#cloud-config[^\n]*\n?/, '');
  return `#cloud-config\n${body.endsWith('\n') ? body : `${body}\n`}`;
}

/** KEY="value" lines of /etc/kairos-release or /etc/os-release. */
export function parseReleaseFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\s*([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"')) || (v.startsWith("'") && v.endsWith("'"))) v = v.slice(1, -1);
    out[m[1]!] = v;
  }
  return out;
}

/** `kairos-agent state get boot` prints active_boot | passive_boot | recovery_boot. */
export function parseBootState(text: string): BootState {
  const t = text.trim().toLowerCase();
  if (t.startsWith('active')) return 'active';
  if (t.startsWith('passive')) return 'passive';
  if (t.startsWith('recovery')) return 'recovery';
  return 'unknown';
}

export interface KairosPaths {
  readonly runDir: string;
  /** Overrides the detected distribution (KAIROS_SOFTWARE_VERSION_PREFIX of /etc/kairos-release). */
  readonly distribution?: Distribution;
  /** The kubelet's node name when the cloud-config names none (default: the host name). */
  readonly nodeName?: string;
  readonly kairosRelease: string;
  readonly osRelease: string;
  readonly oemDir: string;
  readonly grubenv: string;
  /** Where Kairos (immucore) mounts the COS_STATE partition. */
  readonly statePartition: string;
  /** Registry reachability check (preflight). */
  readonly registry?: ReachabilityOptions;
  /** Overrides where the distribution's admin kubeconfig is read from (tests). */
  readonly adminKubeconfig?: string;
  /** The node facts the rendered configuration writes (/etc/edgefleet/node.json). */
  readonly nodeInfo: string;
  /** kubeadm: where the rendered configuration writes the pack files. */
  readonly packDir: string;
  /** kubeadm: scratch space for pack values and manifests while they are installed (tmpfs). */
  readonly packWorkDir: string;
}

/**
 * What the agent wrote to the A/B partitions (JSON, under /oem): Kairos records the running
 * image in /etc/kairos-release but not what the other partition holds, so the agent keeps the
 * record of each successful `kairos-agent upgrade` (active ← the image, passive ← the old active).
 */
export const PARTITIONS_FILE = 'edgefleet-partitions.json';

/** The file the agent writes cloud-configs to (a statereset keeps /oem, so reset removes it). */
export const CLOUD_CONFIG_FILE = '90_edgefleet.yaml';

/**
 * A yip stage the rendered cloud-config (lambdas/domain/node-config.ts) repeats its files in
 * (node.json, kube-vip, the pack files; besides `initramfs`), so that `reload` can re-apply
 * them without running the provider (which restarts services): k3s's and rke2's deploy
 * controllers apply a changed manifest file; on kubeadm the agent installs the packs after it.
 */
export const RELOAD_STAGE = 'edgefleet-reload';

export const BOOTSTRAP_TIMEOUT_MS = 15 * 60_000;

export const DEFAULT_PATHS: KairosPaths = {
  runDir: '/run/cos',
  kairosRelease: '/etc/kairos-release',
  osRelease: '/etc/os-release',
  oemDir: '/oem',
  grubenv: '/oem/grubenv',
  statePartition: '/run/initramfs/cos-state',
  nodeInfo: NODE_INFO_PATH,
  packDir: KUBEADM_PACK_DIR,
  packWorkDir: '/run/edgefleet/packs',
};

export const IMAGE_CHECK_TIMEOUT_MS = 30_000;

export const UPGRADE_TIMEOUT_MS = 60 * 60_000;

async function exists(p: string): Promise<boolean> {
  return stat(p).then(() => true, () => false);
}

/** The real host: kairos-agent, grub2-editenv and reboot, by argv, nothing else. */
export class KairosCli implements KairosExecutor {
  private readonly paths: KairosPaths;
  constructor(private readonly runner: CommandRunner, paths: Partial<KairosPaths> = {}) {
    this.paths = { ...DEFAULT_PATHS, ...paths };
  }

  async upgrade(image: string, options: UpgradeOptions = {}): Promise<void> {
    const args = ['upgrade', '--source', `oci:${validateImage(image)}`];
    if (options.recovery === true) args.push('--recovery');
    // Upgrades run from the active system: without a record, what runs is what active holds.
    const before = options.recovery === true ? undefined : await this.partitions(await this.identity(), 'active');
    await this.runner.run('kairos-agent', args, { timeoutMs: UPGRADE_TIMEOUT_MS });
    if (before) {
      // The image is written: the upgrade succeeded whatever happens to the record. A record that
      // cannot be written is removed, so the report says less rather than something false.
      const file = join(this.paths.oemDir, PARTITIONS_FILE);
      await writeFileAtomic(file, `${JSON.stringify({ active: splitDigest(image), ...(before.active ? { passive: before.active } : {}) })}\n`)
        .catch(() => unlink(file).catch(() => undefined));
    }
  }

  /** The partitions record (see PARTITIONS_FILE); with none, a host booted active runs what its active partition holds. */
  private async partitions(running: PartitionImage | undefined, boot: BootState): Promise<{ active?: PartitionImage; passive?: PartitionImage }> {
    const text = await readFile(join(this.paths.oemDir, PARTITIONS_FILE), 'utf8').catch(() => undefined);
    try {
      const v = text ? (JSON.parse(text) as { active?: unknown; passive?: unknown }) : {};
      const slot = (x: unknown): PartitionImage | undefined => {
        const o = x as { image?: unknown; digest?: unknown } | undefined;
        return typeof o?.image === 'string' ? { image: o.image, ...(typeof o.digest === 'string' ? { digest: o.digest } : {}) } : undefined;
      };
      const active = slot(v.active);
      const passive = slot(v.passive);
      if (active || passive) return { ...(active ? { active } : {}), ...(passive ? { passive } : {}) };
    } catch { /* a damaged record is no record */ }
    return running && boot === 'active' ? { active: running } : {};
  }

  /** The running image from /etc/kairos-release: KAIROS_IMAGE_REPO, else registry/org + flavour + label. */
  private async identity(): Promise<PartitionImage | undefined> {
    const { image, digest } = imageFromRelease(parseReleaseFile(await readFile(this.paths.kairosRelease, 'utf8').catch(() => '')));
    return image ? { image, ...(digest ? { digest } : {}) } : undefined;
  }

  async reboot(): Promise<RebootOutcome> {
    await this.runner.run('reboot', [], { timeoutMs: 60_000 });
    return 'rebooting';
  }

  async reset(): Promise<RebootOutcome> {
    // /oem survives a statereset: without this the provider would join the old cluster again at boot.
    await unlink(join(this.paths.oemDir, CLOUD_CONFIG_FILE)).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
    await this.runner.run('grub2-editenv', [this.paths.grubenv, 'set', 'next_entry=statereset'], { timeoutMs: 30_000 });
    return this.reboot();
  }

  async applyCloudConfig(yaml: string): Promise<void> {
    await writeFileAtomic(join(this.paths.oemDir, CLOUD_CONFIG_FILE), validateCloudConfig(yaml), 0o600);
  }

  /**
   * The providers put their stages under `boot.before`; `run-stage boot` runs before, boot and
   * after. The node's files (node.json, kube-vip, the pack files) are written by the `initramfs`
   * stage, which only runs at boot: on a live bootstrap the reload stage (the same files) writes
   * them first, so the distribution finds its packs when it starts.
   */
  async bootstrap(): Promise<void> {
    if (!(await this.cluster())) throw new Error(`no cluster stanza in ${join(this.paths.oemDir, CLOUD_CONFIG_FILE)}: apply a cloud-config with "cluster:" first`);
    await this.runner.run('kairos-agent', ['run-stage', RELOAD_STAGE], { timeoutMs: 5 * 60_000 });
    await this.runner.run('kairos-agent', ['run-stage', 'boot'], { timeoutMs: BOOTSTRAP_TIMEOUT_MS });
    await this.installKubeadmPacks();
  }

  /**
   * kubeadm has no helm-controller: on the init node the agent installs the packs itself
   * (device/pack-install.ts), after the provider brought Kubernetes up and after each reload.
   * A pack that fails is recorded (the pack status says which and why); the node still joined.
   */
  private async installKubeadmPacks(): Promise<void> {
    const k = await this.kube();
    if (k?.distribution !== 'kubeadm' || k.role !== 'init') return;
    await installPacks(this.runner, {
      nodeInfo: this.paths.nodeInfo, packDir: this.paths.packDir, workDir: this.paths.packWorkDir, oemDir: this.paths.oemDir,
      kubeconfig: LAYOUTS.kubeadm.adminKubeconfig, kubectl: LAYOUTS.kubeadm.kubectl,
    });
  }

  async restartKubernetes(): Promise<string> {
    const k = await this.kube();
    if (!k) throw new Error('this host is not a Kubernetes node (no cluster stanza applied): nothing to restart');
    const unit = serviceFor(k.distribution, k.role);
    await this.runner.run('systemctl', ['restart', unit], { timeoutMs: 5 * 60_000 });
    return unit;
  }

  async reloadKubernetes(): Promise<void> {
    await this.runner.run('kairos-agent', ['run-stage', RELOAD_STAGE], { timeoutMs: 5 * 60_000 });
    await this.installKubeadmPacks();
  }

  async kubeNode(action: KubeNodeAction, node: string, timeoutSeconds: number): Promise<void> {
    validateNodeName(node);
    const k = await this.kube();
    if (!k || !isControlPlane(k.role)) throw new Error('this host holds no admin kubeconfig (not a control-plane node)');
    const layout = LAYOUTS[k.distribution];
    await this.runner.run(layout.kubectl, kubeNodeArgs(layout.adminKubeconfig, action, node, timeoutSeconds), { timeoutMs: (timeoutSeconds + 60) * 1000 });
  }

  async exportKubeconfig(): Promise<string> {
    const k = await this.kube();
    if (!k || !isControlPlane(k.role)) throw new Error('this host holds no admin kubeconfig (not a control-plane node): export-kubeconfig runs on the init node');
    const file = this.paths.adminKubeconfig ?? LAYOUTS[k.distribution].adminKubeconfig;
    return readFile(file, 'utf8').catch((e: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the ${k.distribution} admin kubeconfig ${file} (${e.code ?? e.message}): has the provider brought Kubernetes up? (journalctl -u ${serviceFor(k.distribution, k.role)})`);
    });
  }

  async stateFreeMb(): Promise<number> {
    const s = await statfs(this.paths.statePartition).catch((e: NodeJS.ErrnoException) => {
      throw new Error(`cannot read the state partition at ${this.paths.statePartition} (${e.code ?? e.message}): is this a Kairos host?`);
    });
    return Math.floor((s.bavail * s.bsize) / (1024 * 1024));
  }

  async storage(): Promise<{ stateFreeMb: number }> {
    return { stateFreeMb: await this.stateFreeMb() };
  }

  async checkImage(image: string): Promise<void> {
    await checkImageReachable(validateImage(image), { timeoutMs: IMAGE_CHECK_TIMEOUT_MS, ...this.paths.registry });
  }

  async packs(): Promise<PackStatus[]> {
    const k = await this.kube();
    if (!k || !isControlPlane(k.role)) return [];
    const packs = nodePacksOf(await readFile(this.paths.nodeInfo, 'utf8').catch(() => undefined));
    if (packs.length === 0) return [];
    if (k.distribution === 'kubeadm') {
      // The agent installs kubeadm's packs itself (device/pack-install.ts) and records each outcome under /oem.
      return kubeadmPackStates(await readFile(join(this.paths.oemDir, PACK_RESULTS_FILE), 'utf8').catch(() => undefined), packs);
    }
    return readPackStates(this.runner, k.distribution, packs);
  }

  diagnostics(): DiagnosticsSource {
    return hostDiagnostics(this.runner, {
      nodeInfo: this.paths.nodeInfo, kairosRelease: this.paths.kairosRelease,
      kube: () => this.kube(),
    });
  }

  private async cluster() {
    return clusterStanza(await readFile(join(this.paths.oemDir, CLOUD_CONFIG_FILE), 'utf8').catch(() => undefined));
  }

  /** Role, distribution and node name of this host, from the applied cluster stanza and the image. */
  private async kube(): Promise<{ role: NonNullable<KubernetesNodeState['role']>; distribution: Distribution; nodeName: string } | undefined> {
    const c = await this.cluster().catch(() => undefined);
    if (!c) return undefined;
    const release = parseReleaseFile(await readFile(this.paths.kairosRelease, 'utf8').catch(() => ''));
    const distribution = this.paths.distribution ?? c.distribution ?? distributionFromRelease(release) ?? (await this.distributionOnDisk()) ?? 'k3s';
    return { role: c.role, distribution, nodeName: (c.nodeName ?? this.paths.nodeName ?? hostname()).toLowerCase() };
  }

  private async distributionOnDisk(): Promise<Distribution | undefined> {
    for (const d of ['rke2', 'kubeadm', 'k3s'] as const) {
      if ((await exists(LAYOUTS[d].adminKubeconfig)) || (await exists(LAYOUTS[d].kubeletKubeconfig))) return d;
    }
    return undefined;
  }

  /** `kubectl get node <name> -o json` with the admin (server) or kubelet (worker) kubeconfig. */
  private async node(): Promise<KubernetesNodeState | undefined> {
    const k = await this.kube();
    if (!k) return undefined;
    const layout = LAYOUTS[k.distribution];
    const kubeconfig = isControlPlane(k.role) ? layout.adminKubeconfig : layout.kubeletKubeconfig;
    const base = { role: k.role, distribution: k.distribution, nodeName: k.nodeName };
    try {
      validateNodeName(k.nodeName);
      const out = await this.runner.run(layout.kubectl, ['--kubeconfig', kubeconfig, 'get', 'node', k.nodeName, '-o', 'json', '--request-timeout=10s'], { timeoutMs: 20_000 });
      return { ...base, ...parseNodeJson(out.stdout) };
    } catch {
      // API not up yet, node not registered, kubeconfig not written yet: not Ready.
      return { ...base, ready: false };
    }
  }

  private async bootState(): Promise<BootState> {
    for (const s of ['active', 'passive', 'recovery'] as const) {
      if (await exists(join(this.paths.runDir, `${s}_mode`))) return s;
    }
    try {
      return parseBootState((await this.runner.run('kairos-agent', ['state', 'get', 'boot'], { timeoutMs: 30_000 })).stdout);
    } catch {
      return 'unknown';
    }
  }

  async state(): Promise<KairosState> {
    const boot = await this.bootState();
    const kr = parseReleaseFile(await readFile(this.paths.kairosRelease, 'utf8').catch(() => ''));
    const os = parseReleaseFile(await readFile(this.paths.osRelease, 'utf8').catch(() => ''));
    const kairosVersion = kr.KAIROS_VERSION ?? kr.KAIROS_RELEASE;
    const flavor = kr.KAIROS_FLAVOR;
    const osRelease = kr.KAIROS_FLAVOR_RELEASE ? `${flavor ?? ''} ${kr.KAIROS_FLAVOR_RELEASE}`.trim() : os.PRETTY_NAME;
    const kubernetes = await this.node();
    const { image, digest } = imageFromRelease(kr);
    const running = image ? { image, ...(digest ? { digest } : {}) } : undefined;
    const partitions = await this.partitions(running, boot);
    return {
      boot,
      ...(image ? { image } : {}), ...(digest ? { digest } : {}),
      ...(partitions.active || partitions.passive ? { partitions } : {}),
      bootedAt: Date.now() - Math.round(uptime() * 1000),
      ...(kairosVersion ? { kairosVersion: kairosVersion.slice(0, 64) } : {}),
      ...(flavor ? { flavor: flavor.slice(0, 64) } : {}),
      ...(osRelease ? { osRelease: osRelease.slice(0, 128) } : {}),
      ...(kubernetes ? { kubernetes } : {}),
    };
  }
}

/** The Kairos version an image tag carries ("…-v3.4.2-k3sv1.32.3-k3s1" → "v3.4.2"), else the tag. */
export function versionFromImage(image: string): string | undefined {
  const last = image.split('@')[0]!.split('/').pop() ?? '';
  const i = last.indexOf(':');
  if (i < 0) return undefined;
  const tag = last.slice(i + 1);
  return /(?:^|[-_])(v\d+\.\d+\.\d+)(?=$|[-_])/.exec(tag)?.[1] ?? tag;
}

/** 'repo:tag@sha256:…' → { image: 'repo:tag', digest: 'sha256:…' }. */
export function splitDigest(ref: string): PartitionImage {
  const [image, digest] = ref.split('@', 2) as [string, string | undefined];
  return { image, ...(digest && /^sha256:[a-f0-9]{64}$/.test(digest) ? { digest } : {}) };
}

/**
 * The running image's identity from /etc/kairos-release: KAIROS_IMAGE_REPO (the full
 * reference, e.g. quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1),
 * else KAIROS_REGISTRY_AND_ORG/KAIROS_FLAVOR:KAIROS_IMAGE_LABEL. A digest only when the
 * reference is pinned by one (Kairos does not record the manifest digest).
 */
export function imageFromRelease(kr: Readonly<Record<string, string>>): { image?: string; digest?: string } {
  const composed = kr.KAIROS_REGISTRY_AND_ORG && kr.KAIROS_FLAVOR && kr.KAIROS_IMAGE_LABEL ? `${kr.KAIROS_REGISTRY_AND_ORG}/${kr.KAIROS_FLAVOR}:${kr.KAIROS_IMAGE_LABEL}` : undefined;
  const ref = kr.KAIROS_IMAGE_REPO || composed;
  if (!ref || ref.length > 255 || /\s/.test(ref)) return {};
  const { image, digest } = splitDigest(ref);
  return { image, ...(digest ? { digest } : {}) };
}
