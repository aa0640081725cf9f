import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { stringify } from 'yaml';
import type { NetworkInterfaceInfo } from 'node:os';
import type { KubeNodeAction } from '../lambdas/contracts/mqtt.js';
import type { PackStatus } from '../lambdas/contracts/packs.js';
import { writeFileAtomic } from '../device/state-store.js';
import { RELOAD_STAGE, validateCloudConfig, validateImage, versionFromImage, type BootState, type KairosExecutor, type KairosState, type RebootOutcome, type UpgradeOptions } from '../device/kairos.js';
import { clusterStanza, isControlPlane, serviceFor, validateNodeName, type Distribution, type KubeRole } from '../device/kubernetes.js';
import { SimulatedKubernetes } from './simulated-kubernetes.js';
import { packRelevant, runsAtBoot, simulatedPackStates, stageFiles, type PackRecord, type WrittenFiles } from './simulated-packs.js';
import { kubernetesFromImage } from '../device/upgrade.js';
import type { Hardware, NetworkInterfaces } from '../device/inventory.js';
import type { DiagnosticsSource } from '../device/diagnostics/collect.js';
import { simulatedDiagnostics, type JournalEntry } from './simulated-diagnostics.js';

/**
 * What a partition holds: the identity of the image actually written (its /etc/kairos-release
 * and manifest digest), which is not always what the upgrade command asked for.
 */
interface Slot {
  readonly image: string;
  readonly version: string;
  /** The Kubernetes the image carries (its tag, or the simulated image catalog), when it carries one. */
  readonly kubeletVersion?: string;
  readonly distribution?: Distribution;
  /** The manifest digest of the contents written (older saved disks have none: derived from the image). */
  readonly digest?: string;
  /** KAIROS_FLAVOR of the contents (older saved disks have none: the repository's last path component). */
  readonly flavor?: string;
}

/** The simulated registry's digest of an image's contents (stable per reference). */
export function simulatedDigest(image: string): string {
  return `sha256:${createHash('sha256').update(image).digest('hex')}`;
}

const flavorOf = (image: string) => image.split('@')[0]!.split(':')[0]!.split('/').pop() ?? 'unknown';

/** A simulated network interface. */
export interface SimulatedNic {
  readonly name: string;
  readonly mac?: string;
  readonly ips: readonly string[];
}

/** The default interface of a simulated host: eth0, a MAC and a 10.x.y.z address from its name, plus a link-local IPv6 one. */
export function defaultNics(nodeName: string): SimulatedNic[] {
  const b = createHash('sha256').update(nodeName).digest();
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return [{ name: 'eth0', mac: `52:54:00:${hex(b[3]!)}:${hex(b[4]!)}:${hex(b[5]!)}`, ips: [`10.${b[0]!}.${b[1]!}.${(b[2]! % 253) + 1}`, `fe80::5054:ff:fe${hex(b[4]!)}:${hex(b[5]!)}${hex(b[6]!)}`] }];
}

/** What a simulated image carries of Kubernetes (an entry of the simulated image catalog). */
export interface SimulatedImage {
  readonly distribution: Distribution;
  /** The kubelet version it reports, e.g. v1.31.2+k3s1. */
  readonly kubernetesVersion: string;
}

/** The Kubernetes an image carries: the catalog's entry for it, else its tag; undefined for a core image. */
export function imageKubernetes(image: string, catalog: Readonly<Record<string, SimulatedImage>> = {}): { distribution: Distribution; kubeletVersion: string } | undefined {
  const ref = image.split('@')[0]!;
  const entry = catalog[image] ?? catalog[ref];
  if (entry) return { distribution: entry.distribution, kubeletVersion: entry.kubernetesVersion.startsWith('v') ? entry.kubernetesVersion : `v${entry.kubernetesVersion}` };
  return kubernetesFromImage(ref);
}

/** The simulated Kubernetes node (exists once the provider has bootstrapped it). */
export interface SimulatedNode {
  readonly role: KubeRole;
  readonly distribution: Distribution;
  readonly version: string;
  readonly nodeName?: string;
}

/** The simulated host's persistent picture (saved to `stateFile` when given). */
export interface SimulatedDisk {
  active: Slot;
  passive: Slot;
  recovery: Slot;
  /** The slot the running system booted from. */
  booted: Exclude<BootState, 'unknown'>;
  /** The image that runs now (a fallback boots the passive copy). */
  running: Slot;
  cloudConfig?: string;
  nextEntry?: 'statereset';
  resets: number;
  /** The Kubernetes node on this host; undefined before the cluster config is bootstrapped and after a reset. */
  node?: SimulatedNode;
  /** What this host, as a control plane, did to other nodes (kube-node commands). */
  cordoned?: string[];
  deletedNodes?: string[];
  /** What the node configuration's stages wrote that packs depend on (node.json, the pack files). */
  files?: WrittenFiles;
  /** The init node's pack installs: which content of each pack, since when. */
  packRecords?: Record<string, PackRecord>;
}

export interface SimulatedFailures {
  /** The next upgrade fails while pulling the image. */
  download?: boolean;
  /** After the next upgrade, the new image does not boot: Kairos falls back to passive. */
  bootFallback?: boolean;
  /** The next upgrade never finishes (until the executor is stopped). */
  hang?: boolean;
  /** The provider cannot join/bring up Kubernetes, with this reason (stays until cleared). */
  joinFailure?: string;
  /** The node joins but never reports Ready (stays until cleared). */
  neverReady?: boolean;
  /** `kube-node drain` fails with this reason, e.g. a PodDisruptionBudget (stays until cleared). */
  drainFailure?: string;
  /** The host goes dark at its next reboot and never comes back (its agent stops; `stop()` ends the wait). */
  neverReturns?: boolean;
  /** Free space the state partition reports, in MB (stays until cleared). */
  lowDiskMb?: number;
  /** The preflight image check fails with this reason (true: a generic one) (stays until cleared). */
  imageUnreachable?: string | boolean;
  /** These images never boot: after an upgrade to one, Kairos falls back to passive (every time, until cleared). */
  failImages?: readonly string[];
  /**
   * The registry serves other contents under a reference (a moved or mis-pushed tag): an
   * upgrade to a key writes the image named by its value (its release file, digest, kubelet).
   */
  imageContents?: Readonly<Record<string, string>>;
  /** After boot the kubelet reports this version, whatever the image carries (stays until cleared). */
  kubeletVersion?: string;
  /** These packs (by name) fail to install with this reason, whatever was written (stays until cleared). */
  packFailure?: Readonly<Record<string, string>>;
  /** These packs' install jobs never finish: they stay `installing`, whatever was written (stays until cleared). */
  packHang?: readonly string[];
}

export interface SimulatedKairosOptions {
  readonly version?: string;
  readonly image?: string;
  readonly flavor?: string;
  readonly rebootDelayMs?: number;
  /** Time from kubelet start (boot, bootstrap, restart) until the simulated node reports Ready. */
  readonly k8sReadyDelayMs?: number;
  /** How long the provider bootstrap takes. @default 0 */
  readonly bootstrapDelayMs?: number;
  /**
   * The simulated registry's catalog: what images whose tag does not say carry (a custom or
   * CanvOS image with labels only). An image in neither its tag nor here carries no Kubernetes.
   */
  readonly images?: Readonly<Record<string, SimulatedImage>>;
  /** A host that is already a Kubernetes node with this role when it starts (no cluster config needed; the image's Kubernetes). */
  readonly k8sRole?: KubeRole;
  readonly stateFile?: string;
  readonly failures?: SimulatedFailures;
  /** The fleet's shared Kubernetes API; a host on its own gets a private one. */
  readonly kubernetes?: SimulatedKubernetes;
  /** The node name when the cluster config names none (the simulated host name). @default 'localhost' */
  readonly nodeName?: string;
  /**
   * The host's network interfaces and their addresses. @default one `eth0` with an IPv4 address
   * in 10.0.0.0/8 and a link-local IPv6 one, derived from the node name (deterministic; only
   * reported strings, no traffic goes anywhere). `[]`: a host without any address.
   */
  readonly nics?: readonly SimulatedNic[];
  /**
   * The host's hardware, as its agent's inventory reports it (a simulated host's own, not the
   * machine's it runs on). @default 4 amd64 CPUs, 8,192 MB, one 128 GB disk `sda`
   */
  readonly hardware?: Partial<Hardware>;
  /** How long a pack installs on the init node (from its file written and the API up) before ready or error. @default 300 */
  readonly packInstallDelayMs?: number;
  /** Free space on the state partition, in MB. @default 20000 */
  readonly stateFreeMb?: number;
  /** Called when the host goes dark (failure `neverReturns`): the fleet stops the host's agent. */
  readonly onPowerOff?: () => void;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}


/**
 * A Kairos host in memory: A/B (active/passive) and recovery partitions, upgrades that write
 * the new image to active and keep the old one as passive, reboots after a delay, the
 * statereset entry, boot fallback to passive, and a Kubernetes node: none until the cluster
 * stanza is bootstrapped (or the host reboots with it), NotReady then Ready `k8sReadyDelayMs`
 * after each kubelet start, gone after a reset. Every operation is recorded in `calls`.
 */
export class SimulatedKairos implements KairosExecutor {
  readonly failures: SimulatedFailures;
  readonly calls: string[] = [];
  /** The Kubernetes API this host's node is registered in (shared by a simulated fleet). */
  readonly kubernetes: SimulatedKubernetes;
  private darkRelease: (() => void) | undefined;
  private disk: SimulatedDisk;
  private bootedAt: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private hangRelease: (() => void) | undefined;
  private rebooting = false;
  private nics: readonly SimulatedNic[] | undefined;
  /** When the kubelet last started: Ready `k8sReadyDelayMs` later. */
  private nodeStartedAt: number;
  /** What the host's services wrote to the journal (kairos-agent, the Kubernetes service), in memory. */
  private readonly journal: JournalEntry[] = [];

  constructor(private readonly options: SimulatedKairosOptions = {}) {
    this.failures = { ...options.failures };
    this.nics = options.nics;
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? ((ms) => this.stoppableSleep(ms));
    this.bootedAt = this.now();
    const version = options.version ?? 'v3.4.2';
    const baseImage = options.image ?? `quay.io/kairos/${options.flavor ?? 'ubuntu'}:24.04-standard-amd64-generic-${version}-k3sv1.32.3-k3s1`;
    const base: Slot = { ...this.slotOf(baseImage), version, flavor: options.flavor ?? flavorOf(baseImage) };
    const saved = options.stateFile ? SimulatedKairos.load(options.stateFile) : undefined;
    const kube = this.kubeOf(base);
    this.disk = saved ?? {
      active: base, passive: base, recovery: base, booted: 'active', running: base, resets: 0,
      ...(options.k8sRole && kube ? { node: { role: options.k8sRole, distribution: kube.distribution, version: kube.kubeletVersion } } : {}),
    };
    this.nodeStartedAt = this.bootedAt;
    this.kubernetes = options.kubernetes ?? new SimulatedKubernetes({ now: this.now, sleep: this.sleep });
    this.syncNode('register');
  }

  /** The identity of an image as written: its reference, Kairos version, digest, flavour and the Kubernetes it carries. */
  private slotOf(contents: string): Slot {
    const kube = imageKubernetes(contents, this.options.images);
    return {
      image: contents.split('@')[0]!, version: versionFromImage(contents) ?? contents, digest: simulatedDigest(contents), flavor: flavorOf(contents),
      ...(kube ? { kubeletVersion: kube.kubeletVersion, distribution: kube.distribution } : {}),
    };
  }

  /** The Kubernetes a partition's image carries (older saved disks recorded none: from the image). */
  private kubeOf(slot: Slot): { distribution: Distribution; kubeletVersion: string } | undefined {
    if (slot.kubeletVersion && slot.distribution) return { distribution: slot.distribution, kubeletVersion: slot.kubeletVersion };
    return imageKubernetes(slot.image, this.options.images);
  }

  /** The host's hardware (what the agent reads from the OS and /sys/block on a real host). */
  async hardware(): Promise<Hardware> {
    return { arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [{ name: 'sda', sizeGb: 128 }], ...this.options.hardware };
  }

  /** The host's interfaces, in the shape of os.networkInterfaces() (what the agent reads on a real host). */
  networkInterfaces(): NetworkInterfaces {
    const nics = this.nics ?? defaultNics(this.options.nodeName ?? 'localhost');
    const out: NetworkInterfaces = {};
    for (const nic of nics) {
      const mac = nic.mac ?? '52:54:00:00:00:01';
      out[nic.name] = nic.ips.map((address): NetworkInterfaceInfo => (address.includes(':')
        ? { address, netmask: 'ffff:ffff:ffff:ffff::', family: 'IPv6', mac, internal: false, cidr: `${address}/64`, scopeid: 0 }
        : { address, netmask: '255.0.0.0', family: 'IPv4', mac, internal: false, cidr: `${address}/8` }));
    }
    return out;
  }

  /** The host's interfaces change (a new DHCP lease, a cable moved): the agent reports it with its next check. */
  setNics(nics: readonly SimulatedNic[]): void {
    this.nics = nics;
  }

  /** This host's node name in the Kubernetes API. */
  get nodeName(): string {
    return this.disk.node?.nodeName ?? this.options.nodeName ?? 'localhost';
  }

  private readyInMs(): number | undefined {
    if (this.failures.neverReady) return undefined;
    return Math.max(0, this.nodeStartedAt + (this.options.k8sReadyDelayMs ?? 0) - this.now());
  }

  /** Tells the Kubernetes API what happened to this host's node. */
  private syncNode(what: 'register' | 'kubelet' | 'rebooting' | 'remove'): void {
    const node = this.disk.node;
    const name = this.nodeName;
    if (what === 'remove' || !node) {
      this.kubernetes.remove(name);
      return;
    }
    if (what !== 'rebooting') this.writeJournal(serviceFor(node.distribution, node.role), `Starting ${node.distribution} ${node.version} (${node.role}) as node ${name}`);
    if (what === 'rebooting') this.kubernetes.setRebooting(name, true);
    else if (what === 'register' || !this.kubernetes.node(name)) this.kubernetes.register(name, { role: node.role, kubeletVersion: node.version, readyInMs: this.readyInMs() });
    else this.kubernetes.kubeletStarted(name, this.readyInMs(), node.version);
  }

  /** Changes the injected failures mid-run (merged; `undefined` clears one). */
  setFailures(change: Partial<SimulatedFailures>): void {
    Object.assign(this.failures, change);
    if ('neverReady' in change && this.disk.node && !this.rebooting) this.kubernetes.kubeletStarted(this.nodeName, this.readyInMs());
  }

  private static load(file: string): SimulatedDisk | undefined {
    try {
      return JSON.parse(readFileSync(file, 'utf8')) as SimulatedDisk;
    } catch {
      return undefined;
    }
  }

  private async save(): Promise<void> {
    if (this.options.stateFile) await writeFileAtomic(this.options.stateFile, JSON.stringify(this.disk));
  }

  /** A copy of the simulated disk, for tests and the local runtime. */
  get snapshot(): SimulatedDisk {
    return structuredClone(this.disk);
  }

  get isRebooting(): boolean {
    return this.rebooting;
  }

  async upgrade(image: string, options: UpgradeOptions = {}): Promise<void> {
    validateImage(image);
    this.calls.push(`upgrade ${image}${options.recovery ? ' --recovery' : ''}`);
    if (this.failures.hang) {
      this.failures.hang = false;
      await new Promise<void>((resolve) => (this.hangRelease = resolve));
      throw new Error('kairos-agent upgrade was interrupted');
    }
    if (this.failures.download) {
      this.failures.download = false;
      throw new Error(`kairos-agent upgrade failed: error pulling oci:${image}: unexpected EOF`);
    }
    // What is written is what the registry serves under the reference, not what was asked.
    const contents = this.failures.imageContents?.[image] ?? image;
    const slot = this.slotOf(contents);
    if (options.recovery) this.disk.recovery = slot;
    else {
      this.disk.passive = this.disk.active;
      this.disk.active = slot;
    }
    await this.save();
  }

  async reboot(): Promise<RebootOutcome> {
    this.calls.push('reboot');
    this.rebooting = true;
    if (this.disk.node) this.syncNode('rebooting');
    if (this.failures.neverReturns) {
      // Dark: no boot, no agent. Only stop() (the test or the fleet ending) ends the wait.
      this.options.onPowerOff?.();
      await new Promise<void>((resolve) => (this.darkRelease = resolve));
      throw new Error('the host went dark during the reboot and never came back');
    }
    await this.sleep(this.options.rebootDelayMs ?? 0);
    if (this.disk.nextEntry === 'statereset') {
      // Reset: persistent state wiped (the Kubernetes node with it), back on the active image.
      // The applied cluster config goes too (the real agent removes it from /oem before the reset).
      this.disk.nextEntry = undefined;
      this.disk.cloudConfig = undefined;
      this.disk.node = undefined;
      this.disk.cordoned = undefined;
      this.disk.deletedNodes = undefined;
      this.disk.files = undefined;
      this.disk.packRecords = undefined;
      this.disk.resets += 1;
      this.disk.booted = 'active';
      this.disk.running = this.disk.active;
    } else if ((this.failures.bootFallback || this.failures.failImages?.includes(this.disk.active.image)) && this.disk.active.image !== this.disk.running.image) {
      this.failures.bootFallback = false;
      this.disk.booted = 'passive';
      this.disk.running = this.disk.passive;
    } else {
      this.disk.booted = 'active';
      this.disk.running = this.disk.active;
    }
    this.bootedAt = this.now();
    this.nodeStartedAt = this.bootedAt;
    // The boot stages write the node configuration's files (node.json, the pack files).
    this.writeStages(runsAtBoot);
    // The provider runs at boot: a host with a cluster config and no node yet joins now.
    const hadNode = !!this.disk.node;
    if (!this.disk.node && !this.failures.joinFailure) this.disk.node = this.nodeFromConfig().node;
    // The Kubernetes the booted image carries (a fallback boots the old one again), unless a
    // fault says otherwise; an image without Kubernetes runs no kubelet: no node on this host.
    const kube = this.kubeOf(this.disk.running);
    if (this.disk.node && !kube) this.disk.node = undefined;
    const kubelet = this.failures.kubeletVersion ?? kube?.kubeletVersion;
    if (this.disk.node && kube && kubelet) this.disk.node = { ...this.disk.node, distribution: kube.distribution, version: kubelet };
    this.rebooting = false;
    this.writeJournal('kairos-agent', `booted ${this.disk.booted} from ${this.disk.running.image} (${this.disk.running.version})`);
    if (this.disk.node) this.syncNode(hadNode ? 'kubelet' : 'register');
    else this.syncNode('remove');
    await this.save();
    return 'rebooted';
  }

  async reset(): Promise<RebootOutcome> {
    this.calls.push('reset');
    if (this.disk.node) this.syncNode('remove');
    this.disk.nextEntry = 'statereset';
    await this.save();
    return this.reboot();
  }

  async applyCloudConfig(yaml: string): Promise<void> {
    this.disk.cloudConfig = validateCloudConfig(yaml);
    this.calls.push('apply-cloud-config');
    this.writeJournal('kairos-agent', 'cloud-config written to /oem/90_edgefleet.yaml');
    await this.save();
  }

  /**
   * The node the provider brings up for the applied cloud-config's cluster stanza: its role and
   * name from the stanza, its distribution and kubelet version from the image running (never
   * from the stanza: a provider runs what the image carries). Without a stanza, none; on an
   * image that carries no Kubernetes (or another distribution than the stanza asks for), none,
   * with the reason the provider fails.
   */
  private nodeFromConfig(): { node?: SimulatedNode; missing?: string } {
    const c = clusterStanza(this.disk.cloudConfig);
    if (!c) return {};
    const kube = this.kubeOf(this.disk.running);
    const image = this.disk.running.image;
    if (!kube) return { missing: `no ${c.distribution ?? 'Kubernetes distribution'} in image ${image}` };
    if (c.distribution && c.distribution !== kube.distribution) return { missing: `no ${c.distribution} in image ${image} (it carries ${kube.distribution} ${kube.kubeletVersion})` };
    const version = this.failures.kubeletVersion ?? kube.kubeletVersion;
    return { node: { role: c.role, distribution: kube.distribution, version, ...(c.nodeName ? { nodeName: c.nodeName } : {}) } };
  }

  async bootstrap(): Promise<void> {
    this.calls.push('bootstrap');
    const c = clusterStanza(this.disk.cloudConfig);
    if (!c) throw new Error('no cluster stanza in /oem/90_edgefleet.yaml: apply a cloud-config with "cluster:" first');
    // As the real executor does: the reload stage writes the node's files, then `run-stage boot` runs the provider.
    this.writeStages((stage) => stage === RELOAD_STAGE || (runsAtBoot(stage) && stage.startsWith('boot')));
    const { node: wanted, missing } = this.nodeFromConfig();
    await this.sleep(this.options.bootstrapDelayMs ?? 0);
    const provider = wanted?.distribution ?? c.distribution ?? 'Kubernetes';
    if (this.failures.joinFailure) throw new Error(`the ${provider} provider could not bring up the ${c.role} node: ${this.failures.joinFailure}`);
    if (!wanted) throw new Error(`the ${provider} provider could not bring up the ${c.role} node: ${missing}`);
    const before = this.disk.node;
    this.disk.node = wanted;
    if (!before || before.role !== wanted.role || before.version !== wanted.version) {
      this.nodeStartedAt = this.now();
      if (before && before.nodeName !== wanted.nodeName) this.kubernetes.remove(before.nodeName ?? this.options.nodeName ?? 'localhost');
      this.syncNode(before ? 'kubelet' : 'register');
    }
    await this.save();
  }

  async restartKubernetes(): Promise<string> {
    this.calls.push('restart-kubernetes');
    const node = this.disk.node;
    if (!node) throw new Error('this host is not a Kubernetes node (no cluster stanza bootstrapped): nothing to restart');
    this.nodeStartedAt = this.now();
    this.syncNode('kubelet');
    return serviceFor(node.distribution, node.role);
  }

  async reloadKubernetes(): Promise<void> {
    this.calls.push('reload-kubernetes');
    // `kairos-agent run-stage edgefleet-reload`: the stage's files are written again; a changed pack installs again.
    this.writeStages((stage) => stage === RELOAD_STAGE);
    await this.save();
  }

  /** Writes the files of the applied cloud-config's selected stages that packs depend on (now). */
  private writeStages(select: (stage: string) => boolean): void {
    const at = this.now();
    for (const f of stageFiles(this.disk.cloudConfig, select)) {
      if (packRelevant(f.path)) this.disk.files = { ...this.disk.files, [f.path]: { content: f.content, at } };
    }
  }

  /** On the init node with its API up: each pack of node.json, from the files written (simulated-packs.ts). */
  async packs(): Promise<PackStatus[]> {
    const node = this.disk.node;
    if (!node || node.role !== 'init') return [];
    const up = !this.rebooting && !this.failures.neverReady;
    const { packs, records } = simulatedPackStates({
      files: this.disk.files ?? {}, distribution: node.distribution, now: this.now(),
      apiUpSince: up ? this.nodeStartedAt + (this.options.k8sReadyDelayMs ?? 0) : undefined,
      installDelayMs: this.options.packInstallDelayMs ?? 300, records: this.disk.packRecords ?? {},
      ...(this.failures.packFailure ? { failures: this.failures.packFailure } : {}),
      ...(this.failures.packHang ? { hung: this.failures.packHang } : {}),
    });
    if (JSON.stringify(records) !== JSON.stringify(this.disk.packRecords ?? {}) && Object.keys(records).length > 0) {
      this.disk.packRecords = { ...this.disk.packRecords, ...records };
      await this.save();
    }
    return packs;
  }

  async kubeNode(action: KubeNodeAction, node: string, timeoutSeconds: number): Promise<void> {
    validateNodeName(node);
    this.calls.push(`kube-node ${action} ${node} ${timeoutSeconds}s`);
    if (!isControlPlane(this.disk.node?.role)) throw new Error('this host holds no admin kubeconfig (not a control-plane node)');
    const cordoned = new Set(this.disk.cordoned ?? []);
    const deleted = new Set(this.disk.deletedNodes ?? []);
    if (action === 'drain' && this.failures.drainFailure) {
      cordoned.add(node);
      this.disk.cordoned = [...cordoned];
      this.kubernetes.cordon(node);
      await this.save();
      throw new Error(`kubectl drain ${node} did not finish within ${timeoutSeconds}s: ${this.failures.drainFailure}`);
    }
    // The shared Kubernetes API (a node that is not registered there is left alone, as before).
    if (action === 'drain') await this.kubernetes.drain(node, timeoutSeconds).catch((e: Error) => {
      cordoned.add(node);
      this.disk.cordoned = [...cordoned];
      throw e;
    });
    else if (action === 'cordon') this.kubernetes.cordon(node);
    else if (action === 'uncordon') this.kubernetes.uncordon(node);
    else this.kubernetes.remove(node);
    if (action === 'cordon' || action === 'drain') cordoned.add(node);
    if (action === 'uncordon') cordoned.delete(node);
    if (action === 'delete') {
      cordoned.delete(node);
      deleted.add(node);
    }
    this.disk.cordoned = [...cordoned];
    this.disk.deletedNodes = [...deleted];
    await this.save();
  }

  async state(): Promise<KairosState> {
    const node = this.disk.node;
    const ready = !!node && !this.rebooting && !this.failures.neverReady && this.now() - this.nodeStartedAt >= (this.options.k8sReadyDelayMs ?? 0);
    const id = (slot: Slot) => ({ image: slot.image, digest: slot.digest ?? simulatedDigest(slot.image) });
    const running = id(this.disk.running);
    const flavor = this.disk.running.flavor ?? flavorOf(this.disk.running.image);
    return {
      boot: this.disk.booted,
      kairosVersion: this.disk.running.version,
      image: running.image,
      digest: running.digest,
      flavor,
      osRelease: `${flavor} 24.04`,
      partitions: { active: id(this.disk.active), passive: id(this.disk.passive) },
      bootedAt: this.bootedAt,
      ...(node ? {
        kubernetes: {
          ready, version: node.version, role: node.role, distribution: node.distribution, ...(node.nodeName ? { nodeName: node.nodeName } : {}),
          // From the shared Kubernetes API: whoever cordoned the node (a peer's drain, an operator).
          cordoned: this.kubernetes.node(node.nodeName ?? this.nodeName)?.cordoned === true,
        },
      } : {}),
    };
  }

  /**
   * The admin kubeconfig the distribution wrote when this host's control plane came up: only on
   * a bootstrapped control-plane node, with the cluster's own CA and admin credentials (from
   * the cluster id of the applied configuration), the server as the file on a host says it.
   */
  async exportKubeconfig(): Promise<string> {
    this.calls.push('export-kubeconfig');
    const node = this.disk.node;
    if (!node || !isControlPlane(node.role)) throw new Error('this host holds no admin kubeconfig (not a control-plane node): export-kubeconfig runs on the init node');
    const stanza = clusterStanza(this.disk.cloudConfig);
    const c = this.kubernetes.credentials(stanza?.clusterId ?? `host:${this.nodeName}`);
    const name = node.distribution === 'kubeadm' ? 'kubernetes' : 'default';
    const user = node.distribution === 'kubeadm' ? 'kubernetes-admin' : 'default';
    return stringify({
      apiVersion: 'v1', kind: 'Config',
      clusters: [{ name, cluster: { 'certificate-authority-data': c.caData, server: 'https://127.0.0.1:6443' } }],
      contexts: [{ name, context: { cluster: name, user } }],
      'current-context': name,
      preferences: {},
      users: [{ name: user, user: { 'client-certificate-data': c.clientCertData, 'client-key-data': c.clientKeyData } }],
    });
  }

  /** Read for the status report (not recorded in `calls`, like `state()`). */
  async storage(): Promise<{ stateFreeMb: number }> {
    return { stateFreeMb: this.failures.lowDiskMb ?? this.options.stateFreeMb ?? 20_000 };
  }

  async stateFreeMb(): Promise<number> {
    this.calls.push('state-free-mb');
    return this.failures.lowDiskMb ?? this.options.stateFreeMb ?? 20_000;
  }

  async checkImage(image: string): Promise<void> {
    validateImage(image);
    this.calls.push(`check-image ${image}`);
    const u = this.failures.imageUnreachable;
    if (u) throw new Error(typeof u === 'string' ? u : `HEAD https://${image.split('/')[0]}/v2/…/manifests: connection timed out`);
  }

  /** A service writes a line to the host's journal (tests plant what a real service might print). */
  writeJournal(unit: string, message: string): void {
    this.journal.push({ at: this.now(), unit, message });
    if (this.journal.length > 5000) this.journal.splice(0, this.journal.length - 5000);
  }

  /** What a diagnostics collection sees on this host: its journal, state, files, interfaces and the shared API. */
  diagnostics(): DiagnosticsSource {
    return simulatedDiagnostics({
      hostname: this.options.nodeName ?? 'localhost', now: this.now, journal: () => this.journal, state: () => this.state(),
      node: () => (this.disk.node ? { role: this.disk.node.role, distribution: this.disk.node.distribution, nodeName: this.nodeName } : undefined),
      files: () => this.disk.files ?? {}, interfaces: () => this.networkInterfaces(),
      stateFreeMb: () => this.failures.lowDiskMb ?? this.options.stateFreeMb ?? 20_000, kubernetes: this.kubernetes,
      registryUnreachable: () => { const u = this.failures.imageUnreachable; return u ? (typeof u === 'string' ? u : 'connection timed out') : undefined; },
    });
  }

  /** Waits in flight (a reboot's or bootstrap's delay, a node's readiness): stop() ends them. */
  private readonly waits = new Set<{ timer: NodeJS.Timeout; reject: (e: Error) => void }>();

  /**
   * The default sleep: a real timer that stop() clears. A reboot still waiting its delay when the
   * fleet stops would otherwise hold the process (a jest worker then fails to exit gracefully).
   */
  private stoppableSleep(ms: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const wait = { timer: setTimeout(() => { this.waits.delete(wait); resolve(); }, ms), reject };
      this.waits.add(wait);
    });
  }

  /** Ends a hanging upgrade, a dark reboot or a delay in flight (as a process kill would). */
  stop(): void {
    for (const w of this.waits) {
      clearTimeout(w.timer);
      w.reject(new Error('the simulated host was stopped while it waited (a reboot, bootstrap or node start in flight)'));
    }
    this.waits.clear();
    this.hangRelease?.();
    this.hangRelease = undefined;
    this.darkRelease?.();
    this.darkRelease = undefined;
  }
}
