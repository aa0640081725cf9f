import type { WorkflowPlan } from '../../contracts/workflows.js';
import { chooseControlPlaneAddress } from '../../domain/control-plane-address.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { ReportedNode } from '../../domain/node-identity.js';
import type { ClusterRecord, OperationRecord } from '../../domain/model.js';
import { decideRepave, osTargetOf, type RepaveDecision } from '../../domain/repave.js';
import { profileTargetOf } from '../../domain/host-command.js';
import { packNames } from '../../domain/packs.js';
import { planPhases } from '../../domain/workflow-phases.js';
import { upgradePhases } from './upgrade-steps.js';
import { joinTokenSecret, loadOperation, type WorkflowDeps } from './deps.js';
import { hostAddresses, reportedNode } from './node-state.js';

/** Seconds a host task may outlive its command's deadline before Step Functions times it out (a backstop). */
const TASK_TIMEOUT_MARGIN_SECONDS = 60;

export interface TopologyInput {
  readonly controlPlane: { readonly hostIds: readonly string[] };
  readonly workers: readonly { readonly name: string; readonly hostIds: readonly string[] }[];
}

/**
 * `begin`: the operation starts running (again, after a restart: every step is idempotent),
 * the hosts it needs are checked, and the plan — host tasks per phase — is returned to the
 * state machine.
 */
export async function beginOperation(deps: WorkflowDeps, operationId: string, execution?: string): Promise<WorkflowPlan> {
  const op = await loadOperation(deps, operationId);
  const now = deps.clock.now().toISOString();
  if (execution !== undefined && execution !== (op.execution ?? op.id)) {
    throw new ConflictError('run-replaced', `run ${execution} of operation ${op.id} was replaced by run ${op.execution ?? op.id}; this run does nothing`);
  }
  // A paused operation starts again only through resume (which queues it); a stale run may not revive it.
  const running = op.ending ? undefined : await deps.operations.update(op.id, { status: 'running', step: 'begin' }, ['queued', 'running'], now);
  if (!running) throw new ConflictError('operation-ended', `operation ${op.id} is ${op.ending ? `ending (${op.ending})` : op.status}; this run does nothing`);
  const cluster = await deps.clusters.get(op.target.id);
  if (!cluster) throw new NotFoundError('cluster-not-found', `cluster ${op.target.id} no longer exists`);
  const hostTimeoutSeconds = deps.settings.hostTimeoutSeconds + TASK_TIMEOUT_MARGIN_SECONDS;
  if (running.type === 'upgrade-cluster') {
    const behaviour = running.input.plan.behaviour;
    if (behaviour !== 'repave' && behaviour !== 'no-op') await ensureControlPlaneAddress(deps, running, cluster);
    const { phases, maxUnavailable } = await upgradePhases(deps, running, cluster);
    return { phases, hostTimeoutSeconds, maxUnavailable };
  }
  const phases = await kindPhases(deps, { ...running, status: op.status }, cluster);
  return { phases, hostTimeoutSeconds };
}

/** The kind's phases (domain/workflow-phases.ts), after the hosts they need are checked, the control-plane address is fixed and the join token exists. */
async function kindPhases(deps: WorkflowDeps, op: OperationRecord, read: ClusterRecord): Promise<WorkflowPlan['phases']> {
  const claimed = new Set<string>();
  if (op.type === 'delete-cluster') {
    for (const h of [...read.controlPlane.hostIds, ...read.workers.flatMap((w) => w.hostIds)]) if ((await deps.hosts.get(h))?.clusterId === read.id) claimed.add(h);
  }
  const first = planPhases(op, read, { claimed });
  if (!first.ok) throw new ConflictError(first.code, first.message);
  if (first.needOnline.length > 0) await requireOnline(deps, op, read, first.needOnline);
  const rendersConfig = op.type === 'create-cluster' || op.type === 'scale-out' || (op.type === 'reconfigure' && op.input.behaviour !== 'no-op');
  const cluster = rendersConfig ? await ensureControlPlaneAddress(deps, op, read) : read;
  const repave = op.type === 'create-cluster' || op.type === 'scale-out' ? await repaveDecision(deps, op, cluster) : undefined;
  const plan = planPhases(op, cluster, { claimed, ...(repave ? { repave } : {}), packs: await profilePacks(deps, op, cluster) });
  if (!plan.ok) throw new ConflictError(plan.code, plan.message);
  if (plan.joinToken) await ensureJoinToken(deps, cluster.id);
  return plan.phases;
}

/** The packs of the profile version a create or reconfigure applies (the init node waits for them at the end). */
async function profilePacks(deps: WorkflowDeps, op: OperationRecord, cluster: ClusterRecord): Promise<string[]> {
  if (op.type !== 'create-cluster' && op.type !== 'reconfigure') return [];
  if (op.type === 'reconfigure' && op.input.behaviour === 'no-op') return [];
  const target = profileTargetOf(op, cluster);
  const pv = await deps.profiles.getVersion(cluster.project, target.name, target.version);
  if (!pv) throw new NotFoundError('profile-version-not-found', `profile ${target.name}@${target.version} of cluster ${cluster.name} no longer exists`);
  return packNames(pv.layers);
}

/**
 * Without a VIP, the nodes join through the init node's reported address: chosen from its
 * latest status report (or inventory) when the operation first begins, stored on the cluster
 * and kept (a resumed run, a later scale-out use the same). No address: refused before any
 * command is sent, naming the host and what to do.
 */
async function ensureControlPlaneAddress(deps: WorkflowDeps, op: OperationRecord, cluster: ClusterRecord): Promise<ClusterRecord> {
  if (cluster.vip || cluster.controlPlaneAddress) return cluster;
  const init = cluster.controlPlane.hostIds[0];
  const choice = chooseControlPlaneAddress(cluster, init ? await hostAddresses(deps, init) : undefined);
  if (!choice.ok) throw new ConflictError(choice.code, choice.message);
  const now = deps.clock.now().toISOString();
  const updated = await deps.clusters.updateForOperation(cluster.id, op.id, { controlPlaneAddress: choice.address }, { endOperation: false, now });
  if (!updated) throw new ConflictError('operation-ended', `cluster ${cluster.name} is no longer run by operation ${op.id}; this run does nothing`);
  return updated;
}

/**
 * Which joining hosts are repaved to the profile's image first (domain/repave.ts), from each
 * host's reported running image; the hosts left out are recorded on the operation with why.
 */
async function repaveDecision(deps: WorkflowDeps, op: OperationRecord, cluster: ClusterRecord): Promise<RepaveDecision> {
  const joining = op.type === 'scale-out' ? op.input.add : [...cluster.controlPlane.hostIds, ...cluster.workers.flatMap((w) => w.hostIds)];
  const pv = await deps.profiles.getVersion(cluster.project, cluster.profile.name, cluster.profile.version);
  if (!pv) throw new NotFoundError('profile-version-not-found', `profile ${cluster.profile.name}@${cluster.profile.version} of cluster ${cluster.name} no longer exists`);
  const reported = new Map<string, ReportedNode | undefined>();
  for (const h of joining) reported.set(h, await reportedNode(deps, h));
  const decision = decideRepave(joining, osTargetOf(pv.layers), reported);
  const skipped = decision.skipped.map((s) => ({ hostId: s.hostId, step: 'repave', reason: s.reason }));
  await deps.operations.update(op.id, { skipped }, ['running'], deps.clock.now().toISOString());
  return decision;
}

/**
 * The cluster's join token, in kubeadm's bootstrap-token shape (`[a-z0-9]{6}.[a-z0-9]{16}`),
 * which k3s and rke2 accept as well. 22 characters of a 36-letter alphabet: ~113 bits.
 */
export function bootstrapToken(random: () => string): string {
  let chars = '';
  while (chars.length < 22) chars += random().toLowerCase().replace(/[^a-z0-9]/g, '');
  return `${chars.slice(0, 6)}.${chars.slice(6, 22)}`;
}

async function ensureJoinToken(deps: WorkflowDeps, clusterId: string): Promise<void> {
  await deps.secrets.ensure(joinTokenSecret(clusterId), () => bootstrapToken(() => deps.ids.secret(48)));
}

/**
 * Every host a step needs must be claimed by this cluster and online now (a host that already
 * finished its part in an earlier run of this operation is not asked again).
 */
async function requireOnline(deps: WorkflowDeps, op: OperationRecord, cluster: ClusterRecord, hostIds: readonly string[]): Promise<void> {
  // A resumed run (the operation was already running, e.g. the control plane restarted): its
  // hosts are reconnecting too; each step's host timeout gives them the time to come back.
  if (op.status !== 'queued') return;
  const problems: string[] = [];
  for (const id of hostIds) {
    if (op.hosts[id]?.status === 'succeeded') continue;
    const h = await deps.hosts.get(id);
    if (!h) problems.push(`host ${id} no longer exists`);
    else if (h.clusterId !== cluster.id) problems.push(`host ${id} is not claimed by cluster ${cluster.name}`);
    else if (h.presence !== 'online') problems.push(`host ${id} is offline`);
  }
  if (problems.length > 0) {
    throw new ConflictError('hosts-not-ready', `${problems.join('; ')}. Bring the hosts online (check power and network at the site), then start the operation again`);
  }
}

