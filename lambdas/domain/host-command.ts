import type { CommandRecord } from './command.js';
import { ConflictError } from './errors.js';
import type { ClusterRecord, OperationRecord } from './model.js';
import { renderNodeConfig, type NodeRole } from './node-config.js';
import { packNames } from './packs.js';
import type { Layer, ProfileVariable } from './profile.js';
import { substituteLayers, type ClusterVariables } from './profile-variables.js';
import { osTargetOf } from './repave.js';

/** The command a workflow step sends (what the host runs; the id, token and deadline come from the use case). */
export type CommandSpec = Pick<CommandRecord, 'type' | 'params' | 'secrets'>;

/** Every step a host task can be (contracts/workflows.ts `hostStep`). */
export type TaskStep =
  | 'init' | 'join-control-plane' | 'join-worker' | 'drain' | 'remove-node' | 'reset' | 'restart' | 'reload'
  | 'cordon' | 'uncordon' | 'preflight' | 'upgrade' | 'reboot' | 'wait-packs' | 'export-kubeconfig';

/** A host task (contracts/workflows.ts `hostTask`). */
export interface StepTask {
  readonly hostId: string;
  readonly step: TaskStep;
  readonly subject?: string;
}

/**
 * Room the state partition needs for an A/B upgrade: active + passive + the transition image
 * (Kairos keeps all three during the upgrade), at up to 2 GiB each.
 */
export const REQUIRED_FREE_MB = 3 * 2048;

/** The steps whose command is the node's rendered configuration (they need the profile's layers). */
const NODE_CONFIG_STEPS: ReadonlySet<TaskStep> = new Set(['init', 'join-control-plane', 'join-worker', 'restart', 'reload', 'reboot']);

export const needsNodeConfig = (step: TaskStep): boolean => NODE_CONFIG_STEPS.has(step);

/** Whether the step's command is built from the profile's layers: a node configuration, the wait for the packs, or a create's or scale-out's repave (the os layer's image). */
export const needsLayers = (op: Pick<OperationRecord, 'type'>, step: TaskStep): boolean =>
  needsNodeConfig(step) || step === 'wait-packs' || (REPAVES_BEFORE_JOIN.has(op.type) && (step === 'preflight' || step === 'upgrade'));

/** The kinds that repave joining hosts to the profile's image first (domain/repave.ts). */
const REPAVES_BEFORE_JOIN: ReadonlySet<OperationRecord['type']> = new Set(['create-cluster', 'scale-out']);

/** How long the wait for the packs may take: 30 s inside the step timeout, so the host names what is not ready before the deadline. */
export const packWaitSeconds = (hostTimeoutSeconds: number): number => Math.max(1, hostTimeoutSeconds - 30);

/** The profile version a node configuration of this operation is rendered from. */
export function profileTargetOf(op: OperationRecord, cluster: Pick<ClusterRecord, 'profile'>): { readonly name: string; readonly version: string } {
  return op.type === 'reconfigure' ? op.input.profile : op.type === 'upgrade-cluster' ? op.input.to : cluster.profile;
}

/** Where nodes (and kubectl) reach the API server: the VIP, else the init node's reported address recorded when the create began. */
export function controlPlaneAddressOf(cluster: Pick<ClusterRecord, 'vip' | 'controlPlaneAddress' | 'name'>, hostId: string): string {
  const address = cluster.vip ?? cluster.controlPlaneAddress;
  if (!address) {
    throw new ConflictError('no-control-plane-address', `cluster ${cluster.name} has no VIP and no control-plane address recorded, so ${hostId} would have nowhere to join; the create records the init node's reported address when it begins: check that host's network, or recreate the cluster with a vip`);
  }
  return address;
}

/** The variable values a node configuration of this operation renders: a reconfigure's new ones, else the cluster's. */
export function variablesOf(op: OperationRecord, cluster: Pick<ClusterRecord, 'variables' | 'secretVariables'>): ClusterVariables {
  if ((op.type === 'reconfigure' || op.type === 'upgrade-cluster') && op.input.variables) return { values: op.input.variables.values, secrets: op.input.variables.secrets };
  return { values: cluster.variables ?? {}, secrets: cluster.secretVariables ?? [] };
}

/** A node's role in the cluster: the first control-plane host initialised it. */
export function roleIn(cluster: Pick<ClusterRecord, 'controlPlane'>, hostId: string): NodeRole {
  return cluster.controlPlane.hostIds[0] === hostId ? 'init' : cluster.controlPlane.hostIds.includes(hostId) ? 'control-plane' : 'worker';
}

export interface CommandInputs {
  readonly op: OperationRecord;
  readonly cluster: ClusterRecord;
  readonly task: StepTask;
  /** The layers of `profileTargetOf(op, cluster)`; required when `needsLayers(op, task.step)`. */
  readonly layers?: readonly Layer[];
  /** The variables that profile version declares (their values: `variablesOf(op, cluster)`). */
  readonly variables?: readonly ProfileVariable[];
  /** The per-host step timeout (a drain ends 30 s before it; a node waits this long for Ready). */
  readonly hostTimeoutSeconds: number;
  /** The placeholder the device replaces with the join token, and the secret's name. */
  readonly joinToken: { readonly placeholder: string; readonly secret: string };
}

/** The command for each step of each workflow kind. Pure: throws a ConflictError when the operation cannot supply it. */
export function commandFor(i: CommandInputs): CommandSpec {
  const { op, cluster, task } = i;
  const node = task.subject ?? task.hostId;
  switch (task.step) {
    case 'init': case 'join-control-plane': case 'join-worker':
      return nodeConfig(i, task.step === 'init' ? 'init' : task.step === 'join-control-plane' ? 'control-plane' : 'worker', 'bootstrap');
    case 'restart': case 'reload':
      return nodeConfig(i, roleIn(cluster, task.hostId), task.step);
    case 'reboot':
      return nodeConfig(i, roleIn(cluster, task.hostId), 'write', { reboot: true });
    case 'drain': {
      const requested = op.type === 'upgrade-cluster' ? op.input.drainTimeoutSeconds : undefined;
      const timeoutSeconds = Math.min(3600, requested ?? Math.max(1, i.hostTimeoutSeconds - 30));
      return { type: 'kube-node', params: { action: 'drain', node, timeoutSeconds } };
    }
    case 'remove-node':
      return { type: 'kube-node', params: { action: 'delete', node } };
    case 'reset':
      return { type: 'reset', params: {} };
    case 'cordon': case 'uncordon':
      return { type: 'kube-node', params: { action: task.step, node } };
    case 'export-kubeconfig':
      return { type: 'export-kubeconfig', params: { address: controlPlaneAddressOf(cluster, task.hostId) } };
    case 'preflight': {
      const t = imageTarget(i);
      // A rollback starts right after the failed upgrade, often while the node it fell back on is still
      // coming up: its preflight waits for Ready (within the host step's time) instead of refusing at once.
      const waitReady: Record<string, number> = op.type === 'upgrade-cluster' && op.input.rollbackOf ? { readyTimeoutSeconds: Math.max(1, i.hostTimeoutSeconds - 30) } : {};
      return { type: 'preflight', params: { ...(t.image ? { image: t.image } : {}), requiredFreeMb: REQUIRED_FREE_MB, ...waitReady } };
    }
    case 'wait-packs': {
      if (!i.layers) throw new ConflictError('layers-required', `the wait-packs command of operation ${op.id} needs its profile's layers`);
      const packs = packNames(i.layers);
      if (packs.length === 0) throw new ConflictError('no-packs', `profile ${profileTargetOf(op, cluster).name}@${profileTargetOf(op, cluster).version} has no CNI, CSI or add-on pack to wait for`);
      return { type: 'wait-packs', params: { packs: packs.join(','), timeoutSeconds: packWaitSeconds(i.hostTimeoutSeconds) } };
    }
    case 'upgrade': {
      const t = imageTarget(i);
      if (!t.image) throw new ConflictError('image-required', `operation ${op.id} has no target image for ${task.hostId}`);
      return { type: 'upgrade', params: { image: t.image, ...(t.kairosVersion ? { version: t.kairosVersion } : {}), ...(t.kubeletVersion ? { kubeletVersion: t.kubeletVersion } : {}) } };
    }
  }
}

/**
 * What a preflight or an upgrade moves the host to: an upgrade's plan target; for a create or
 * scale-out, the profile's os layer (image, Kairos version from its tag) and no kubelet — the
 * host is not a node yet, so its post-boot gate is booted active into the image.
 */
function imageTarget(i: CommandInputs): { image?: string; kairosVersion?: string; kubeletVersion?: string } {
  const { op } = i;
  if (op.type === 'upgrade-cluster') return op.input.plan.target;
  if (!REPAVES_BEFORE_JOIN.has(op.type)) throw new ConflictError('plan-missing', `operation ${op.id} has no upgrade plan`);
  if (!i.layers) throw new ConflictError('layers-required', `the ${i.task.step} command of operation ${op.id} needs its profile's layers`);
  const t = osTargetOf(i.layers);
  if (!t) throw new ConflictError('image-required', `the profile of operation ${op.id} has no os image to repave ${i.task.hostId} to`);
  return { image: t.image, ...(t.kairosVersion ? { kairosVersion: t.kairosVersion } : {}) };
}

/** The kubelet version a node must be Ready at: the k8s layer's, as a kubelet reports it (with a "v"). */
function kubeletOf(layers: readonly Layer[]): string | undefined {
  const v = layers.find((l) => l.type === 'k8s')?.version;
  return v ? (v.startsWith('v') ? v : `v${v}`) : undefined;
}

function nodeConfig(i: CommandInputs, role: NodeRole, mode: 'bootstrap' | 'restart' | 'reload' | 'write', extra: Record<string, boolean> = {}): CommandSpec {
  const { op, cluster, task } = i;
  if (!i.layers) throw new ConflictError('layers-required', `the ${task.step} command of operation ${op.id} needs its profile's layers`);
  const after = op.type === 'scale-out' || op.type === 'scale-in' ? op.input.after : cluster;
  const pool = role === 'worker' ? (after.workers.find((w) => w.hostIds.includes(task.hostId))?.name ?? 'workers') : 'control-plane';
  // The VIP, else the init node's reported address stored on the cluster when the create began (never a host id).
  const controlPlaneAddress = cluster.vip ?? cluster.controlPlaneAddress;
  if (!controlPlaneAddress) {
    throw new ConflictError('no-control-plane-address', `cluster ${cluster.name} has no VIP and no control-plane address recorded, so ${task.hostId} would have nowhere to join; the create records the init node's reported address when it begins: check that host's network, or recreate the cluster with a vip`);
  }
  // The profile's variables are filled in first (secret ones as placeholders the publish fills in).
  const vars = substituteLayers(i.layers, i.variables ?? [], variablesOf(op, cluster), cluster.id);
  if (vars.problems.length > 0) throw new ConflictError('variables-unrenderable', `the ${task.step} command of operation ${op.id} cannot fill in the profile's variables: ${vars.problems.join('; ')}`);
  const cloudConfig = renderNodeConfig({
    clusterId: cluster.id, clusterName: cluster.name, hostId: task.hostId, role, pool, layers: vars.layers,
    controlPlaneAddress,
    ...(cluster.vip ? { vip: cluster.vip } : {}),
    tokenPlaceholder: i.joinToken.placeholder,
  });
  // A node counts only when Ready at the profile's Kubernetes version (a reload waits for nothing).
  const kubeletVersion = mode === 'reload' || (mode === 'write' && !extra.reboot) ? undefined : kubeletOf(i.layers);
  return {
    type: 'apply-cloud-config',
    params: { cloudConfig, mode, readyTimeoutSeconds: i.hostTimeoutSeconds, ...extra, ...(kubeletVersion ? { kubeletVersion } : {}) },
    secrets: { [i.joinToken.placeholder]: i.joinToken.secret, ...vars.secrets },
  };
}
