/**
 * Large command parameters (a rendered cloud-config) live in their own write-once item on
 * DynamoDB Local: the command's own writes stay under 1 KB, every path that sends the command
 * (first publish, re-send on reconnect) reads them, and commands stored before this layout (params
 * inline or gzipped in the command item: a control-plane upgrade with commands in flight) still
 * read and send unchanged.
 */
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { GetCommand, PutCommand } from '@aws-sdk/lib-dynamodb';
import { deviceKeys, DynamoCommandStore, PARAMS_KEEP_SECONDS } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import type { CommandRecord } from '../../lambdas/domain/command.js';
import type { CommandEnvelope } from '../../lambdas/ports/device-plane.js';
import { publishStored, recordResult, sendPendingCommands, type DeviceDeps } from '../../lambdas/use-cases/device-messages.js';
import type { DynamoLocal } from '../../local/dynamodb-local.js';
import { startStateTable } from './state-table.js';

let db: DynamoLocal;
let table: string;
let store: DynamoCommandStore;
const NOW = new Date();
const DEADLINE = new Date(NOW.getTime() + 600_000).toISOString();

beforeAll(async () => {
  ({ db, table } = await startStateTable());
  store = new DynamoCommandStore(db.client, table);
});
afterAll(async () => { await db?.stop(); });

let n = 0;
const hostId = () => `cp${Date.now().toString(36)}${++n}`;
/** A cloud-config-sized parameter map: ~3 KB, part of it incompressible (keys and certificates are). */
const bigParams = () => ({ cloudConfig: `#cloud-config\nk3s:\n  args: [--tls-san]\n${'  - node-label=edge\n'.repeat(40)}token: ${randomBytes(600).toString('base64')}\n`, mode: 'bootstrap', reboot: false });

function command(host: string, id: string, params: CommandRecord['params']): CommandRecord {
  const at = NOW.toISOString();
  return { hostId: host, commandId: id, type: 'apply-cloud-config', params, deadline: DEADLINE, state: 'sent', sentAt: at, version: 1, createdAt: at, updatedAt: at };
}

function deps(published: CommandEnvelope[]): DeviceDeps {
  return {
    clock: { now: () => new Date() },
    presence: { apply: async () => true },
    status: { get: async () => undefined, put: async () => true },
    commands: store,
    publisher: { publish: async (_h, e) => { published.push(e); } },
    hostLifecycle: { lifecycle: async () => ({ status: 'in-cluster' }) },
  };
}

const raw = async (key: { pk: string; sk: string }) => (await db.client.send(new GetCommand({ TableName: table, Key: key, ConsistentRead: true }))).Item;
/** Stored size as DynamoDB bills it (attribute names + values; binary by its bytes). */
const itemBytes = (item: Record<string, unknown>) => Object.entries(item).reduce((s, [k, v]) => s + k.length + (v instanceof Uint8Array ? v.byteLength : Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v))), 0);

it('stores large parameters once, apart; the command item names them and stays under 1 KB through its results', async () => {
  const host = hostId();
  const params = bigParams();
  expect(await store.create(command(host, 'apply-1', params))).toBe(true);
  const item = (await raw(deviceKeys.command(host, 'apply-1')))!;
  expect(item).not.toHaveProperty('params');
  expect(item).not.toHaveProperty('paramsGz');
  expect(item.paramsRef).toEqual(expect.stringMatching(/^apply-1#/));
  expect(itemBytes(item)).toBeLessThan(1024);
  const apart = (await raw(deviceKeys.commandParams(host, String(item.paramsRef))))!;
  expect(apart.expiresAtEpoch).toBe(Math.floor(Date.parse(DEADLINE) / 1000) + PARAMS_KEEP_SECONDS);
  expect(itemBytes(apart)).toBeLessThan(JSON.stringify(params).length);

  // What a result handler reads: the reference, not the parameters; withParams reads them.
  const read = (await store.get(host, 'apply-1'))!;
  expect(read.params).toEqual({});
  expect((await store.withParams(read)).params).toEqual(params);

  // Results rewrite the command item; the reference survives every one of them.
  const published: CommandEnvelope[] = [];
  expect(await recordResult(deps(published), host, 'apply-1', { phase: 'accepted' })).toBe('applied');
  expect(await recordResult(deps(published), host, 'apply-1', { phase: 'progress', progress: 50, detail: 'writing the cloud-config' })).toBe('applied');
  const after = (await raw(deviceKeys.command(host, 'apply-1')))!;
  expect(after).toMatchObject({ state: 'progress', paramsRef: item.paramsRef });
  expect(after).not.toHaveProperty('params');
  expect((await store.withParams((await store.get(host, 'apply-1'))!)).params).toEqual(params);
});

it('re-sends a command whose parameters are apart with the full parameters (reconnect), and its first publish too', async () => {
  const host = hostId();
  const params = bigParams();
  await store.create(command(host, 'apply-2', params));
  const published: CommandEnvelope[] = [];
  expect(await sendPendingCommands(deps(published), host)).toEqual({ sent: ['apply-2'], timedOut: [] });
  expect(published).toEqual([{ commandId: 'apply-2', type: 'apply-cloud-config', params, deadline: DEADLINE }]);
  // A publish from a stored (read back) record, as the workflow does when it adopts an existing command.
  expect(await publishStored(deps(published), (await store.get(host, 'apply-2'))!)).toBe(true);
  expect(published[1]!.params).toEqual(params);
});

it('a retried create is refused and leaves the stored command and its parameters as they were', async () => {
  const host = hostId();
  const params = bigParams();
  await store.create(command(host, 'apply-3', params));
  const ref = String((await raw(deviceKeys.command(host, 'apply-3')))!.paramsRef);
  expect(await store.create(command(host, 'apply-3', { ...params, mode: 'other' }))).toBe(false);
  const read = (await store.get(host, 'apply-3'))!;
  expect(read.paramsRef).toBe(ref);
  expect((await store.withParams(read)).params).toEqual(params);
});

it('reads and sends commands stored before the split (params inline or gzipped in the command item)', async () => {
  const host = hostId();
  const params = bigParams();
  const old = command(host, 'old-gz', params);
  const { params: _p, ...rest } = old;
  // The item as the previous release wrote it (commandItem before paramsRef existed).
  await db.client.send(new PutCommand({ TableName: table, Item: { ...rest, ...deviceKeys.command(host, 'old-gz'), kind: 'command', paramsGz: gzipSync(JSON.stringify(params)), gsi4pk: 'CMDOPEN#0', gsi4sk: `${DEADLINE}#${host}#old-gz` } }));
  await db.client.send(new PutCommand({ TableName: table, Item: { ...command(host, 'old-plain', { mode: 'write' }), ...deviceKeys.command(host, 'old-plain'), kind: 'command' } }));
  const read = (await store.get(host, 'old-gz'))!;
  expect(read.params).toEqual(params);
  expect(read.paramsRef).toBeUndefined();
  const published: CommandEnvelope[] = [];
  await sendPendingCommands(deps(published), host);
  expect(published.map((e) => [e.commandId, e.params])).toEqual([['old-gz', params], ['old-plain', { mode: 'write' }]]);
  // A result on the old command keeps its parameters in the item (nothing apart exists for it).
  expect(await recordResult(deps(published), host, 'old-gz', { phase: 'accepted' })).toBe('applied');
  expect((await raw(deviceKeys.command(host, 'old-gz')))!.paramsGz).toBeInstanceOf(Uint8Array);
  expect((await store.get(host, 'old-gz'))!.params).toEqual(params);
});

it('names the command and what to do when its parameters item is gone', async () => {
  const host = hostId();
  await store.create(command(host, 'apply-4', bigParams()));
  const read = (await store.get(host, 'apply-4'))!;
  await expect(store.withParams({ ...read, paramsRef: 'apply-4#gone' })).rejects.toMatchObject({
    code: 'command-params-missing', message: expect.stringContaining(`command apply-4 (apply-cloud-config) for host ${host}`),
  });
});
