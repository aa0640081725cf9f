import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../../../lambdas/domain/errors.js';
import { startUpgrade } from '../../../lambdas/use-cases/upgrades.js';
import { ADMIN, CLUSTER_ID, ctxOf, IMG_NEW, report, world, type World } from './world.js';

/** What a refused upgrade left behind: nothing but the audit of a denial. */
async function untouched(w: World) {
  expect([...w.state.operations.values()].filter((o) => o.type === 'upgrade-cluster')).toEqual([]);
  expect(w.workflows.started).toEqual([]);
  expect((await w.clusters.get(CLUSTER_ID))?.status).toBe('running');
}

describe('startUpgrade on the in-memory adapters', () => {
  it('starts: the cluster is upgrading with the operation, its workflow is started, the plan covers every node', async () => {
    const w = await world();
    const op = await startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true });
    expect(op).toMatchObject({ type: 'upgrade-cluster', status: 'queued', target: { type: 'cluster', id: CLUSTER_ID }, requestedBy: 'alice' });
    expect(Object.keys(op.hosts).sort()).toEqual(['h1', 'h2', 'h3']);
    expect(await w.clusters.get(CLUSTER_ID)).toMatchObject({ status: 'upgrading', activeOperationId: op.id });
    expect(w.workflows.started).toEqual([{ kind: 'upgrade-cluster', name: op.id, input: { operationId: op.id } }]);
    expect(w.state.audit.map((e) => `${e.action} ${e.outcome}`)).toEqual(['cluster.upgrade success']);
  });

  it('holds an operation with a future maintenance window queued, unstarted, its deadline counted from the window', async () => {
    const w = await world();
    const start = '2026-12-01T02:00:00.000Z';
    const op = await startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true, maintenanceWindow: { start, end: '2026-12-01T06:00:00.000Z' } });
    expect(op.status).toBe('queued');
    expect(w.workflows.started).toEqual([]);
    expect(Date.parse(op.deadline!)).toBeGreaterThan(Date.parse(start));
  });

  it.each<[string, (w: World) => Promise<void>, Parameters<typeof startUpgrade>[3], new (...a: never[]) => Error, string]>([
    ['the target is a draft', async () => {}, { to: { version: '3.0.0-draft' }, acknowledgeDowntime: true }, ValidationError, 'profile-version-draft'],
    ['the target version does not exist', async () => {}, { to: { version: '9.9.9' }, acknowledgeDowntime: true }, ValidationError, 'profile-version-not-found'],
    ['the target is another profile', async () => {}, { to: { name: 'other', version: '2.0.0' }, acknowledgeDowntime: true }, ValidationError, 'profile-mismatch'],
    ['a repave of a one-node control plane needs downtime, not acknowledged', async () => {}, { to: { version: '2.0.0' } }, ConflictError, 'downtime-not-acknowledged'],
    ['the cluster runs another operation', async (w) => { w.state.clusters.set(CLUSTER_ID, { ...(await w.clusters.get(CLUSTER_ID))!, activeOperationId: 'op-other' }); },
      { to: { version: '2.0.0' }, acknowledgeDowntime: true }, ConflictError, 'cluster-busy'],
    ['the cluster is not running', async (w) => { w.state.clusters.set(CLUSTER_ID, { ...(await w.clusters.get(CLUSTER_ID))!, status: 'failed' }); },
      { to: { version: '2.0.0' }, acknowledgeDowntime: true }, ConflictError, 'cluster-not-running'],
  ])('refuses when %s', async (_what, arrange, body, type, code) => {
    const w = await world();
    await arrange(w);
    const before = await w.clusters.get(CLUSTER_ID);
    const refused = startUpgrade(w.deps, ADMIN, CLUSTER_ID, body);
    await expect(refused).rejects.toBeInstanceOf(type);
    await expect(refused).rejects.toMatchObject({ code });
    expect([...w.state.operations.values()]).toEqual([]);
    expect(w.workflows.started).toEqual([]);
    expect(await w.clusters.get(CLUSTER_ID)).toEqual(before);
  });

  it('refuses a downgrade: a node already reports a newer kubelet than the target', async () => {
    const w = await world();
    await report(w, 'h2', IMG_NEW, 'v1.31.2+k3s1');
    const refused = startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '1.0.0' }, acknowledgeDowntime: true });
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ code: expect.stringMatching(/^(downgrade|node-newer-than-target)$/) });
    await untouched(w);
  });

  it('refuses a viewer (audited as denied) and hides another project\'s cluster', async () => {
    const w = await world();
    await expect(startUpgrade(w.deps, ctxOf('viewer', 'bob'), CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true })).rejects.toBeInstanceOf(ForbiddenError);
    expect(w.state.audit.map((e) => `${e.actor} ${e.action} ${e.outcome}`)).toEqual(['bob cluster.upgrade denied']);
    const stranger = { ...ADMIN, principal: { subject: 'eve', roles: { q: 'admin' as const } }, project: 'q' };
    await expect(startUpgrade(w.deps, stranger, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true })).rejects.toBeInstanceOf(NotFoundError);
    await untouched(w);
  });
});
