import { ForbiddenError, NotFoundError, ValidationError } from '../../../lambdas/domain/errors.js';
import { previewUpgrade, upgradeOrder } from '../../../lambdas/use-cases/upgrade-preview.js';
import { ADMIN, CLUSTER_ID, ctxOf, world, type World } from './world.js';

/** Everything a dry run could have touched. */
async function snapshot(w: World) {
  return { cluster: await w.clusters.get(CLUSTER_ID), operations: [...w.state.operations.values()], started: [...w.workflows.started], audit: [...w.state.audit] };
}

describe('previewUpgrade (the upgrade dry run) on the in-memory adapters', () => {
  it.each<[string, (w: World) => Promise<void>, Parameters<typeof previewUpgrade>[3], { wouldStart: boolean; code?: string; plan: boolean }]>([
    ['acknowledged: it would start', async () => {}, { to: { version: '2.0.0' }, acknowledgeDowntime: true }, { wouldStart: true, plan: true }],
    ['downtime not acknowledged: refused, with the plan once lifted', async () => {}, { to: { version: '2.0.0' } }, { wouldStart: false, code: 'downtime-not-acknowledged', plan: true }],
    ['the cluster is busy: refused, with the plan', async (w) => { w.state.clusters.set(CLUSTER_ID, { ...(await w.clusters.get(CLUSTER_ID))!, activeOperationId: 'op-other' }); },
      { to: { version: '2.0.0' }, acknowledgeDowntime: true }, { wouldStart: false, code: 'cluster-busy', plan: true }],
  ])('%s; nothing changes', async (_what, arrange, body, want) => {
    const w = await world();
    await arrange(w);
    const before = await snapshot(w);
    const p = await previewUpgrade(w.deps, ADMIN, CLUSTER_ID, body);
    expect({ wouldStart: p.wouldStart, code: p.refusal?.code, plan: p.plan !== undefined }).toEqual({ wouldStart: want.wouldStart, code: want.code, plan: want.plan });
    expect(p.order.flat().sort()).toEqual(['h1', 'h2', 'h3']);
    expect(await snapshot(w)).toEqual(before);
  });

  it('answers a wrong request as the upgrade does, refuses a viewer, hides another project\'s cluster; none audited', async () => {
    const w = await world();
    await expect(previewUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '9.9.9' } })).rejects.toBeInstanceOf(ValidationError);
    await expect(previewUpgrade(w.deps, ctxOf('viewer', 'bob'), CLUSTER_ID, { to: { version: '2.0.0' } })).rejects.toBeInstanceOf(ForbiddenError);
    const stranger = { ...ADMIN, principal: { subject: 'eve', roles: { q: 'admin' as const } }, project: 'q' };
    await expect(previewUpgrade(w.deps, stranger, CLUSTER_ID, { to: { version: '2.0.0' } })).rejects.toBeInstanceOf(NotFoundError);
    expect(w.state.audit).toEqual([]);
  });
});

describe('upgradeOrder', () => {
  const n = (hostId: string) => ({ hostId });
  it.each([
    ['control plane one by one, workers in batches', [n('c1'), n('c2')], [n('w1'), n('w2'), n('w3')], 2, [['c1'], ['c2'], ['w1', 'w2'], ['w3']]],
    ['no workers', [n('c1')], [], 1, [['c1']]],
    ['maxUnavailable 0 counts as 1', [n('c1')], [n('w1'), n('w2')], 0, [['c1'], ['w1'], ['w2']]],
  ])('%s', (_w, controlPlane, workers, maxUnavailable, want) => {
    expect(upgradeOrder({ controlPlane, workers, maxUnavailable })).toEqual(want);
  });
});
