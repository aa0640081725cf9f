/**
 * Rollouts on the in-memory adapters (issue 13): createRollout's validation, then tickRollout
 * driven by hand under a manual clock through planning, waves, settling, abort, pause/resume,
 * cancel, promotion and soak. Deferral, windows and executions: rollout-tick.test.ts.
 */
import { describe, expect, it } from '@jest/globals';
import { planWaves } from '../../../lambdas/domain/rollout-rules.js';
import { actOnRollout, createRollout, getRollout } from '../../../lambdas/use-cases/rollouts.js';
import { PLAN_PAGE } from '../../../lambdas/use-cases/rollout-deps.js';
import { rolloutWorld } from './rollout-world.js';
import { ADMIN, T0 } from './world.js';

const MIN = 60_000;

describe('createRollout', () => {
  it('records the rollout planning, resolves a channel to its highest published version, and starts its workflow', async () => {
    const x = await rolloutWorld(2);
    const r = await createRollout(x.deps, ADMIN, { targets: { clusterIds: ['c001'] }, to: { name: 'edge', version: '2.x' } });
    expect(r).toMatchObject({ status: 'planning', to: { name: 'edge', version: '2.1.0' }, requested: '2.x', total: 0, execution: r.id, createdBy: 'alice' });
    // The listed ids are kept apart (read while planning); the rollout shows their count.
    expect(r.targets).toEqual({ clusterList: { count: 1 } });
    expect(await x.deps.rollouts.clusterIds(r.id)).toEqual(['c001']);
    expect(x.w.workflows.started).toEqual([{ kind: 'rollout', name: r.id, input: { rolloutId: r.id } }]);
    expect(x.w.state.audit.filter((e) => e.action === 'rollout.create')).toEqual([expect.objectContaining({ outcome: 'success', resource: `rollout/${r.id}` })]);
  });

  it('takes the profile from the template when `to.name` is left out', async () => {
    const x = await rolloutWorld(1, { attached: true });
    const r = await createRollout(x.deps, ADMIN, { targets: { template: 'shop' }, to: { version: '2.0.0' } });
    expect(r.to).toEqual({ name: 'edge', version: '2.0.0' });
  });

  it.each([
    ['an unknown template', 'validation', 'cluster-template-not-found', { targets: { template: 'nope' }, to: { version: '2.0.0' } }],
    ['no profile for a selector', 'validation', 'profile-required', { targets: { site: 'shop-*' }, to: { version: '2.0.0' } }],
    ['a channel nothing published matches', 'unprocessable', 'profile-version-unresolved', { targets: { site: 'shop-*' }, to: { name: 'edge', version: '9.x' } }],
    ['an unknown profile', 'validation', 'profile-not-found', { targets: { site: 'shop-*' }, to: { name: 'nope', version: '1.0.0' } }],
    ['a canary of 0 clusters', 'validation', 'invalid-rollout-policy', { targets: { site: 'shop-*' }, to: { name: 'edge', version: '2.0.0' }, policy: { waves: { canary: { clusters: 0 } } } }],
    // The wire schema lets 0.01 % through; the wave rules want at least 1 %: a 400 before anything is recorded.
    ['a canary of 0.5 %', 'validation', 'invalid-rollout-policy', { targets: { site: 'shop-*' }, to: { name: 'edge', version: '2.0.0' }, policy: { waves: { canary: { percent: 0.5 } } } }],
  ] as const)('refuses %s (kind %s, code %s) and records nothing', async (_name, kind, code, body) => {
    const x = await rolloutWorld(1);
    await expect(createRollout(x.deps, ADMIN, body as never)).rejects.toMatchObject({ kind, code });
    expect(x.w.rollouts.rollouts.size).toBe(0);
    expect(x.w.workflows.started).toEqual([]);
  });
});

describe('tickRollout: planning', () => {
  it(`plans a template's ${2 * PLAN_PAGE + 50} clusters a page at a time, then the waves; only the canary starts`, async () => {
    const n = 2 * PLAN_PAGE + 50;
    const x = await rolloutWorld(n, { attached: true });
    const id = await x.create({ targets: { template: 'shop' } });
    expect(await x.tick(id)).toEqual({ done: false, waitSeconds: 1 });
    expect(await x.rollout(id)).toMatchObject({ status: 'planning', total: PLAN_PAGE });
    expect(await x.plan(id)).toBe(3);
    const r = await x.rollout(id);
    expect(r).toMatchObject({ status: 'running', total: n, currentWave: 0, waveSizes: planWaves(n, { maxConcurrent: 50 }) });
    expect(r.waveSizes).toEqual([1, 2, 4, 8, 16, 32, 50, 50, 50, 50, 50, 50, 50, 37]);
    expect(r.planCursor).toBe('done');
    expect(new Set((await x.targets(id)).map((t) => t.clusterId)).size).toBe(n);
    expect((await x.w.rollouts.waves(id))[0]?.startedAt).toBeDefined();
    await x.tick(id);
    expect(x.upgrades()).toHaveLength(1);
    expect((await x.targets(id))[0]).toMatchObject({ state: 'running', operationId: `op-${id}-0`, reason: 'upgrading to 2.0.0' });
    expect(x.w.workflows.started.filter((s) => s.kind === 'upgrade-cluster')).toHaveLength(1);
  });

  it('ends at once, succeeded, when no cluster matches', async () => {
    const x = await rolloutWorld(2);
    const id = await x.create({ targets: { site: 'depot-*' } });
    await x.plan(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'succeeded', total: 0, reason: 'no cluster matched the targets: nothing to do' });
    expect(await x.tick(id)).toMatchObject({ done: true });
  });
});

describe('tickRollout: waves', () => {
  it('runs canary, then growing waves; settles successes and failures (rolled back) and ends incomplete naming the numbers', async () => {
    const x = await rolloutWorld(7);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { abort: { failurePercent: 100 } } });
    await x.plan(id);
    expect((await x.rollout(id)).waveSizes).toEqual([1, 2, 4]);
    await x.tick(id);
    await x.tick(id);
    expect(x.upgrades().map((o) => o.target.id)).toEqual(['c001']);
    x.w.clock.advance(10 * MIN);
    await x.succeed('c001');
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ currentWave: 1, reason: 'wave 2 of 3 started' });
    expect(x.upgrades().map((o) => o.target.id).sort()).toEqual(['c001', 'c002', 'c003']);
    await x.succeed('c002');
    const rb = await x.fail('c003', 'running');
    await x.tick(id);
    // A failed cluster stays running while its rollback runs: the wave is not settled.
    expect((await x.byCluster(id)).get('c003')).toMatchObject({ state: 'running', operationId: `op-${id}-2` });
    expect((await x.rollout(id)).currentWave).toBe(1);
    await x.endRollback(rb!, 'succeeded');
    await x.tick(id);
    expect((await x.byCluster(id)).get('c003')).toMatchObject({ state: 'failed', rollbackOperationId: rb, reason: expect.stringContaining(`rolled back and verified in ${rb}`) });
    expect(await x.rollout(id)).toMatchObject({ currentWave: 2, meanClusterMs: (10 * MIN) / 3, finishedClusters: 3 });
    for (const c of ['c004', 'c005', 'c006', 'c007']) await x.succeed(c);
    expect(await x.tick(id)).toEqual({ done: true, waitSeconds: 1 });
    const view = await getRollout(x.deps, ADMIN, id);
    expect(view).toMatchObject({ status: 'incomplete', counts: { succeeded: 6, failed: 1 }, reason: expect.stringMatching(/^6 of 7 clusters upgraded, 1 failed, 0 skipped/) });
    expect(view.failed.map((t) => t.clusterId)).toEqual(['c003']);
    expect(view.waves.every((w) => w.endedAt !== undefined)).toBe(true);
    expect(x.w.state.audit.filter((e) => e.action === 'rollout.incomplete')).toHaveLength(1);
  });

  it('succeeds only when every cluster passed its gate; a failure without rollback names the upgrade\'s reason', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { waves: { canary: { clusters: 3 } } } });
    await x.plan(id);
    await x.tick(id);
    for (const c of x.clusterIds) await x.succeed(c);
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'succeeded', reason: 'all 3 clusters upgraded and verified' });
    const y = await rolloutWorld(2);
    const id2 = await y.create({ targets: { clusterIds: y.clusterIds }, policy: { waves: { canary: { clusters: 2 } }, abort: { failurePercent: 100 } } });
    await y.plan(id2);
    await y.tick(id2);
    await y.succeed('c001');
    await y.fail('c002');
    await y.tick(id2);
    expect(await y.rollout(id2)).toMatchObject({ status: 'incomplete' });
    expect((await y.byCluster(id2)).get('c002')).toMatchObject({ state: 'failed', reason: 'its upgrade failed: c002 booted passive' });
  });

  it('a rollback announced but never recorded counts as running for 5 minutes, then failed', async () => {
    const x = await rolloutWorld(1);
    const id = await x.create({ targets: { clusterIds: x.clusterIds } });
    await x.plan(id);
    await x.tick(id);
    await x.fail('c001', 'announced');
    x.w.clock.advance(4 * MIN);
    await x.tick(id);
    expect((await x.targets(id))[0]?.state).toBe('running');
    x.w.clock.advance(MIN);
    await x.tick(id);
    expect((await x.targets(id))[0]).toMatchObject({ state: 'failed', reason: expect.stringContaining('never started') });
  });
});

describe('tickRollout: abort thresholds', () => {
  it('aborts when the threshold is crossed: running clusters finish, nothing else starts, then aborted with the reason', async () => {
    const x = await rolloutWorld(12);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { abort: { failurePercent: 100, failureCount: 2, minFinished: 1 } } });
    await x.plan(id);
    expect((await x.rollout(id)).waveSizes).toEqual([1, 2, 4, 5]);
    await x.tick(id);
    await x.succeed('c001');
    await x.tick(id);
    await x.succeed('c002');
    await x.succeed('c003');
    await x.tick(id);
    expect(x.upgrades()).toHaveLength(7);
    await x.fail('c004');
    await x.fail('c005');
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'aborting', currentWave: 2, reason: expect.stringMatching(/^aborted: 2 clusters failed .*reaching the abort threshold of 2 failed clusters; running clusters finish/) });
    x.w.clock.advance(60 * MIN);
    await x.tick(id);
    await x.tick(id);
    expect(x.upgrades()).toHaveLength(7);
    expect((await x.rollout(id)).status).toBe('aborting');
    await x.succeed('c006');
    await x.succeed('c007');
    expect(await x.tick(id)).toMatchObject({ done: true });
    const r = await getRollout(x.deps, ADMIN, id);
    expect(r).toMatchObject({ status: 'aborted', counts: { succeeded: 5, failed: 2, pending: 5, running: 0 } });
    expect(r.reason).toMatch(/reaching the abort threshold .*; 5 of 12 clusters upgraded, 2 failed, 0 skipped, 5 not started$/);
    expect(x.upgrades().map((o) => o.target.id)).not.toEqual(expect.arrayContaining(['c008']));
    expect(await x.tick(id)).toMatchObject({ done: true });
    expect(x.upgrades()).toHaveLength(7);
  });

  it('judges the thresholds while paused too, and never starts anything once aborting', async () => {
    const x = await rolloutWorld(4);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { waves: { canary: { clusters: 2 } }, abort: { failureCount: 1 } } });
    await x.plan(id);
    await x.tick(id);
    await actOnRollout(x.deps, ADMIN, id, 'pause');
    await x.fail('c001');
    await x.tick(id);
    expect((await x.rollout(id)).status).toBe('aborting');
    await expect(actOnRollout(x.deps, ADMIN, id, 'resume')).rejects.toMatchObject({ code: 'rollout-aborting' });
    await x.succeed('c002');
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'aborted' });
    expect(x.upgrades()).toHaveLength(2);
  });
  it('retries no deferred cluster once aborting: it stays not started', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { waves: { canary: { clusters: 3 } }, abort: { failureCount: 1 }, deferral: { retryMinutes: 1 } } });
    await x.plan(id);
    await x.w.presence.apply('h003', { presence: 'offline', at: Date.parse(T0) + 1 });
    await x.tick(id);
    expect((await x.byCluster(id)).get('c003')?.state).toBe('deferred');
    await x.fail('c001');
    await x.tick(id);
    expect((await x.rollout(id)).status).toBe('aborting');
    await x.w.presence.apply('h003', { presence: 'online', at: Date.parse(T0) + 2 });
    x.w.clock.advance(2 * MIN);
    await x.tick(id);
    expect((await x.byCluster(id)).get('c003')?.state).toBe('deferred');
    await x.succeed('c002');
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'aborted', reason: expect.stringMatching(/1 of 3 clusters upgraded, 1 failed, 0 skipped, 1 not started$/) });
    expect(x.upgrades().map((o) => o.target.id).sort()).toEqual(['c001', 'c002']);
  });
});

describe('tickRollout: pause, resume, cancel, promotion', () => {
  it('pause starts nothing; resume starts the wave', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds } });
    await x.plan(id);
    const paused = await actOnRollout(x.deps, ADMIN, id, 'pause', 'change freeze');
    expect(paused).toMatchObject({ status: 'paused', reason: expect.stringContaining('by alice (change freeze)') });
    for (let i = 0; i < 3; i++) await x.tick(id);
    expect(x.upgrades()).toHaveLength(0);
    expect((await x.rollout(id)).status).toBe('paused');
    await actOnRollout(x.deps, ADMIN, id, 'resume');
    await x.tick(id);
    expect(x.upgrades()).toHaveLength(1);
  });

  it('pausing while planning resumes into planning', async () => {
    const x = await rolloutWorld(2);
    const id = await x.create({ targets: { clusterIds: x.clusterIds } });
    await actOnRollout(x.deps, ADMIN, id, 'pause');
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'paused', total: 0 });
    await actOnRollout(x.deps, ADMIN, id, 'resume');
    expect((await x.rollout(id)).status).toBe('planning');
    await x.plan(id);
    expect((await x.rollout(id)).status).toBe('running');
  });

  it('cancel lets running clusters finish, starts nothing more, and ends cancelled', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds } });
    await x.plan(id);
    await x.tick(id);
    await actOnRollout(x.deps, ADMIN, id, 'cancel');
    await x.tick(id);
    expect((await x.rollout(id)).status).toBe('cancelling');
    await x.succeed('c001');
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ status: 'cancelled', reason: expect.stringMatching(/1 of 3 clusters upgraded, 0 failed, 0 skipped, 2 not started$/) });
    expect(x.upgrades()).toHaveLength(1);
    await expect(actOnRollout(x.deps, ADMIN, id, 'resume')).rejects.toMatchObject({ kind: 'conflict', code: 'rollout-cancelled' });
  });

  it('after the canary: soaks, then waits for a manual promotion before the next wave', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { waves: { soakMinutes: 30, promotion: 'manual' } } });
    await x.plan(id);
    await x.tick(id);
    await x.succeed('c001');
    await x.tick(id);
    expect((await x.w.rollouts.waves(id))[0]?.endedAt).toBe(x.w.clock.now().toISOString());
    x.w.clock.advance(29 * MIN);
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ currentWave: 0 });
    expect(x.upgrades()).toHaveLength(1);
    x.w.clock.advance(MIN);
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ currentWave: 0, reason: `the canary wave settled (1 succeeded, 0 failed); waiting for promotion: edgefleet rollouts promote ${id}` });
    expect(x.upgrades()).toHaveLength(1);
    await actOnRollout(x.deps, ADMIN, id, 'promote');
    await x.tick(id);
    expect((await x.rollout(id)).currentWave).toBe(1);
    expect(x.upgrades()).toHaveLength(3);
  });
});
