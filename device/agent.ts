import type { Inventory } from '../lambdas/contracts/device.js';
import { sleep as defaultSleep, type Sleep } from './backoff.js';
import { DEFAULT_AUTHORIZED_KEYS_DIR, type AgentConfig } from './config.js';
import { AllowListRunner, ExecFileRunner, type CommandRunner } from './command-runner.js';
import { CommandRunnerFeature } from './features/command-runner-feature.js';
import { TUNNEL_PROGRAMS, TunnelFeature } from './features/tunnel-feature.js';
import type { AgentPhase, AgentState, Feature } from './features/feature.js';
import { RegistrationFeature } from './features/registration-feature.js';
import { SessionFeature } from './features/session.js';
import { StatusReporter } from './features/status-reporter.js';
import { collectInventory, nicAddresses, type Hardware, type NetworkInterfaces } from './inventory.js';
import type { KairosExecutor, KairosState } from './kairos.js';
import { RegistrationRefused, type Log } from './registration.js';
import { StateStore } from './state-store.js';
import { AgentInstallation, systemdRestart } from './agent-installation.js';
import { AGENT_INSTALL_ROOT, AGENT_SIGNING_KEY_FILE, BAKED_AGENT_ROOT } from '../lambdas/contracts/agent-layout.js';
import { AgentUpdateFeature } from './features/agent-update-feature.js';
import { AGENT_VERSION } from './version.js';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import type { TransportFactory } from './transport.js';

export type { AgentPhase, AgentState } from './features/feature.js';

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly executor: KairosExecutor;
  /** Defaults to the aws-iot-device-sdk-v2 MQTT 3.1.1 transport (loaded on first use). */
  readonly transportFactory?: TransportFactory;
  readonly fetch?: typeof fetch;
  readonly log?: Log;
  readonly inventory?: (state: KairosState) => Promise<Inventory>;
  /** The host's network interfaces (os.networkInterfaces() by default; a simulated host supplies its own). */
  readonly networkInterfaces?: () => NetworkInterfaces;
  /** The host's hardware (this machine's by default: CPUs, memory, /sys/block; a simulated host supplies its own). */
  readonly hardware?: () => Promise<Hardware>;
  readonly showPairing?: (p: { hostId: string; pairingCode: string; qrText: string }) => void;
  readonly random?: () => number;
  readonly sleep?: Sleep;
  readonly now?: () => Date;
  /** How often the agent looks at the host for changes (a local read, not a message). Default 30 s. */
  readonly checkIntervalMs?: number;
  /** How long a command waits for the Kubernetes node to be Ready when it names no timeout. Default 10 min. */
  readonly readyTimeoutMs?: number;
  /** How often the node is looked at while waiting for Ready. Default 2 s. */
  readonly readyPollMs?: number;
  /** Runs the remote-shell feature's programs (useradd, userdel) behind its allow-list. Default: execFile. */
  readonly tunnelRunner?: CommandRunner;
  /**
   * Agent updates (features/agent-update-feature.ts). Defaults are the real host's: the agent
   * installed under config.agentDir (/usr/local/edgefleet/agent), this build's AGENT_VERSION
   * running, the signing key from config.signingKeyFile, and a restart through systemctl (the
   * allow-listed runner). A simulated host supplies its own.
   */
  readonly agentUpdate?: {
    readonly dir?: string;
    /** Where an agent baked into the image runs from. @default /opt/edgefleet/agent on a real host (no `dir` given), none otherwise */
    readonly bakedDir?: string;
    readonly runningVersion?: string;
    readonly restart?: () => Promise<void>;
    readonly signingKeyPem?: () => Promise<string>;
  };
}

export interface AgentHandle {
  readonly state: AgentState;
  /** Settles when the agent has stopped (after stop(), a terminal refusal or a failure). */
  readonly done: Promise<void>;
  stop(): Promise<void>;
}

/** JSON lines on stdout: what journald collects. */
export const consoleLog: Log = (level, message, fields) => {
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), level, message, ...fields })}\n`);
};

/**
 * Starts the edge agent: registration → MQTT → command handling and status reporting. Returns
 * at once; `done` settles when it stops. Several agents may run in one process (simulation).
 */
export function startAgent(options: AgentOptions): AgentHandle {
  const agent = new Agent(options);
  const done = agent.run();
  return { state: agent.state, done, stop: () => agent.stop() };
}

/**
 * The agent is its features (features/), started in order and stopped together:
 * registration (identity, until approved) → session (the MQTT link; pending commands on every
 * connect) → command runner (queue, at most once, allow-list, deadlines; first the command
 * that rebooted the host) → status reporter (a full report, then change-only).
 */
class Agent {
  readonly state: AgentState = { phase: 'starting', commandsRun: 0, statusSent: 0 };
  private readonly abort = new AbortController();
  private readonly log: Log;
  private readonly sleep: Sleep;
  private readonly now: () => Date;
  private readonly store: StateStore;
  private hostId = '';
  /** The features started so far, in start order. */
  private readonly features: Feature[] = [];

  constructor(private readonly options: AgentOptions) {
    const base = options.log ?? consoleLog;
    this.log = (level, message, fields) => base(level, message, { ...(this.hostId ? { hostId: this.hostId } : { uid: options.config.uid }), ...fields });
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? (() => new Date());
    this.store = new StateStore(options.config.stateDir);
  }

  private get stopped() {
    return this.abort.signal.aborted;
  }

  async stop(): Promise<void> {
    if (!this.stopped) this.abort.abort();
    await this.stopFeatures();
    if (this.state.phase !== 'refused' && this.state.phase !== 'failed') this.state.phase = 'stopped';
  }

  /** Every feature is told to stop before any is awaited: a stopping agent says nothing more. */
  private async stopFeatures(): Promise<void> {
    await Promise.all([...this.features].reverse().map((f) => f.stop().catch((e: unknown) => this.log('warn', `stopping the ${f.getName()} failed: ${(e as Error).message}`))));
  }

  async run(): Promise<void> {
    try {
      await this.main();
    } catch (e) {
      if (e instanceof RegistrationRefused) {
        this.state.phase = 'refused';
        this.state.message = e.technicianMessage;
        this.log('error', `registration refused: ${e.technicianMessage}`, { code: e.code });
      } else {
        this.state.phase = 'failed';
        this.state.message = (e as Error).message;
        this.log('error', `agent failed: ${(e as Error).stack ?? e}`);
      }
      await this.stopFeatures();
    }
  }

  /** Starts a feature unless the agent stopped meanwhile (then it is stopped with the others). */
  private async begin<F extends Feature>(feature: F, start = true): Promise<F> {
    this.features.push(feature);
    if (this.stopped) await feature.stop();
    else if (start) await feature.start();
    return feature;
  }

  private async main(): Promise<void> {
    const { config, executor } = this.options;
    const readState = () => executor.state();
    const interfaces = this.options.networkInterfaces;
    const inventory = (s: KairosState) => (this.options.inventory ? this.options.inventory(s) : collectInventory(s, interfaces?.(), this.options.hardware));
    const addresses = () => nicAddresses(interfaces?.());
    const update = this.options.agentUpdate ?? {};
    const runningVersion = update.runningVersion ?? AGENT_VERSION;
    const agentDir = update.dir ?? config.agentDir ?? AGENT_INSTALL_ROOT;
    // The version reported at registration and in every status is the one that runs.
    const inventoryOf = async (s: KairosState) => ({ ...(await inventory(s)), agentVersion: runningVersion });
    const common = { state: this.state, log: this.log, now: this.now, sleep: this.sleep };

    const registration = await this.begin(new RegistrationFeature({
      ...common, config, store: this.store, readState, inventory: inventoryOf,
      fetch: this.options.fetch, random: this.options.random, showPairing: this.options.showPairing,
    }));
    const identity = registration.identity;
    if (!identity) return;
    this.hostId = identity.registration.hostId;
    this.state.hostId = this.hostId;
    if (this.stopped) return;

    this.state.phase = 'connecting';
    delete this.state.step;
    const transportFactory = this.options.transportFactory ?? (await import('./transport-sdk.js')).sdkTransportFactory;
    // Wired before anything starts; each reaches the others only through these closures
    // (called once the session connects, when all three exist).
    const tunnels = new TunnelFeature({
      enabled: config.remoteAccess !== false, sshPort: config.sshPort ?? 22, authorizedKeysDir: config.authorizedKeysDir ?? DEFAULT_AUTHORIZED_KEYS_DIR,
      runner: new AllowListRunner(this.options.tunnelRunner ?? new ExecFileRunner(), TUNNEL_PROGRAMS),
      log: this.log, now: this.now, ...(config.tunnelEndpoint ? { endpoint: config.tunnelEndpoint } : {}),
      ...(config.caBundle ? { caPem: config.caBundle } : {}),
    });
    const session: SessionFeature = new SessionFeature({
      ...common, identity, transportFactory, random: this.options.random,
      // Remote access switched off by the install configuration: not even subscribed.
      ...(config.remoteAccess !== false ? { onTunnelNotify: (payload: string) => tunnels.onNotify(payload) } : {}),
      connectedPhase: (): AgentPhase => (commands.rebootPending ? 'rebooting' : 'online'),
      onCommand: (payload) => commands.accept(payload),
      onConnected: ({ reconnect }) => {
        if (reconnect) status.reportIfChanged().catch((e: unknown) => this.log('warn', `status check failed: ${(e as Error).message}`));
      },
    });
    const publish = (topic: string, body: unknown): Promise<void> => session.publish(topic, body);
    const status: StatusReporter = new StatusReporter({
      ...common, hostId: this.hostId, agentVersion: runningVersion, readState, inventory: inventoryOf, addresses, publish, readPacks: () => executor.packs(),
      ...(executor.storage ? { stateFreeMb: async () => (await executor.storage!()).stateFreeMb } : {}),
      checkIntervalMs: this.options.checkIntervalMs ?? 30_000, fullReportSeconds: config.fullReportSeconds,
      remoteAccess: config.remoteAccess,
    });
    const updates = new AgentUpdateFeature({
      hostId: this.hostId, apiUrl: config.apiUrl, installation: new AgentInstallation(agentDir, update.bakedDir ?? (update.dir ? undefined : BAKED_AGENT_ROOT)), runningVersion,
      signingKeyPem: update.signingKeyPem ?? (() => readFile(config.signingKeyFile ?? AGENT_SIGNING_KEY_FILE, 'utf8')),
      restart: update.restart ?? (() => systemdRestart(new AllowListRunner(new ExecFileRunner()), agentDir)),
      workDir: join(config.stateDir, 'downloads'), store: this.store, publish, report: () => status.report('full'),
      log: this.log, now: this.now, ...(this.options.fetch ? { fetch: this.options.fetch } : {}),
    });
    const commands: CommandRunnerFeature = new CommandRunnerFeature({
      ...common, hostId: this.hostId, executor, store: this.store, publish,
      report: (kind): Promise<void> => status.report(kind), reportIfChanged: (): Promise<void> => status.reportIfChanged(),
      readyTimeoutMs: this.options.readyTimeoutMs ?? 10 * 60_000, readyPollMs: this.options.readyPollMs ?? 2000,
      troubleshoot: tunnels, agentUpdate: updates,
    });

    // The session exists (its outbox takes results) before the runner decides the command
    // that rebooted the host; that decision is queued first, so no command delivered on
    // connect runs before it.
    await this.begin(tunnels);
    await this.begin(session, false);
    await this.begin(commands);
    if (this.stopped) return;
    await session.start();
    if (this.stopped) return;
    await commands.verified;
    await this.begin(status);
    // Online, status sent: an update this agent is the result of is committed (or its fallback reported).
    await this.begin(updates);
    await status.finished;
  }
}
