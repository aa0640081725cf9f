import type { Inventory } from '../lambdas/contracts/device.js';
import { commandMessage, commandType, resultMessage, statusMessage, TOPICS, type CommandMessage, type ResultMessage, type StatusMessage } from '../lambdas/contracts/mqtt.js';
import { sleep as defaultSleep, type Sleep } from './backoff.js';
import type { AgentConfig } from './config.js';
import { createCsr, generateDeviceKey } from './identity.js';
import { collectInventory } from './inventory.js';
import { finishInflight, HANDLERS, type Abandoned, type CommandContext } from './commands.js';
import { InvalidParameter, type KairosExecutor, type KairosState, type PartitionImage } from './kairos.js';
import { register, RegistrationRefused, type Log } from './registration.js';
import { StateStore } from './state-store.js';
import type { MqttTransport, TransportFactory } from './transport.js';
import { AGENT_VERSION } from './version.js';

export type AgentPhase = 'starting' | 'registering' | 'connecting' | 'online' | 'offline' | 'rebooting' | 'refused' | 'failed' | 'stopped';

/** A live view of the agent, for the local runtime and tests. */
export interface AgentState {
  phase: AgentPhase;
  hostId?: string;
  /** Set when registration was refused for good or the agent failed: what to tell the technician. */
  message?: string;
  commandsRun: number;
  statusSent: number;
}

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly executor: KairosExecutor;
  /** Defaults to the aws-iot-device-sdk-v2 MQTT 3.1.1 transport (loaded on first use). */
  readonly transportFactory?: TransportFactory;
  readonly fetch?: typeof fetch;
  readonly log?: Log;
  readonly inventory?: (state: KairosState) => Promise<Inventory>;
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

/** What a status message compares to decide whether anything changed. */
function fingerprint(s: KairosState): string {
  return JSON.stringify([s.boot, s.kairosVersion, s.osRelease, s.image, s.digest, s.flavor, s.partitions, s.kubernetes?.ready, s.kubernetes?.version, s.kubernetes?.role, s.kubernetes?.cordoned]);
}

/** The status report's `boot`: booted partition, running image identity and what the partitions hold. */
function bootReport(s: KairosState): StatusMessage['boot'] {
  const part = (p: PartitionImage | undefined) => (p ? { image: p.image, ...(p.digest ? { digest: p.digest } : {}) } : undefined);
  const active = part(s.partitions?.active);
  const passive = part(s.partitions?.passive);
  return {
    state: s.boot,
    ...(s.kairosVersion ? { kairosVersion: s.kairosVersion } : {}), ...(s.osRelease ? { osRelease: s.osRelease } : {}),
    ...(s.image ? { image: s.image } : {}), ...(s.digest ? { digest: s.digest } : {}), ...(s.flavor ? { flavor: s.flavor.slice(0, 64) } : {}),
    ...(active || passive ? { partitions: { ...(active ? { active } : {}), ...(passive ? { passive } : {}) } } : {}),
  };
}

class DeadlinePassed extends Error {}

/**
 * Starts the edge agent: registration → MQTT → command handling and status reporting. Returns
 * at once; `done` settles when it stops. Several agents may run in one process (simulation).
 */
export function startAgent(options: AgentOptions): AgentHandle {
  const agent = new Agent(options);
  const done = agent.run();
  return { state: agent.state, done, stop: () => agent.stop() };
}

class Agent {
  readonly state: AgentState = { phase: 'starting', commandsRun: 0, statusSent: 0 };
  private readonly abort = new AbortController();
  private readonly log: Log;
  private readonly sleep: Sleep;
  private readonly now: () => Date;
  private readonly store: StateStore;
  private transport: MqttTransport | undefined;
  private hostId = '';
  private queue: Promise<void> = Promise.resolve();
  private lastFingerprint: string | undefined;
  private lastSeq = 0;
  private lastFull = 0;
  private rebootPending = false;

  constructor(private readonly options: AgentOptions) {
    const base = options.log ?? consoleLog;
    this.log = (level, message, fields) => base(level, message, { ...(this.hostId ? { hostId: this.hostId } : { uid: options.config.uid }), ...fields });
    this.sleep = options.sleep ?? defaultSleep;
    this.now = options.now ?? (() => new Date());
    this.store = new StateStore(options.config.stateDir);
  }

  /** What the command handlers (commands.ts) may use. */
  private get context(): CommandContext {
    return {
      executor: this.options.executor, store: this.store, now: this.now, hostId: this.hostId,
      sleep: (ms) => this.sleep(ms, this.abort.signal),
      stopped: () => this.stopped,
      result: (id, phase, detail, progress) => this.result(id, phase, detail, progress),
      report: (kind) => this.report(kind),
      rebootThenVerify: (reboot, abandoned) => this.rebootThenVerify(reboot, abandoned),
      readyTimeoutMs: this.options.readyTimeoutMs ?? 10 * 60_000,
      readyPollMs: this.options.readyPollMs ?? 2000,
    };
  }

  private get stopped() {
    return this.abort.signal.aborted;
  }

  async stop(): Promise<void> {
    if (!this.stopped) this.abort.abort();
    await this.transport?.disconnect().catch(() => undefined);
    if (this.state.phase !== 'refused' && this.state.phase !== 'failed') this.state.phase = 'stopped';
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
      await this.transport?.disconnect().catch(() => undefined);
    }
  }

  private async main(): Promise<void> {
    const { config, executor } = this.options;
    await this.store.init();
    let keyPem = await this.store.readKey();
    if (!keyPem) {
      keyPem = generateDeviceKey();
      await this.store.writeKey(keyPem);
      this.log('info', 'generated the device key');
    }
    let csrPem = await this.store.readCsr();
    if (!csrPem) {
      csrPem = await createCsr(keyPem, config.uid);
      await this.store.writeCsr(csrPem);
    }

    let registration = await this.store.readRegistration();
    let credentials = await this.store.readCredentials();
    if (!registration || !credentials) {
      this.state.phase = 'registering';
      const hostState = await executor.state();
      const inventory = await this.inventory(hostState);
      const approved = await register(
        { apiUrl: config.apiUrl, token: config.registrationToken, uid: config.uid, keyPem, csrPem, inventory, project: config.project, site: config.site, tags: config.tags },
        { fetch: this.options.fetch, sleep: this.sleep, random: this.options.random, now: this.now, log: this.log, showPairing: this.options.showPairing, signal: this.abort.signal },
      );
      if (!approved) return;
      credentials = { certificatePem: approved.certificatePem, caPem: approved.caPem };
      registration = { hostId: approved.hostId, thingName: approved.thingName, mqtt: approved.mqtt };
      await this.store.writeCredentials(credentials);
      await this.store.writeRegistration(registration);
    }
    this.hostId = registration.hostId;
    this.state.hostId = registration.hostId;
    if (this.stopped) return;

    this.state.phase = 'connecting';
    const factory = this.options.transportFactory ?? (await import('./transport-sdk.js')).sdkTransportFactory;
    const transport = factory({
      endpoint: registration.mqtt.endpoint, port: registration.mqtt.port, clientId: registration.thingName,
      certificatePem: credentials.certificatePem, keyPem, caPem: credentials.caPem, log: this.log, random: this.options.random,
    });
    this.transport = transport;
    transport.onMessage((topic, payload) => this.onMessage(topic, payload));
    transport.onConnected(async ({ reconnect }) => {
      this.state.phase = this.rebootPending ? 'rebooting' : 'online';
      await transport.subscribe(TOPICS.commands(this.hostId));
      // Ask for commands stored while we were away (they are not retained on the topic).
      void this.publish(TOPICS.pendingCommands(this.hostId), { at: this.now().toISOString() });
      if (reconnect) void this.reportIfChanged();
    });
    transport.onDisconnected(() => {
      if (this.state.phase === 'online') this.state.phase = 'offline';
    });
    await transport.subscribe(TOPICS.commands(this.hostId));
    // After a reboot: first finish the command that caused it (its result waits in the outbox),
    // so that no command delivered on connect runs before.
    const verified = this.enqueue(() => this.verifyInflight());
    await transport.connect();
    if (this.stopped) return;
    await verified;
    await this.report('full');
    await this.loop();
  }

  private async inventory(s: KairosState): Promise<Inventory> {
    return (this.options.inventory ?? collectInventory)(s);
  }

  /** Local checks for changes; a full report every `fullReportSeconds`. No heartbeat messages. */
  private async loop(): Promise<void> {
    const interval = this.options.checkIntervalMs ?? 30_000;
    while (!this.stopped) {
      await this.sleep(interval, this.abort.signal);
      if (this.stopped) break;
      try {
        if (this.now().getTime() - this.lastFull >= this.options.config.fullReportSeconds * 1000) await this.report('full');
        else await this.reportIfChanged();
      } catch (e) {
        this.log('warn', `status check failed: ${(e as Error).message}`);
      }
    }
  }

  private async reportIfChanged(): Promise<void> {
    const s = await this.options.executor.state();
    if (fingerprint(s) !== this.lastFingerprint) await this.report('change', s);
  }

  private async report(kind: 'change' | 'full', known?: KairosState): Promise<void> {
    const s = known ?? (await this.options.executor.state());
    this.lastFingerprint = fingerprint(s);
    const seq = Math.max(this.lastSeq + 1, this.now().getTime());
    this.lastSeq = seq;
    const msg: StatusMessage = {
      seq, at: this.now().toISOString(), kind,
      boot: bootReport(s),
      agentVersion: AGENT_VERSION,
      ...(s.kubernetes ? {
        kubernetes: {
          ready: s.kubernetes.ready, ...(s.kubernetes.role ? { role: s.kubernetes.role } : {}), ...(s.kubernetes.version ? { version: s.kubernetes.version } : {}),
          ...(s.kubernetes.cordoned !== undefined ? { cordoned: s.kubernetes.cordoned } : {}),
        },
      } : {}),
      ...(kind === 'full' ? { inventory: await this.inventory(s) } : {}),
    };
    if (kind === 'full') this.lastFull = this.now().getTime();
    this.state.statusSent += 1;
    await this.publish(TOPICS.status(this.hostId), statusMessage.parse(msg));
  }

  private publish(topic: string, body: unknown): Promise<void> {
    const t = this.transport;
    if (!t) return Promise.resolve();
    return t.publish(topic, JSON.stringify(body)).catch((e: unknown) => this.log('warn', `publish to ${topic} failed: ${(e as Error).message}`));
  }

  private async result(commandId: string, phase: ResultMessage['phase'], detail?: string, progress?: number, remember = true): Promise<void> {
    // A stopped agent (process killed, host dark) says nothing and records nothing: the next agent decides.
    if (this.stopped) return;
    if (remember && (phase === 'succeeded' || phase === 'failed')) {
      await this.store.recordOutcome(commandId, { phase, ...(detail ? { detail: detail.slice(0, 4096) } : {}) }).catch((e: unknown) => this.log('warn', `cannot store the outcome of ${commandId}: ${(e as Error).message}`));
    }
    const msg: ResultMessage = { commandId, phase, at: this.now().toISOString(), ...(detail ? { detail: detail.slice(0, 4096) } : {}), ...(progress !== undefined ? { progress } : {}) };
    this.log(phase === 'failed' ? 'warn' : 'info', `command ${commandId}: ${phase}${detail ? `: ${detail}` : ''}`);
    return this.publish(TOPICS.results(this.hostId), resultMessage.parse(msg));
  }

  /** Commands run one at a time, in arrival order. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task, task);
    this.queue = next.catch((e: unknown) => this.log('error', `command handling failed: ${(e as Error).message}`));
    return this.queue;
  }

  private onMessage(topic: string, payload: string): void {
    if (topic !== TOPICS.commands(this.hostId)) return;
    let raw: unknown;
    try {
      raw = JSON.parse(payload);
    } catch {
      this.log('warn', 'dropped a command that is not JSON');
      return;
    }
    const id = (raw as { commandId?: unknown })?.commandId;
    const validId = typeof id === 'string' && /^[A-Za-z0-9_-]{1,64}$/.test(id);
    const type = (raw as { type?: unknown })?.type;
    if (!commandType.safeParse(type).success) {
      if (validId) void this.enqueue(() => this.refuse(id, `command type ${JSON.stringify(type)?.slice(0, 64)} is not allowed on this host (allowed: ${commandType.options.join(', ')})`));
      else this.log('warn', 'dropped a command of a type that is not allowed and without a usable id');
      return;
    }
    const parsed = commandMessage.safeParse(raw);
    if (!parsed.success) {
      const why = parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ');
      if (validId) void this.enqueue(() => this.refuse(id, `invalid command: ${why}`));
      else this.log('warn', `dropped an invalid command: ${why}`);
      return;
    }
    void this.enqueue(() => this.execute(parsed.data));
  }

  /** A refused command is recorded too: the same id must not run later. */
  private async refuse(commandId: string, detail: string): Promise<void> {
    if (!(await this.store.recordCommand(commandId))) return;
    await this.result(commandId, 'failed', detail);
  }

  private async execute(cmd: CommandMessage): Promise<void> {
    if (this.stopped || this.rebootPending) return;
    // At most once: the id is durable before anything runs; a redelivery is ignored.
    if (!(await this.store.recordCommand(cmd.commandId))) {
      // Never run again; but the cloud redelivers only what it has no outcome for: tell it again.
      const outcome = await this.store.outcomeOf(cmd.commandId);
      this.log('info', `command ${cmd.commandId} was already accepted; not running it again${outcome ? `, repeating its result (${outcome.phase})` : ''}`);
      if (outcome) await this.result(cmd.commandId, outcome.phase, outcome.detail, undefined, false);
      return;
    }
    const deadline = Date.parse(cmd.deadline);
    if (this.now().getTime() > deadline) {
      await this.result(cmd.commandId, 'failed', 'deadline passed');
      return;
    }
    this.state.commandsRun += 1;
    await this.result(cmd.commandId, 'accepted');

    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlinePassed()), Math.min(Math.max(0, deadline - this.now().getTime()), 2_147_483_647));
    });
    const abandoned = { value: false };
    try {
      await Promise.race([HANDLERS[cmd.type](cmd, this.context, abandoned), expired]);
    } catch (e) {
      abandoned.value = true;
      if (e instanceof DeadlinePassed) await this.result(cmd.commandId, 'failed', 'deadline passed');
      else if (e instanceof InvalidParameter) await this.result(cmd.commandId, 'failed', `invalid parameter: ${e.message}`);
      else await this.result(cmd.commandId, 'failed', (e as Error).message);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * A real host goes down now (the agent is killed; the check runs when it starts again).
   * A simulated host is already back: check right away.
   */
  private async rebootThenVerify(reboot: () => Promise<'rebooting' | 'rebooted'>, abandoned: Abandoned): Promise<void> {
    if (abandoned.value) {
      await this.store.clearInflight();
      return;
    }
    this.rebootPending = true;
    this.state.phase = 'rebooting';
    const outcome = await reboot();
    if (outcome === 'rebooting') return;
    this.rebootPending = false;
    this.state.phase = 'online';
    if (abandoned.value) await this.store.clearInflight();
    else await this.verifyInflight();
    await this.reportIfChanged();
  }

  /** Decides the outcome of the command that rebooted the host. */
  private async verifyInflight(): Promise<void> {
    const inflight = await this.store.readInflight();
    if (!inflight) return;
    try {
      await finishInflight(inflight, this.context);
    } finally {
      await this.store.clearInflight();
    }
  }
}
