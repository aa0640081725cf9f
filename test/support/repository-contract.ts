/**
 * One set of assertions for the host, operation and cluster repositories, run against the
 * in-memory adapters (test/unit/adapters/memory-contract.test.ts) and the DynamoDB adapters on
 * DynamoDB Local (test/integration/dynamo-contract.test.ts): the memory adapters used by the
 * use-case unit tests behave as the real ones where it matters to callers.
 */
import { NotFoundError, ValidationError, VersionMismatchError } from '../../lambdas/domain/errors.js';
import type { ClusterRecord, HostRecord, CreateClusterOperation } from '../../lambdas/domain/model.js';
import type { PresenceWriter } from '../../lambdas/ports/device-plane.js';
import type { ClusterRepository, HostRepository, OperationRepository } from '../../lambdas/ports/index.js';

export interface ContractRepos {
  readonly hosts: HostRepository;
  readonly operations: OperationRepository;
  readonly clusters: ClusterRepository;
  readonly presence: PresenceWriter;
}

const T0 = '2026-01-01T00:00:00.000Z';
const T1 = '2026-01-02T00:00:00.000Z';

/** `repos()` returns repositories over one store; every test uses its own project and ids (`unique()`). */
export function repositoryContract(repos: () => ContractRepos, unique: () => string): void {
  const host = (id: string, project: string, over: Partial<HostRecord> = {}): HostRecord => ({
    id, uid: id, project, tags: {}, status: 'approved', version: 1, createdAt: T0, updatedAt: T0, ...over,
  });
  const operation = (id: string, project: string, over: Partial<CreateClusterOperation> = {}): CreateClusterOperation => ({
    id, project, type: 'create-cluster', target: { type: 'cluster', id: `c-${id}` }, status: 'queued', step: 'queued', hosts: {}, startedAt: T0, ...over,
  });
  const cluster = (id: string, project: string, hostIds: string[]): ClusterRecord => ({
    id, project, name: id, profile: { name: 'p', version: '1.0.0' }, controlPlane: { hostIds }, workers: [], status: 'provisioning', version: 1, createdAt: T0, updatedAt: T0,
  });

  describe('HostRepository', () => {
    it('creates once: a second create of the same id is refused and writes nothing', async () => {
      const { hosts } = repos();
      const p = unique();
      expect(await hosts.create(host(`${p}-h`, p, { name: 'first' }))).toBe(true);
      expect(await hosts.create(host(`${p}-h`, p, { name: 'second' }))).toBe(false);
      expect((await hosts.get(`${p}-h`))?.name).toBe('first');
    });

    it('reads a host with its presence (offline until a presence is stored)', async () => {
      const { hosts, presence } = repos();
      const p = unique();
      await hosts.create(host(`${p}-h`, p));
      expect((await hosts.get(`${p}-h`))?.presence).toBe('offline');
      expect(await presence.apply(`${p}-h`, { presence: 'online', at: 2000 })).toBe(true);
      expect(await presence.apply(`${p}-h`, { presence: 'offline', at: 1000 })).toBe(false);
      expect((await hosts.get(`${p}-h`))?.presence).toBe('online');
      expect(await hosts.get(`${p}-absent`)).toBeUndefined();
    });

    it('updates at the expected version (bumping it); a stale version or a missing host fails with the domain errors', async () => {
      const { hosts } = repos();
      const p = unique();
      await hosts.create(host(`${p}-h`, p, { status: 'pending' }));
      const updated = await hosts.update(`${p}-h`, 1, { status: 'approved', approvedAt: T1 }, T1);
      expect(updated).toMatchObject({ status: 'approved', approvedAt: T1, version: 2, updatedAt: T1 });
      expect(await hosts.get(`${p}-h`)).toMatchObject({ status: 'approved', version: 2 });
      await expect(hosts.update(`${p}-h`, 1, { name: 'late' }, T1)).rejects.toBeInstanceOf(VersionMismatchError);
      await expect(hosts.update(`${p}-absent`, 1, { name: 'x' }, T1)).rejects.toBeInstanceOf(NotFoundError);
      expect((await hosts.get(`${p}-h`))?.name).toBeUndefined();
    });

    it('deletes at the expected version only', async () => {
      const { hosts } = repos();
      const p = unique();
      await hosts.create(host(`${p}-h`, p));
      await expect(hosts.delete(`${p}-h`, 7)).rejects.toBeInstanceOf(VersionMismatchError);
      expect(await hosts.get(`${p}-h`)).toBeDefined();
      await hosts.delete(`${p}-h`, 1);
      expect(await hosts.get(`${p}-h`)).toBeUndefined();
    });

    it('lists one project with filters, page by page, every host exactly once', async () => {
      const { hosts } = repos();
      const p = unique();
      const other = unique();
      const ids = Array.from({ length: 7 }, (_, i) => `${p}-h${i}`);
      for (const [i, id] of ids.entries()) {
        await hosts.create(host(id, p, { status: i % 2 ? 'approved' : 'pending', site: i < 3 ? 'north' : 'south', tags: { tier: i < 5 ? 'a' : 'b' } }));
      }
      await hosts.create(host(`${other}-h`, other));
      const all = async (filter: Parameters<HostRepository['list']>[1]) => {
        const seen: string[] = [];
        let cursor: string | undefined;
        do {
          const page = await hosts.list(p, filter, { limit: 2, ...(cursor ? { cursor } : {}) });
          expect(page.items.length).toBeLessThanOrEqual(2);
          seen.push(...page.items.map((h) => h.id));
          cursor = page.nextCursor;
        } while (cursor);
        return seen.sort();
      };
      expect(await all({})).toEqual(ids);
      expect(await all({ status: 'approved' })).toEqual(ids.filter((_, i) => i % 2));
      expect(await all({ site: 'north' })).toEqual(ids.slice(0, 3));
      expect(await all({ tag: { key: 'tier', value: 'b' } })).toEqual(ids.slice(5));
    });

    it('refuses a cursor of another list with invalid-cursor', async () => {
      const { hosts } = repos();
      const p = unique();
      for (const i of [1, 2, 3]) await hosts.create(host(`${p}-h${i}`, p, { site: 's' }));
      const first = await hosts.list(p, { site: 's' }, { limit: 1 });
      expect(first.nextCursor).toBeDefined();
      await expect(hosts.list(unique(), { site: 's' }, { limit: 1, cursor: first.nextCursor! }))
        .rejects.toMatchObject({ code: 'invalid-cursor', constructor: ValidationError });
      await expect(hosts.list(p, {}, { limit: 1, cursor: 'not-a-cursor' })).rejects.toMatchObject({ code: 'invalid-cursor' });
    });
  });

  describe('OperationRepository', () => {
    it('updates only from an allowed status; ending it stamps endedAt and drops it from the open list', async () => {
      const { operations, clusters, hosts } = repos();
      const p = unique();
      await hosts.create(host(`${p}-h`, p));
      const c = cluster(`${p}-c`, p, [`${p}-h`]);
      expect(await clusters.createWithClaims(c, operation(`${p}-op`, p, { target: { type: 'cluster', id: c.id } }), { [`${p}-h`]: 1 })).toEqual({ ok: true });
      expect(await operations.update(`${p}-op`, { step: 'x' }, ['running'], T1)).toBeUndefined();
      const running = await operations.update(`${p}-op`, { status: 'running', step: 'begin' }, ['queued'], T1);
      expect(running).toMatchObject({ status: 'running', step: 'begin', updatedAt: T1 });
      expect(running?.endedAt).toBeUndefined();
      expect((await operations.listOpen(1000)).map((o) => o.id)).toContain(`${p}-op`);
      const ended = await operations.update(`${p}-op`, { status: 'failed', reason: 'r' }, ['running'], T1);
      expect(ended).toMatchObject({ status: 'failed', reason: 'r', endedAt: T1 });
      expect((await operations.listOpen(1000)).map((o) => o.id)).not.toContain(`${p}-op`);
      expect(await operations.update(`${p}-op`, { status: 'running' }, ['queued', 'running'], T1)).toBeUndefined();
      expect(await operations.update(`${p}-absent`, { status: 'running' }, ['queued'], T1)).toBeUndefined();
    });

    it('records per-host progress without losing another host\'s; a missing operation is ignored', async () => {
      const { operations, clusters } = repos();
      const p = unique();
      const c = cluster(`${p}-c`, p, []);
      await clusters.createWithClaims(c, operation(`${p}-op`, p), {});
      await Promise.all([
        operations.setHost(`${p}-op`, 'a', { status: 'sent', commandId: 'c1' }),
        operations.setHost(`${p}-op`, 'b', { status: 'succeeded' }),
      ]);
      expect((await operations.get(`${p}-op`))?.hosts).toEqual({ a: { status: 'sent', commandId: 'c1' }, b: { status: 'succeeded' } });
      await expect(operations.setHost(`${p}-absent`, 'a', { status: 'sent' })).resolves.toBeUndefined();
      expect(await operations.get(`${p}-absent`)).toBeUndefined();
    });

    it('lists a target\'s operations newest first, page by page', async () => {
      const { operations, clusters } = repos();
      const p = unique();
      const c = cluster(`${p}-c`, p, []);
      await clusters.createWithClaims(c, operation(`${p}-op0`, p, { target: { type: 'cluster', id: c.id }, startedAt: T0 }), {});
      for (const [i, at] of ['2026-01-03T00:00:00.000Z', '2026-01-02T00:00:00.000Z'].entries()) {
        const now = await clusters.get(c.id);
        await clusters.updateForOperation(c.id, now!.activeOperationId ?? '', {}, { endOperation: true, now: at });
        const fresh = await clusters.get(c.id);
        expect((await clusters.startOperation(fresh!, operation(`${p}-op${i + 1}`, p, { target: { type: 'cluster', id: c.id }, startedAt: at }), {})).ok).toBe(true);
      }
      const first = await operations.list(p, { type: 'cluster', id: c.id }, { limit: 2 });
      expect(first.items.map((o) => o.id)).toEqual([`${p}-op1`, `${p}-op2`]);
      const second = await operations.list(p, { type: 'cluster', id: c.id }, { limit: 2, cursor: first.nextCursor! });
      expect(second.items.map((o) => o.id)).toEqual([`${p}-op0`]);
      expect(second.nextCursor).toBeUndefined();
      // Filtered by status (and type), on the target and over the whole project; a filter does not reuse another's cursor.
      expect(await operations.update(`${p}-op2`, { status: 'succeeded' }, ['queued', 'running'], '2026-01-04T00:00:00.000Z')).toMatchObject({ status: 'succeeded' });
      expect((await operations.list(p, { type: 'cluster', id: c.id }, { limit: 10 }, { status: 'succeeded' })).items.map((o) => o.id)).toEqual([`${p}-op2`]);
      expect((await operations.list(p, undefined, { limit: 10 }, { status: 'succeeded', type: 'create-cluster' })).items.map((o) => o.id)).toEqual([`${p}-op2`]);
      expect((await operations.list(p, undefined, { limit: 10 }, { type: 'upgrade-cluster' })).items).toEqual([]);
      const open = await operations.list(p, { type: 'cluster', id: c.id }, { limit: 10 }, { status: 'queued' });
      expect(open.items.map((o) => o.id)).toEqual([`${p}-op1`, `${p}-op0`]);
      await expect(operations.list(p, { type: 'cluster', id: c.id }, { limit: 2, cursor: first.nextCursor! }, { status: 'queued' })).rejects.toThrow();
    });
  });

  describe('ClusterRepository', () => {
    it('claims every host or none: a host at another version fails the whole create, naming it', async () => {
      const { clusters, hosts } = repos();
      const p = unique();
      await hosts.create(host(`${p}-a`, p));
      await hosts.create(host(`${p}-b`, p, { version: 3 }));
      const out = await clusters.createWithClaims(cluster(`${p}-c`, p, [`${p}-a`, `${p}-b`]), operation(`${p}-op`, p), { [`${p}-a`]: 1, [`${p}-b`]: 1 });
      expect(out).toMatchObject({ ok: false, nameTaken: false, failures: [{ hostId: `${p}-b` }] });
      expect(await clusters.get(`${p}-c`)).toBeUndefined();
      expect((await hosts.get(`${p}-a`))?.clusterId).toBeUndefined();
    });

    it('reserves the cluster name in its project', async () => {
      const { clusters } = repos();
      const p = unique();
      expect(await clusters.createWithClaims({ ...cluster(`${p}-c1`, p, []), name: 'shop' }, operation(`${p}-op1`, p), {})).toEqual({ ok: true });
      expect(await clusters.createWithClaims({ ...cluster(`${p}-c2`, p, []), name: 'shop' }, operation(`${p}-op2`, p), {})).toMatchObject({ ok: false, nameTaken: true });
    });

    it('one operation at a time: a busy or stale cluster is refused with the reason; updates need the active operation', async () => {
      const { clusters, operations, hosts } = repos();
      const p = unique();
      await hosts.create(host(`${p}-h`, p));
      const c = cluster(`${p}-c`, p, [`${p}-h`]);
      await clusters.createWithClaims(c, operation(`${p}-create`, p), { [`${p}-h`]: 1 });
      await clusters.markJoined(c.id, [`${p}-h`], T1);
      expect(await hosts.get(`${p}-h`)).toMatchObject({ status: 'in-cluster', clusterId: c.id, version: 3 });
      const stored = (await clusters.get(c.id))!;
      expect(await clusters.updateForOperation(c.id, 'someone-else', { status: 'running' }, { endOperation: true, now: T1 })).toBeUndefined();
      const started = await clusters.startOperation(stored, operation(`${p}-up`, p), { status: 'upgrading' });
      expect(started).toMatchObject({ ok: true, cluster: { status: 'upgrading', activeOperationId: `${p}-up`, version: stored.version + 1 } });
      expect(await operations.get(`${p}-up`)).toMatchObject({ status: 'queued' });
      const again = await clusters.startOperation(stored, operation(`${p}-up2`, p), { status: 'upgrading' });
      expect(again).toMatchObject({ ok: false, busy: true, stale: true });
      const done = await clusters.updateForOperation(c.id, `${p}-up`, { status: 'running' }, { endOperation: true, now: T1 });
      expect(done).toMatchObject({ status: 'running' });
      expect(done?.activeOperationId).toBeUndefined();
      expect(await clusters.startOperation(stored, operation(`${p}-up3`, p), {})).toMatchObject({ ok: false, stale: true });
    });

    it('records the init node\'s packs only from the first control-plane host and never older over newer; the version stays', async () => {
      const { clusters } = repos();
      const p = unique();
      const c = cluster(`${p}-c`, p, [`${p}-a`, `${p}-b`]);
      await clusters.createWithClaims(c, operation(`${p}-create`, p), {});
      const installing = [{ name: 'calico', type: 'cni' as const, state: 'installing' as const, reason: 'helm install job running' }];
      const ready = [{ name: 'calico', type: 'cni' as const, state: 'ready' as const, version: 'v3.29.1' }];
      expect(await clusters.recordPacks(c.id, `${p}-b`, ready, T1)).toBe(false);
      expect(await clusters.recordPacks(c.id, `${p}-a`, installing, T0)).toBe(true);
      expect(await clusters.recordPacks(c.id, `${p}-a`, ready, T1)).toBe(true);
      expect(await clusters.recordPacks(c.id, `${p}-a`, installing, T0)).toBe(false);
      expect(await clusters.recordPacks(`${p}-gone`, `${p}-a`, ready, T1)).toBe(false);
      expect(await clusters.get(c.id)).toMatchObject({ packs: ready, packsReportedAt: T1, version: 1, updatedAt: T0 });
    });

    it('releases only its own hosts, and deletes releasing every claimed host', async () => {
      const { clusters, hosts } = repos();
      const p = unique();
      for (const id of ['a', 'b']) await hosts.create(host(`${p}-${id}`, p));
      const c = cluster(`${p}-c`, p, [`${p}-a`, `${p}-b`]);
      await clusters.createWithClaims(c, operation(`${p}-create`, p), { [`${p}-a`]: 1, [`${p}-b`]: 1 });
      await clusters.releaseHosts('another-cluster', [`${p}-a`], T1);
      expect((await hosts.get(`${p}-a`))?.clusterId).toBe(c.id);
      await clusters.releaseHosts(c.id, [`${p}-a`], T1);
      expect(await hosts.get(`${p}-a`)).toMatchObject({ status: 'approved', version: 3 });
      expect((await hosts.get(`${p}-a`))?.clusterId).toBeUndefined();
      await clusters.deleteReleasing((await clusters.get(c.id))!);
      expect(await clusters.get(c.id)).toBeUndefined();
      expect((await hosts.get(`${p}-b`))?.clusterId).toBeUndefined();
      expect((await hosts.get(`${p}-b`))?.status).toBe('approved');
    });
  });
}
