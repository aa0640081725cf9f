import { nextPollMs } from '../../../console/src/logic/poll.js';
import { operationFiltersFrom, operationsHref, rolloutFiltersFrom, rolloutsHref } from '../../../console/src/logic/list-query.js';
import { countsText, rolloutActions, settled } from '../../../console/src/logic/rollout-view.js';
import { planLines, type PreviewInput } from '../../../console/src/logic/plan-preview.js';
import { parseRoute } from '../../../console/src/logic/route.js';

describe('polling pace', () => {
  const now = Date.parse('2026-12-01T12:00:00Z');
  it.each([
    ['no hint: the page\'s pace', null, undefined, 2000, 2000],
    ['Retry-After seconds', '5', undefined, 2000, 5000],
    ['Retry-After as an HTTP date', 'Tue, 01 Dec 2026 12:00:07 GMT', undefined, 2000, 7000],
    ['pollAfterSeconds wins over the header', '5', 3, 2000, 3000],
    ['never faster than 1 s', '0', undefined, 2000, 1000],
    ['never slower than 60 s', '3600', undefined, 2000, 60_000],
    ['a date in the past', 'Tue, 01 Dec 2026 11:00:00 GMT', undefined, 2000, 1000],
    ['garbage falls back', 'soon', undefined, 4000, 4000],
    ['a negative pollAfterSeconds is ignored', null, -1, 2500, 2500],
  ])('%s', (_name, header, after, fallback, want) => {
    expect(nextPollMs(header, after, fallback, now)).toBe(want);
  });
});

describe('operations and rollouts filters in the address', () => {
  it.each([
    ['targetType=cluster&targetId=c-1', { targetType: 'cluster', targetId: 'c-1' }],
    ['targetType=host&targetId=sim-1', { targetType: 'host', targetId: 'sim-1' }],
    ['targetId=c-1', {}],
    ['targetType=cluster', {}],
    ['targetType=site&targetId=x', {}],
    ['targetType=cluster&targetId=a%20b', {}],
    ['status=running&type=scale-out', { status: 'running', type: 'scale-out' }],
    ['status=done&type=nap', {}],
    ['targetType=host&targetId=sim-1&status=failed', { targetType: 'host', targetId: 'sim-1', status: 'failed' }],
  ])('%s', (q, want) => {
    expect(operationFiltersFrom(new URLSearchParams(q))).toEqual(want);
  });
  it('round-trips through the link', () => {
    const href = operationsHref({ targetType: 'cluster', targetId: 'c-1' });
    expect(href).toBe('#/operations?targetType=cluster&targetId=c-1');
    expect(operationsHref({})).toBe('#/operations');
    expect(operationsHref({ status: 'running', type: 'upgrade-cluster', targetType: 'cluster' })).toBe('#/operations?status=running&type=upgrade-cluster');
    expect(rolloutsHref(rolloutFiltersFrom(new URLSearchParams('status=running')))).toBe('#/rollouts?status=running');
    expect(rolloutFiltersFrom(new URLSearchParams('status=bogus'))).toEqual({});
  });
  it('routes to the new pages', () => {
    expect(parseRoute('#/operations?targetType=cluster&targetId=c-1')).toMatchObject({ page: 'operations' });
    expect(parseRoute('#/operations/op-1')).toEqual({ page: 'operation', operationId: 'op-1' });
    expect(parseRoute('#/rollouts')).toMatchObject({ page: 'rollouts' });
    expect(parseRoute('#/rollouts/ro-1')).toEqual({ page: 'rollout', rolloutId: 'ro-1' });
    expect(parseRoute('#/rollouts/%E0%A4%A')).toMatchObject({ page: 'not-found' });
  });
});

describe('rollout view', () => {
  const counts = { pending: 3, waiting: 0, deferred: 1, running: 1, succeeded: 2, failed: 1, skipped: 1 };
  it('counts what is settled and says the counts in order', () => {
    expect(settled(counts)).toBe(4);
    expect(countsText(counts)).toBe('2 succeeded, 1 running, 1 failed, 1 deferred, 1 skipped, 3 pending');
    expect(countsText({ pending: 0 })).toBe('no clusters');
  });
  const r = (status: string, promotion?: string, promotedThrough?: number, waves = [1, 2]) => ({ status, policy: { waves: promotion ? { promotion } : {} }, waveSizes: waves, ...(promotedThrough !== undefined ? { promotedThrough } : {}) });
  it.each([
    ['running', r('running'), ['pause', 'cancel']],
    ['planning', r('planning'), ['pause', 'cancel']],
    ['paused', r('paused'), ['resume', 'cancel']],
    ['manual promotion, not yet promoted', r('running', 'manual'), ['pause', 'promote', 'cancel']],
    ['manual promotion, promoted', r('running', 'manual', 1), ['pause', 'cancel']],
    ['manual promotion, one wave only', r('running', 'manual', undefined, [1]), ['pause', 'cancel']],
    ['cancelling', r('cancelling'), []],
    ['succeeded', r('succeeded'), []],
    ['aborted', r('aborted', 'manual'), []],
  ])('%s', (_n, rollout, want) => {
    expect(rolloutActions(rollout)).toEqual(want);
  });
});

describe('upgrade plan preview', () => {
  const node = (hostId: string, role: string, pool: string) => ({ hostId, role, pool, behaviour: 'repave', steps: [{ step: 'preflight', on: 'node' }, { step: 'drain', on: 'peer' }, { step: 'upgrade', on: 'node' }] });
  const base: PreviewInput = {
    wouldStart: true, from: { name: 'edge', version: '1.0.0' }, to: { name: 'edge', version: '2.0.0' },
    order: [['cp-1'], ['w-1', 'w-2'], ['w-3']],
    plan: { behaviour: 'repave', maxUnavailable: 2, controlPlane: [node('cp-1', 'control-plane', 'control-plane')], workers: ['w-1', 'w-2', 'w-3'].map((w) => node(w, 'worker', 'a')), downtime: { expected: false } },
  };
  it('lists the nodes in order, batches sharing a number, with their steps', () => {
    const l = planLines(base);
    expect(l.verdict).toBe('Would start now: edge@1.0.0 → 2.0.0.');
    expect(l.steps.map((s) => s.text)).toEqual([
      '1. cp-1 (control plane) repave: preflight → drain (from a peer) → upgrade',
      '2. w-1 (worker pool a) repave: preflight → drain (from a peer) → upgrade',
      '2. w-2 (worker pool a) repave: preflight → drain (from a peer) → upgrade',
      '3. w-3 (worker pool a) repave: preflight → drain (from a peer) → upgrade',
    ]);
    expect(l.downtime).toMatch(/^No downtime/);
    expect(l.summary).toMatch(/workers 2 at a time \(4 nodes\)/);
  });
  it('says why it would be refused, with the plan once lifted, and the downtime', () => {
    const l = planLines({ ...base, wouldStart: false, refusal: { code: 'downtime-not-acknowledged', message: 'this upgrade cannot avoid downtime' }, plan: { ...base.plan!, downtime: { expected: true, reason: 'one control-plane node', estimatedSeconds: 300 } } });
    expect(l.verdict).toBe('Would be refused: this upgrade cannot avoid downtime (downtime-not-acknowledged). Once that is lifted it runs this plan.');
    expect(l.downtime).toBe('Downtime expected (about 5 min): one control-plane node.');
  });
  it('a refusal without a plan lists no node', () => {
    const { plan: _p, ...noPlan } = base;
    const l = planLines({ ...noPlan, wouldStart: false, order: [], refusal: { code: 'version-skew', message: 'too far' } });
    expect(l).toEqual({ verdict: 'Would be refused: too far (version-skew).', steps: [] });
  });
});
