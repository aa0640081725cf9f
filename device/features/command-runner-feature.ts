import type { TroubleshootAccess } from './tunnel-feature.js';
import { resultMessage, TOPICS, type CommandMessage, type ResultMessage } from '../../lambdas/contracts/mqtt.js';
import type { Sleep } from '../backoff.js';
import { classifyCommand } from '../classify-command.js';
import { finishInflight, HANDLERS, type Abandoned, type CommandContext } from '../commands.js';
import { InvalidParameter, type KairosExecutor } from '../kairos.js';
import type { Log } from '../registration.js';
import type { StateStore } from '../state-store.js';
import type { AgentState, Feature, Publish } from './feature.js';
import type { AgentUpdater, ResultExtra } from '../commands.js';

export interface CommandRunnerOptions {
  readonly hostId: string;
  readonly executor: KairosExecutor;
  readonly store: StateStore;
  readonly publish: Publish;
  readonly state: AgentState;
  readonly log: Log;
  readonly now: () => Date;
  readonly sleep: Sleep;
  /** A full status report (the `report-state` command). */
  readonly report: (kind: 'full') => Promise<void>;
  /** A status report if anything changed (after a simulated reboot). */
  readonly reportIfChanged: () => Promise<void>;
  /** How long a command waits for the Kubernetes node to be Ready when it names no timeout. */
  readonly readyTimeoutMs: number;
  /** How often the node is looked at while waiting for Ready. */
  readonly readyPollMs: number;
  /** The remote-shell feature, for `troubleshoot-user`. */
  readonly troubleshoot?: TroubleshootAccess;
  /** The agent-update feature, for `agent-update`. */
  readonly agentUpdate?: AgentUpdater;
}

class DeadlinePassed extends Error {}
class Stopped extends Error {}

/**
 * The command queue: commands run one at a time in arrival order, only allow-listed types
 * (classify-command.ts), at most once per command id (the id is durable before anything runs;
 * a redelivery repeats the stored result instead), each bounded by its deadline. What each
 * command does is in commands.ts. `start()` queues the decision of the command that rebooted
 * the host (its result waits in the state dir), so no command delivered on connect runs
 * before it; `verified` settles when that is done. A stopped runner publishes and records
 * nothing; `stop()` ends the deadline timers of the commands under way.
 */
export class CommandRunnerFeature implements Feature {
  private readonly abort = new AbortController();
  private queue: Promise<void> = Promise.resolve();
  private readonly deadlines = new Set<{ timer: ReturnType<typeof setTimeout>; reject: (e: Error) => void }>();
  private verifiedInflight: Promise<void> = Promise.resolve();
  /** A reboot is under way: commands wait for the agent that starts after it. */
  rebootPending = false;

  constructor(private readonly o: CommandRunnerOptions) {}

  getName(): string {
    return 'command runner';
  }

  private get stopped(): boolean {
    return this.abort.signal.aborted;
  }

  async start(): Promise<void> {
    this.verifiedInflight = this.enqueue(() => this.verifyInflight());
  }

  /** Settles once the command that rebooted the host (if any) has its outcome. */
  get verified(): Promise<void> {
    return this.verifiedInflight;
  }

  /** Settles once every command queued so far has been handled. */
  get idle(): Promise<void> {
    return this.queue;
  }

  async stop(): Promise<void> {
    if (!this.stopped) this.abort.abort();
    for (const d of this.deadlines) {
      clearTimeout(d.timer);
      d.reject(new Stopped());
    }
    this.deadlines.clear();
  }

  /** A message on the commands topic: refused, dropped or queued. */
  accept(payload: string): void {
    const intake = classifyCommand(payload);
    if (intake.action === 'drop') this.o.log('warn', intake.reason);
    else if (intake.action === 'refuse') void this.enqueue(() => this.refuse(intake.commandId, intake.detail));
    else void this.enqueue(() => this.execute(intake.command));
  }

  /** What the command handlers (commands.ts) may use. */
  private get context(): CommandContext {
    return {
      executor: this.o.executor, store: this.o.store, now: this.o.now, hostId: this.o.hostId,
      sleep: (ms) => this.o.sleep(ms, this.abort.signal),
      stopped: () => this.stopped,
      result: (id, phase, detail, progress, extra) => this.result(id, phase, detail, progress, true, extra),
      report: (kind) => this.o.report(kind),
      reportIfChanged: () => this.o.reportIfChanged(),
      rebootThenVerify: (reboot, abandoned) => this.rebootThenVerify(reboot, abandoned),
      readyTimeoutMs: this.o.readyTimeoutMs,
      readyPollMs: this.o.readyPollMs,
      ...(this.o.troubleshoot ? { troubleshoot: this.o.troubleshoot } : {}),
      ...(this.o.agentUpdate ? { agentUpdate: this.o.agentUpdate } : {}),
    };
  }

  /** Commands run one at a time, in arrival order. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.queue.then(task, task);
    this.queue = next.catch((e: unknown) => this.o.log('error', `command handling failed: ${(e as Error).message}`));
    return this.queue;
  }

  private async result(commandId: string, phase: ResultMessage['phase'], detail?: string, progress?: number, remember = true, secret?: ResultExtra): Promise<void> {
    // A stopped agent (process killed, host dark) says nothing and records nothing: the next agent decides.
    if (this.stopped) return;
    const bundle = phase === 'succeeded' ? secret?.bundle : undefined;
    if (remember && (phase === 'succeeded' || phase === 'failed')) {
      await this.o.store.recordOutcome(commandId, { phase, ...(detail ? { detail: detail.slice(0, 4096) } : {}), ...(bundle ? { bundle } : {}) }).catch((e: unknown) => this.o.log('warn', `cannot store the outcome of ${commandId}: ${(e as Error).message}`));
    }
    // The kubeconfig rides on the message only: not in the recorded outcome, not in the log line.
    const msg: ResultMessage = {
      commandId, phase, at: this.o.now().toISOString(), ...(detail ? { detail: detail.slice(0, 4096) } : {}), ...(progress !== undefined ? { progress } : {}),
      ...(secret?.kubeconfig && phase === 'succeeded' ? { kubeconfig: secret.kubeconfig } : {}),
      ...(bundle ? { bundle } : {}),
    };
    this.o.log(phase === 'failed' ? 'warn' : 'info', `command ${commandId}: ${phase}${detail ? `: ${detail}` : ''}`);
    return this.o.publish(TOPICS.results(this.o.hostId), resultMessage.parse(msg));
  }

  /** A refused command is recorded too: the same id must not run later. */
  private async refuse(commandId: string, detail: string): Promise<void> {
    if (!(await this.o.store.recordCommand(commandId))) return;
    await this.result(commandId, 'failed', detail);
  }

  private async execute(cmd: CommandMessage): Promise<void> {
    if (this.stopped || this.rebootPending) return;
    // At most once: the id is durable before anything runs; a redelivery is ignored.
    if (!(await this.o.store.recordCommand(cmd.commandId))) {
      // Never run again; but the cloud redelivers only what it has no outcome for: tell it again.
      const outcome = await this.o.store.outcomeOf(cmd.commandId);
      this.o.log('info', `command ${cmd.commandId} was already accepted; not running it again${outcome ? `, repeating its result (${outcome.phase})` : ''}`);
      if (outcome) await this.result(cmd.commandId, outcome.phase, outcome.detail, undefined, false, outcome.bundle ? { bundle: outcome.bundle } : undefined);
      return;
    }
    const deadline = Date.parse(cmd.deadline);
    if (this.o.now().getTime() > deadline) {
      await this.result(cmd.commandId, 'failed', 'deadline passed');
      return;
    }
    this.o.state.commandsRun += 1;
    await this.result(cmd.commandId, 'accepted');

    let entry: { timer: ReturnType<typeof setTimeout>; reject: (e: Error) => void } | undefined;
    const expired = new Promise<never>((_, reject) => {
      const timer = setTimeout(() => reject(new DeadlinePassed()), Math.min(Math.max(0, deadline - this.o.now().getTime()), 2_147_483_647));
      entry = { timer, reject };
      this.deadlines.add(entry);
    });
    const abandoned = { value: false };
    try {
      await Promise.race([HANDLERS[cmd.type](cmd, this.context, abandoned), expired]);
    } catch (e) {
      // Stopped: the deadline no longer matters; the handler ends by itself, and a stopped runner publishes nothing.
      if (e instanceof Stopped) return;
      abandoned.value = true;
      if (e instanceof DeadlinePassed) await this.result(cmd.commandId, 'failed', 'deadline passed');
      else if (e instanceof InvalidParameter) await this.result(cmd.commandId, 'failed', `invalid parameter: ${e.message}`);
      else await this.result(cmd.commandId, 'failed', (e as Error).message);
    } finally {
      if (entry) {
        clearTimeout(entry.timer);
        this.deadlines.delete(entry);
      }
    }
  }

  /**
   * A real host goes down now (the agent is killed; the check runs when it starts again).
   * A simulated host is already back: check right away.
   */
  private async rebootThenVerify(reboot: () => Promise<'rebooting' | 'rebooted'>, abandoned: Abandoned): Promise<void> {
    if (abandoned.value) {
      await this.o.store.clearInflight();
      return;
    }
    this.rebootPending = true;
    this.o.state.phase = 'rebooting';
    const outcome = await reboot();
    if (outcome === 'rebooting') return;
    this.rebootPending = false;
    this.o.state.phase = 'online';
    if (abandoned.value) await this.o.store.clearInflight();
    else await this.verifyInflight();
    await this.o.reportIfChanged();
  }

  /** Decides the outcome of the command that rebooted the host. */
  private async verifyInflight(): Promise<void> {
    const inflight = await this.o.store.readInflight();
    if (!inflight) return;
    try {
      await finishInflight(inflight, this.context);
    } finally {
      await this.o.store.clearInflight();
    }
  }
}
