import type { CommandMessage, ResultMessage } from '../lambdas/contracts/mqtt.js';
import { troubleshootUserParams } from '../lambdas/contracts/tunnels.js';
import type { TroubleshootAccess } from './features/tunnel-feature.js';
import { InvalidParameter, validateCloudConfig, type KairosExecutor, type KairosState, type RebootOutcome } from './kairos.js';
import { clusterStanza, parseApplyParams, parseKubeNodeParams, parseWaitPacksParams, serviceFor, type ApplyParams } from './kubernetes.js';
import { parseExportKubeconfigParams, rewriteKubeconfigServer } from './kubeconfig.js';
import { packWait } from './pack-status.js';
import { runDiagnostics } from './diagnostics/run-diagnostics.js';
import type { Inflight, StateStore } from './state-store.js';
import { freshSinceBoot, parsePreflightParams, parseUpgradeParams, sameImage, sameKubelet } from './upgrade.js';

/**
 * The command handlers, one function per allow-listed command type. The agent (agent.ts)
 * owns at-most-once, deadlines and the queue; these decide what a command does and when it
 * has succeeded.
 */

/** What a succeeded result may carry besides its detail. */
export interface ResultExtra {
  readonly kubeconfig?: string;
  readonly bundle?: { readonly bytes: number; readonly sha256: string };
}

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
  /**
   * Publishes a result; `extra.kubeconfig` rides only on the message (never recorded on the
   * host); `extra.bundle` (collect-diagnostics) is recorded with the outcome.
   */
  readonly result: (commandId: string, phase: ResultMessage['phase'], detail?: string, progress?: number, extra?: ResultExtra) => Promise<void>;
  readonly report: (kind: 'full') => Promise<void>;
  /** A status report if anything changed (packs that just became ready reach the cloud before the result). */
  readonly reportIfChanged: () => Promise<void>;
  /** Reboots; on a simulated host (already back) decides the in-flight command right away. */
  readonly rebootThenVerify: (reboot: () => Promise<RebootOutcome>, abandoned: Abandoned) => Promise<void>;
  /** Default wait for Kubernetes Ready when the command names none. */
  readonly readyTimeoutMs: number;
  /** How often the node is looked at while waiting for Ready. */
  readonly readyPollMs: number;
  /** The remote-shell feature (temporary users). */
  readonly troubleshoot?: TroubleshootAccess;
  /** The agent-update feature (features/agent-update-feature.ts). */
  readonly agentUpdate?: AgentUpdater;
}

/** Runs an `agent-update` command (its final result comes from the agent that starts next). */
export interface AgentUpdater {
  run(cmd: CommandMessage, ctx: CommandContext): Promise<void>;
}

type Handler = (cmd: CommandMessage, ctx: CommandContext, abandoned: Abandoned) => Promise<void>;

const upgrade: Handler = async (cmd, ctx, abandoned) => {
  const p = parseUpgradeParams(cmd.params);
  await ctx.result(cmd.commandId, 'progress', `pulling ${p.image} and writing the ${p.recovery ? 'recovery' : 'active'} partition`, 10);
  await ctx.executor.upgrade(p.image, { recovery: p.recovery });
  if (abandoned.value) return;
  if (p.recovery) return ctx.result(cmd.commandId, 'succeeded', `recovery partition upgraded to ${p.image}`);
  // Everything the post-boot gate needs is durable: an agent that starts after the boot applies the full gate.
  await ctx.store.writeInflight({
    commandId: cmd.commandId, type: 'upgrade', deadline: cmd.deadline, image: p.image, startedAt: ctx.now().toISOString(),
    ...(p.version ? { targetVersion: p.version } : {}), ...(p.kubeletVersion ? { kubeletVersion: p.kubeletVersion } : {}),
  });
  await ctx.result(cmd.commandId, 'progress', 'image written; rebooting into the new active partition', 60);
  await ctx.rebootThenVerify(() => ctx.executor.reboot(), abandoned);
};

/** Node Ready (when a cluster node), room on the state partition, image reachable: all checked, every failure named. */
const preflight: Handler = async (cmd, ctx) => {
  const p = parsePreflightParams(cmd.params);
  const passed: string[] = [];
  const failed: string[] = [];
  let s = await ctx.executor.state();
  if (s.kubernetes && !s.kubernetes.ready && p.readyTimeoutSeconds !== undefined) {
    await ctx.result(cmd.commandId, 'progress', `Kubernetes node not Ready yet: waiting up to ${p.readyTimeoutSeconds} s`, 10);
    s = await waitForReady(ctx, readyUntil(ctx, cmd.deadline, p.readyTimeoutSeconds).until);
  }
  const k = s.kubernetes;
  if (!k) passed.push('not a Kubernetes node (no Ready check)');
  else if (k.ready) passed.push(`Kubernetes node ${k.nodeName ?? ctx.hostId} Ready at kubelet ${k.version ?? 'unknown'}`);
  else failed.push(`Kubernetes node ${k.nodeName ?? ctx.hostId} is not Ready (kubectl describe node ${k.nodeName ?? ctx.hostId})`);
  try {
    const free = await ctx.executor.stateFreeMb();
    if (free >= p.requiredFreeMb) passed.push(`state partition ${free} MB free (needs ${p.requiredFreeMb} MB)`);
    else failed.push(`state partition has ${free} MB free, needs ${p.requiredFreeMb} MB for the active, passive and transition images: free space on COS_STATE or use a smaller image`);
  } catch (e) {
    failed.push(`state partition free space unknown: ${(e as Error).message}`);
  }
  try {
    await ctx.executor.checkImage(p.image);
    passed.push(`image ${p.image} reachable`);
  } catch (e) {
    failed.push(`image ${p.image} not reachable: ${(e as Error).message}`);
  }
  if (failed.length) return ctx.result(cmd.commandId, 'failed', `preflight failed: ${failed.join('; ')}${passed.length ? ` (passed: ${passed.join('; ')})` : ''}`);
  return ctx.result(cmd.commandId, 'succeeded', `preflight passed: ${passed.join('; ')}`);
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

/**
 * Waits for Ready (at `kubeletVersion` when named) and publishes the outcome. A node Ready at
 * another kubelet, in a status posted since `since` (this boot or this command), fails at once
 * naming both versions: the image carries another Kubernetes, and no wait changes that.
 */
async function verdict(cmd: CommandMessage, ctx: CommandContext, p: { readyTimeoutSeconds?: number; kubeletVersion?: string }, prefix: string, since?: number): Promise<void> {
  const { until, seconds } = readyUntil(ctx, cmd.deadline, p.readyTimeoutSeconds);
  const want = p.kubeletVersion;
  const wrong = (x: KairosState) => !!want && !!x.kubernetes?.ready && !sameKubelet(x.kubernetes.version, want) && freshSinceBoot(x.kubernetes.heartbeatAt, since);
  const passes = (x: KairosState) => !!x.kubernetes?.ready && (!want || sameKubelet(x.kubernetes.version, want));
  let s = await ctx.executor.state();
  while (!ctx.stopped() && !passes(s) && !wrong(s) && ctx.now().getTime() < until) {
    await ctx.sleep(Math.min(ctx.readyPollMs, Math.max(1, until - ctx.now().getTime())));
    s = await ctx.executor.state();
  }
  if (ctx.stopped()) return;
  // The node changed (Kubernetes up, or not): the status report says so before the verdict, so
  // the cloud derives the host's health from it when the workflow moves on (it would otherwise
  // wait for the next periodic check, up to 30 s, and the host would pass through "in a cluster
  // but reports no Kubernetes node" when the operation ends first).
  await ctx.reportIfChanged().catch(() => undefined);
  if (passes(s)) return ctx.result(cmd.commandId, 'succeeded', `${prefix}${readyDetail(s, ctx.hostId)}`);
  if (s.kubernetes?.ready && want) {
    const name = s.kubernetes.nodeName ?? ctx.hostId;
    return ctx.result(cmd.commandId, 'failed', `Kubernetes node ${name} is Ready at kubelet ${s.kubernetes.version ?? 'unknown'}, expected ${want}: the image it runs (${s.image ?? 'unknown image'}) does not carry the profile's Kubernetes version; publish a profile whose os image carries ${want}, or fix the k8s layer's version`);
  }
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
      ...(p.readyTimeoutSeconds !== undefined ? { readyTimeoutSeconds: p.readyTimeoutSeconds } : {}), ...(p.kubeletVersion ? { kubeletVersion: p.kubeletVersion } : {}),
    });
    await ctx.result(id, 'progress', `written to /oem/90_edgefleet.yaml; rebooting${cluster ? ' (the provider brings Kubernetes up at boot)' : ''}`, 30);
    await ctx.rebootThenVerify(() => ctx.executor.reboot(), abandoned);
    return;
  }
  switch (p.mode) {
    case 'write':
      return ctx.result(id, 'succeeded', 'written to /oem/90_edgefleet.yaml; Kairos applies it at the next boot');
    case 'bootstrap': {
      const since = ctx.now().getTime();
      await ctx.result(id, 'progress', `written; running the Kubernetes provider for the ${cluster!.role} node`, 20);
      try {
        await ctx.executor.bootstrap();
      } catch (e) {
        throw new Error(`join failed: ${(e as Error).message}`);
      }
      if (abandoned.value) return;
      await ctx.result(id, 'progress', `provider done; waiting for the Kubernetes node to be Ready${p.kubeletVersion ? ` at kubelet ${p.kubeletVersion}` : ''}`, 60);
      return verdict(cmd, ctx, p, '', since);
    }
    case 'restart': {
      const since = ctx.now().getTime();
      const unit = await ctx.executor.restartKubernetes();
      if (abandoned.value) return;
      await ctx.result(id, 'progress', `written; restarted ${unit}; waiting for the Kubernetes node to be Ready`, 50);
      return verdict(cmd, ctx, p, `restarted ${unit}; `, since);
    }
    case 'reload':
      await ctx.executor.reloadKubernetes();
      return ctx.result(id, 'succeeded', 'written and re-applied (manifests and add-ons); nothing restarted');
  }
};

/** The admin kubeconfig of this control-plane node, pointed at the control-plane address, back to the cloud (once, after a create). */
const exportKubeconfig: Handler = async (cmd, ctx) => {
  const { server } = parseExportKubeconfigParams(cmd.params);
  const role = (await ctx.executor.state()).kubernetes?.role;
  if (role === 'worker') throw new Error('this host is a worker; export-kubeconfig runs on the init node');
  const kubeconfig = rewriteKubeconfigServer(await ctx.executor.exportKubeconfig(), server);
  await ctx.result(cmd.commandId, 'succeeded', `admin kubeconfig exported (server ${server})`, undefined, { kubeconfig });
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

const clipDetail = (s: string) => (s.length > 4000 ? `${s.slice(0, 3999)}…` : s);

/**
 * Waits on the init node until every named pack is ready (succeeded), one is in error (failed
 * at once, naming it and its reason) or the time is up (failed, naming the packs not ready and
 * their states). Progress is published when what it waits for changes; the status report with
 * the packs goes out before the verdict.
 */
const waitPacks: Handler = async (cmd, ctx) => {
  const p = parseWaitPacksParams(cmd.params);
  const role = (await ctx.executor.state()).kubernetes?.role;
  if (role !== 'init' && role !== 'control-plane') {
    throw new Error(`this host is ${role ? 'a worker' : 'not a Kubernetes node'}; wait-packs runs on the cluster's init node, which installs the packs and holds the admin kubeconfig`);
  }
  const { until, seconds } = readyUntil(ctx, cmd.deadline, p.timeoutSeconds);
  await ctx.result(cmd.commandId, 'progress', `waiting up to ${seconds} s for packs ${p.packs.join(', ')} to be ready`, 5);
  let last = '';
  for (;;) {
    const packs = await ctx.executor.packs();
    const w = packWait(p.packs, packs, ctx.now().getTime() >= until, seconds);
    if (ctx.stopped()) return;
    if (w.done) {
      await ctx.reportIfChanged().catch(() => undefined);
      return ctx.result(cmd.commandId, w.ok ? 'succeeded' : 'failed', clipDetail(w.detail));
    }
    if (w.detail !== last) {
      last = w.detail;
      const ready = p.packs.filter((n) => packs.some((x) => x.name === n && x.state === 'ready')).length;
      await ctx.result(cmd.commandId, 'progress', clipDetail(w.detail), Math.round(5 + (90 * ready) / p.packs.length));
    }
    await ctx.sleep(Math.min(ctx.readyPollMs, Math.max(1, until - ctx.now().getTime())));
  }
};

/** Collects the allow-listed diagnostics, redacted, as a tar.gz with its manifest, and uploads it to the presigned URL. */
const collectDiagnostics: Handler = async (cmd, ctx) => {
  const { detail, bundle } = await runDiagnostics(ctx.executor.diagnostics?.(), cmd.params, {
    hostId: ctx.hostId, commandId: cmd.commandId, deadline: cmd.deadline, now: ctx.now,
    progress: (d, percent) => ctx.result(cmd.commandId, 'progress', d, percent),
  });
  await ctx.result(cmd.commandId, 'succeeded', detail, undefined, { bundle });
};

/** Adds or removes the temporary user of a remote-shell tunnel (the key is the operator's one-time public key). */
const troubleshootUser: Handler = async (cmd, ctx) => {
  const parsed = troubleshootUserParams.safeParse(cmd.params);
  if (!parsed.success) throw new InvalidParameter(parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  if (!ctx.troubleshoot) throw new Error('this agent has no remote-shell feature');
  const p = parsed.data;
  const detail = p.action === 'add' ? await ctx.troubleshoot.addUser(p) : await ctx.troubleshoot.removeUser(p.user, `tunnel ${p.tunnelId} closed`);
  await ctx.result(cmd.commandId, 'succeeded', detail);
};

/** Moves the agent to a new version: verified, installed next to the running one, restarted into; the next agent says how it went. */
const agentUpdate: Handler = async (cmd, ctx) => {
  if (!ctx.agentUpdate) throw new Error('this agent cannot update itself (no agent-update feature)');
  await ctx.agentUpdate.run(cmd, ctx);
};

export const HANDLERS: Readonly<Record<CommandMessage['type'], Handler>> = {
  'agent-update': agentUpdate,
  upgrade, preflight, reboot, reset, 'apply-cloud-config': applyCloudConfig, 'kube-node': kubeNode, 'report-state': reportState, 'wait-packs': waitPacks,
  'export-kubeconfig': exportKubeconfig, 'collect-diagnostics': collectDiagnostics, 'troubleshoot-user': troubleshootUser,
};

/** Decides the outcome of the command that rebooted the host, once it is back. */
export async function finishInflight(i: Inflight, ctx: CommandContext): Promise<void> {
  const s = await ctx.executor.state();
  if (i.type === 'reboot') return ctx.result(i.commandId, 'succeeded', `rebooted; booted ${s.boot} at ${s.kairosVersion ?? 'unknown version'}`);
  if (i.type === 'reset') return ctx.result(i.commandId, 'succeeded', `reset done; booted ${s.boot}${s.kubernetes ? '' : '; no Kubernetes node on this host any more'}`);
  if (i.type === 'apply') {
    if (!i.expectKubernetes) return ctx.result(i.commandId, 'succeeded', `rebooted with the new cloud-config; booted ${s.boot} at ${s.kairosVersion ?? 'unknown version'}`);
    if (!s.kubernetes?.ready) await ctx.result(i.commandId, 'progress', `booted ${s.boot}; waiting for the Kubernetes node to be Ready`, 80);
    return verdict({ commandId: i.commandId, type: 'apply-cloud-config', params: {}, deadline: i.deadline }, ctx, i, `booted ${s.boot} with the new cloud-config; `, s.bootedAt);
  }
  return upgradeGate(i, s, ctx);
}

/**
 * The post-boot health gate of an upgrade: booted active, into the target image (its identity
 * from /etc/kairos-release, the digest when known) at the target Kairos version, and (when a
 * target kubelet is named or the host is a cluster node) the Kubernetes node Ready at the
 * target kubelet version, within the readiness timeout and the command deadline. It fails at
 * once when the truth is already known: booted passive (Kairos fell back), booted into another
 * image, or Ready at another kubelet (a status posted after this boot) — waiting cannot fix those.
 */
async function upgradeGate(i: Inflight, first: KairosState, ctx: CommandContext): Promise<void> {
  let s = first;
  const at = s.kairosVersion ?? 'unknown version';
  const running = s.image ? `${s.image}${s.digest ? `@${s.digest}` : ''}` : undefined;
  if (s.boot === 'passive') {
    const held = s.partitions?.active ? `; the active partition still holds ${s.partitions.active.image}` : '';
    return ctx.result(i.commandId, 'failed', `booted passive at ${at}: the new image did not boot and Kairos fell back${s.image ? ` to ${s.image}` : ''}${held}`);
  }
  if (s.boot !== 'active' || (i.targetVersion && s.kairosVersion !== i.targetVersion)) {
    return ctx.result(i.commandId, 'failed', `booted ${s.boot} at ${at}, expected active at ${i.targetVersion ?? i.image}`);
  }
  if (i.image && s.image && !sameImage({ image: s.image, ...(s.digest ? { digest: s.digest } : {}) }, i.image)) {
    return ctx.result(i.commandId, 'failed', `booted active into ${running}, expected ${i.image}: the image written is not the one asked for (check what the registry serves under that reference)`);
  }
  const want = i.kubeletVersion;
  if (!want && !s.kubernetes) return ctx.result(i.commandId, 'succeeded', `booted active at ${s.kairosVersion ?? i.targetVersion ?? 'the new image'}`);
  const passes = (x: KairosState) => !!x.kubernetes?.ready && (!want || sameKubelet(x.kubernetes.version, want));
  // Ready at another kubelet, posted after this boot: the image carries another Kubernetes; no wait changes that.
  const wrongKubelet = (x: KairosState) => !!want && !!x.kubernetes?.ready && !sameKubelet(x.kubernetes.version, want) && freshSinceBoot(x.kubernetes.heartbeatAt, x.bootedAt);
  const { until, seconds } = readyUntil(ctx, i.deadline, undefined);
  if (!passes(s) && !wrongKubelet(s)) {
    await ctx.result(i.commandId, 'progress', `booted active at ${at}; waiting for the Kubernetes node to be Ready${want ? ` at kubelet ${want}` : ''}`, 90);
    s = await ctx.executor.state();
    while (!ctx.stopped() && !passes(s) && !wrongKubelet(s) && ctx.now().getTime() < until) {
      await ctx.sleep(Math.min(ctx.readyPollMs, Math.max(1, until - ctx.now().getTime())));
      s = await ctx.executor.state();
    }
    if (ctx.stopped()) return;
  }
  const k = s.kubernetes;
  const name = k?.nodeName ?? ctx.hostId;
  if (passes(s)) return ctx.result(i.commandId, 'succeeded', `booted active at ${at}; Kubernetes node ${name} Ready at kubelet ${k?.version ?? 'unknown'}`);
  if (!k) return ctx.result(i.commandId, 'failed', `booted active at ${at} but there is no Kubernetes node on this host after ${seconds} s, expected kubelet ${want} Ready: the provider did not bring Kubernetes up (journalctl -u kairos-agent)`);
  if (k.ready) return ctx.result(i.commandId, 'failed', `booted active at ${at} but the node reports kubelet ${k.version ?? 'unknown'}, expected ${want}: the image does not carry the target Kubernetes version`);
  const unit = k.distribution && k.role ? ` and journalctl -u ${serviceFor(k.distribution, k.role)}` : '';
  return ctx.result(i.commandId, 'failed', `booted active at ${at} but Kubernetes node ${name} was not Ready within ${seconds} s (kubelet ${k.version ?? 'unknown'}): check kubectl describe node ${name}${unit}`);
}
