/**
 * The host status item on DynamoDB Local: the report content is stored brotli-compressed, so a
 * full report of a cluster node is one write unit instead of two, and every reader (the status
 * store, the health snapshot, the host read and listing) sees the same StoredStatus as before.
 * An item stored by the previous release (the content as a plain map: a control-plane upgrade
 * meets one per host) reads the same, and the host's next stored report rewrites it compressed.
 */
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoStatusStore } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import { DynamoHealthStore } from '../../lambdas/adapters/dynamodb/health-store.js';
import { DynamoHostRepository } from '../../lambdas/adapters/dynamodb/host-repository.js';
import { statusKey } from '../../lambdas/adapters/dynamodb/status-item.js';
import type { StoredStatus } from '../../lambdas/domain/device-status.js';
import type { DynamoLocal } from '../../local/dynamodb-local.js';
import { trackCapacity, type Capacity } from '../../bench/capacity.js';
import { fullReportContent } from '../fixtures/status-content.js';
import { startStateTable } from './state-table.js';

let db: DynamoLocal;
let table: string;
let store: DynamoStatusStore;
let health: DynamoHealthStore;
let hosts: DynamoHostRepository;
let capacity: Capacity;

const project = 'status-items';
const T0 = '2026-01-01T00:00:00.000Z';

beforeAll(async () => {
  ({ db, table } = await startStateTable());
  store = new DynamoStatusStore(db.client, table);
  health = new DynamoHealthStore(db.client, table);
  hosts = new DynamoHostRepository(db.client, table);
  capacity = trackCapacity(db.client);
});
afterAll(async () => { await db?.stop(); });

let n = 0;
/** A host id as long as a real one (a uid-derived id), since the key is part of the item's size. */
async function newHost(): Promise<string> {
  const id = `status-host-${Date.now().toString(36)}-${++n}-0000000000000`;
  expect(await hosts.create({ id, uid: id, project, tags: {}, status: 'approved', version: 1, createdAt: T0, updatedAt: T0, approvedAt: T0 })).toBe(true);
  return id;
}
const report = (at: number, seq: number, content: StoredStatus['content'] = fullReportContent()): StoredStatus =>
  ({ at, seq, fingerprint: 'AbCdEfGhIjKlMnOpQrStUvWxYz0123456789-_AbCdE', storedAt: at + 40, content });
const raw = async (hostId: string) => (await db.client.send(new GetCommand({ TableName: table, Key: statusKey(hostId), ConsistentRead: true }))).Item;
/** Write units the next writes of the status item cost, as DynamoDB (Local) reports them. */
async function statusUnits(write: () => Promise<unknown>): Promise<number> {
  const before = capacity.writesByKind['PutItem HOST/STATUS'] ?? 0;
  await write();
  return (capacity.writesByKind['PutItem HOST/STATUS'] ?? 0) - before;
}

/** What each reader of the status item returns for the host. */
async function readers(hostId: string) {
  return {
    store: await store.get(hostId),
    snapshot: (await health.hostSnapshot(hostId))?.status,
    host: (await hosts.get(hostId))?.reported,
    listed: (await hosts.list(project, {}, { limit: 100 })).items.find((h) => h.id === hostId)?.reported,
  };
}

it('stores a full report compressed in one write unit, and every reader gets it back as it was', async () => {
  const id = await newHost();
  const status = report(Date.parse('2026-01-01T00:01:00.000Z'), 5);
  expect(await statusUnits(() => store.put(id, status))).toBe(1);
  const item = (await raw(id))!;
  expect(item.contentBr).toBeInstanceOf(Uint8Array);
  expect(item.content).toBeUndefined();
  expect(await readers(id)).toEqual({ store: status, snapshot: status, host: { at: status.at, content: status.content }, listed: { at: status.at, content: status.content } });
});

it('reads a status item stored by the previous release (plain content) the same, and rewrites it compressed on the next report', async () => {
  const id = await newHost();
  const old = report(Date.parse('2026-01-01T00:02:00.000Z'), 7);
  // The previous release's write: the record's fields and the content as a map (two write units).
  expect(await statusUnits(() => db.client.send(new PutCommand({ TableName: table, Item: { ...old, ...statusKey(id), kind: 'status' } })))).toBe(2);
  expect(await readers(id)).toEqual({ store: old, snapshot: old, host: { at: old.at, content: old.content }, listed: { at: old.at, content: old.content } });

  // The conditional write compares the plain at/seq of the old item: an older report loses, a newer one wins.
  expect(await store.put(id, report(old.at - 1000, 99, { agentVersion: 'older' }))).toBe(false);
  expect(await store.put(id, report(old.at, 7, { agentVersion: 'same seq' }))).toBe(false);
  const rewrite = report(old.at, 8, { ...fullReportContent(), agentVersion: '0.2.0' });
  // A put is billed on the larger of the old and the new item: replacing the plain one costs 2 once.
  expect(await statusUnits(() => store.put(id, rewrite))).toBe(2);
  const next = report(old.at + 1000, 9, { ...fullReportContent(), agentVersion: '0.2.1' });
  expect(await statusUnits(() => store.put(id, next))).toBe(1);
  const item = (await raw(id))!;
  expect(item.content).toBeUndefined();
  expect(item.contentBr).toBeInstanceOf(Uint8Array);
  expect(await readers(id)).toEqual({ store: next, snapshot: next, host: { at: next.at, content: next.content }, listed: { at: next.at, content: next.content } });
});

it('an unreadable status item counts as no report, and the host\'s next report replaces it', async () => {
  const id = await newHost();
  const at = Date.parse('2026-01-01T00:03:00.000Z');
  await db.client.send(new PutCommand({ TableName: table, Item: { ...statusKey(id), kind: 'status', at, seq: 1, fingerprint: 'x', storedAt: at, contentBr: new Uint8Array([0, 1, 2, 3]) } }));
  expect(await readers(id)).toEqual({ store: undefined, snapshot: undefined, host: undefined, listed: undefined });
  const next = report(at + 1000, 2);
  expect(await store.put(id, next)).toBe(true);
  expect(await store.get(id)).toEqual(next);
});
