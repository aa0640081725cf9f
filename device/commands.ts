import type { CommandMessage, ResultMessage } from '../lambdas/contracts/mqtt.js';
import { InvalidParameter, validateCloudConfig, validateImage, versionFromImage, type KairosExecutor, type KairosState, type RebootOutcome } from './kairos.js';
import { clusterStanza, parseApplyParams, parseKubeNodeParams, serviceFor, type ApplyParams } from './kubernetes.js';
import type { Inflight, StateStore } from './state-store.js';

/**
 * The command handlers, one function per allow-listed command type. The agent (agent.ts)
 * owns at-most-once, deadlines and the queue; these decide what a command does and when it
 * has succeeded.
 */

export interface Abandoned {
  value: boolean;
}

export interface CommandContext {
  readonly executor: KairosExecutor;
  readonly store: StateStore;
  readonly hostId: string;
  readonly now: () => Date;
  /** Sleeps, cut short when the agent stops. */
  readonly sleep: (ms: number) => Promise<void>;
  readonly stopped: () => boolean;
  readonly result: (commandId: string, phase: ResultMessage['phase'], detail?: string, progress?: number) => Promise<void>;
  readonly report: (kind: 'full') => Promise<void>;
  /** Reboots; on a simulated host (already back) decides the in-flight command right away. */
  readonly rebootThenVerify: (reboot: () => Promise<RebootOutcome>, abandoned: Abandoned) => Promise<void>;
  /** Default wait for Kubernetes Ready when the command names none. */
  readonly readyTimeoutMs: number;
  /** How often the node is looked at while waiting for Ready. */
  readonly readyPollMs: number;
}

type Handler = (cmd: CommandMessage, ctx: CommandContext, abandoned: Abandoned) => Promise<void>;

const upgrade: Handler = async (cmd, ctx, abandoned) => {
  const p = cmd.params;
  const image = validateImage(p.image);
  if (p.recovery !== undefined && typeof p.recovery !== 'boolean') throw new InvalidParameter('recovery: must be true or false');
  if (p.version !== undefined && (typeof p.version !== 'string' || p.version.startsWith('-'))) throw new InvalidParameter('version: must be a version string');
  const recovery = p.recovery === true;
  const targetVersion = typeof p.version === 'string' ? p.version : versionFromImage(image);
  await ctx.result(cmd.commandId, 'progress', `pulling ${image} and writing the ${recovery ? 'recovery' : 'active'} partition`, 10);
  await ctx.executor.upgrade(image, { recovery });
  if (abandoned.value) return;
  if (recovery) return ctx.result(cmd.commandId, 'succeeded', `recovery partition upgraded to ${image}`);
  await ctx.store.writeInflight({ commandId: cmd.commandId, type: 'upgrade', deadline: cmd.deadline, image, ...(targetVersion ? { targetVersion } : {}), startedAt: ctx.now().toISOString() });
  await ctx.result(cmd.commandId, 'progress', 'image written; rebooting into the new active partition', 60);
  await ctx.rebootThenVerify(() => ctx.executor.reboot(), abandoned);
};

const reboot: Handler = async (cmd, ctx, abandoned) => {
  await ctx.store.writeInflight({ commandId: cmd.commandId, type: 'reboot', deadline: cmd.deadline, startedAt: ctx.now().toISOString() });
  await ctx.result(cmd.commandId, 'progress', 'rebooting', 50);
  await ctx.rebootThenVerify(() => ctx.executor.reboot(), abandoned);
};

const reset: Handler = async (cmd, ctx, abandoned) => {
  await ctx.store.writeInflight({ commandId: cmd.commandId, type: 'reset', deadline: cmd.deadline, startedAt: ctx.now().toISOString() });
  await ctx.result(cmd.commandId, 'progress', 'cluster config removed, statereset boot entry selected; rebooting into the reset', 50);
  await ctx.rebootThenVerify(() => ctx.executor.reset(), abandoned);
};

const reportState: Handler = async (cmd, ctx) => {
  await ctx.report('full');
  await ctx.result(cmd.commandId, 'succeeded', 'full status report sent');
};

/** Until when a command waits for Ready: its own timeout, never past the command deadline. */
function readyUntil(ctx: CommandContext, deadline: string, readyTimeoutSeconds: number | undefined): { until: number; seconds: number } {
  const ms = readyTimeoutSeconds !== undefined ? readyTimeoutSeconds * 1000 : ctx.readyTimeoutMs;
  const until = Math.min(Date.parse(deadline) - 250, ctx.now().getTime() + ms);
  return { until, seconds: Math.max(0, Math.round((until - ctx.now().getTime()) / 1000)) };
}

/** Polls the node until it reports Ready, the time is up or the agent stops. */
export async function waitForReady(ctx: CommandContext, until: number): Promise<KairosState> {
  let s = await ctx.executor.state();
  while (!ctx.stopped() && !s.kubernetes?.ready && ctx.now().getTime() < until) {
    await ctx.sleep(Math.min(ctx.readyPollMs, Math.max(1, until - ctx.now().getTime())));
    s = await ctx.executor.state();
  }
  return s;
}

export function readyDetail(s: KairosState, hostId: string): string {
  const k = s.kubernetes;
  return `Kubernetes node ${k?.nodeName ?? hostId} Ready: role ${k?.role ?? 'unknown'}, kubelet ${k?.version ?? 'unknown'}`;
}

export function notReadyDetail(s: KairosState, hostId: string, seconds: number): string {
  const k = s.kubernetes;
  if (!k) return `no Kubernetes node on this host after ${seconds} s: the provider did not bring Kubernetes up (look at journalctl -u kairos-agent on the host)`;
  const name = k.nodeName ?? hostId;
  const unit = k.distribution && k.role ? ` and journalctl -u ${serviceFor(k.distribution, k.role)}` : '';
  return `Kubernetes node ${name} (${k.role ?? 'unknown role'}) not Ready within ${seconds} s: check kubectl describe node ${name}${unit}`;
}

/** Waits for Ready and publishes the outcome. */
async function verdict(cmd: CommandMessage, ctx: CommandContext, p: { readyTimeoutSeconds?: number }, prefix: string): Promise<void> {
  const { until, seconds } = readyUntil(ctx, cmd.deadline, p.readyTimeoutSeconds);
  const s = await waitForReady(ctx, until);
  if (ctx.stopped()) return;
  if (s.kubernetes?.ready) return ctx.result(cmd.commandId, 'succeeded', `${prefix}${readyDetail(s, ctx.hostId)}`);
  return ctx.result(cmd.commandId, 'failed', notReadyDetail(s, ctx.hostId, p.readyTimeoutSeconds ?? seconds));
}

const applyCloudConfig: Handler = async (cmd, ctx, abandoned) => {
  const p: ApplyParams = parseApplyParams(cmd.params);
  if (p.cloudConfig.includes('@@EDGEFLEET_SECRET_')) throw new InvalidParameter('cloudConfig: still holds a secret placeholder (@@EDGEFLEET_SECRET_…@@): the control plane did not fill in the secret; nothing was written');
  const cluster = clusterStanza(validateCloudConfig(p.cloudConfig));
  if (p.mode === 'bootstrap' && !cluster) throw new InvalidParameter('cloudConfig: mode bootstrap needs a "cluster:" stanza (role, cluster_token, control_plane_host) for the Kubernetes provider');
  const id = cmd.commandId;
  await ctx.executor.applyCloudConfig(p.cloudConfig);
  if (abandoned.value) return;
  if (p.reboot) {
    await ctx.store.writeInflight({
      commandId: id, type: 'apply', deadline: cmd.deadline, startedAt: ctx.now().toISOString(), expectKubernetes: !!cluster,
      ...(p.readyTimeoutSeconds !== undefined ? { readyTimeoutSeconds: p.readyTimeoutSeconds } : {}),
    });
    await ctx.result(id, 'progress', `written to /oem/90_edgefleet.yaml; rebooting${cluster ? ' (the provider brings Kubernetes up at boot)' : ''}`, 30);
    await ctx.rebootThenVerify(() => ctx.executor.reboot(), abandoned);
    return;
  }
  switch (p.mode) {
    case 'write':
      return ctx.result(id, 'succeeded', 'written to /oem/90_edgefleet.yaml; Kairos applies it at the next boot');
    case 'bootstrap': {
      await ctx.result(id, 'progress', `written; running the Kubernetes provider for the ${cluster!.role} node`, 20);
      try {
        await ctx.executor.bootstrap();
      } catch (e) {
        throw new Error(`join failed: ${(e as Error).message}`);
      }
      if (abandoned.value) return;
      await ctx.result(id, 'progress', 'provider done; waiting for the Kubernetes node to be Ready', 60);
      return verdict(cmd, ctx, p, '');
    }
    case 'restart': {
      const unit = await ctx.executor.restartKubernetes();
      if (abandoned.value) return;
      await ctx.result(id, 'progress', `written; restarted ${unit}; waiting for the Kubernetes node to be Ready`, 50);
      return verdict(cmd, ctx, p, `restarted ${unit}; `);
    }
    case 'reload':
      await ctx.executor.reloadKubernetes();
      return ctx.result(id, 'succeeded', 'written and re-applied (manifests and add-ons); nothing restarted');
  }
};

const PAST: Record<string, string> = { cordon: 'cordoned', uncordon: 'uncordoned', drain: 'drained', delete: 'deleted from the cluster (if it was there)' };

const kubeNode: Handler = async (cmd, ctx) => {
  const p = parseKubeNodeParams(cmd.params);
  const role = (await ctx.executor.state()).kubernetes?.role;
  if (role === 'worker') throw new Error('this host is a worker; kube-node commands run on a control-plane host');
  if (!role) throw new Error('this host is not a Kubernetes node (no cluster bootstrapped); kube-node commands run on a control-plane host');
  if (p.action === 'drain') await ctx.result(cmd.commandId, 'progress', `draining ${p.node} (up to ${p.timeoutSeconds} s; PodDisruptionBudgets respected)`, 10);
  try {
    await ctx.executor.kubeNode(p.action, p.node, p.timeoutSeconds);
  } catch (e) {
    throw new Error(`${p.action} ${p.node} failed: ${(e as Error).message}`);
  }
  await ctx.result(cmd.commandId, 'succeeded', `node ${p.node} ${PAST[p.action]}`);
};

export const HANDLERS: Readonly<Record<CommandMessage['type'], Handler>> = {
  upgrade, reboot, reset, 'apply-cloud-config': applyCloudConfig, 'kube-node': kubeNode, 'report-state': reportState,
};

/** Decides the outcome of the command that rebooted the host, once it is back. */
export async function finishInflight(i: Inflight, ctx: CommandContext): Promise<void> {
  let s = await ctx.executor.state();
  if (i.type === 'reboot') return ctx.result(i.commandId, 'succeeded', `rebooted; booted ${s.boot} at ${s.kairosVersion ?? 'unknown version'}`);
  if (i.type === 'reset') return ctx.result(i.commandId, 'succeeded', `reset done; booted ${s.boot}${s.kubernetes ? '' : '; no Kubernetes node on this host any more'}`);
  if (i.type === 'apply') {
    if (!i.expectKubernetes) return ctx.result(i.commandId, 'succeeded', `rebooted with the new cloud-config; booted ${s.boot} at ${s.kairosVersion ?? 'unknown version'}`);
    if (!s.kubernetes?.ready) await ctx.result(i.commandId, 'progress', `booted ${s.boot}; waiting for the Kubernetes node to be Ready`, 80);
    return verdict({ commandId: i.commandId, type: 'apply-cloud-config', params: {}, deadline: i.deadline }, ctx, i, `booted ${s.boot} with the new cloud-config; `);
  }
  if (s.boot === 'passive') {
    return ctx.result(i.commandId, 'failed', `booted into passive at ${s.kairosVersion ?? 'unknown version'}: the new image did not boot and Kairos fell back`);
  }
  if (s.boot !== 'active' || (i.targetVersion && s.kairosVersion !== i.targetVersion)) {
    return ctx.result(i.commandId, 'failed', `booted ${s.boot} at ${s.kairosVersion ?? 'unknown version'}, expected active at ${i.targetVersion ?? i.image}`);
  }
  if (s.kubernetes && !s.kubernetes.ready) {
    await ctx.result(i.commandId, 'progress', `booted active at ${s.kairosVersion}; waiting for the Kubernetes node to be Ready`, 90);
    s = await waitForReady(ctx, readyUntil(ctx, i.deadline, undefined).until);
    if (ctx.stopped()) return;
    if (s.kubernetes && !s.kubernetes.ready) {
      return ctx.result(i.commandId, 'failed', `booted active at ${s.kairosVersion} but the Kubernetes node is not Ready`);
    }
  }
  return ctx.result(i.commandId, 'succeeded', `booted active at ${s.kairosVersion ?? i.targetVersion ?? 'the new image'}${s.kubernetes ? '; Kubernetes node Ready' : ''}`);
}
