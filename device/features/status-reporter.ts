import type { Inventory } from '../../lambdas/contracts/device.js';
import type { NicAddresses, PackStatus } from '../../lambdas/contracts/packs.js';
import { STATE_FREE_STEP_MB, statusMessage, TOPICS } from '../../lambdas/contracts/mqtt.js';
import type { Sleep } from '../backoff.js';
import type { KairosState } from '../kairos.js';
import type { Log } from '../registration.js';
import { packsFingerprint } from '../pack-status.js';
import { dueReport, fingerprint, nextSeq, statusReport } from '../status-report.js';
import type { AgentState, Feature, Publish } from './feature.js';

export interface StatusReporterOptions {
  readonly hostId: string;
  /** The version of the agent that runs (default: this build's AGENT_VERSION). */
  readonly agentVersion?: string;
  readonly readState: () => Promise<KairosState>;
  /** The packs and their states (read on the init node only, at the same cadence as the state). */
  readonly readPacks?: () => Promise<PackStatus[]>;
  readonly inventory: (s: KairosState) => Promise<Inventory>;
  /** The host's IP addresses per interface (device/inventory.ts `nicAddresses`), in every report; a change sends one. */
  readonly addresses: () => readonly NicAddresses[];
  /** Free space on the state partition in MiB (Kairos executor); reported in STATE_FREE_STEP_MB steps. */
  readonly stateFreeMb?: () => Promise<number>;
  readonly publish: Publish;
  readonly state: AgentState;
  readonly log: Log;
  readonly now: () => Date;
  readonly sleep: Sleep;
  /** How often the host is looked at for changes (a local read, not a message). */
  readonly checkIntervalMs: number;
  /** A full report (with inventory) at least this often. */
  readonly fullReportSeconds: number;
  /** false: every report says remote access is off (install configuration), so the cloud refuses tunnels. */
  readonly remoteAccess?: boolean;
}

/**
 * Status on change, plus a slow full report; never a heartbeat. `start()` sends a full report
 * (its failure fails the start) and then looks at the host every `checkIntervalMs`: a
 * `change` report when something the cloud cares about changed, a `full` one when
 * `fullReportSeconds` passed. An idle healthy host sends nothing between full reports.
 */
export class StatusReporter implements Feature {
  private readonly abort = new AbortController();
  private lastFingerprint: string | undefined;
  private lastSeq = 0;
  private lastFull = 0;
  private loop: Promise<void> | undefined;

  constructor(private readonly o: StatusReporterOptions) {}

  getName(): string {
    return 'status reporter';
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  async start(): Promise<void> {
    await this.report('full');
    if (!this.stopped) this.loop = this.checkPeriodically();
  }

  /** Settles when the periodic checks have ended (after stop()). */
  get finished(): Promise<void> {
    return this.loop ?? Promise.resolve();
  }

  async stop(): Promise<void> {
    if (!this.stopped) this.abort.abort();
    await this.loop;
  }

  /** Reads the host and sends a `change` report if anything differs from the last report. */
  async reportIfChanged(): Promise<void> {
    const s = await this.o.readState();
    const packs = await this.packsOf(s);
    const freeMb = await this.freeOf();
    if (this.fingerprintOf(s, packs, this.o.addresses(), freeMb) !== this.lastFingerprint) await this.report('change', { state: s, packs, freeMb });
  }

  /** The state partition's free space, rounded down to a step (a failed read reports none rather than something false). */
  private async freeOf(): Promise<number | undefined> {
    if (!this.o.stateFreeMb) return undefined;
    return this.o.stateFreeMb().then((mb) => Math.floor(mb / STATE_FREE_STEP_MB) * STATE_FREE_STEP_MB, (e: unknown) => {
      this.o.log('warn', `reading the state partition's free space failed: ${(e as Error).message}`);
      return undefined;
    });
  }

  /** On the init node: its packs (a failed read sends none rather than something false). */
  private async packsOf(s: KairosState): Promise<PackStatus[] | undefined> {
    if (s.kubernetes?.role !== 'init' || !this.o.readPacks) return undefined;
    return this.o.readPacks().catch((e: unknown) => {
      this.o.log('warn', `reading the packs failed: ${(e as Error).message}`);
      return undefined;
    });
  }

  private fingerprintOf(s: KairosState, packs: readonly PackStatus[] | undefined, addresses: readonly NicAddresses[], freeMb: number | undefined): string {
    return `${fingerprint(s, addresses)}|${packs ? packsFingerprint(packs) : '-'}|${freeMb ?? '-'}`;
  }

  async report(kind: 'change' | 'full', known?: { state: KairosState; packs: PackStatus[] | undefined; freeMb: number | undefined }): Promise<void> {
    const s = known?.state ?? (await this.o.readState());
    const packs = known ? known.packs : await this.packsOf(s);
    const freeMb = known ? known.freeMb : await this.freeOf();
    const addresses = this.o.addresses();
    this.lastFingerprint = this.fingerprintOf(s, packs, addresses, freeMb);
    const seq = nextSeq(this.lastSeq, this.o.now().getTime());
    this.lastSeq = seq;
    const msg = statusReport(s, { kind, seq, at: this.o.now(), addresses, ...(kind === 'full' ? { inventory: await this.o.inventory(s) } : {}), ...(packs ? { packs } : {}), ...(freeMb !== undefined ? { stateFreeMb: freeMb } : {}), ...(this.o.agentVersion ? { agentVersion: this.o.agentVersion } : {}) });
    if (this.o.remoteAccess === false) msg.remoteAccess = false;
    if (kind === 'full') this.lastFull = this.o.now().getTime();
    this.o.state.statusSent += 1;
    await this.o.publish(TOPICS.status(this.o.hostId), statusMessage.parse(msg));
  }

  private async checkPeriodically(): Promise<void> {
    while (!this.stopped) {
      await this.o.sleep(this.o.checkIntervalMs, this.abort.signal);
      if (this.stopped) break;
      try {
        if (dueReport(this.o.now().getTime(), this.lastFull, this.o.fullReportSeconds) === 'full') await this.report('full');
        else await this.reportIfChanged();
      } catch (e) {
        this.o.log('warn', `status check failed: ${(e as Error).message}`);
      }
    }
  }
}
