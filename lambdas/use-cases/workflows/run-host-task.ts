import { createHash } from 'node:crypto';
import type { HostCommandInput, HostTask } from '../../contracts/workflows.js';
import { WORKFLOW_ERRORS } from '../../contracts/workflows.js';
import { isFinished, supersede, type CommandRecord } from '../../domain/command.js';
import { ConflictError, NotFoundError } from '../../domain/errors.js';
import type { ClusterRecord, OperationRecord } from '../../domain/model.js';
import { commandFor as decideCommand, needsLayers, profileTargetOf, type CommandSpec } from '../../domain/host-command.js';
import { runEnded } from '../../domain/workflow.js';
import { checkDrain, choosePeer, whyOut, type NodeView } from '../../domain/availability.js';
import { clusterView } from './cluster-view.js';
import { publishStored, storedSent } from '../device-messages.js';
import { completeToken, progressHost } from './command-changed.js';
import { JOIN_TOKEN_PLACEHOLDER, joinTokenSecret, loadOperation, type WorkflowDeps } from './deps.js';

/** A deterministic command id per (operation, phase, task): a retried or resumed step finds its command again. */
export function taskCommandId(operationId: string, phase: string, task: HostTask): string {
  const h = createHash('sha256').update(JSON.stringify([operationId, phase, task.hostId, task.step, task.subject ?? ''])).digest('base64url');
  return `wf-${h.slice(0, 40)}`;
}

export type HostTaskOutcome = 'sent' | 'already-finished' | 'operation-ended';

/**
 * host-command (a `.waitForTaskToken` task): sends the host the command for its step, carrying
 * the task token; the result handler completes the token when the host reports the end. A
 * resumed workflow finds the command it sent before: finished → the token is completed now;
 * unfinished → the command takes the new token and is sent again.
 */
export async function runHostTask(deps: WorkflowDeps, request: HostCommandInput): Promise<HostTaskOutcome> {
  const op = await loadOperation(deps, request.operationId);
  const now = deps.clock.now();
  // Only the operation's live run sends anything: not after a failure, pause, cancel or stop,
  // not from a run that a resume replaced (defence in depth behind the engine's own stop).
  const ended = runEnded(op, request.execution);
  if (ended) {
    await deps.workflows.sendTaskFailure(request.token, WORKFLOW_ERRORS.invalid, `${ended}; ${request.task.step} of ${request.task.subject ?? request.task.hostId} not sent`);
    return 'operation-ended';
  }
  // An upgrade's peer step (drain, uncordon) runs from a control-plane node that is online and
  // Ready now, and a drain only when the whole cluster's availability allows it.
  const peerStep = op.type === 'upgrade-cluster' && request.task.subject !== undefined && request.task.subject !== request.task.hostId;
  const view = peerStep ? await peerStepView(deps, op, request.task) : undefined;
  const input: HostCommandInput = view ? { ...request, task: { ...request.task, hostId: livePeer(view, request.task) } } : request;
  // The command of this step, as sent by this run or an earlier one: one that succeeded or is
  // still running on the host is adopted (never sent twice); one an earlier run saw fail or
  // time out is retried under this run's id (a resumed upgrade tries the node again).
  const runs = op.runs ?? 1;
  const base = taskCommandId(op.id, input.phase, input.task);
  const idOf = (run: number) => (run === 1 ? base : `${base}-r${run}`);
  let existing: CommandRecord | undefined;
  for (let run = runs; run >= 1 && !existing; run--) {
    const c = await deps.commands.get(input.task.hostId, idOf(run));
    if (c && (run === runs || (c.state !== 'failed' && c.state !== 'timed-out' && c.state !== 'superseded'))) existing = c;
    else if (c) break;
  }
  const commandId = idOf(runs);
  // The operation names the phase it is in (a failure's reason quotes it), also when a resumed
  // run adopts its commands; written only when it changes.
  if (op.step !== input.phase) await deps.operations.update(op.id, { step: input.phase }, ['running'], now.toISOString());
  if (existing) {
    const next = await adopt(deps, existing, input, now);
    if (isFinished(next)) {
      await completeToken(deps, next);
      return 'already-finished';
    }
    if (next.state === 'queued' || next.state === 'sent') return (await publishIfLive(deps, next, input)) ? 'sent' : 'operation-ended';
    return 'sent';
  }
  const cluster = await requireCluster(deps, op);
  if (peerStep && input.task.step === 'drain' && view) {
    const verdict = checkDrain({ nodes: view, subject: input.task.subject ?? input.task.hostId, maxUnavailable: upgradeBudget(op) });
    if (!verdict.ok) throw new ConflictError('availability', `not draining: ${verdict.reason}`);
  }
  const command = await commandFor(deps, op, cluster, input.task);
  // Stored already marked sent: it is published right below (publishStored sets it back to
  // queued if that fails; superseded if the run ended meanwhile).
  const record: CommandRecord = storedSent({
    ...command, hostId: input.task.hostId, commandId, state: 'queued', version: 1,
    deadline: new Date(now.getTime() + deps.settings.hostTimeoutSeconds * 1000).toISOString(),
    createdAt: now.toISOString(), updatedAt: now.toISOString(),
    operationId: op.id, ...(input.execution ? { execution: input.execution } : {}), taskToken: input.token, workflowStep: input.task.step,
    ...(input.task.subject ? { subjectHostId: input.task.subject } : {}),
  }, now);
  await deps.operations.setHost(op.id, progressHost(record), { status: 'queued', step: input.task.step, commandId, at: now.toISOString() }, record.hostId);
  if (!(await deps.commands.create(record))) {
    throw new ConflictError('command-exists', `command ${commandId} on ${input.task.hostId} was created concurrently; the step is retried`);
  }
  return (await publishIfLive(deps, record, input)) ? 'sent' : 'operation-ended';
}

/**
 * The run may have ended while the command was prepared: look once more right before it goes
 * out. A command of an ended run is superseded (never delivered, also not on reconnect).
 */
async function publishIfLive(deps: WorkflowDeps, record: CommandRecord, input: HostCommandInput): Promise<boolean> {
  const fresh = await deps.operations.get(record.operationId ?? input.operationId);
  const ended = fresh ? runEnded(fresh, input.execution) : `operation ${input.operationId} no longer exists`;
  if (!ended) {
    await publishStored(deps, record);
    return true;
  }
  const superseded = supersede(record, deps.clock.now(), ended);
  if (superseded) await deps.commands.update(superseded);
  await deps.workflows.sendTaskFailure(input.token, WORKFLOW_ERRORS.invalid, `${ended}; ${input.task.step} of ${input.task.subject ?? input.task.hostId} not sent`);
  return false;
}

async function requireCluster(deps: WorkflowDeps, op: OperationRecord): Promise<ClusterRecord> {
  const cluster = await deps.clusters.get(op.target.id);
  if (!cluster) throw new NotFoundError('cluster-not-found', `cluster ${op.target.id} no longer exists`);
  return cluster;
}

/**
 * What a peer step needs to see: a drain, every node of the cluster (the availability check);
 * an uncordon, only its planned peer while that one can act (two reads), else every node.
 */
async function peerStepView(deps: WorkflowDeps, op: OperationRecord, task: HostTask): Promise<NodeView[]> {
  const cluster = await requireCluster(deps, op);
  if (task.step !== 'drain' && cluster.controlPlane.hostIds.includes(task.hostId)) {
    const planned = await clusterView(deps, { controlPlane: { hostIds: [task.hostId] }, workers: [] }, op);
    if (choosePeer(planned, task.subject ?? task.hostId) === task.hostId) return planned;
  }
  return clusterView(deps, cluster, op);
}

/** The planned peer if it can act now, else another online, Ready control-plane node. */
function livePeer(view: readonly NodeView[], task: HostTask): string {
  const planned = view.find((n) => n.hostId === task.hostId);
  const subject = task.subject ?? task.hostId;
  if (planned && planned.role === 'control-plane' && choosePeer([planned], subject) === planned.hostId) return planned.hostId;
  const other = choosePeer(view, subject);
  if (!other) {
    throw new ConflictError('no-peer', `no control-plane node of the cluster is online and Ready to ${task.step} ${subject} from (${task.hostId}, the planned one, is ${planned ? whyOut(planned) ?? 'busy' : 'gone'}); bring one back and resume`);
  }
  return other;
}

/** Nodes an upgrade may have out at once (its plan's maxUnavailable, at least 1). */
function upgradeBudget(op: OperationRecord): number {
  const m = op.type === 'upgrade-cluster' ? op.input.plan.maxUnavailable : undefined;
  return m !== undefined && m >= 1 ? m : 1;
}

/** Results of the command may land at the same moment: re-read and try again (they are few). */
const ADOPT_ATTEMPTS = 12;

/** The command takes this task's token and run (the earlier run is dead); retried on a concurrent result. */
async function adopt(deps: WorkflowDeps, found: CommandRecord, input: HostCommandInput, now: Date): Promise<CommandRecord> {
  let current: CommandRecord | undefined = found;
  for (let attempt = 0; attempt < ADOPT_ATTEMPTS && current; attempt++) {
    const next: CommandRecord = {
      ...current, taskToken: input.token, ...(input.execution ? { execution: input.execution } : {}), version: current.version + 1, updatedAt: now.toISOString(),
    };
    if (await deps.commands.update(next)) return next;
    await new Promise((r) => setTimeout(r, Math.random() * 10 * (attempt + 1)));
    current = await deps.commands.get(found.hostId, found.commandId);
  }
  throw new ConflictError('command-changed', `command ${found.commandId} on ${found.hostId} kept changing while the workflow resumed; the step is retried`);
}

/** Reads the profile layers a node-configuration or wait-packs step needs, then asks the domain for the step's command. */
async function commandFor(deps: WorkflowDeps, op: OperationRecord, cluster: ClusterRecord, task: HostTask): Promise<CommandSpec> {
  let layers;
  let variables;
  if (needsLayers(op, task.step)) {
    const target = profileTargetOf(op, cluster);
    const pv = await deps.profiles.getVersion(cluster.project, target.name, target.version);
    if (!pv) throw new NotFoundError('profile-version-not-found', `profile ${target.name}@${target.version} of cluster ${cluster.name} no longer exists`);
    layers = pv.layers;
    variables = pv.variables;
  }
  return decideCommand({
    op, cluster, task, ...(layers ? { layers } : {}), ...(variables ? { variables } : {}), hostTimeoutSeconds: deps.settings.hostTimeoutSeconds,
    joinToken: { placeholder: JOIN_TOKEN_PLACEHOLDER, secret: joinTokenSecret(cluster.id) },
  });
}
