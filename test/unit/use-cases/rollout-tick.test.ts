/**
 * tickRollout on the in-memory adapters, continued (rollouts.test.ts has the waves): busy and
 * offline clusters deferred, retried and given up on; maintenance windows in each site's time
 * zone; continue-as-new after TICKS_PER_EXECUTION ticks; a stale execution changes nothing.
 */
import { describe, expect, it } from '@jest/globals';
import { setSiteTimezone } from '../../../lambdas/use-cases/rollouts.js';
import { TICKS_PER_EXECUTION } from '../../../lambdas/use-cases/workflows/rollout-tick.js';
import { rolloutWorld } from './rollout-world.js';
import { ADMIN, PROJECT, T0 } from './world.js';

const MIN = 60_000;

describe('tickRollout: deferral', () => {
  it('defers busy and offline clusters without blocking the wave, retries them when due, and skips one after giveUpMinutes', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { waves: { canary: { clusters: 3 } }, deferral: { retryMinutes: 5, giveUpMinutes: 30 }, abort: { failurePercent: 100 } } });
    await x.plan(id);
    await x.w.presence.apply('h001', { presence: 'offline', at: Date.parse(T0) + 1 });
    x.w.state.clusters.set('c002', { ...x.w.state.clusters.get('c002')!, activeOperationId: 'op-other' });
    await x.tick(id);
    let t = await x.byCluster(id);
    expect(t.get('c001')).toMatchObject({ state: 'deferred', reason: 'offline: h001', deferredSince: T0, retryAt: new Date(Date.parse(T0) + 5 * MIN).toISOString() });
    expect(t.get('c002')).toMatchObject({ state: 'deferred', reason: 'busy: operation op-other is running on it' });
    expect(t.get('c003')).toMatchObject({ state: 'running' });
    expect(x.upgrades().map((o) => o.target.id)).toEqual(['c003']);
    // Not due yet: nothing is looked at again.
    await x.w.presence.apply('h001', { presence: 'online', at: Date.parse(T0) + 2 });
    x.w.clock.advance(4 * MIN);
    await x.tick(id);
    expect((await x.byCluster(id)).get('c001')?.state).toBe('deferred');
    x.w.clock.advance(MIN);
    await x.tick(id);
    t = await x.byCluster(id);
    expect(t.get('c001')).toMatchObject({ state: 'running' });
    expect(t.get('c001')?.retryAt).toBeUndefined();
    expect(t.get('c001')?.deferredSince).toBeUndefined();
    // Still busy at the retry: deferred again, since the first deferral.
    expect(t.get('c002')).toMatchObject({ state: 'deferred', deferredSince: T0, retryAt: new Date(Date.parse(T0) + 10 * MIN).toISOString() });
    await x.succeed('c001');
    await x.succeed('c003');
    x.w.clock.advance(20 * MIN);
    await x.tick(id);
    expect((await x.rollout(id)).status).toBe('running');
    x.w.clock.advance(5 * MIN);
    expect(await x.tick(id)).toMatchObject({ done: true });
    expect((await x.byCluster(id)).get('c002')).toMatchObject({ state: 'skipped', reason: 'gave up after 30 min deferred (last: busy: operation op-other is running on it)' });
    expect(await x.rollout(id)).toMatchObject({ status: 'incomplete', reason: expect.stringMatching(/^2 of 3 clusters upgraded, 0 failed, 1 skipped/) });
    expect(x.upgrades().map((o) => o.target.id).sort()).toEqual(['c001', 'c003']);
  });

  it('retries a deferred cluster of an earlier wave while later waves run', async () => {
    const x = await rolloutWorld(3);
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { deferral: { retryMinutes: 1 } } });
    await x.plan(id);
    await x.w.presence.apply('h001', { presence: 'offline', at: Date.parse(T0) + 1 });
    await x.tick(id);
    // The canary was deferred: the wave settled, the next one starts.
    await x.tick(id);
    expect(await x.rollout(id)).toMatchObject({ currentWave: 1 });
    expect(x.upgrades().map((o) => o.target.id).sort()).toEqual(['c002', 'c003']);
    await x.w.presence.apply('h001', { presence: 'online', at: Date.parse(T0) + 2 });
    x.w.clock.advance(MIN);
    await x.tick(id);
    expect((await x.byCluster(id)).get('c001')?.state).toBe('running');
    for (const c of x.clusterIds) await x.succeed(c);
    await x.tick(id);
    expect((await x.rollout(id)).status).toBe('succeeded');
  });

  it('skips a deleted cluster and one detached from the template, and succeeds one already at the version', async () => {
    const x = await rolloutWorld(4, { attached: true });
    const id = await x.create({ targets: { template: 'shop' }, policy: { waves: { canary: { clusters: 4 } }, abort: { failurePercent: 100 } } });
    await x.plan(id);
    x.w.state.clusters.delete('c001');
    const { templateId: _t, ...detached } = x.w.state.clusters.get('c002')!;
    x.w.state.clusters.set('c002', detached);
    x.w.state.clusters.set('c003', { ...x.w.state.clusters.get('c003')!, profile: { name: 'edge', version: '2.0.0' } });
    await x.tick(id);
    const t = await x.byCluster(id);
    expect([...t.values()].map((v) => [v.clusterId, v.state, v.reason])).toEqual([
      ['c001', 'skipped', 'the cluster was deleted'],
      ['c002', 'skipped', 'the cluster was detached from the template'],
      ['c003', 'succeeded', 'already at 2.0.0'],
      ['c004', 'running', 'upgrading to 2.0.0'],
    ]);
  });
});

describe('tickRollout: maintenance windows in each site\'s time zone', () => {
  it('waits outside the window (Tokyo and a UTC site open at different instants) and starts when it opens', async () => {
    const x = await rolloutWorld(2);
    await setSiteTimezone(x.deps, ADMIN, 'shop-001', 'Asia/Tokyo');
    const id = await x.create({ targets: { clusterIds: x.clusterIds }, policy: { waves: { canary: { clusters: 2 } }, maintenanceWindow: { start: '02:00', durationMinutes: 60 } } });
    await x.plan(id);
    // T0 is 10:00 UTC = 19:00 in Tokyo: Tokyo's 02:00 is 17:00 UTC; the UTC site's is 02:00 UTC tomorrow.
    await x.tick(id);
    let t = await x.byCluster(id);
    expect(t.get('c001')).toMatchObject({ state: 'waiting', retryAt: '2026-11-30T17:00:00.000Z', reason: 'outside its maintenance window (opens 2026-11-30T17:00:00.000Z)' });
    expect(t.get('c002')).toMatchObject({ state: 'waiting', retryAt: '2026-12-01T02:00:00.000Z' });
    x.w.clock.set('2026-11-30T16:59:00.000Z');
    await x.tick(id);
    expect(x.upgrades()).toHaveLength(0);
    x.w.clock.set('2026-11-30T17:00:00.000Z');
    await x.tick(id);
    t = await x.byCluster(id);
    expect(t.get('c001')?.state).toBe('running');
    expect(t.get('c002')?.state).toBe('waiting');
    await x.succeed('c001');
    x.w.clock.set('2026-12-01T02:10:00.000Z');
    await x.tick(id);
    expect((await x.byCluster(id)).get('c002')?.state).toBe('running');
    expect(x.upgrades().map((o) => o.target.id)).toEqual(['c001', 'c002']);
    expect((await x.w.siteSettings.get(PROJECT, 'shop-001'))?.timezone).toBe('Asia/Tokyo');
  });

  it('refuses an unknown time zone', async () => {
    const x = await rolloutWorld(1);
    await expect(setSiteTimezone(x.deps, ADMIN, 'shop-001', 'Mars/Olympus')).rejects.toMatchObject({ kind: 'validation', code: 'invalid-timezone' });
    expect(await x.w.siteSettings.get(PROJECT, 'shop-001')).toBeUndefined();
  });
});

describe('tickRollout: executions', () => {
  it(`continues as a new execution after ${TICKS_PER_EXECUTION} ticks: the old one's ticks are done, the new one acts`, async () => {
    const x = await rolloutWorld(2);
    const id = await x.create({ targets: { clusterIds: x.clusterIds } });
    await x.plan(id);
    await x.tick(id);
    // As if the execution had ticked TICKS_PER_EXECUTION - 1 times already: the next tick is its last.
    await x.w.rollouts.update(id, { ticks: TICKS_PER_EXECUTION - 1 }, { statusIn: ['running'] }, T0);
    expect(await x.tick(id, id)).toEqual({ done: true, waitSeconds: 1 });
    const r = await x.rollout(id);
    expect(r).toMatchObject({ execution: `${id}-g2`, ticks: TICKS_PER_EXECUTION });
    expect(x.w.workflows.started.filter((s) => s.kind === 'rollout').map((s) => [s.name, s.input])).toEqual([[id, { rolloutId: id }], [`${id}-g2`, { rolloutId: id }]]);
    await x.succeed('c001');
    expect(await x.tick(id, id)).toEqual({ done: true, waitSeconds: 1 });
    expect(await x.rollout(id)).toEqual(r);
    expect(await x.tick(id, `${id}-g2`)).toMatchObject({ done: false });
    expect(await x.rollout(id)).toMatchObject({ currentWave: 1, ticks: TICKS_PER_EXECUTION + 1 });
  });

  it('a stale or unknown execution changes nothing', async () => {
    const x = await rolloutWorld(2);
    const id = await x.create({ targets: { clusterIds: x.clusterIds } });
    await x.plan(id);
    const before = await x.rollout(id);
    const targets = await x.targets(id);
    expect(await x.tick(id, 'someone-else')).toEqual({ done: true, waitSeconds: 1 });
    expect(await x.rollout(id)).toEqual(before);
    expect(await x.targets(id)).toEqual(targets);
    expect(x.upgrades()).toHaveLength(0);
    expect(await x.tick('ro-absent', 'ro-absent')).toMatchObject({ done: true });
  });
});
