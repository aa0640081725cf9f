/** Pause, cancel, delete and stopRun on the in-memory adapters: the state written and the runs stopped. */
import { ConflictError } from '../../../lambdas/domain/errors.js';
import type { WorkflowEngine } from '../../../lambdas/ports/workflow.js';
import { deleteCluster, stopRun } from '../../../lambdas/use-cases/cluster-operations.js';
import { cancelUpgrade, pauseUpgrade, resumeUpgrade } from '../../../lambdas/use-cases/upgrades.js';
import { ADMIN, CLUSTER_ID, upgrading } from './world.js';

describe('pause, resume and cancel an upgrade', () => {
  it('pause: the operation is paused (status first), its run stopped, the cluster still upgrading; a second pause changes nothing', async () => {
    const { w, op } = await upgrading();
    const paused = await pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    expect(paused).toMatchObject({ status: 'paused', reason: expect.stringContaining('paused by alice') });
    expect(w.workflows.stopped).toEqual([{ kind: 'upgrade-cluster', name: op.id, cause: 'paused by alice' }]);
    expect(await w.clusters.get(CLUSTER_ID)).toMatchObject({ status: 'upgrading', activeOperationId: op.id });
    expect((await pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id)).status).toBe('paused');
    expect(w.workflows.stopped).toHaveLength(1);
  });

  it('resume: a new run of the same operation (its own execution name), queued and started', async () => {
    const { w, op } = await upgrading();
    await pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    const resumed = await resumeUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    expect(resumed).toMatchObject({ status: 'queued', runs: 2, execution: `${op.id}-r2` });
    expect(w.workflows.started.map((s) => s.name)).toEqual([op.id, `${op.id}-r2`]);
    await expect(resumeUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id)).rejects.toMatchObject({ code: 'upgrade-not-paused' });
  });

  it('cancel: the operation is cancelled, its run stopped, the cluster degraded and free', async () => {
    const { w, op } = await upgrading();
    const cancelled = await cancelUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    expect(cancelled).toMatchObject({ status: 'cancelled', endedAt: w.clock.now().toISOString() });
    expect(w.workflows.isStopped(op.id)).toBe(true);
    const cluster = await w.clusters.get(CLUSTER_ID);
    expect(cluster).toMatchObject({ status: 'degraded', statusReason: expect.stringContaining(op.id) });
    expect(cluster?.activeOperationId).toBeUndefined();
    await expect(cancelUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id)).rejects.toMatchObject({ code: 'upgrade-ended' });
    await expect(pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id)).rejects.toBeInstanceOf(ConflictError);
  });

  it('an upgrade id of another cluster is not found', async () => {
    const { w, op } = await upgrading();
    await expect(pauseUpgrade(w.deps, ADMIN, 'c-other', op.id)).rejects.toMatchObject({ code: 'upgrade-not-found' });
    expect((await w.operations.get(op.id))?.status).toBe('queued');
  });
});

describe('stopRun', () => {
  it('stops the current run (the resumed execution, not the first one)', async () => {
    const { w, op } = await upgrading();
    await stopRun(w.deps, { ...op, execution: `${op.id}-r3` }, 'deadline');
    expect(w.workflows.stopped).toEqual([{ kind: 'upgrade-cluster', name: `${op.id}-r3`, cause: 'deadline' }]);
  });

  it('never throws when the engine refuses: the request that ended the operation succeeded', async () => {
    const failing: Pick<WorkflowEngine, 'start' | 'stop'> = {
      start: async () => ({ started: true }),
      stop: async () => { throw new Error('AccessDenied'); },
    };
    // (reported as a WARN line with the WorkflowStopFailed metric)
    await expect(stopRun({ workflows: failing }, { id: 'op-1', type: 'upgrade-cluster' }, 'cancelled')).resolves.toBeUndefined();
  });
});

describe('deleteCluster', () => {
  it('cancels the running operation and stops its run first, then starts the delete over the claimed hosts', async () => {
    const { w, op } = await upgrading();
    const out = await deleteCluster(w.deps, ADMIN, CLUSTER_ID);
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'cancelled', reason: expect.stringContaining('being deleted') });
    expect(w.workflows.isStopped(op.id)).toBe(true);
    const del = await w.operations.get(out.operationId);
    expect(del).toMatchObject({ type: 'delete-cluster', status: 'queued' });
    expect(Object.keys(del!.hosts).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(await w.clusters.get(CLUSTER_ID)).toMatchObject({ status: 'deleting', activeOperationId: out.operationId });
    expect(w.workflows.started.map((s) => `${s.kind} ${s.name}`)).toEqual([`upgrade-cluster ${op.id}`, `delete-cluster ${out.operationId}`]);
    // Asked again while it runs: the same delete operation, nothing new.
    expect((await deleteCluster(w.deps, ADMIN, CLUSTER_ID)).operationId).toBe(out.operationId);
    expect(w.workflows.started).toHaveLength(2);
  });
});
