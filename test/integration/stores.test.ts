/**
 * The cluster and operation stores against DynamoDB Local with the synthesized state table:
 * every conditional path of the workflow writes (busy, stale, lost claims, finished
 * operations, hosts that moved on) and the indexes they maintain.
 */
import { DescribeTableCommand, type CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoClusterRepository, DynamoOperationRepository, operationItems } from '../../lambdas/adapters/dynamodb/cluster-repository.js';
import { DynamoCommandStore } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import { DynamoHostRepository } from '../../lambdas/adapters/dynamodb/host-repository.js';
import { keys } from '../../lambdas/adapters/dynamodb/keys.js';
import type { ClusterRecord, CreateClusterOperation, OperationRecord, ScaleOutOperation } from '../../lambdas/domain/model.js';
import { ensureTables, type DynamoLocal } from '../../local/dynamodb-local.js';
import { ephemeralLow } from '../../local/stable-port.js';
import { startStateTable } from './state-table.js';

let db: DynamoLocal;
let table: string;
let stateTable: CreateTableCommandInput;
let clusters: DynamoClusterRepository;
let operations: DynamoOperationRepository;
let hosts: DynamoHostRepository;

const project = 'stores';
const T0 = '2026-01-01T00:00:00.000Z';
const NOW = '2026-01-02T00:00:00.000Z';

beforeAll(async () => {
  ({ db, table, definition: stateTable } = await startStateTable());
  clusters = new DynamoClusterRepository(db.client, table);
  operations = new DynamoOperationRepository(db.client, table);
  hosts = new DynamoHostRepository(db.client, table);
});
afterAll(async () => { await db?.stop(); });

/** Stores an operation as the repositories do (head and plan items). */
const putOperation = async (o: OperationRecord) => {
  for (const Item of operationItems(o)) await db.client.send(new PutCommand({ TableName: table, Item }));
};
const raw = async (key: Record<string, string>) =>
  (await db.client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;

async function seedHosts(ids: string[]): Promise<void> {
  for (const id of ids) {
    expect(await hosts.create({ id, uid: id, project, tags: {}, status: 'approved', version: 1, createdAt: T0, updatedAt: T0, approvedAt: T0 })).toBe(true);
  }
}

function op(id: string, over: Partial<CreateClusterOperation> = {}): CreateClusterOperation {
  return { id, project, type: 'create-cluster', target: { type: 'cluster', id: `c-${id}` }, status: 'queued', step: 'queued', hosts: {}, startedAt: T0, ...over };
}

/** A scale-out operation (a kind with an input). */
function scaleOp(id: string, over: Partial<ScaleOutOperation> = {}): ScaleOutOperation {
  const input = { pool: 'workers', add: ['h1'], after: { controlPlane: { hostIds: ['h0'] }, workers: [{ name: 'workers', hostIds: ['h1'] }] } };
  return { ...op(id), type: 'scale-out', input, ...over };
}

/** A cluster created through createWithClaims (its create operation `<id>-create`) owning `hostIds` as control plane. */
async function createCluster(id: string, hostIds: string[]): Promise<ClusterRecord> {
  await seedHosts(hostIds);
  const cluster: ClusterRecord = {
    id, project, name: id, profile: { name: 'p', version: '1.0.0' }, controlPlane: { hostIds }, workers: [],
    status: 'provisioning', operationId: `${id}-create`, version: 1, createdAt: T0, updatedAt: T0,
  };
  const created = await clusters.createWithClaims(cluster, op(`${id}-create`, { target: { type: 'cluster', id } }), Object.fromEntries(hostIds.map((h) => [h, 1])));
  expect(created).toEqual({ ok: true });
  return cluster;
}

/** Ids of every host the repository lists for `filter` (all pages). */
async function listed(filter: Parameters<DynamoHostRepository['list']>[1]): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  do {
    const page = await hosts.list(project, filter, { limit: 50, ...(cursor ? { cursor } : {}) });
    ids.push(...page.items.map((h) => h.id));
    cursor = page.nextCursor;
  } while (cursor);
  return ids.sort();
}

it("DynamoDB Local listens on a port from 20000 up and below the kernel's ephemeral range (no outgoing connection can take it before Java binds it)", () => {
  const port = Number(new URL(db.endpoint).port);
  expect(port).toBeGreaterThanOrEqual(20_000);
  expect(port).toBeLessThan(ephemeralLow());
});

describe('open operations index', () => {
  it('lists queued, running and paused operations of every project oldest first, and drops an operation when it ends', async () => {
    const rows: [string, string, OperationRecord['status'], string][] = [
      ['open-c', '2000-01-01T00:00:03.000Z', 'paused', 'other-project'],
      ['open-a', '2000-01-01T00:00:01.000Z', 'queued', project],
      ['open-done', '2000-01-01T00:00:00.000Z', 'succeeded', project],
      ['open-b', '2000-01-01T00:00:02.000Z', 'running', 'other-project'],
    ];
    for (const [id, startedAt, status, p] of rows) {
      await putOperation(op(id, { startedAt, status, project: p }));
    }
    expect((await operations.listOpen(3)).map((o) => o.id)).toEqual(['open-a', 'open-b', 'open-c']);
    expect((await operations.listOpen(1)).map((o) => o.id)).toEqual(['open-a']);
    expect(await operations.listOpen(0)).toEqual([]);

    const ended = await operations.update('open-a', { status: 'failed', reason: 'deadline-passed' }, ['queued', 'running', 'paused'], NOW);
    expect(ended).toMatchObject({ id: 'open-a', status: 'failed', reason: 'deadline-passed', endedAt: NOW, updatedAt: NOW });
    expect(ended).not.toHaveProperty('gsi4pk');
    const item = await raw(keys.operation('open-a'));
    expect(item?.gsi4pk).toBeUndefined();
    expect(item?.gsi4sk).toBeUndefined();
    // Listed in its project and under its target by its listing item, which an update never touches.
    expect(item).not.toHaveProperty('gsi1pk');
    expect(item).not.toHaveProperty('gsi2pk');
    expect(await raw(keys.operationListing('open-a'))).toMatchObject({ gsi1pk: keys.operationList(project), gsi2pk: 'OT#cluster#c-open-a', id: 'open-a', project });
    const failedOnes = (await operations.list(project, undefined, { limit: 50 }, { status: 'failed' })).items;
    expect(failedOnes.map((o) => o.id)).toContain('open-a');
    expect(failedOnes.every((o) => o.status === 'failed')).toBe(true);
    expect((await operations.list(project, { type: 'cluster', id: 'c-open-a' }, { limit: 5 })).items.map((o) => o.status)).toEqual(['failed']);
    expect((await operations.listOpen(2)).map((o) => o.id)).toEqual(['open-b', 'open-c']);

    // Paused → running stays open; an explicit endedAt is kept.
    expect(await operations.update('open-c', { status: 'running' }, ['paused'], NOW)).toMatchObject({ status: 'running' });
    expect((await operations.listOpen(2)).map((o) => o.id)).toEqual(['open-b', 'open-c']);
    expect(await operations.update('open-b', { status: 'cancelled', endedAt: T0 }, ['running'], NOW)).toMatchObject({ status: 'cancelled', endedAt: T0 });
    expect((await operations.listOpen(1)).map((o) => o.id)).toEqual(['open-c']);
  });

  it('a re-opened operation goes back into the index', async () => {
    await putOperation(op('reopen', { startedAt: '1999-01-01T00:00:00.000Z', status: 'failed' }));
    expect((await operations.listOpen(1)).map((o) => o.id)).not.toContain('reopen');
    expect(await operations.update('reopen', { status: 'running' }, ['failed'], NOW)).toMatchObject({ status: 'running' });
    expect((await operations.listOpen(1)).map((o) => o.id)).toEqual(['reopen']);
    await operations.update('reopen', { status: 'succeeded' }, ['running'], NOW);
  });
});

describe('OperationRepository.update', () => {
  it('refuses to change a finished operation and leaves it as it was', async () => {
    await putOperation(op('finished', { status: 'succeeded', endedAt: T0, step: 'done' }));
    expect(await operations.update('finished', { status: 'failed', step: 'late' }, ['queued', 'running', 'paused'], NOW)).toBeUndefined();
    expect(await operations.get('finished')).toMatchObject({ status: 'succeeded', step: 'done', endedAt: T0 });
    expect(await operations.get('finished')).not.toHaveProperty('updatedAt');
  });

  it('returns undefined for an operation that does not exist, and creates nothing', async () => {
    expect(await operations.update('never-was', { step: 'x' }, ['running'], NOW)).toBeUndefined();
    expect(await operations.update('never-was', { step: 'x' }, [], NOW)).toBeUndefined();
    expect(await raw(keys.operation('never-was'))).toBeUndefined();
  });

  it('sets only the given fields plus updatedAt', async () => {
    await putOperation(scaleOp('partial', { reason: 'kept' }));
    const next = await operations.update('partial', { step: 'claiming', deadline: NOW }, ['queued'], NOW);
    expect(next).toEqual({ ...scaleOp('partial', { reason: 'kept' }), step: 'claiming', deadline: NOW, updatedAt: NOW });
  });
});

describe('OperationRepository.setHost', () => {
  it('keeps every host of 20 parallel writers', async () => {
    await putOperation(op('fan-out'));
    const ids = Array.from({ length: 20 }, (_, i) => `host.${i}/x`); // dots and slashes are map keys, not paths
    await Promise.all(ids.map((h, i) => operations.setHost('fan-out', h, { status: 'sent', commandId: `cmd-${i}`, at: NOW })));
    const stored = await operations.get('fan-out');
    expect(Object.keys(stored!.hosts).sort()).toEqual([...ids].sort());
    expect(stored!.hosts['host.7/x']).toEqual({ status: 'sent', commandId: 'cmd-7', at: NOW });
    await operations.setHost('fan-out', 'host.7/x', { status: 'succeeded' });
    expect((await operations.get('fan-out'))!.hosts['host.7/x']).toEqual({ status: 'succeeded' });
  });

  it('ignores an operation that is gone', async () => {
    await expect(operations.setHost('gone-op', 'h1', { status: 'sent' })).resolves.toBeUndefined();
    expect(await raw(keys.operation('gone-op'))).toBeUndefined();
  });
});

describe('ClusterRepository.startOperation', () => {
  it('records the operation, marks the cluster busy, applies the changes and claims the hosts', async () => {
    const cluster = await createCluster('so-ok', ['so-ok-cp']);
    await seedHosts(['so-ok-w1', 'so-ok-w2']);
    const scale = scaleOp('so-ok-scale', { startedAt: NOW, target: { type: 'cluster', id: cluster.id } });
    const out = await clusters.startOperation(cluster, scale, { status: 'updating', statusReason: undefined }, { 'so-ok-w1': 1, 'so-ok-w2': 1 });
    const expected = { ...cluster, status: 'updating', operationId: scale.id, activeOperationId: scale.id, version: 2, updatedAt: NOW };
    expect(out).toEqual({ ok: true, cluster: expected });
    expect(await clusters.get(cluster.id)).toEqual(expected);
    expect(await operations.get(scale.id)).toEqual(scale);
    expect((await operations.listOpen(1000)).map((o) => o.id)).toContain(scale.id);
    expect((await operations.list(project, { type: 'cluster', id: cluster.id }, { limit: 5 })).items.map((o) => o.id)).toEqual([scale.id, 'so-ok-create']);
    expect(await listed({ clusterId: cluster.id })).toEqual(['so-ok-cp', 'so-ok-w1', 'so-ok-w2']);
    expect((await hosts.get('so-ok-w1'))).toMatchObject({ clusterId: cluster.id, status: 'approved', version: 2, updatedAt: NOW });
  });

  it('is refused as busy while another operation is active, and changes nothing', async () => {
    const cluster = await createCluster('so-busy', ['so-busy-cp']);
    await seedHosts(['so-busy-w']);
    const first = await clusters.startOperation(cluster, op('so-busy-1', { startedAt: NOW }), {});
    if (!first.ok) throw new Error('first start failed');
    const second = await clusters.startOperation(first.cluster, op('so-busy-2', { startedAt: NOW }), { status: 'upgrading' }, { 'so-busy-w': 1 });
    expect(second).toEqual({ ok: false, busy: true, stale: false, failures: [] });
    expect(await clusters.get(cluster.id)).toEqual(first.cluster);
    expect(await operations.get('so-busy-2')).toBeUndefined();
    // Its listing item (written before the transaction) is gone too; the first one's stays.
    expect(await raw(keys.operationListing('so-busy-2'))).toBeUndefined();
    expect(await raw(keys.operationListing('so-busy-1'))).toMatchObject({ id: 'so-busy-1' });
    expect((await hosts.get('so-busy-w'))).toMatchObject({ version: 1 });
    expect((await hosts.get('so-busy-w'))?.clusterId).toBeUndefined();
  });

  it('is refused as stale when the cluster version moved', async () => {
    const cluster = await createCluster('so-stale', ['so-stale-cp']);
    const first = await clusters.startOperation(cluster, op('so-stale-1', { startedAt: NOW }), {});
    expect(first.ok).toBe(true);
    expect(await clusters.updateForOperation(cluster.id, 'so-stale-1', { status: 'running' }, { endOperation: true, now: NOW })).toMatchObject({ version: 3 });
    const second = await clusters.startOperation(cluster, op('so-stale-2', { startedAt: NOW }), {});
    expect(second).toEqual({ ok: false, busy: false, stale: true, failures: [] });
    expect(await operations.get('so-stale-2')).toBeUndefined();
  });

  it('reports a cluster that is gone as stale', async () => {
    const ghost = { ...(await createCluster('so-ghost', [])), id: 'so-never-created' };
    expect(await clusters.startOperation(ghost, op('so-ghost-1'), {})).toEqual({ ok: false, busy: false, stale: true, failures: [] });
  });

  it('reports lost claims per host and rolls everything back', async () => {
    const cluster = await createCluster('so-claim', ['so-claim-cp']);
    await createCluster('so-rival', ['so-taken']);
    await seedHosts(['so-free', 'so-moved']);
    await hosts.update('so-moved', 1, { name: 'renamed' }, NOW); // version 2 now
    const out = await clusters.startOperation(cluster, op('so-claim-1', { startedAt: NOW }), { status: 'updating' }, { 'so-free': 1, 'so-taken': 1, 'so-moved': 1 });
    expect(out.ok).toBe(false);
    if (out.ok) return;
    expect(out.busy).toBeFalsy();
    expect(out.stale).toBeFalsy();
    expect(out.failures.map((f) => f.hostId).sort()).toEqual(['so-moved', 'so-taken']);
    expect(out.failures[0]!.reason).toMatch(/claimed, changed or is no longer approved/);
    expect(await clusters.get(cluster.id)).toEqual(cluster);
    expect(await operations.get('so-claim-1')).toBeUndefined();
    expect((await hosts.get('so-free'))?.clusterId).toBeUndefined();
    expect((await hosts.get('so-taken'))?.clusterId).toBe('so-rival');
  });
});

describe('ClusterRepository.updateForOperation', () => {
  it('only the active operation may change the cluster; ending it frees the cluster', async () => {
    const cluster = await createCluster('ufo', ['ufo-cp']);
    expect(await clusters.updateForOperation(cluster.id, 'ufo-create', { status: 'running' }, { endOperation: true, now: NOW })).toBeUndefined();
    const started = await clusters.startOperation(cluster, op('ufo-1', { startedAt: NOW }), { status: 'updating' });
    expect(started.ok).toBe(true);
    expect(await clusters.updateForOperation(cluster.id, 'someone-else', { status: 'failed' }, { endOperation: false, now: NOW })).toBeUndefined();
    const mid = await clusters.updateForOperation(cluster.id, 'ufo-1', { statusReason: 'adding 2 workers', workers: [{ name: 'w', hostIds: ['x'] }] }, { endOperation: false, now: NOW });
    expect(mid).toMatchObject({ status: 'updating', statusReason: 'adding 2 workers', activeOperationId: 'ufo-1', version: 3, workers: [{ name: 'w', hostIds: ['x'] }] });
    expect(mid).not.toHaveProperty('pk');
    const done = await clusters.updateForOperation(cluster.id, 'ufo-1', { status: 'running' }, { endOperation: true, now: '2026-01-03T00:00:00.000Z' });
    expect(done).toMatchObject({ status: 'running', operationId: 'ufo-1', version: 4, updatedAt: '2026-01-03T00:00:00.000Z' });
    expect(done).not.toHaveProperty('activeOperationId');
    expect(await clusters.updateForOperation(cluster.id, 'ufo-1', { status: 'failed' }, { endOperation: true, now: NOW })).toBeUndefined();
    expect(await clusters.get(cluster.id)).toEqual(done);
    expect(await clusters.updateForOperation('ufo-missing', 'ufo-1', { status: 'failed' }, { endOperation: true, now: NOW })).toBeUndefined();
    expect(await raw(keys.cluster('ufo-missing'))).toBeUndefined();
  });
});

describe('markJoined and releaseHosts', () => {
  const many = Array.from({ length: 25 }, (_, i) => `mj-${String(i).padStart(2, '0')}`);

  it('marks claimed hosts in-cluster (listed by status), idempotently, skipping hosts it does not own', async () => {
    const cluster = await createCluster('mj', many);
    await createCluster('mj-other', ['mj-foreign']);
    await clusters.markJoined(cluster.id, [...many, 'mj-foreign', 'mj-nobody'], NOW);
    expect(await listed({ status: 'in-cluster', clusterId: cluster.id })).toEqual(many);
    expect((await listed({ status: 'in-cluster' })).filter((id) => id.startsWith('mj'))).toEqual(many);
    expect((await listed({ status: 'approved' })).filter((id) => id.startsWith('mj'))).toEqual(['mj-foreign']);
    expect(await hosts.get('mj-03')).toMatchObject({ status: 'in-cluster', clusterId: cluster.id, version: 3, updatedAt: NOW });
    expect(await hosts.get('mj-foreign')).toMatchObject({ status: 'approved', clusterId: 'mj-other', version: 2 });
    expect(await raw(keys.host('mj-nobody'))).toBeUndefined();

    await clusters.markJoined(cluster.id, many, '2026-01-05T00:00:00.000Z');
    expect(await hosts.get('mj-03')).toMatchObject({ status: 'in-cluster', version: 3, updatedAt: NOW });
  });

  it('releases hosts back to approved, idempotently, skipping hosts of other clusters and gone hosts', async () => {
    const released = many.slice(0, 12);
    await clusters.releaseHosts('mj', [...released, 'mj-foreign', 'mj-nobody'], NOW);
    expect(await listed({ clusterId: 'mj' })).toEqual(many.slice(12));
    expect((await listed({ status: 'approved' })).filter((id) => id.startsWith('mj'))).toEqual([...released, 'mj-foreign']);
    expect((await listed({ status: 'in-cluster' })).filter((id) => id.startsWith('mj'))).toEqual(many.slice(12));
    const host = await hosts.get('mj-00');
    expect(host).toMatchObject({ status: 'approved', version: 4, updatedAt: NOW });
    expect(host?.clusterId).toBeUndefined();
    const item = await raw(keys.host('mj-00'));
    expect(item?.gsi3pk).toBeUndefined();
    expect(item?.gsi1sk).toBe('approved#mj-00');
    expect(await hosts.get('mj-foreign')).toMatchObject({ clusterId: 'mj-other', version: 2 });
    expect(await raw(keys.host('mj-nobody'))).toBeUndefined();

    await clusters.releaseHosts('mj', released, '2026-01-05T00:00:00.000Z');
    expect(await hosts.get('mj-00')).toMatchObject({ version: 4, updatedAt: NOW });
    await expect(clusters.releaseHosts('mj', [], NOW)).resolves.toBeUndefined();
  });
});

describe('ClusterRepository.deleteReleasing', () => {
  it('sets joined hosts back to approved and ends the active operation', async () => {
    const cluster = await createCluster('del', ['del-cp', 'del-w']);
    await clusters.markJoined(cluster.id, ['del-cp', 'del-w'], NOW);
    const started = await clusters.startOperation(cluster, op('del-op', { startedAt: '1990-01-01T00:00:00.000Z' }), {});
    if (!started.ok) throw new Error('start failed');
    expect((await operations.listOpen(1)).map((o) => o.id)).toEqual(['del-op']);
    await clusters.deleteReleasing(started.cluster, { id: 'del-op', reason: 'cluster deleted', at: NOW });
    expect(await clusters.get(cluster.id)).toBeUndefined();
    for (const id of ['del-cp', 'del-w']) {
      const host = await hosts.get(id);
      expect(host).toMatchObject({ status: 'approved', updatedAt: NOW });
      expect(host?.clusterId).toBeUndefined();
    }
    expect((await listed({ status: 'approved' })).filter((id) => id.startsWith('del'))).toEqual(['del-cp', 'del-w']);
    expect(await listed({ status: 'in-cluster' })).not.toContain('del-cp');
    expect(await operations.get('del-op')).toMatchObject({ status: 'cancelled', reason: 'cluster deleted', endedAt: NOW, updatedAt: NOW });
    expect((await operations.listOpen(1000)).map((o) => o.id)).not.toContain('del-op');
  });

  it('releases only hosts still claimed: already released ones are skipped, claimed ones outside the topology are released too', async () => {
    const cluster = await createCluster('del2', ['del2-cp', 'del2-gone']);
    await clusters.releaseHosts(cluster.id, ['del2-gone'], NOW);
    await seedHosts(['del2-adding']);
    // A scale-out claimed a host that is not yet in the cluster's topology.
    const started = await clusters.startOperation(cluster, op('del2-scale', { startedAt: NOW }), {}, { 'del2-adding': 1 });
    if (!started.ok) throw new Error('start failed');
    // The released host now belongs to another cluster: the delete must not touch it.
    const rival = await createCluster('del2-rival', []);
    expect((await clusters.startOperation(rival, op('del2-rival-op', { startedAt: NOW }), {}, { 'del2-gone': 3 })).ok).toBe(true);
    await clusters.deleteReleasing(started.cluster, { id: 'del2-scale', reason: 'cluster deleted', at: NOW });
    expect(await clusters.get(cluster.id)).toBeUndefined();
    for (const id of ['del2-cp', 'del2-adding']) expect((await hosts.get(id))?.clusterId).toBeUndefined();
    expect(await hosts.get('del2-gone')).toMatchObject({ clusterId: 'del2-rival', version: 4 });
    expect(await operations.get('del2-scale')).toMatchObject({ status: 'cancelled' });
  });

  it('refuses a stale cluster version and changes nothing', async () => {
    const cluster = await createCluster('del3', ['del3-cp']);
    await expect(clusters.deleteReleasing({ ...cluster, version: 9 })).rejects.toMatchObject({ name: 'TransactionCanceledException' });
    expect(await clusters.get(cluster.id)).toEqual(cluster);
    expect((await hosts.get('del3-cp'))?.clusterId).toBe('del3');
  });
});

describe('command store and workflow fields', () => {
  it('keeps operationId, taskToken and the secret placeholders of a command, through create and update', async () => {
    const commands = new DynamoCommandStore(db.client, table);
    const command = {
      hostId: 'cmd-host', commandId: 'c-1', type: 'kube-node', params: { token: '${JOIN}', role: 'worker' }, deadline: NOW, state: 'queued' as const,
      version: 1, createdAt: T0, updatedAt: T0, operationId: 'op-9', taskToken: 'AQCEAAAAKgAAAAMAAAAA…', secrets: { '${JOIN}': 'cluster/c1/join-token' },
    };
    expect(await commands.create(command)).toBe(true);
    expect(await commands.get('cmd-host', 'c-1')).toEqual(command);
    const sent = { ...command, state: 'sent' as const, version: 2, sentAt: NOW, updatedAt: NOW };
    expect(await commands.update(sent)).toBe(true);
    expect(await commands.get('cmd-host', 'c-1')).toEqual(sent);
  });
});

describe('host progress derived from the command it points at', () => {
  const command = (over: Record<string, unknown> = {}) => ({
    hostId: 'dp-peer', commandId: 'dp-c1', type: 'kube-node', params: {}, deadline: NOW, state: 'queued' as const,
    version: 1, createdAt: T0, updatedAt: T0, operationId: 'dp-op', workflowStep: 'drain', subjectHostId: 'dp-node', ...over,
  });

  it('skips the accepted, progress and (while the operation is open) ended writes of a pointing row and reads them from the command', async () => {
    const commands = new DynamoCommandStore(db.client, table);
    await putOperation(op('dp-op'));
    expect(await commands.create(command())).toBe(true);
    await operations.setHost('dp-op', 'dp-node', { status: 'queued', step: 'drain', commandId: 'dp-c1', at: T0 }, 'dp-peer');
    // Sent is not a progress change: the row still says queued.
    expect(await commands.update(command({ state: 'sent', version: 2, sentAt: T0 }))).toBe(true);
    expect((await operations.get('dp-op'))!.hosts['dp-node']).toEqual({ status: 'queued', step: 'drain', commandId: 'dp-c1', at: T0 });

    const accepted = command({ state: 'progress', version: 3, updatedAt: NOW, progress: 10, detail: 'draining dp-node' });
    expect(await commands.update(accepted)).toBe(true);
    await operations.setHost('dp-op', 'dp-node', { status: 'progress', step: 'drain', commandId: 'dp-c1', at: NOW, detail: 'draining dp-node' }, 'dp-peer');
    // Not written: the stored row is still the pointer...
    expect((await raw(keys.operationHost('dp-op', 'dp-node')))?.progress).toMatchObject({ status: 'queued' });
    // ...and every read shows what the write would have stored.
    const live = { status: 'progress', step: 'drain', commandId: 'dp-c1', at: NOW, detail: 'draining dp-node' };
    expect((await operations.get('dp-op'))!.hosts['dp-node']).toEqual(live);
    expect((await operations.list(project, { type: 'cluster', id: 'c-dp-op' }, { limit: 10 })).items[0]!.hosts['dp-node']).toEqual(live);

    const done = { status: 'succeeded' as const, step: 'drain', commandId: 'dp-c1', at: NOW, detail: 'drained' };
    expect(await commands.update(command({ state: 'succeeded', version: 4, updatedAt: NOW, progress: 100, detail: 'drained', endedAt: NOW }))).toBe(true);
    await operations.setHost('dp-op', 'dp-node', done, 'dp-peer');
    // The operation is open: the row still points, a read shows the command's end.
    expect((await raw(keys.operationHost('dp-op', 'dp-node')))?.progress).toMatchObject({ status: 'queued' });
    expect((await operations.get('dp-op'))!.hosts['dp-node']).toEqual(done);
    // The operation ends: the row takes the command's end and is read without the command.
    expect((await operations.update('dp-op', { status: 'succeeded' }, ['queued'], NOW))!.hosts['dp-node']).toEqual(done);
    expect((await raw(keys.operationHost('dp-op', 'dp-node')))?.progress).toEqual(done);
  });

  it('writes an ended state of a pointing row when the operation has already ended', async () => {
    const commands = new DynamoCommandStore(db.client, table);
    await putOperation(op('dp-op3'));
    expect(await commands.create(command({ operationId: 'dp-op3', commandId: 'dp-c3', state: 'accepted' }))).toBe(true);
    await operations.setHost('dp-op3', 'dp-node', { status: 'queued', step: 'drain', commandId: 'dp-c3', at: T0 }, 'dp-peer');
    // Ended while the device still runs the command: the row stays as it was.
    expect((await operations.update('dp-op3', { status: 'failed', reason: 'test' }, ['queued'], NOW))!.hosts['dp-node']).toMatchObject({ status: 'accepted' });
    expect((await raw(keys.operationHost('dp-op3', 'dp-node')))?.progress).toMatchObject({ status: 'queued' });
    // The command ends later: its end is written (the head says the operation is over).
    const failed = { status: 'failed' as const, step: 'drain', commandId: 'dp-c3', at: NOW, detail: 'disk full' };
    expect(await commands.update(command({ operationId: 'dp-op3', commandId: 'dp-c3', state: 'failed', version: 2, updatedAt: NOW, detail: 'disk full', endedAt: NOW }))).toBe(true);
    await operations.setHost('dp-op3', 'dp-node', failed, 'dp-peer');
    expect((await raw(keys.operationHost('dp-op3', 'dp-node')))?.progress).toEqual(failed);
  });

  it('writes the progress of a row that points at another command (or at none)', async () => {
    await putOperation(op('dp-op2'));
    await operations.setHost('dp-op2', 'dp-node', { status: 'queued', step: 'drain', commandId: 'old', at: T0 }, 'dp-peer');
    await operations.setHost('dp-op2', 'dp-node', { status: 'accepted', step: 'drain', commandId: 'dp-c9', at: NOW }, 'dp-peer');
    expect((await raw(keys.operationHost('dp-op2', 'dp-node')))?.progress).toMatchObject({ status: 'accepted', commandId: 'dp-c9' });
    await operations.setHost('dp-op2', 'other', { status: 'accepted', commandId: 'dp-c9', at: NOW });
    expect((await operations.get('dp-op2'))!.hosts.other).toEqual({ status: 'accepted', commandId: 'dp-c9', at: NOW });
  });
});

describe('overdue commands (the deadline sweep)', () => {
  it('finds open commands in the keys-only index, and those stored before it in gsi2; finished ones leave', async () => {
    const commands = new DynamoCommandStore(db.client, table);
    const overdue = {
      hostId: 'od-host', commandId: 'od-1', type: 'reboot', params: { big: 'x'.repeat(3000) }, deadline: T0, state: 'queued' as const,
      version: 1, createdAt: T0, updatedAt: T0,
    };
    expect(await commands.create(overdue)).toBe(true);
    expect(await commands.create({ ...overdue, commandId: 'od-later', deadline: '2099-01-01T00:00:00.000Z' })).toBe(true);
    const item = await raw({ pk: 'HOST#od-host', sk: 'CMD#od-1' });
    expect(item).toMatchObject({ gsi4pk: expect.stringMatching(/^CMDOPEN#\d$/), gsi4sk: `${T0}#od-host#od-1` });
    expect(item).not.toHaveProperty('gsi2pk');
    // A command written by the previous version: open in gsi2 under the same keys.
    await db.client.send(new PutCommand({ TableName: table, Item: { ...overdue, hostId: 'od-old', commandId: 'od-2', pk: 'HOST#od-old', sk: 'CMD#od-2', kind: 'command', gsi2pk: 'CMDOPEN#0', gsi2sk: `${T0}#od-old#od-2` } }));
    const found = (await commands.listOverdue(new Date(NOW), 100)).filter((c) => c.hostId.startsWith('od-'));
    expect(found.map((c) => c.commandId).sort()).toEqual(['od-1', 'od-2']);
    // Its large parameters are stored apart: the record names them, withParams reads them.
    const od1 = found.find((c) => c.commandId === 'od-1')!;
    expect(od1).toEqual({ ...overdue, params: {}, paramsRef: expect.stringMatching(/^od-1#/) });
    expect(await commands.withParams(od1)).toEqual({ ...overdue, paramsRef: od1.paramsRef });
    // Finished: out of both indexes.
    expect(await commands.update({ ...overdue, state: 'timed-out', version: 2, reason: 'deadline-passed' })).toBe(true);
    expect(await commands.update({ ...overdue, hostId: 'od-old', commandId: 'od-2', state: 'timed-out', version: 2, reason: 'deadline-passed' })).toBe(true);
    expect(await raw({ pk: 'HOST#od-old', sk: 'CMD#od-2' })).not.toHaveProperty('gsi2pk');
    expect((await commands.listOverdue(new Date(NOW), 100)).filter((c) => c.hostId.startsWith('od-'))).toEqual([]);
  });
});

describe('open operations indexed before the keys-only index', () => {
  it('are listed (oldest first, with the new ones) until they end', async () => {
    // An open operation as the previous version stored it: OPOPEN on gsi3, nothing on gsi4.
    const legacy = op('legacy-open', { startedAt: '1980-01-01T00:00:00.000Z', status: 'running' });
    const [head, ...rest] = operationItems(legacy);
    const { gsi4pk: _pk, gsi4sk: _sk, ...old } = head!;
    await db.client.send(new PutCommand({ TableName: table, Item: { ...old, gsi3pk: 'OPOPEN', gsi3sk: `${legacy.startedAt}#${legacy.id}` } }));
    for (const Item of rest) await db.client.send(new PutCommand({ TableName: table, Item }));
    await putOperation(op('new-open', { startedAt: '1980-01-01T00:00:01.000Z', status: 'running' }));
    expect((await operations.listOpen(2)).map((o) => o.id)).toEqual(['legacy-open', 'new-open']);
    expect((await operations.listOpen(1)).map((o) => o.id)).toEqual(['legacy-open']);
    await operations.update('legacy-open', { status: 'succeeded' }, ['running'], NOW);
    expect(await raw(keys.operation('legacy-open'))).not.toHaveProperty('gsi3pk');
    expect((await operations.listOpen(1)).map((o) => o.id)).toEqual(['new-open']);
  });
});

describe('ensureTables on a table from an earlier version', () => {
  it('adds the indexes the template has gained, and keeps the items', async () => {
    const full = stateTable;
    const TableName = 'edgefleet-state-older';
    const older = { ...full, TableName, GlobalSecondaryIndexes: full.GlobalSecondaryIndexes!.filter((g) => g.IndexName !== 'gsi4') };
    older.AttributeDefinitions = full.AttributeDefinitions!.filter((a) => !a.AttributeName!.startsWith('gsi4'));
    await ensureTables(db.client, [older]);
    await db.client.send(new PutCommand({ TableName, Item: { pk: 'KEEP', sk: 'ME' } }));
    await ensureTables(db.client, [{ ...full, TableName }]);
    const described = await db.client.send(new DescribeTableCommand({ TableName }));
    const gsi4 = described.Table?.GlobalSecondaryIndexes?.find((g) => g.IndexName === 'gsi4');
    expect(gsi4?.Projection).toEqual({ ProjectionType: 'KEYS_ONLY' });
    expect((await db.client.send(new GetCommand({ TableName, Key: { pk: 'KEEP', sk: 'ME' } }))).Item).toEqual({ pk: 'KEEP', sk: 'ME' });
    // Idempotent: nothing left to add.
    await expect(ensureTables(db.client, [{ ...full, TableName }])).resolves.toBeUndefined();
  });
});
