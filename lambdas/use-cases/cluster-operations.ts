import type { z } from 'zod';
import type { reconfigureClusterBody, scaleClusterBody } from '../contracts/api.js';
import type { WorkflowKind } from '../contracts/workflows.js';
import { ConflictError, NotFoundError, UnprocessableError, ValidationError } from '../domain/errors.js';
import { changedVariables, checkValues, layersForComparison, secretVariableName, type ClusterVariables, type VariableValue } from '../domain/profile-variables.js';
import { CLAIMABLE } from '../domain/host-lifecycle.js';
import type { ClusterRecord, ClusterStatus, HostProgress, OperationRecord, OperationSpec, ProfileVersionRecord, ReconfigureVariables } from '../domain/model.js';
import { classifyChanges, RECONFIGURE_ALLOWED } from '../domain/reconfigure.js';
import { planScale } from '../domain/scaling.js';
import type { SecretStore, WorkflowEngine } from '../ports/workflow.js';
import { mutate, visible, type Deps, type RequestContext } from './context.js';
import { reportSwallowed } from './swallowed-failure.js';
import { operationDeadline, type WorkflowSettings } from './workflows/deps.js';

/** What the cluster HTTP use cases need beyond the repositories: a way to start workflows. */
export interface ClusterOpsDeps extends Deps {
  readonly workflows: Pick<WorkflowEngine, 'start' | 'stop'>;
  readonly workflowSettings: WorkflowSettings;
  /** Where create and reconfigure keep a cluster's secret variables (written, never read, here). */
  readonly secrets: Pick<SecretStore, 'put'>;
}

export interface ClusterWithOperation extends ClusterRecord {
  readonly operationId: string;
}

const clusterNotFound = (id: string) => () => new NotFoundError('cluster-not-found', `cluster ${id} does not exist in this project`);

/**
 * Starts the operation's workflow. A failure here loses nothing: the operation is stored as
 * queued and the sweep starts it within a minute or two (the execution name is its id).
 */
export async function startWorkflow(deps: Pick<ClusterOpsDeps, 'workflows'>, kind: WorkflowKind, operationId: string): Promise<void> {
  try {
    await deps.workflows.start(kind, operationId, { operationId });
  } catch (error) {
    // Left queued for the sweep: the request still succeeds.
    reportSwallowed({
      metric: 'WorkflowStartFailed', error, operationId, workflow: kind,
      message: `the ${kind} workflow of operation ${operationId} did not start; the operation stays queued and the sweep starts it within a few minutes`,
      action: 'if the operation stays queued, check the state machine exists and the API role may call states:StartExecution on it',
    });
  }
}

/**
 * Stops an operation's current run, after its status already changed (so none of its steps
 * sends anything any more, stopped or not). A failure is reported, never thrown: the request
 * that ended the operation succeeded.
 */
export async function stopRun(deps: Pick<ClusterOpsDeps, 'workflows'>, op: Pick<OperationRecord, 'id' | 'type' | 'execution'>, cause: string): Promise<void> {
  // A host's agent update has no workflow run to stop.
  if (op.type === 'agent-update') return;
  const kind: WorkflowKind = op.type;
  try {
    await deps.workflows.stop(kind, op.execution ?? op.id, cause);
  } catch (error) {
    reportSwallowed({
      metric: 'WorkflowStopFailed', error, operationId: op.id, execution: op.execution ?? op.id, workflow: kind,
      message: `the ${kind} run ${op.execution ?? op.id} of operation ${op.id} could not be stopped (${cause}); its operation has ended, so its steps send nothing`,
      action: 'no action needed for the hosts; if it repeats, check the role may call states:StopExecution on the workflow\'s executions',
    });
  }
}

/** Whom an operation belongs to: a request's project and principal, or (a rollback) the failed operation's. */
export interface OperationOwner {
  readonly project: string;
  readonly requestedBy: string;
}
export const ownerOf = (ctx: RequestContext): OperationOwner => ({ project: ctx.project, requestedBy: ctx.principal.subject });

/** A new queued operation of `spec`'s kind, with its typed input, on the cluster; every host pending. */
export function newOperation(deps: Pick<Deps, 'ids' | 'clock'>, owner: OperationOwner, spec: OperationSpec, cluster: Pick<ClusterRecord, 'id'>,
  hostIds: readonly string[], sequentialSteps: number, settings: WorkflowSettings): OperationRecord {
  const now = deps.clock.now();
  const pending: HostProgress = { status: 'pending' };
  return {
    id: `op-${deps.ids.newId()}`, project: owner.project, target: { type: 'cluster', id: cluster.id }, status: 'queued', step: 'queued',
    hosts: Object.fromEntries(hostIds.map((h) => [h, pending])), startedAt: now.toISOString(), updatedAt: now.toISOString(),
    deadline: operationDeadline(now, sequentialSteps, settings), requestedBy: owner.requestedBy, ...spec,
  };
}

/**
 * The hosts a cluster is about to claim, each at the version it was read at (the claim
 * transaction re-checks it): they must exist in this project, be approved and unclaimed.
 */
export async function claimableHosts(deps: Pick<Deps, 'hosts'>, ctx: RequestContext, hostIds: readonly string[], what: string): Promise<Record<string, number>> {
  const expected: Record<string, number> = {};
  const problems: string[] = [];
  for (const id of hostIds) {
    const h = await deps.hosts.get(id);
    if (!h || h.project !== ctx.project) problems.push(`host ${id} does not exist in this project`);
    else if (h.clusterId) problems.push(`host ${id} already belongs to cluster ${h.clusterId}`);
    else if (!CLAIMABLE.has(h.status)) problems.push(`host ${id} is ${h.status}, not approved`);
    else expected[id] = h.version;
  }
  if (problems.length > 0) throw new ConflictError('hosts-unavailable', `${what}: ${problems.join('; ')}`);
  return expected;
}

const hostsOf = (c: Pick<ClusterRecord, 'controlPlane' | 'workers'>) => [...c.controlPlane.hostIds, ...c.workers.flatMap((w) => w.hostIds)];

/** One operation at a time, on a cluster that is up: what every Day-2 request checks first. */
export function requireIdle(c: ClusterRecord, what: string): void {
  if (c.activeOperationId) {
    throw new ConflictError('cluster-busy', `cluster ${c.name} is running operation ${c.activeOperationId}; wait for it (edgefleet operations watch ${c.activeOperationId}) before you ${what}`);
  }
  const ok: readonly ClusterStatus[] = ['running', 'degraded'];
  if (!ok.includes(c.status)) throw new ConflictError('cluster-not-running', `cluster ${c.name} is ${c.status}; wait until it is running or degraded before you ${what}`);
}

/**
 * The cluster's current profile version and the published target version of the same profile
 * (reconfigure and upgrade move a cluster between versions of its profile). `path` names the
 * request field in errors (`profile`, `to`).
 */
export async function targetVersions(deps: Pick<Deps, 'profiles'>, ctx: Pick<RequestContext, 'project'>, cluster: ClusterRecord, target: { name: string; version: string }, path: string):
  Promise<{ from: ProfileVersionRecord; to: ProfileVersionRecord }> {
  if (target.name !== cluster.profile.name) {
    throw new ValidationError('profile-mismatch', `cluster ${cluster.name} is built from profile ${cluster.profile.name}; move it to another version of that profile, not to ${target.name}`,
      { errors: [{ path: `${path}.name`, message: `must be ${cluster.profile.name}` }] });
  }
  const [from, to] = await Promise.all([
    deps.profiles.getVersion(ctx.project, cluster.profile.name, cluster.profile.version),
    deps.profiles.getVersion(ctx.project, target.name, target.version),
  ]);
  if (!to || to.project !== ctx.project) throw new ValidationError('profile-version-not-found', `profile ${target.name}@${target.version} does not exist in this project`, { errors: [{ path: `${path}.version`, message: 'unknown profile version' }] });
  if (to.status !== 'published') throw new ValidationError('profile-version-draft', `profile ${target.name}@${target.version} is a draft; publish it first`, { errors: [{ path: `${path}.version`, message: 'not published' }] });
  if (!from) throw new ConflictError('profile-version-missing', `the cluster's current profile version ${cluster.profile.name}@${cluster.profile.version} is gone; cannot compare it with the target`);
  return { from, to };
}

/**
 * Records the operation with the cluster change and any new claims (one transaction) and
 * starts its workflow — unless `startNow` is false (a maintenance window: the sweep starts it).
 */
export async function start(deps: ClusterOpsDeps, cluster: ClusterRecord, op: OperationRecord, status: ClusterStatus, claim?: Record<string, number>, startNow = true): Promise<ClusterWithOperation> {
  const out = await deps.clusters.startOperation(cluster, op, { status }, claim);
  if (!out.ok) {
    if (out.busy) throw new ConflictError('cluster-busy', `cluster ${cluster.name} started another operation at the same moment; look at it and retry`);
    if (out.stale) throw new ConflictError('cluster-changed', `cluster ${cluster.name} changed while this request was checked; retry`);
    throw new ConflictError('hosts-unavailable', `cluster ${cluster.name} cannot claim its new hosts: ${out.failures.map((f) => `${f.hostId} ${f.reason}`).join('; ')}; nothing was claimed`);
  }
  if (startNow && op.type !== 'agent-update') await startWorkflow(deps, op.type, op.id);
  return { ...out.cluster, operationId: op.id };
}

/** scale: add approved hosts to a pool (claimed now, joined by the workflow) or remove hosts from it. */
export async function scaleCluster(deps: ClusterOpsDeps, ctx: RequestContext, id: string, body: z.infer<typeof scaleClusterBody>): Promise<ClusterWithOperation> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.scale', resource: `cluster/${id}`,
    run: async () => {
      const cluster = visible(ctx, await deps.clusters.get(id), clusterNotFound(id));
      requireIdle(cluster, 'scale it');
      const plan = planScale(cluster, body);
      if (!plan.ok) throw new ValidationError(plan.code, plan.message, { errors: [{ path: body.add ? 'add' : 'remove', message: plan.message }] });
      const after = { controlPlane: { hostIds: plan.controlPlane }, workers: plan.workers };
      if (plan.direction === 'out') {
        const expected = await claimableHosts(deps, ctx, plan.hostIds, `cluster ${cluster.name} cannot add its hosts`);
        const steps = plan.pool === 'control-plane' ? plan.hostIds.length : Math.ceil(plan.hostIds.length / 10);
        const op = newOperation(deps, ownerOf(ctx), { type: 'scale-out', input: { pool: plan.pool, add: plan.hostIds, after } }, cluster, plan.hostIds, steps, deps.workflowSettings);
        return start(deps, cluster, op, 'updating', expected);
      }
      const op = newOperation(deps, ownerOf(ctx), { type: 'scale-in', input: { pool: plan.pool, remove: plan.hostIds, after } }, cluster, plan.hostIds, plan.hostIds.length * 2 + 1, deps.workflowSettings);
      return start(deps, cluster, op, 'updating');
    },
    describe: (c) => ({ detail: `${body.add ? 'add' : 'remove'} ${(body.add ?? body.remove ?? []).join(',')} (${body.pool}); operation ${c.operationId}` }),
  });
}

const variablesOfCluster = (c: ClusterRecord): ClusterVariables => ({ values: c.variables ?? {}, secrets: c.secretVariables ?? [] });

/** A move of a cluster between profile versions with new variable values, checked; nothing written yet. */
export interface VariablesMove {
  /** The two versions' layers with the variables filled in (a new secret value shows as changed), to classify or plan. */
  readonly fromLayers: ProfileVersionRecord['layers'];
  readonly toLayers: ProfileVersionRecord['layers'];
  /** Names of the variables the move changes, secret ones included. */
  readonly changed: readonly string[];
  /** The new secret values: for the secret store only (`storeSecretVariables`). */
  readonly secretValues: Readonly<Record<string, string>>;
  /** The operation's `input.variables` when it sets any. */
  readonly input?: ReconfigureVariables;
}

/**
 * Checks `supplied` against the variables `to` declares, keeping the cluster's other values
 * (422 invalid-variables naming each problem), and fills them into both versions' layers so the
 * change is classified like any layer change. Shared by reconfigure and upgrade.
 */
export function moveVariables(cluster: ClusterRecord, from: ProfileVersionRecord, to: ProfileVersionRecord, supplied: Readonly<Record<string, VariableValue>> | undefined): VariablesMove {
  const current = variablesOfCluster(cluster);
  const checked = checkValues(to.variables ?? [], supplied ?? {}, current);
  if (!checked.ok) {
    throw new UnprocessableError('invalid-variables', `cluster ${cluster.name} cannot move to ${to.name}@${to.version} with these variables: ${checked.errors.map((e) => e.message).join('; ')}`, { errors: checked.errors });
  }
  const newSecrets = Object.keys(checked.secretValues);
  const changed = changedVariables(current, checked.variables, newSecrets);
  return {
    fromLayers: layersForComparison(from.layers, from.variables ?? [], current),
    toLayers: layersForComparison(to.layers, to.variables ?? [], checked.variables, newSecrets),
    changed, secretValues: checked.secretValues,
    ...(supplied || changed.length > 0 ? { input: { values: checked.variables.values, secrets: [...checked.variables.secrets], changed: [...changed] } } : {}),
  };
}

/** Puts a move's new secret values into the secret store (`clusters/<id>/vars/<NAME>`). */
export async function storeSecretVariables(deps: Pick<ClusterOpsDeps, 'secrets'>, clusterId: string, move: VariablesMove): Promise<void> {
  for (const [name, value] of Object.entries(move.secretValues)) await deps.secrets.put(secretVariableName(clusterId, name), value);
}

/**
 * reconfigure: a new profile version, new variable values, or both, whose changes are
 * restarts, reloads or nothing; the rest is the upgrade API's. New values are classified like
 * any layer change: the layers are compared with the variables filled in (a new secret value
 * changes the layers that use it).
 */
export async function reconfigureCluster(deps: ClusterOpsDeps, ctx: RequestContext, id: string, body: z.infer<typeof reconfigureClusterBody>): Promise<ClusterWithOperation> {
  let changed: readonly string[] = [];
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'cluster.reconfigure', resource: `cluster/${id}`,
    run: async () => {
      const cluster = visible(ctx, await deps.clusters.get(id), clusterNotFound(id));
      requireIdle(cluster, 'reconfigure it');
      const target = body.profile ?? cluster.profile;
      const { from, to } = await targetVersions(deps, ctx, cluster, target, 'profile');
      const move = moveVariables(cluster, from, to, body.variables);
      changed = move.changed;
      const plan = classifyChanges(move.fromLayers, move.toLayers);
      if (!RECONFIGURE_ALLOWED.has(plan.behaviour)) {
        const list = plan.changes.filter((c) => !RECONFIGURE_ALLOWED.has(c.behaviour)).map((c) => `${c.layer} ${c.change} → ${c.behaviour} (${c.reason})`).join('; ');
        throw new ConflictError('reconfigure-needs-upgrade',
          `moving cluster ${cluster.name} to ${target.name}@${target.version} needs a ${plan.behaviour} of its nodes: ${list}. ` +
          `Use the rolling upgrade instead: POST /v1/clusters/${cluster.id}/upgrades (edgefleet clusters upgrade ${cluster.id} --to ${target.name}@${target.version}${Object.keys(body.variables ?? {}).length ? ' with the same variables' : ''})`);
      }
      await storeSecretVariables(deps, cluster.id, move);
      const hosts = plan.behaviour === 'no-op' ? [] : hostsOf(cluster);
      const op = newOperation(deps, ownerOf(ctx), {
        type: 'reconfigure', input: { profile: target, behaviour: plan.behaviour, changes: plan.changes.map((c) => ({ ...c })), ...(move.input ? { variables: move.input } : {}) },
      }, cluster, hosts, hosts.length, deps.workflowSettings);
      return start(deps, cluster, op, 'updating');
    },
    describe: (c) => ({ detail: `to ${(body.profile ?? c.profile).name}@${(body.profile ?? c.profile).version}${changed.length > 0 ? `, variables ${changed.join(', ')}` : ''}; operation ${c.operationId}` }),
  });
}

/**
 * delete: an operation resets every host through the statereset boot entry, releases it and
 * removes the cluster. A workflow still running on the cluster (e.g. a create stuck on an
 * offline host) is stopped and its operation cancelled first. Deleting a cluster that is
 * already being deleted answers with that operation.
 */
export async function deleteCluster(deps: ClusterOpsDeps, ctx: RequestContext, id: string): Promise<ClusterWithOperation> {
  return mutate(deps, ctx, {
    action: 'clusters:delete', audit: 'cluster.delete', resource: `cluster/${id}`,
    run: async () => {
      let cluster = visible(ctx, await deps.clusters.get(id), clusterNotFound(id));
      const active = cluster.activeOperationId ? await deps.operations.get(cluster.activeOperationId) : undefined;
      if (active?.type === 'delete-cluster' && ['queued', 'running'].includes(active.status)) return { ...cluster, operationId: active.id };
      if (cluster.activeOperationId) {
        const now = deps.clock.now().toISOString();
        const reason = `cancelled: cluster ${cluster.name} is being deleted (by ${ctx.principal.subject})`;
        if (active) {
          // Status first (no step of the run sends anything from now on), then the run is stopped.
          await deps.operations.update(active.id, { status: 'cancelled', reason, endedAt: now }, ['queued', 'running', 'paused'], now);
          await stopRun(deps, active, reason);
        }
        cluster = (await deps.clusters.updateForOperation(cluster.id, cluster.activeOperationId, {}, { endOperation: true, now })) ?? cluster;
      }
      // Only hosts still claimed by it: a failed create already released (and reset) its hosts.
      const hosts: string[] = [];
      for (const h of hostsOf(cluster)) if ((await deps.hosts.get(h))?.clusterId === cluster.id) hosts.push(h);
      const op = newOperation(deps, ownerOf(ctx), { type: 'delete-cluster' }, cluster, hosts, Math.ceil(hosts.length / 10), deps.workflowSettings);
      return start(deps, cluster, op, 'deleting');
    },
    describe: (c) => ({ detail: `operation ${c.operationId}` }),
  });
}
