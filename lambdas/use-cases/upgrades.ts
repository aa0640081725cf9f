import type { z } from 'zod';
import type { createUpgradeBody } from '../contracts/api.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { ClusterRecord, OperationRecord, ProfileVersionRecord, UpgradeInput, UpgradeOperation } from '../domain/model.js';
import { refusalKind } from '../domain/plan-refusal.js';
import { planUpgrade, type PlanResult, type UpgradeNode, type UpgradePlan } from '../domain/upgrade-plan.js';
import type { StatusStore } from '../ports/device-plane.js';
import { moveVariables, newOperation, ownerOf, requireIdle, start, stopRun, storeSecretVariables, targetVersions, type ClusterOpsDeps, type OperationOwner, type VariablesMove } from './cluster-operations.js';
import { mutate, read, visible, type RequestContext } from './context.js';
import { operationDeadline } from './workflows/deps.js';
import { reportedNode } from './workflows/node-state.js';

/** What the upgrade use cases need beyond the cluster operations: the hosts' reported status. */
export interface UpgradeDeps extends ClusterOpsDeps {
  readonly status: Pick<StatusStore, 'get'>;
}


const notFound = (what: string) => () => new NotFoundError('upgrade-not-found', `${what} does not exist in this project`);

/** The kubelet version a host last reported (status report `kubernetes.version`). */
export async function reportedKubelet(deps: Pick<UpgradeDeps, 'status'>, hostId: string): Promise<string | undefined> {
  return (await reportedNode(deps, hostId))?.kubernetes?.version;
}

/** The cluster's nodes with what each reports running (kubelet, Kairos version and image): the planner refuses downgrades from it. */
export async function clusterNodes(deps: Pick<UpgradeDeps, 'status'>, c: Pick<ClusterRecord, 'controlPlane' | 'workers'>): Promise<UpgradeNode[]> {
  const node = async (hostId: string, role: UpgradeNode['role'], pool: string): Promise<UpgradeNode> => {
    const r = await reportedNode(deps, hostId);
    const v = r?.kubernetes?.version;
    const running = r ? { ...(r.boot.image ? { image: r.boot.image } : {}), ...(r.boot.kairosVersion ? { kairosVersion: r.boot.kairosVersion } : {}) } : {};
    return { hostId, role, pool, ...(v ? { kubeletVersion: v } : {}), ...(Object.keys(running).length ? { running } : {}) };
  };
  const nodes: UpgradeNode[] = [];
  for (const hostId of c.controlPlane.hostIds) nodes.push(await node(hostId, 'control-plane', 'control-plane'));
  for (const w of c.workers) {
    for (const hostId of w.hostIds) nodes.push(await node(hostId, 'worker', w.name));
  }
  return nodes;
}

/** Sequential host steps of a plan: every control-plane node, then worker batches. */
export function sequentialSteps(plan: UpgradePlan): number {
  const steps = (n: { steps: readonly unknown[] }) => Math.max(1, n.steps.length);
  const cp = plan.controlPlane.reduce((t: number, n) => t + steps(n), 0);
  const perBatch = Math.max(0, ...plan.workers.map(steps));
  return cp + Math.ceil(plan.workers.length / plan.maxUnavailable) * perBatch;
}

/**
 * POST /v1/clusters/{id}/upgrades: plans the rolling upgrade (pure planner: behaviour per node,
 * control plane first one at a time, workers maxUnavailable at a time, version skew, downtime)
 * and starts it as an operation. A plan that needs downtime is refused unless acknowledged.
 * A maintenance window's start holds the operation queued until then (the sweep starts it).
 */
export async function startUpgrade(deps: UpgradeDeps, ctx: RequestContext, clusterId: string, body: z.infer<typeof createUpgradeBody>): Promise<OperationRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.upgrade', resource: `cluster/${clusterId}`,
    run: async () => {
      const cluster = visible(ctx, await deps.clusters.get(clusterId), () => new NotFoundError('cluster-not-found', `cluster ${clusterId} does not exist in this project`));
      return upgradeCluster(deps, ownerOf(ctx), cluster, body);
    },
    describe: (op) => ({ detail: `to ${body.to.version}${op.type === 'upgrade-cluster' && op.input.variables?.changed.length ? `, variables ${op.input.variables.changed.join(', ')}` : ''}; upgrade ${op.id}` }),
  });
}

/**
 * Plans a cluster's upgrade from what its nodes report (reads only; writes nothing): the
 * request's upgrade, or its dry run (upgrade-preview.ts). `acknowledgeDowntime` overrides the
 * body's (a dry run plans as if the downtime were accepted, to show the plan it refused).
 */
export async function planClusterUpgrade(deps: UpgradeDeps, owner: Pick<OperationOwner, 'project'>, cluster: ClusterRecord, body: z.infer<typeof createUpgradeBody>, acknowledgeDowntime = body.acknowledgeDowntime):
  Promise<{ from: ProfileVersionRecord; to: ProfileVersionRecord; move: VariablesMove; planned: PlanResult }> {
  const name = body.to.name ?? cluster.profile.name;
  const { from, to } = await targetVersions(deps, owner, cluster, { name, version: body.to.version }, 'to');
  // The target version's variables (one it newly requires needs a value here), filled in so
  // that a changed value is planned like any other layer change.
  const move = moveVariables(cluster, from, to, body.variables);
  const planned = planUpgrade({
    from: move.fromLayers, to: move.toLayers, nodes: await clusterNodes(deps, cluster), now: deps.clock.now(),
    options: {
      ...(body.maxUnavailable !== undefined ? { maxUnavailable: body.maxUnavailable } : {}),
      ...(body.skipWorkers !== undefined ? { skipWorkers: body.skipWorkers } : {}),
      ...(acknowledgeDowntime !== undefined ? { acknowledgeDowntime } : {}),
      ...(body.maintenanceWindow ? { maintenanceWindow: body.maintenanceWindow } : {}),
    },
  });
  return { from, to, move, planned };
}

/**
 * Plans a cluster's upgrade and starts it as an operation on behalf of `owner`: the request's
 * (startUpgrade) or a rollout's (rollout-tick). Refusals throw (conflict or invalid).
 */
export async function upgradeCluster(deps: UpgradeDeps, owner: OperationOwner, cluster: ClusterRecord, body: z.infer<typeof createUpgradeBody>, id?: string): Promise<OperationRecord> {
  requireIdle(cluster, 'upgrade it');
  const name = body.to.name ?? cluster.profile.name;
  const { move, planned } = await planClusterUpgrade(deps, owner, cluster, body);
  if (!planned.ok) {
    if (refusalKind(planned.code) === 'conflict') throw new ConflictError(planned.code, planned.message);
    throw new ValidationError(planned.code, planned.message, { errors: [{ path: 'to', message: planned.message }] });
  }
  await storeSecretVariables(deps, cluster.id, move);
  return recordUpgrade(deps, owner, cluster, planned.plan, {
    to: { name, version: body.to.version }, from: cluster.profile, onFailure: body.onFailure ?? 'rollback',
    drainTimeoutSeconds: body.drainTimeoutSeconds ?? 600, ...(move.input ? { variables: move.input } : {}),
    ...(body.maintenanceWindow ? { notBefore: body.maintenanceWindow.start, window: body.maintenanceWindow } : {}),
  }, id);
}

/**
 * Records the upgrade operation (cluster → upgrading, one operation at a time) and starts its
 * workflow (a request's upgrade, or a failed upgrade's rollback: start-rollback.ts).
 */
export async function recordUpgrade(deps: ClusterOpsDeps, owner: OperationOwner, cluster: ClusterRecord, plan: UpgradePlan, input: Omit<UpgradeInput, 'plan'>, id?: string): Promise<OperationRecord> {
  const hosts = [...plan.controlPlane, ...plan.workers].map((n) => n.hostId);
  const notBefore = input.notBefore;
  // Stored as plain data (no undefined fields), as it is read back.
  const stored: UpgradePlan = JSON.parse(JSON.stringify(plan));
  const made = newOperation(deps, owner, { type: 'upgrade-cluster', input: { ...input, plan: stored } }, cluster, hosts, sequentialSteps(plan), deps.workflowSettings);
  const created = id ? { ...made, id } : made;
  // In a maintenance window the deadline counts from the window's start.
  const op: OperationRecord = notBefore && Date.parse(notBefore) > deps.clock.now().getTime()
    ? { ...created, deadline: operationDeadline(new Date(notBefore), sequentialSteps(plan), deps.workflowSettings) }
    : created;
  await start(deps, cluster, op, 'upgrading', undefined, !notBefore || Date.parse(notBefore) <= deps.clock.now().getTime());
  return op;
}

async function loadUpgrade(deps: ClusterOpsDeps, ctx: RequestContext, clusterId: string, upgradeId: string): Promise<UpgradeOperation> {
  const op = await deps.operations.get(upgradeId);
  if (!op || op.project !== ctx.project || op.type !== 'upgrade-cluster' || op.target.id !== clusterId) throw notFound(`upgrade ${upgradeId} of cluster ${clusterId}`)();
  return op;
}

export async function getUpgrade(deps: ClusterOpsDeps, ctx: RequestContext, clusterId: string, upgradeId: string): Promise<OperationRecord> {
  read(ctx, 'clusters:read');
  return loadUpgrade(deps, ctx, clusterId, upgradeId);
}

/**
 * pause: the workflow stops; a host command already sent finishes on its host (an image being
 * written is not interrupted) and its result is kept. The cluster stays `upgrading` until resume.
 */
export async function pauseUpgrade(deps: ClusterOpsDeps, ctx: RequestContext, clusterId: string, upgradeId: string): Promise<OperationRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.upgrade.pause', resource: `cluster/${clusterId}`,
    run: async () => {
      const op = await loadUpgrade(deps, ctx, clusterId, upgradeId);
      if (op.status === 'paused') return op;
      if (!['queued', 'running'].includes(op.status)) throw new ConflictError('upgrade-ended', `upgrade ${op.id} already ended (${op.status}); nothing to pause`);
      const now = deps.clock.now().toISOString();
      // Status first (no step of the run sends anything from now on), then the run is stopped.
      const paused = await deps.operations.update(op.id, { status: 'paused', reason: `paused by ${ctx.principal.subject}; resume to continue from each node's state` }, ['queued', 'running'], now);
      if (!paused) throw new ConflictError('upgrade-changed', `upgrade ${op.id} changed while it was paused; look at it and retry`);
      await stopRun(deps, op, `paused by ${ctx.principal.subject}`);
      return paused;
    },
    describe: () => ({ detail: `upgrade ${upgradeId}` }),
  });
}

/** resume: a new execution of the same operation; its plan starts from each node's real state. */
export async function resumeUpgrade(deps: ClusterOpsDeps, ctx: RequestContext, clusterId: string, upgradeId: string): Promise<OperationRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.upgrade.resume', resource: `cluster/${clusterId}`,
    run: async () => {
      const op = await loadUpgrade(deps, ctx, clusterId, upgradeId);
      if (op.status !== 'paused') throw new ConflictError('upgrade-not-paused', `upgrade ${op.id} is ${op.status}, not paused`);
      const runs = (op.runs ?? 1) + 1;
      const execution = `${op.id}-r${runs}`;
      const now = deps.clock.now().toISOString();
      const deadline = operationDeadline(deps.clock.now(), sequentialSteps(op.input.plan), deps.workflowSettings);
      const queued = await deps.operations.update(op.id, { status: 'queued', step: 'queued', reason: '', ending: '', runs, execution, deadline }, ['paused'], now);
      if (!queued) throw new ConflictError('upgrade-changed', `upgrade ${op.id} changed while it was resumed; look at it and retry`);
      await deps.clusters.updateForOperation(clusterId, op.id, { status: 'upgrading', statusReason: '' }, { endOperation: false, now });
      try {
        await deps.workflows.start('upgrade-cluster', execution, { operationId: op.id });
      } catch { /* the sweep starts a queued operation */ }
      return queued;
    },
    describe: () => ({ detail: `upgrade ${upgradeId}` }),
  });
}

/**
 * cancel: the workflow stops and the operation ends `cancelled`. Nodes already upgraded stay
 * upgraded; a node cordoned mid-upgrade stays cordoned: the cluster is `degraded` with that
 * reason until an upgrade (or a rollback to the previous version) makes it consistent.
 */
export async function cancelUpgrade(deps: ClusterOpsDeps, ctx: RequestContext, clusterId: string, upgradeId: string): Promise<OperationRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.upgrade.cancel', resource: `cluster/${clusterId}`,
    run: async () => {
      const op = await loadUpgrade(deps, ctx, clusterId, upgradeId);
      if (!['queued', 'running', 'paused'].includes(op.status)) throw new ConflictError('upgrade-ended', `upgrade ${op.id} already ended (${op.status}); nothing to cancel`);
      const now = deps.clock.now().toISOString();
      const reason = `cancelled by ${ctx.principal.subject} during ${op.step}`;
      // Status first (no step of the run sends anything from now on), then the run is stopped.
      const cancelled = await deps.operations.update(op.id, { status: 'cancelled', reason }, ['queued', 'running', 'paused'], now);
      if (!cancelled) throw new ConflictError('upgrade-changed', `upgrade ${op.id} changed while it was cancelled; look at it and retry`);
      await stopRun(deps, op, `cancelled by ${ctx.principal.subject}`);
      await deps.clusters.updateForOperation(clusterId, op.id, { status: 'degraded', statusReason: `upgrade ${op.id} ${reason}; nodes may run different versions: upgrade again or roll back` }, { endOperation: true, now });
      return cancelled;
    },
    describe: () => ({ detail: `upgrade ${upgradeId}` }),
  });
}
