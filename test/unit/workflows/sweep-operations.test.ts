/** The scheduled sweep on the in-memory adapters: past-deadline operations fail and stop; lost starts are retried. */
import { startUpgrade, pauseUpgrade } from '../../../lambdas/use-cases/upgrades.js';
import { START_GRACE_MS, sweepOperations } from '../../../lambdas/use-cases/workflows/sweep-operations.js';
import { ADMIN, CLUSTER_ID, world, upgrading } from '../use-cases/world.js';

describe('sweepOperations', () => {
  it('fails an operation past its deadline (reason quotes it), stops its run and frees the cluster', async () => {
    const { w, op } = await upgrading();
    w.clock.set(new Date(Date.parse(op.deadline!) + 1000));
    expect(await sweepOperations(w.deps)).toEqual({ started: [], expired: [op.id] });
    expect(await w.operations.get(op.id)).toMatchObject({ status: 'failed', reason: expect.stringContaining(`did not finish by its deadline ${op.deadline}`) });
    expect(w.workflows.isStopped(op.id)).toBe(true);
    expect((await w.clusters.get(CLUSTER_ID))?.activeOperationId).toBeUndefined();
    // The next sweep finds nothing open.
    expect(await sweepOperations(w.deps)).toEqual({ started: [], expired: [] });
  });

  it('leaves a paused operation alone, whatever its deadline', async () => {
    const { w, op } = await upgrading();
    await pauseUpgrade(w.deps, ADMIN, CLUSTER_ID, op.id);
    w.clock.set(new Date(Date.parse(op.deadline!) + 1000));
    expect(await sweepOperations(w.deps)).toEqual({ started: [], expired: [] });
    expect((await w.operations.get(op.id))?.status).toBe('paused');
  });

  it('starts a queued operation whose start was lost, once the grace period passed (once: the execution name is its id)', async () => {
    const w = await world();
    const failing = { ...w.deps, workflows: { ...w.workflows, start: async () => { throw new Error('throttled'); }, stop: w.workflows.stop.bind(w.workflows) } };
    // The request still succeeds (a WARN line with the WorkflowStartFailed metric); the operation stays queued.
    const op = await startUpgrade(failing, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true });
    expect(w.workflows.started).toEqual([]);
    expect(await sweepOperations(w.deps)).toEqual({ started: [], expired: [] });
    w.clock.advance(START_GRACE_MS + 1);
    expect(await sweepOperations(w.deps)).toEqual({ started: [op.id], expired: [] });
    expect(w.workflows.started).toEqual([{ kind: 'upgrade-cluster', name: op.id, input: { operationId: op.id } }]);
    expect(await sweepOperations(w.deps)).toEqual({ started: [], expired: [] });
  });

  it('ends a queued operation whose maintenance window passed before it could start', async () => {
    const w = await world();
    const window = { start: '2026-11-30T12:00:00.000Z', end: '2026-11-30T13:00:00.000Z' };
    const op = await startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true, maintenanceWindow: window });
    w.clock.set('2026-11-30T12:00:01.000Z');
    expect(await sweepOperations(w.deps)).toEqual({ started: [op.id], expired: [] });
    const late = await world();
    const op2 = await startUpgrade(late.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true, maintenanceWindow: window });
    late.clock.set('2026-11-30T13:00:01.000Z');
    expect(await sweepOperations(late.deps)).toEqual({ started: [], expired: [op2.id] });
    expect(await late.operations.get(op2.id)).toMatchObject({ status: 'failed', reason: expect.stringContaining('maintenance window ended') });
    expect(await late.clusters.get(CLUSTER_ID)).toMatchObject({ status: 'running' });
  });
});
