/**
 * One set of assertions for the RolloutStore port, run against the in-memory adapter
 * (test/unit/adapters/memory-contract.test.ts) and the DynamoDB adapter on DynamoDB Local
 * (test/integration/dynamo-contract.test.ts): the rollout use-case unit tests run on the memory
 * store, so it must refuse and accept exactly what the real one does.
 */
import type { RolloutRecord, RolloutTarget, TargetState } from '../../lambdas/contracts/rollouts.js';
import { zero } from '../../lambdas/domain/rollout.js';
import { ValidationError } from '../../lambdas/domain/errors.js';
import type { Page } from '../../lambdas/ports/index.js';
import type { RolloutStore, RolloutWaveRecord } from '../../lambdas/ports/rollouts.js';

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-01T00:01:00.000Z';
const T2 = '2026-01-01T00:02:00.000Z';

/** `store()` returns the store under test; every test uses its own ids and project (`unique()`). */
export function rolloutStoreContract(store: () => RolloutStore, unique: () => string): void {
  const rollout = (id: string, project: string, over: Partial<RolloutRecord> = {}): RolloutRecord => ({
    id, project, targets: { clusterList: { count: 1 } }, to: { name: 'edge', version: '2.0.0' }, requested: '2.0.0', policy: {},
    status: 'planning', reason: 'finding the target clusters', createdBy: 'alice', createdAt: T0, updatedAt: T0,
    total: 0, waveSizes: [], currentWave: 0, execution: id, ticks: 0, version: 1, ...over,
  });
  const target = (position: number, over: Partial<RolloutTarget> = {}): RolloutTarget => ({ clusterId: `c${position}`, position, wave: -1, state: 'pending', ...over });
  const targets = (n: number, from = 0) => Array.from({ length: n }, (_, i) => target(from + i));
  const wave = (index: number, start: number, size: number): RolloutWaveRecord => ({ index, start, size, counts: { ...zero(), pending: size } });

  /** A planned rollout: `sizes` waves over sum(sizes) pending targets, running. */
  async function planned(s: RolloutStore, sizes: number[]): Promise<string> {
    const id = unique();
    await s.create(rollout(id, `p-${id}`));
    const total = sizes.reduce((a, b) => a + b, 0);
    expect(await s.addTargets(id, targets(total), { expectedTotal: 0 }, T0)).toBe(true);
    let start = 0;
    await s.putWaves(id, sizes.map((size, index) => { const w = wave(index, start, size); start += size; return w; }));
    await s.update(id, { status: 'running', waveSizes: sizes }, { statusIn: ['planning'] }, T0);
    return id;
  }
  const countsOf = async (s: RolloutStore, id: string) => (await s.waves(id)).map((w) => w.counts);
  async function allPages<T>(read: (cursor?: string) => Promise<Page<T>>): Promise<T[]> {
    const out: T[] = [];
    let cursor: string | undefined;
    for (let i = 0; i < 100; i++) {
      const page = await read(cursor);
      out.push(...page.items);
      if (!page.nextCursor) return out;
      cursor = page.nextCursor;
    }
    throw new Error('more than 100 pages: the cursor does not advance');
  }

  describe('RolloutStore: the rollout item', () => {
    it('creates once: a second create of the id is refused and changes nothing', async () => {
      const s = store();
      const id = unique();
      expect(await s.create(rollout(id, 'p', { name: 'first' }))).toBe(true);
      expect(await s.create(rollout(id, 'p', { name: 'second' }))).toBe(false);
      expect(await s.get(id)).toEqual(rollout(id, 'p', { name: 'first' }));
      expect(await s.get(`${id}-absent`)).toBeUndefined();
    });

    it('keeps a list of cluster ids apart from the rollout item: written with it, read in order, the first list kept on a refused create', async () => {
      const s = store();
      const id = unique();
      const ids = Array.from({ length: 1000 }, (_, i) => `cluster-${String(i).padStart(4, '0')}-${'x'.repeat(40)}`);
      expect(await s.create(rollout(id, 'p', { targets: { clusterList: { count: ids.length } } }), ids)).toBe(true);
      expect(await s.create(rollout(id, 'p'), ['other'])).toBe(false);
      expect(await s.clusterIds(id)).toEqual(ids);
      expect((await s.get(id))?.targets).toEqual({ clusterList: { count: 1000 } });
      const other = unique();
      await s.create(rollout(other, 'p', { targets: { template: 'shops' } }));
      expect(await s.clusterIds(other)).toEqual([]);
    });

    it('updates only while the status is one of statusIn (and the execution matches when given), bumping the version', async () => {
      const s = store();
      const id = unique();
      await s.create(rollout(id, 'p'));
      expect(await s.update(id, { reason: 'no' }, { statusIn: ['running', 'paused'] }, T1)).toBeUndefined();
      expect(await s.update(id, { reason: 'no' }, { statusIn: ['planning'], execution: `${id}-g2` }, T1)).toBeUndefined();
      expect(await s.get(id)).toMatchObject({ reason: 'finding the target clusters', version: 1, updatedAt: T0 });
      const out = await s.update(id, { status: 'running', currentWave: 1, reason: 'go' }, { statusIn: ['planning'], execution: id }, T1);
      expect(out).toMatchObject({ status: 'running', currentWave: 1, reason: 'go', version: 2, updatedAt: T1 });
      expect(await s.get(id)).toEqual(out);
      // Another execution takes over: the old one's conditions fail from now on.
      expect(await s.update(id, { execution: `${id}-g2` }, { statusIn: ['running'], execution: id }, T2)).toMatchObject({ execution: `${id}-g2`, version: 3 });
      expect(await s.update(id, { ticks: 9 }, { statusIn: ['running'], execution: id }, T2)).toBeUndefined();
      expect(await s.update(`${id}-absent`, { ticks: 1 }, { statusIn: ['running'] }, T2)).toBeUndefined();
      expect((await s.get(id))?.ticks).toBe(0);
    });

    it('lists one project newest first, filtered by status, page by page', async () => {
      const s = store();
      const p = unique();
      const ids = [0, 1, 2, 3, 4].map((i) => `${p}-r${i}`);
      for (const [i, id] of ids.entries()) await s.create(rollout(id, p, { createdAt: `2026-01-0${i + 1}T00:00:00.000Z`, status: i % 2 ? 'running' : 'planning' }));
      await s.create(rollout(`${p}-other`, `${p}-other`));
      const all = await allPages((cursor) => s.list(p, { limit: 2, ...(cursor ? { cursor } : {}) }));
      expect(all.map((r) => r.id)).toEqual([...ids].reverse());
      const running = await allPages((cursor) => s.list(p, { limit: 10, ...(cursor ? { cursor } : {}) }, 'running'));
      expect(running.map((r) => r.id)).toEqual([ids[3], ids[1]]);
    });
  });

  describe('RolloutStore: planning', () => {
    it('adds targets and advances total and cursor only at the expected total; a position is written once', async () => {
      const s = store();
      const id = unique();
      await s.create(rollout(id, 'p'));
      expect(await s.addTargets(id, targets(3), { expectedTotal: 0, planCursor: 'page-2' }, T1)).toBe(true);
      expect(await s.get(id)).toMatchObject({ total: 3, planCursor: 'page-2', updatedAt: T1 });
      // A retried page (the tick ran twice): the plan does not move, the targets stay as first written.
      expect(await s.addTargets(id, targets(3).map((t) => ({ ...t, clusterId: `other-${t.position}` })), { expectedTotal: 0, planCursor: 'page-2' }, T2)).toBe(false);
      expect(await s.get(id)).toMatchObject({ total: 3, planCursor: 'page-2' });
      expect((await s.targetsBetween(id, 0, 10)).map((t) => t.clusterId)).toEqual(['c0', 'c1', 'c2']);
      // The last page: no cursor left.
      expect(await s.addTargets(id, targets(2, 3), { expectedTotal: 3 }, T2)).toBe(true);
      const r = await s.get(id);
      expect(r).toMatchObject({ total: 5 });
      expect(r?.planCursor).toBeUndefined();
      expect((await s.targetsBetween(id, 0, 10)).map((t) => t.position)).toEqual([0, 1, 2, 3, 4]);
    });

    it('puts the waves once (a second put changes nothing) and reads them in order', async () => {
      const s = store();
      const id = unique();
      await s.create(rollout(id, 'p'));
      await s.putWaves(id, [wave(0, 0, 1), wave(1, 1, 2), wave(2, 3, 4)]);
      await s.putWaves(id, [{ ...wave(0, 0, 1), counts: { ...zero(), succeeded: 1 } }]);
      expect(await s.waves(id)).toEqual([wave(0, 0, 1), wave(1, 1, 2), wave(2, 3, 4)]);
    });

    it('marks a wave started and ended once', async () => {
      const s = store();
      const id = await planned(s, [1, 2]);
      await s.markWave(id, 0, 'startedAt', T1);
      await s.markWave(id, 0, 'startedAt', T2);
      await s.markWave(id, 0, 'endedAt', T2);
      const [w0, w1] = await s.waves(id);
      expect(w0).toMatchObject({ startedAt: T1, endedAt: T2 });
      expect(w1?.startedAt).toBeUndefined();
    });

    it('reads the targets of a position range [from, to)', async () => {
      const s = store();
      const id = await planned(s, [1, 2, 4]);
      expect((await s.targetsBetween(id, 1, 3)).map((t) => t.position)).toEqual([1, 2]);
      expect((await s.targetsBetween(id, 3, 7)).map((t) => t.position)).toEqual([3, 4, 5, 6]);
      expect(await s.targetsBetween(id, 7, 9)).toEqual([]);
    });
  });

  describe('RolloutStore: moving a target', () => {
    it('moves a target only from the expected state, and its wave\'s counts move with it', async () => {
      const s = store();
      const id = await planned(s, [1, 2]);
      const at = { position: 1, wave: 1 };
      expect(await s.moveTarget(id, at, { from: 'deferred', to: 'running' }, T1)).toBe(false);
      expect(await s.moveTarget(id, at, { from: 'pending', to: 'running', set: { operationId: 'op-1', startedAt: T1 } }, T1)).toBe(true);
      // The same move again (a retried tick): refused, counted once.
      expect(await s.moveTarget(id, at, { from: 'pending', to: 'running', set: { operationId: 'op-2' } }, T1)).toBe(false);
      expect(await countsOf(s, id)).toEqual([{ ...zero(), pending: 1 }, { ...zero(), pending: 1, running: 1 }]);
      expect((await s.targetsBetween(id, 1, 2))[0]).toMatchObject({ state: 'running', operationId: 'op-1', startedAt: T1 });
      expect(await s.moveTarget(id, at, { from: 'running', to: 'failed', set: { reason: 'boom', endedAt: T2 } }, T2)).toBe(true);
      expect(await countsOf(s, id)).toEqual([{ ...zero(), pending: 1 }, { ...zero(), pending: 1, failed: 1 }]);
      expect(await s.moveTarget(id, { position: 99, wave: 1 }, { from: 'pending', to: 'running' }, T2)).toBe(false);
    });

    it('removes fields, keeps a removed field that is also set, and a move to the same state changes no count', async () => {
      const s = store();
      const id = await planned(s, [2]);
      const at = { position: 0, wave: 0 };
      await s.moveTarget(id, at, { from: 'pending', to: 'deferred', set: { reason: 'offline: h1', retryAt: T1, deferredSince: T0 } }, T0);
      expect(await s.moveTarget(id, at, { from: 'deferred', to: 'deferred', set: { reason: 'offline: h2', retryAt: T2 }, remove: ['retryAt', 'deferredSince'] }, T1)).toBe(true);
      const t = (await s.targetsBetween(id, 0, 1))[0];
      expect(t).toMatchObject({ state: 'deferred', reason: 'offline: h2', retryAt: T2 });
      expect(t?.deferredSince).toBeUndefined();
      expect(await countsOf(s, id)).toEqual([{ ...zero(), pending: 1, deferred: 1 }]);
    });

    it('refuses a move while the rollout is not in whileRollout, and changes nothing', async () => {
      const s = store();
      const id = await planned(s, [2]);
      const at = { position: 0, wave: 0 };
      await s.update(id, { status: 'paused' }, { statusIn: ['running'] }, T1);
      expect(await s.moveTarget(id, at, { from: 'pending', to: 'running', set: { operationId: 'op-1' }, whileRollout: ['running'] }, T1)).toBe(false);
      expect((await s.targetsBetween(id, 0, 1))[0]).toEqual(target(0));
      expect(await countsOf(s, id)).toEqual([{ ...zero(), pending: 2 }]);
      await s.update(id, { status: 'running' }, { statusIn: ['paused'] }, T2);
      expect(await s.moveTarget(id, at, { from: 'pending', to: 'running', set: { operationId: 'op-1' }, whileRollout: ['running'] }, T2)).toBe(true);
      expect(await countsOf(s, id)).toEqual([{ ...zero(), pending: 1, running: 1 }]);
    });
  });

  describe('RolloutStore: listing targets', () => {
    async function mixed(s: RolloutStore): Promise<{ id: string; failed: number[] }> {
      const id = await planned(s, [1, 2, 4, 5]);
      const failed = [0, 4, 5, 10];
      for (const p of failed) {
        const w = p === 0 ? 0 : p < 3 ? 1 : p < 7 ? 2 : 3;
        await s.moveTarget(id, { position: p, wave: w }, { from: 'pending', to: 'failed', set: { reason: `failed ${p}` } }, T1);
      }
      return { id, failed };
    }
    const page = (cursor?: string) => ({ limit: 2, ...(cursor ? { cursor } : {}) });

    it('lists every target once, in position order, page by page', async () => {
      const s = store();
      const { id } = await mixed(s);
      const all = await allPages((c) => s.listTargets(id, {}, page(c)));
      expect(all.map((t) => t.position)).toEqual(Array.from({ length: 12 }, (_, i) => i));
    });

    it('filters by state and by position range (a wave), together too', async () => {
      const s = store();
      const { id, failed } = await mixed(s);
      const byState = async (state: TargetState, range?: { from: number; to: number }) =>
        (await allPages((c) => s.listTargets(id, { state, ...(range ? { range } : {}) }, page(c)))).map((t) => t.position);
      expect(await byState('failed')).toEqual(failed);
      expect(await byState('failed', { from: 3, to: 7 })).toEqual([4, 5]);
      expect(await byState('running')).toEqual([]);
      const wave2 = await allPages((c) => s.listTargets(id, { range: { from: 3, to: 7 } }, page(c)));
      expect(wave2.map((t) => [t.position, t.state])).toEqual([[3, 'pending'], [4, 'failed'], [5, 'failed'], [6, 'pending']]);
    });

    it('refuses a tampered cursor and one from another filter with invalid-cursor', async () => {
      const s = store();
      const { id } = await mixed(s);
      const first = await s.listTargets(id, {}, { limit: 2 });
      expect(first.nextCursor).toBeDefined();
      const cursor = first.nextCursor!;
      for (const bad of [`x${cursor}`, Buffer.from('{"f":1}').toString('base64url'), 'not-a-cursor!']) {
        await expect(s.listTargets(id, {}, { limit: 2, cursor: bad })).rejects.toMatchObject({ code: 'invalid-cursor' });
      }
      await expect(s.listTargets(id, { state: 'failed' }, { limit: 2, cursor })).rejects.toBeInstanceOf(ValidationError);
      await expect(s.listTargets(`${id}-other`, {}, { limit: 2, cursor })).rejects.toMatchObject({ code: 'invalid-cursor' });
    });
  });
}
