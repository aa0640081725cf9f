import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './state-store.js';
import { validateCloudConfig, validateImage, versionFromImage, type BootState, type KairosExecutor, type KairosState, type RebootOutcome, type UpgradeOptions } from './kairos.js';

interface Slot { readonly image: string; readonly version: string }

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
}

export interface SimulatedFailures {
  /** The next upgrade fails while pulling the image. */
  download?: boolean;
  /** After the next upgrade, the new image does not boot: Kairos falls back to passive. */
  bootFallback?: boolean;
  /** The next upgrade never finishes (until the executor is stopped). */
  hang?: boolean;
}

export interface SimulatedKairosOptions {
  readonly version?: string;
  readonly image?: string;
  readonly flavor?: string;
  readonly rebootDelayMs?: number;
  /** Time from boot until the simulated Kubernetes node reports Ready. */
  readonly k8sReadyDelayMs?: number;
  readonly k8sVersion?: string;
  readonly k8sRole?: 'init' | 'control-plane' | 'worker';
  readonly stateFile?: string;
  readonly failures?: SimulatedFailures;
  readonly now?: () => number;
  readonly sleep?: (ms: number) => Promise<void>;
}

const defaultSleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/**
 * A Kairos host in memory: A/B (active/passive) and recovery partitions, upgrades that write
 * the new image to active and keep the old one as passive, reboots after a delay, the
 * statereset entry, boot fallback to passive, and a stub of Kubernetes node readiness.
 */
export class SimulatedKairos implements KairosExecutor {
  readonly failures: SimulatedFailures;
  readonly calls: string[] = [];
  private disk: SimulatedDisk;
  private bootedAt: number;
  private readonly now: () => number;
  private readonly sleep: (ms: number) => Promise<void>;
  private hangRelease: (() => void) | undefined;
  private rebooting = false;

  constructor(private readonly options: SimulatedKairosOptions = {}) {
    this.failures = { ...options.failures };
    this.now = options.now ?? Date.now;
    this.sleep = options.sleep ?? defaultSleep;
    this.bootedAt = this.now();
    const version = options.version ?? 'v3.4.2';
    const base: Slot = { image: options.image ?? `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${version}-k3sv1.32.3-k3s1`, version };
    const saved = options.stateFile ? SimulatedKairos.load(options.stateFile) : undefined;
    this.disk = saved ?? { active: base, passive: base, recovery: base, booted: 'active', running: base, resets: 0 };
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
    const slot: Slot = { image, version: versionFromImage(image) ?? image };
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
    await this.sleep(this.options.rebootDelayMs ?? 0);
    if (this.disk.nextEntry === 'statereset') {
      // Reset: persistent state wiped, back on the active image.
      this.disk.nextEntry = undefined;
      this.disk.cloudConfig = undefined;
      this.disk.resets += 1;
      this.disk.booted = 'active';
      this.disk.running = this.disk.active;
    } else if (this.failures.bootFallback && this.disk.active.image !== this.disk.running.image) {
      this.failures.bootFallback = false;
      this.disk.booted = 'passive';
      this.disk.running = this.disk.passive;
    } else {
      this.disk.booted = 'active';
      this.disk.running = this.disk.active;
    }
    this.bootedAt = this.now();
    this.rebooting = false;
    await this.save();
    return 'rebooted';
  }

  async reset(): Promise<RebootOutcome> {
    this.calls.push('reset');
    this.disk.nextEntry = 'statereset';
    await this.save();
    return this.reboot();
  }

  async applyCloudConfig(yaml: string): Promise<void> {
    this.disk.cloudConfig = validateCloudConfig(yaml);
    this.calls.push('apply-cloud-config');
    await this.save();
  }

  async state(): Promise<KairosState> {
    const ready = !this.rebooting && this.now() - this.bootedAt >= (this.options.k8sReadyDelayMs ?? 0);
    return {
      boot: this.disk.booted,
      kairosVersion: this.disk.running.version,
      flavor: this.options.flavor ?? 'ubuntu',
      osRelease: `${this.options.flavor ?? 'ubuntu'} 24.04`,
      kubernetes: { ready, version: this.options.k8sVersion ?? 'v1.32.3+k3s1', ...(this.options.k8sRole ? { role: this.options.k8sRole } : {}) },
    };
  }

  /** Ends a hanging upgrade (as a process kill would). */
  stop(): void {
    this.hangRelease?.();
    this.hangRelease = undefined;
  }
}
