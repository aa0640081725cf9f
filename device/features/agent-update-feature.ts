import { rm, mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { agentUpdateParams, resultMessage, TOPICS, type CommandMessage, type ResultMessage } from '../../lambdas/contracts/mqtt.js';
import type { AgentInstallation } from '../agent-installation.js';
import type { CommandContext } from '../commands.js';
import { InvalidParameter } from '../kairos.js';
import type { Log } from '../registration.js';
import type { StateStore } from '../state-store.js';
import { ArtifactRefused, artifactFor, verifyArtifactFile, verifyManifest } from '../verify-artifact.js';
import type { Feature, Publish } from './feature.js';

export interface AgentUpdateOptions {
  readonly hostId: string;
  /** The control plane (GET /v1/agent/manifest, manifest.sig, artifacts/{file}). */
  readonly apiUrl: string;
  readonly installation: AgentInstallation;
  /** The version of the agent that runs now. */
  readonly runningVersion: string;
  /** The control plane's manifest signing key (PEM), from the install configuration. */
  readonly signingKeyPem: () => Promise<string>;
  /** Restarts the agent service into `current` (this process ends soon after). */
  readonly restart: () => Promise<void>;
  /** Where downloads are staged before they are verified. */
  readonly workDir: string;
  readonly store: StateStore;
  readonly publish: Publish;
  /** A full status report (the new version reaches the control plane before the result). */
  readonly report: () => Promise<void>;
  readonly log: Log;
  readonly now: () => Date;
  readonly fetch?: typeof fetch;
  /** Node's process.arch of this host. */
  readonly arch?: string;
}

/**
 * Agent updates from the fleet. `run` is the `agent-update` command: it fetches the signed
 * manifest and the executable for this architecture from the control plane, refuses anything
 * whose signature or SHA-256 does not hold (nothing is installed then), installs the new version
 * next to the running one (agent-installation.ts), records the pending update with its commit
 * deadline, writes the guard, and restarts the service into the new version. Its result comes
 * from the agent that starts next: `start()` (once the session is online) commits the update
 * when this agent is the new version, or reports that the guard fell back to the previous one
 * and why.
 */
export class AgentUpdateFeature implements Feature {
  private stopped = false;

  constructor(private readonly o: AgentUpdateOptions) {}

  getName(): string {
    return 'agent update';
  }

  /** A failure here is logged, never fatal: the agent runs on, and the operation ends by its deadline. */
  async start(): Promise<void> {
    await this.settle().catch((e: unknown) => this.o.log('error', `could not settle the pending agent update: ${(e as Error).message}`));
  }

  private async settle(): Promise<void> {
    const inst = this.o.installation;
    const fell = await inst.readFellBack();
    if (fell) {
      await this.o.report();
      await this.result(fell.commandId, 'failed', `fell back to agent ${fell.previous} (now running ${this.o.runningVersion}) because ${fell.reason}`);
      await inst.clearFellBack();
    }
    const pending = await inst.readPending();
    if (!pending) return;
    if (pending.version === this.o.runningVersion) {
      // Online on the new version: commit first (the guard must not fall back any more), then say so.
      await inst.clearPending();
      this.o.log('info', `agent update committed: running ${pending.version}, ${pending.previous} kept as the fallback`);
      await this.o.report();
      await this.result(pending.commandId, 'succeeded', `agent ${pending.version} is running and online; ${pending.previous} is kept under versions/ as the fallback`);
      return;
    }
    await inst.clearPending();
    await this.o.report();
    await this.result(pending.commandId, 'failed', `the agent that started is ${this.o.runningVersion}, not ${pending.version}: the update did not take (current points at ${(await inst.currentVersion()) ?? 'nothing'})`);
  }

  async stop(): Promise<void> {
    this.stopped = true;
  }

  private async result(commandId: string, phase: 'succeeded' | 'failed', detail: string): Promise<void> {
    if (this.stopped) return;
    const clipped = detail.slice(0, 4096);
    await this.o.store.recordOutcome(commandId, { phase, detail: clipped }).catch((e: unknown) => this.o.log('warn', `cannot store the outcome of ${commandId}: ${(e as Error).message}`));
    const msg: ResultMessage = { commandId, phase, at: this.o.now().toISOString(), detail: clipped };
    this.o.log(phase === 'failed' ? 'warn' : 'info', `command ${commandId}: ${phase}: ${clipped}`);
    await this.o.publish(TOPICS.results(this.o.hostId), resultMessage.parse(msg));
  }

  private async get(path: string): Promise<Uint8Array> {
    const url = `${this.o.apiUrl}/v1/agent/${path}`;
    let res: Response;
    try {
      res = await (this.o.fetch ?? fetch)(url);
    } catch (e) {
      throw new Error(`could not download ${url}: ${(e as Error).message}; nothing was installed`);
    }
    if (!res.ok) throw new Error(`could not download ${url}: HTTP ${res.status}; nothing was installed`);
    return new Uint8Array(await res.arrayBuffer());
  }

  /** The `agent-update` command (see the class comment). Throws with the reason when refused. */
  async run(cmd: CommandMessage, ctx: CommandContext): Promise<void> {
    const parsed = agentUpdateParams.safeParse(cmd.params);
    if (!parsed.success) throw new InvalidParameter(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
    const { version, commitSeconds } = parsed.data;
    const running = this.o.runningVersion;
    if (version === running) throw new Error(`this host already runs agent ${running}`);
    await ctx.result(cmd.commandId, 'progress', `fetching the signed agent manifest from ${this.o.apiUrl}`, 10);
    const [bytes, signature] = await Promise.all([this.get('manifest'), this.get('manifest.sig')]);
    const file = `edgefleet-agent-linux-${this.o.arch ?? process.arch}`;
    const staged = join(this.o.workDir, `${file}.download`);
    try {
      const manifest = verifyManifest(bytes, signature, await this.o.signingKeyPem());
      if (manifest.version !== version) throw new Error(`the control plane now publishes agent ${manifest.version}, not ${version}; nothing was installed: ask for ${manifest.version}`);
      artifactFor(manifest, file);
      await mkdir(this.o.workDir, { recursive: true });
      await writeFile(staged, await this.get(`artifacts/${file}`));
      await verifyArtifactFile(manifest, file, staged);
      await ctx.result(cmd.commandId, 'progress', `agent ${version} verified (manifest signature, ${file} SHA-256); installing it next to ${running}`, 40);
      const inst = this.o.installation;
      await inst.keepRunning(running);
      await inst.install(version, staged, bytes, signature);
    } catch (e) {
      if (e instanceof ArtifactRefused) throw new Error(`refused agent ${version} (${e.reason}): ${e.message}; nothing was installed`);
      throw e;
    } finally {
      await rm(staged, { force: true });
    }
    if (ctx.stopped()) return;
    const now = this.o.now().getTime();
    const commitBy = Math.floor(Math.min(now + commitSeconds * 1000, Date.parse(cmd.deadline) - 5000) / 1000);
    await this.o.installation.writeGuard();
    await this.o.installation.switchTo({ commandId: cmd.commandId, version, previous: running, commitBy });
    await ctx.result(cmd.commandId, 'progress', `agent ${version} installed next to ${running}; restarting into it (the guard goes back to ${running} unless ${version} is online by ${new Date(commitBy * 1000).toISOString()})`, 70);
    await this.o.restart();
  }
}
