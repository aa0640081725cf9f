/**
 * The upgrade workflow's steps (begin, host task, result, finish, fail) on the in-memory
 * adapters, in the order the state machine calls them: what each writes and sends.
 */
import type { HostTask, NodeSequence } from '../../../lambdas/contracts/workflows.js';
import { recordResult } from '../../../lambdas/use-cases/device-messages.js';
import { pauseUpgrade, startUpgrade } from '../../../lambdas/use-cases/upgrades.js';
import { beginOperation } from '../../../lambdas/use-cases/workflows/begin-operation.js';
import { failOperation } from '../../../lambdas/use-cases/workflows/fail-operation.js';
import { finishOperation } from '../../../lambdas/use-cases/workflows/finish-operation.js';
import { runHostTask } from '../../../lambdas/use-cases/workflows/run-host-task.js';
import { ADMIN, CLUSTER_ID, CP, world, type World } from '../use-cases/world.js';

async function started(onFailure?: 'rollback' | 'pause') {
  const w = await world();
  const op = await startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true, ...(onFailure ? { onFailure } : {}) });
  return { w, op };
}

const sequences = (tasks: readonly (HostTask | NodeSequence)[] | undefined): NodeSequence[] =>
  (tasks ?? []).map((t) => ('steps' in t ? t : { hostId: t.hostId, steps: [t] }));

/** Runs one host task of the live run and returns the command it stored. */
async function send(w: World, opId: string, task: HostTask, token: string) {
  const outcome = await runHostTask(w.deps, { token, operationId: opId, phase: 'controlPlane', task });
  const stored = [...w.state.commands.values()].filter((c) => c.taskToken === token);
  return { outcome, command: stored[0] };
}

describe('upgrade workflow steps on the in-memory adapters', () => {
  it('begin: the operation runs and every node gets its repave steps, the control plane in its own phase', async () => {
    const { w, op } = await started();
    const plan = await beginOperation(w.deps, op.id);
    expect((await w.operations.get(op.id))).toMatchObject({ status: 'running', step: 'begin' });
    const cp = sequences(plan.phases.controlPlane);
    const workers = sequences(plan.phases.workers);
    expect(cp.map((s) => s.hostId)).toEqual([CP]);
    expect(workers.map((s) => s.hostId).sort()).toEqual(['h2', 'h3']);
    expect(cp[0]!.steps.map((s) => s.step)).toEqual(expect.arrayContaining(['preflight', 'upgrade']));
    expect(plan.maxUnavailable).toBeGreaterThanOrEqual(1);
  });

  it('begin refuses an operation that was paused: a stale run does nothing', async () => {
    const { w, op } = await started();
    await pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    await expect(beginOperation(w.deps, op.id)).rejects.toMatchObject({ code: 'operation-ended' });
    expect((await w.operations.get(op.id))?.status).toBe('paused');
  });

  it('host task: the command is stored with the task token and published once; its result completes the token and the host progress', async () => {
    const { w, op } = await started();
    const plan = await beginOperation(w.deps, op.id);
    const first = sequences(plan.phases.controlPlane)[0]!.steps[0]!;
    const { outcome, command } = await send(w, op.id, first, 'token-1');
    expect(outcome).toBe('sent');
    expect(command).toMatchObject({ hostId: CP, state: 'sent', operationId: op.id, workflowStep: first.step });
    expect(w.publisher.to(CP).map((c) => c.commandId)).toEqual([command!.commandId]);
    expect((await w.operations.get(op.id))?.step).toBe('controlPlane');

    expect(await recordResult(w.deps, CP, command!.commandId, { phase: 'succeeded', detail: 'ok' })).toBe('applied');
    expect(w.workflows.completed).toEqual([{ token: 'token-1', output: { hostId: CP, commandId: command!.commandId, detail: 'ok' } }]);
    expect((await w.operations.get(op.id))?.hosts[CP]).toMatchObject({ status: 'succeeded', step: first.step, commandId: command!.commandId });

    // The state machine retries the task (or a resumed run reaches it): adopted, never sent twice.
    expect((await send(w, op.id, first, 'token-2')).outcome).toBe('already-finished');
    expect(w.publisher.to(CP)).toHaveLength(1);
    expect(w.workflows.completed.map((c) => c.token)).toEqual(['token-1', 'token-2']);
  });

  it('a failed result fails the task token with the host and the detail', async () => {
    const { w, op } = await started();
    const plan = await beginOperation(w.deps, op.id);
    const { command } = await send(w, op.id, sequences(plan.phases.controlPlane)[0]!.steps[0]!, 'token-1');
    await recordResult(w.deps, CP, command!.commandId, { phase: 'failed', detail: 'disk full' });
    expect(w.workflows.completed).toEqual([expect.objectContaining({ token: 'token-1', error: 'EdgeFleet.HostFailed', cause: expect.stringContaining('disk full') })]);
    expect((await w.operations.get(op.id))?.hosts[CP]?.status).toBe('failed');
  });

  it('after a pause no host task sends anything: the token fails and nothing is published', async () => {
    const { w, op } = await started();
    const plan = await beginOperation(w.deps, op.id);
    await pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    const { outcome } = await send(w, op.id, sequences(plan.phases.controlPlane)[0]!.steps[0]!, 'token-1');
    expect(outcome).toBe('operation-ended');
    expect(w.publisher.published).toEqual([]);
    expect(w.workflows.completed).toEqual([expect.objectContaining({ token: 'token-1', error: 'EdgeFleet.Invalid' })]);
  });

  it('finish: the cluster runs the target profile version, free for the next operation; the operation succeeded', async () => {
    const { w, op } = await started();
    await beginOperation(w.deps, op.id);
    expect(await finishOperation(w.deps, op.id)).toEqual({ status: 'succeeded' });
    const cluster = await w.clusters.get(CLUSTER_ID);
    expect(cluster).toMatchObject({ status: 'running', profile: { name: 'edge', version: '2.0.0' } });
    expect(cluster?.activeOperationId).toBeUndefined();
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'succeeded', step: 'done', endedAt: w.clock.now().toISOString() });
    // Idempotent: a repeat finds it ended.
    expect(await finishOperation(w.deps, op.id)).toEqual({ status: 'succeeded' });
  });

  it('fail before any node was touched: the operation failed with the step and reason, the cluster back to running', async () => {
    const { w, op } = await started();
    await beginOperation(w.deps, op.id);
    expect(await failOperation(w.deps, op.id, { Error: 'States.Timeout' })).toEqual({ status: 'failed' });
    expect((await w.operations.get(op.id))?.reason).toBe('upgrade-cluster failed during begin: a host did not answer within the host timeout');
    const cluster = await w.clusters.get(CLUSTER_ID);
    expect(cluster).toMatchObject({ status: 'running', profile: { version: '1.0.0' } });
    expect(cluster?.activeOperationId).toBeUndefined();
    expect(w.workflows.started.map((s) => s.name)).toEqual([op.id]);
  });

  it('fail with policy pause: the operation is paused with the reason, the cluster degraded and still held by it', async () => {
    const { w, op } = await started('pause');
    await beginOperation(w.deps, op.id);
    expect(await failOperation(w.deps, op.id, { Error: 'EdgeFleet.HostFailed', Cause: 'host h1 failed upgrade: disk full' })).toEqual({ status: 'paused' });
    expect((await w.operations.get(op.id))).toMatchObject({ status: 'paused', reason: expect.stringContaining('disk full') });
    expect(await w.clusters.get(CLUSTER_ID)).toMatchObject({ status: 'degraded', activeOperationId: op.id });
  });

  it('fail after a node was upgraded (policy rollback): a rollback upgrade to the previous version is recorded and started', async () => {
    const { w, op } = await started();
    await beginOperation(w.deps, op.id);
    await w.operations.setHost(op.id, CP, { status: 'failed', step: 'upgrade', detail: 'did not boot' });
    expect(await failOperation(w.deps, op.id, { Error: 'EdgeFleet.HostFailed', Cause: 'host h1 failed upgrade: did not boot' })).toEqual({ status: 'failed' });
    const failed = await w.operations.get(op.id);
    const rollbackId = failed?.type === 'upgrade-cluster' ? failed.input.rolledBackBy : undefined;
    expect(typeof rollbackId).toBe('string');
    expect(failed?.reason).toContain(`rolling back h1 to 1.0.0 in upgrade ${String(rollbackId)}`);
    const rollback = await w.operations.get(String(rollbackId));
    expect(rollback).toMatchObject({ type: 'upgrade-cluster', status: 'queued', input: { rollbackOf: op.id, to: { version: '1.0.0' }, onFailure: 'none' } });
    expect(await w.clusters.get(CLUSTER_ID)).toMatchObject({ status: 'upgrading', activeOperationId: rollbackId });
    expect(w.workflows.started.map((s) => s.name)).toEqual([op.id, rollbackId]);
  });
});
