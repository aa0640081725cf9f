import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import mqtt, { type MqttClient } from 'mqtt';
import { TOPICS } from '../../lambdas/contracts/mqtt.js';
import { keys } from '../../lambdas/adapters/dynamodb/keys.js';
import { deviceKeys } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import { statusFromItem } from '../../lambdas/adapters/dynamodb/status-item.js';
import { loadOrCreateCa, type LocalCa } from '../../local/local-ca.js';
import { startLocal, type LocalRuntime } from '../../local/runtime.js';
import { CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';

x509.cryptoProvider.set(webcrypto as never);
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

interface Device { readonly thing: string; readonly keyPem: string; readonly certPem: string; readonly certificateId: string }

let rt: LocalRuntime;
let dataDir: string;
let otherDir: string;
const clients: MqttClient[] = [];
let writes: { sk: string; command: string }[] = [];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually<T>(probe: () => Promise<T> | T, ok: (v: T) => boolean, ms = 5000): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (ok(v) || Date.now() > until) return v;
    await sleep(25);
  }
}
const settle = async () => { await sleep(60); await rt.iot.whenIdle(); };

/** What registration does: the host record holds the certificate attached to its thing. */
async function attach(thing: string, certificateId: string): Promise<void> {
  const now = new Date().toISOString();
  const created = await rt.deps.hosts.create({ id: thing, uid: thing, project: 'default', tags: {}, status: 'approved', version: 1, createdAt: now, updatedAt: now, certificateId });
  if (!created) {
    const h = (await rt.deps.hosts.get(thing))!;
    await rt.deps.hosts.update(thing, h.version, { certificateId }, now);
  }
}

async function device(thing: string, ca: LocalCa = rt.iot.ca): Promise<Device> {
  const k = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${thing}`, keys: k, signingAlgorithm: EC });
  const issued = await ca.signCsr(csr.toString('pem'), thing);
  if (ca === rt.iot.ca) await attach(thing, issued.certificateId);
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', k.privateKey), 'PRIVATE KEY');
  return { thing, keyPem, certPem: issued.certificatePem, certificateId: issued.certificateId };
}

function connect(d: Device, clientId = d.thing, extra: mqtt.IClientOptions = {}): Promise<MqttClient> {
  const c = mqtt.connect(rt.iot.mqttUrl, {
    protocolVersion: 4, clientId, key: d.keyPem, cert: d.certPem, ca: rt.iot.ca.caPem, rejectUnauthorized: true,
    reconnectPeriod: 0, connectTimeout: 5000, ...extra,
  });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', (e) => reject(e));
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}

const closed = (c: MqttClient) => new Promise<void>((r) => (c.disconnected || !c.connected ? r() : c.once('close', () => r())));
const statusBody = (seq: number, at: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ seq, at, kind: 'change', boot: { state: 'active' }, agentVersion: '0.1.0', ...extra });
const table = () => rt.deps.config.stateTable;
const item = async (key: { pk: string; sk: string }) =>
  (await rt.dynamo.send(new GetCommand({ TableName: table(), Key: key, ConsistentRead: true }))).Item;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-mqtt-'));
  otherDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-rogue-ca-'));
  rt = await startLocal({
    port: 0, dataDir, inMemory: true, logLevel: 'CRITICAL',
    templateCache: CHECKOUT_TEMPLATE_CACHE,
    // Lambda retries a failed asynchronous invocation after 1 min, then 2: here after 300 and 600 ms.
    asyncRetryScale: 0.005,
  });
  rt.dynamo.middlewareStack.add((next, context) => async (args) => {
    if (/Put|Update|Delete|Write/.test(context.commandName ?? '')) {
      const input = args.input as { Item?: { sk?: string }; Key?: { sk?: string } };
      writes.push({ sk: String(input.Item?.sk ?? input.Key?.sk ?? ''), command: context.commandName ?? '' });
    }
    return next(args);
  }, { step: 'initialize', name: 'countWrites' });
});

afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await rt?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(otherDir, { recursive: true, force: true });
});

describe('identity: who may connect', () => {
  it('a device connects as its own thing, over TLS on 127.0.0.1, and goes online', async () => {
    const d = await device('id-ok');
    const c = await connect(d);
    expect(rt.iot.mqttUrl).toMatch(/^mqtts:\/\/127\.0\.0\.1:\d+$/);
    const p = await eventually(() => item(keys.hostPresence('id-ok')), (i) => i?.presence === 'online');
    expect(p).toMatchObject({ presence: 'online' });
    await c.endAsync();
    await eventually(() => item(keys.hostPresence('id-ok')), (i) => i?.presence === 'offline');
    expect((await item(keys.hostPresence('id-ok')))?.presence).toBe('offline');
  });

  it('cannot connect as another thing (clientId ≠ certificate CN)', async () => {
    const d = await device('id-alice');
    await expect(connect(d, 'id-bob')).rejects.toThrow(/Not authorized|closed/);
    await settle();
    expect(await item(keys.hostPresence('id-bob'))).toBeUndefined();
  });

  it('a revoked certificate is refused', async () => {
    const d = await device('id-revoked');
    rt.iot.ca.revoke(d.certificateId);
    await expect(connect(d)).rejects.toThrow(/Not authorized|closed/);
  });

  it('a certificate no longer attached to its thing (the host re-registered with a new key) is refused (IsAttached)', async () => {
    const old = await device('reinstalled-1');
    const fresh = await device('reinstalled-1');
    await expect(connect(old)).rejects.toThrow();
    const c = await connect(fresh);
    expect(c.connected).toBe(true);
    c.end(true);
  });

  it('a certificate from another CA, or none, is refused at the TLS handshake', async () => {
    const rogue = await loadOrCreateCa(otherDir);
    const d = await device('id-rogue', rogue);
    const before = rt.iot.brokerStats.refusedConnections;
    await expect(connect(d)).rejects.toThrow();
    await expect(connect({ ...d, keyPem: '', certPem: '' } as Device, 'id-rogue', { key: undefined, cert: undefined })).rejects.toThrow();
    // The broker's thread reports its counters asynchronously (as IoT Core's metrics arrive later).
    await eventually(() => rt.iot.brokerStats.refusedConnections, (n) => n > before);
  });
});

describe('the device policy: only its own topics', () => {
  it('cannot publish to another host\'s topics (disconnected, nothing written)', async () => {
    const d = await device('pol-a');
    const c = await connect(d);
    const denied = rt.iot.brokerStats.deniedPublishes;
    c.publish(TOPICS.status('pol-b'), statusBody(1, new Date().toISOString()), { qos: 1 });
    await closed(c);
    await settle();
    await eventually(() => rt.iot.brokerStats.deniedPublishes, (n) => n >= denied + 1);
    expect(rt.iot.brokerStats.deniedPublishes).toBe(denied + 1);
    expect(await item(deviceKeys.status('pol-b'))).toBeUndefined();
  });

  it('cannot publish to its own commands topic or fake lifecycle events', async () => {
    for (const topic of [TOPICS.commands('pol-c'), TOPICS.presence('connected', 'pol-c')]) {
      const c = await connect(await device('pol-c'));
      c.publish(topic, '{}', { qos: 1 });
      await closed(c);
    }
    await settle();
    expect((await item(keys.hostPresence('pol-c')))?.presence).toBe('offline');
  });

  it('cannot subscribe outside its own command topic; receives only its own commands', async () => {
    const a = await connect(await device('pol-d'));
    for (const filter of [TOPICS.commands('pol-e'), 'edgefleet/hosts/+/commands', 'edgefleet/hosts/pol-d/#', '#']) {
      const granted = await a.subscribeAsync(filter, { qos: 1 }).catch(() => [{ qos: 128 }]);
      expect(granted[0]?.qos).toBe(128);
    }
    const ok = await a.subscribeAsync(TOPICS.commands('pol-d'), { qos: 1 });
    expect(ok[0]?.qos).toBe(1);
    const got: string[] = [];
    a.on('message', (topic) => got.push(topic));
    await rt.iot.publishCommand('pol-e', { commandId: 'x1', type: 'reboot', params: {}, deadline: new Date(Date.now() + 60_000).toISOString() });
    await rt.iot.publishCommand('pol-d', { commandId: 'x2', type: 'reboot', params: {}, deadline: new Date(Date.now() + 60_000).toISOString() });
    await eventually(() => got, (g) => g.length > 0);
    await sleep(100);
    expect(got).toEqual([TOPICS.commands('pol-d')]);
  });
});

describe('bad payloads are rejected and counted, nothing written, the broker still serves', () => {
  it('not JSON, wrong schema, unknown fields', async () => {
    const c = await connect(await device('bad-1'));
    await settle();
    const rejected = rt.iot.ruleStats.status.rejected;
    writes = [];
    await c.publishAsync(TOPICS.status('bad-1'), 'not json {', { qos: 1 });
    await c.publishAsync(TOPICS.status('bad-1'), JSON.stringify({ seq: -1, at: 'yesterday' }), { qos: 1 });
    await c.publishAsync(TOPICS.status('bad-1'), statusBody(1, new Date().toISOString(), { evil: true }), { qos: 1 });
    await c.publishAsync(TOPICS.results('bad-1'), '[1,2]', { qos: 1 });
    await settle();
    expect(rt.iot.ruleStats.status.rejected).toBe(rejected + 3);
    expect(writes).toEqual([]);
    expect(await item(deviceKeys.status('bad-1'))).toBeUndefined();
    expect(c.connected).toBe(true);
  });

  it('256 KB is refused by the broker (IoT disconnects too), and other devices carry on', async () => {
    const big = await connect(await device('bad-2'));
    const good = await connect(await device('bad-3'));
    await settle();
    const oversized = rt.iot.brokerStats.oversizedPublishes;
    writes = [];
    big.publish(TOPICS.status('bad-2'), statusBody(1, new Date().toISOString(), { agentVersion: 'x'.repeat(256 * 1024) }), { qos: 1 });
    await closed(big);
    await settle();
    await eventually(() => rt.iot.brokerStats.oversizedPublishes, (n) => n >= oversized + 1);
    expect(rt.iot.brokerStats.oversizedPublishes).toBe(oversized + 1);
    // The disconnect is a presence change (and so a health change); the oversized report wrote nothing.
    expect(writes.filter((w) => w.sk !== 'PRESENCE' && w.sk !== 'HEALTH')).toEqual([]);
    await good.publishAsync(TOPICS.status('bad-3'), statusBody(1, new Date().toISOString()), { qos: 1 });
    const stored = await eventually(() => item(deviceKeys.status('bad-3')), (i) => i !== undefined);
    expect(stored).toMatchObject({ seq: 1 });
  });
});

describe('convergence', () => {
  const presenceEvent = (eventType: 'connected' | 'disconnected', timestamp: number) =>
    JSON.stringify({ clientId: 'conv-1', timestamp, eventType, sessionIdentifier: `s-${timestamp}`, versionNumber: 1 });

  it('duplicate and out-of-order presence events converge on the newest', async () => {
    // The rules drop messages of hosts that do not exist: conv-1 is a registered host.
    await attach('conv-1', 'cert-of-conv-1');
    const t = Date.now();
    for (const [type, at] of [['connected', t + 300], ['disconnected', t + 200], ['connected', t + 300], ['connected', t + 100]] as const) {
      await rt.iot.publish(TOPICS.presence(type, 'conv-1'), presenceEvent(type, at));
    }
    await settle();
    expect(await item(keys.hostPresence('conv-1'))).toMatchObject({ presence: 'online', at: t + 300 });
    await rt.iot.publish(TOPICS.presence('disconnected', 'conv-1'), presenceEvent('disconnected', t + 400));
    await settle();
    expect(await item(keys.hostPresence('conv-1'))).toMatchObject({ presence: 'offline', at: t + 400 });
  });

  it('a rule\'s invocation that failed runs again with the same event, as Lambda retries an asynchronous one; nothing is lost', async () => {
    await attach('retry-1', 'cert-of-retry-1');
    // The presence function's first write of retry-1's presence fails (DynamoDB unavailable, say): its invocation fails.
    let failures = 1;
    rt.dynamo.middlewareStack.add((next) => async (args) => {
      const input = args.input as { Item?: { pk?: string; sk?: string }; Key?: { pk?: string; sk?: string } };
      const key = input.Item ?? input.Key;
      if (key?.pk === 'HOST#retry-1' && key.sk === 'PRESENCE' && failures > 0) {
        failures--;
        throw Object.assign(new Error('injected: the table is unavailable'), { name: 'InternalServerError' });
      }
      return next(args);
    }, { step: 'initialize', name: 'failRetry1Presence' });
    const failedBefore = rt.iot.ruleStats.presence.failed;
    const retriedBefore = rt.asyncRetries.stats.retries;
    const at = Date.now();
    await rt.iot.publish(TOPICS.presence('connected', 'retry-1'), JSON.stringify({ clientId: 'retry-1', timestamp: at, eventType: 'connected', sessionIdentifier: 's-1', versionNumber: 1 }));
    await settle();
    expect(rt.iot.ruleStats.presence.failed).toBe(failedBefore + 1);
    expect(await item(keys.hostPresence('retry-1'))).toBeUndefined();
    // The retry (the same event) records it.
    const stored = await eventually(() => item(keys.hostPresence('retry-1')), (i) => i !== undefined, 5000);
    expect(stored).toMatchObject({ presence: 'online', at });
    expect(rt.asyncRetries.stats.retries).toBe(retriedBefore + 1);
    expect(failures).toBe(0);
    rt.dynamo.middlewareStack.remove('failRetry1Presence');
  });

  it('a thing that connects again (the old session is kicked) ends online', async () => {
    const d = await device('conv-3');
    const first = await connect(d);
    await eventually(() => item(keys.hostPresence('conv-3')), (i) => i?.presence === 'online');
    const second = await connect(d);
    await closed(first);
    await settle();
    expect(second.connected).toBe(true);
    expect((await item(keys.hostPresence('conv-3')))?.presence).toBe('online');
  });

  it('status: an older report never overwrites a newer one; an unchanged one is not written', async () => {
    const c = await connect(await device('conv-2'));
    const t0 = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    await c.publishAsync(TOPICS.status('conv-2'), statusBody(2, iso(t0), { agentVersion: '2.0.0' }), { qos: 1 });
    await settle();
    await c.publishAsync(TOPICS.status('conv-2'), statusBody(1, iso(t0 - 1000), { agentVersion: '1.0.0' }), { qos: 1 });
    await settle();
    writes = [];
    await c.publishAsync(TOPICS.status('conv-2'), statusBody(2, iso(t0), { agentVersion: '2.0.0' }), { qos: 1 });
    await c.publishAsync(TOPICS.status('conv-2'), statusBody(3, iso(t0 + 1000), { agentVersion: '2.0.0' }), { qos: 1 });
    await settle();
    expect(writes.filter((w) => w.sk === 'STATUS')).toEqual([]);
    expect(statusFromItem(await item(deviceKeys.status('conv-2')))).toMatchObject({ seq: 2, content: { agentVersion: '2.0.0' } });
    await c.publishAsync(TOPICS.status('conv-2'), statusBody(4, iso(t0 + 2000), { agentVersion: '2.1.0' }), { qos: 1 });
    await settle();
    expect(statusFromItem(await item(deviceKeys.status('conv-2')))).toMatchObject({ seq: 4, content: { agentVersion: '2.1.0' } });
  });
});

describe('the command channel', () => {
  const deadline = () => new Date(Date.now() + 600_000).toISOString();

  it('a command is stored, then published to its host only; re-fetched after commands/pending', async () => {
    const a = await connect(await device('cmd-a'));
    const b = await connect(await device('cmd-b'));
    await a.subscribeAsync(TOPICS.commands('cmd-a'), { qos: 1 });
    await b.subscribeAsync(TOPICS.commands('cmd-b'), { qos: 1 });
    const gotA: any[] = [];
    const gotB: any[] = [];
    a.on('message', (_t, p) => gotA.push(JSON.parse(p.toString())));
    b.on('message', (_t, p) => gotB.push(JSON.parse(p.toString())));
    const out = await rt.iot.sendCommand('cmd-a', { commandId: 'c-1', type: 'reboot', params: { delay: 5 }, deadline: deadline() });
    expect(out).toEqual({ created: true, published: true });
    await eventually(() => gotA, (g) => g.length === 1);
    expect(gotA[0]).toMatchObject({ commandId: 'c-1', type: 'reboot', params: { delay: 5 } });
    expect(await item(deviceKeys.command('cmd-a', 'c-1'))).toMatchObject({ state: 'sent' });
    expect(await rt.iot.sendCommand('cmd-a', { commandId: 'c-1', type: 'reboot', params: {}, deadline: deadline() })).toEqual({ created: false, published: false });

    // Stored while nobody listened: it comes with the next commands/pending.
    await rt.iot.deps.commands.create({
      hostId: 'cmd-a', commandId: 'c-2', type: 'report-state', params: {}, deadline: deadline(), state: 'queued', version: 1,
      createdAt: new Date().toISOString(), updatedAt: new Date().toISOString(),
    });
    await a.publishAsync(TOPICS.pendingCommands('cmd-a'), JSON.stringify({ at: new Date().toISOString() }), { qos: 1 });
    await eventually(() => gotA, (g) => g.length === 3);
    expect(gotA.slice(1).map((m) => m.commandId).sort()).toEqual(['c-1', 'c-2']);
    // The message is published before the record is marked: wait for the mark, don't race it.
    await eventually(() => item(deviceKeys.command('cmd-a', 'c-2')), (i) => i?.state === 'sent');
    await sleep(100);
    expect(gotB).toEqual([]);
  });

  it('results drive the lifecycle; duplicates are idempotent; a finished command ignores more', async () => {
    const a = await connect(await device('cmd-c'));
    await rt.iot.sendCommand('cmd-c', { commandId: 'r-1', type: 'upgrade', params: {}, deadline: deadline() });
    const res = (phase: string, extra: Record<string, unknown> = {}) =>
      a.publishAsync(TOPICS.results('cmd-c'), JSON.stringify({ commandId: 'r-1', phase, at: new Date().toISOString(), ...extra }), { qos: 1 });
    await res('accepted'); await settle();
    await res('accepted'); await settle();
    await res('progress', { progress: 40 }); await settle();
    await res('succeeded', { detail: 'done' }); await settle();
    const done = await item(deviceKeys.command('cmd-c', 'r-1'));
    expect(done).toMatchObject({ state: 'succeeded', progress: 100, detail: 'done' });
    writes = [];
    await res('succeeded'); await res('failed'); await res('accepted');
    await a.publishAsync(TOPICS.results('cmd-c'), JSON.stringify({ commandId: 'nope', phase: 'succeeded', at: new Date().toISOString() }), { qos: 1 });
    await settle();
    expect(writes).toEqual([]);
    expect(await item(deviceKeys.command('cmd-c', 'r-1'))).toEqual(done);
  });
});

describe('an idle fleet', () => {
  it('makes no DynamoDB writes while connected and idle (keepalives included)', async () => {
    const fleet = await Promise.all(Array.from({ length: 5 }, async (_x, i) => connect(await device(`idle-${i}`), undefined, { keepalive: 1 })));
    await Promise.all(fleet.map((c, i) => c.subscribeAsync(TOPICS.commands(`idle-${i}`), { qos: 1 })));
    await eventually(() => Promise.all(fleet.map((_c, i) => item(keys.hostPresence(`idle-${i}`)))), (ps) => ps.every((p) => p?.presence === 'online'));
    await settle();
    writes = [];
    await sleep(2500);
    await settle();
    expect(writes).toEqual([]);
    expect(fleet.every((c) => c.connected)).toBe(true);
  });
});

describe('metering: what IoT Core would bill as messages (5 KB units)', () => {
  it('CONNECT, SUBSCRIBE, a device PUBLISH by its size, a service PUBLISH and the device PUBACK of it are counted; pings are not', async () => {
    const d = await device('meter-1');
    const before = { ...rt.iot.brokerStats.metered };
    const c = await connect(d, undefined, { keepalive: 1 });
    await c.subscribeAsync(TOPICS.commands('meter-1'), { qos: 1 });
    // A 6 KB status report is two 5 KB units.
    await c.publishAsync(TOPICS.status('meter-1'), statusBody(1, new Date().toISOString(), { note: 'x'.repeat(6000) }), { qos: 1 });
    const got: string[] = [];
    c.on('message', (topic) => got.push(topic));
    await rt.iot.publishCommand('meter-1', { commandId: 'm1', type: 'reboot', params: {}, deadline: new Date(Date.now() + 60_000).toISOString() });
    await eventually(() => got, (g) => g.length === 1);
    await eventually(() => rt.iot.brokerStats.metered.pubacksIn, (n) => n > before.pubacksIn);
    // Keep-alive pings go by (keepalive 1 s) without being metered.
    await sleep(2500);
    const m = rt.iot.brokerStats.metered;
    expect(m.connects - before.connects).toBe(1);
    expect(m.subscribes - before.subscribes).toBe(1);
    expect(m.publishesIn - before.publishesIn).toBe(2);
    expect(m.pubacksIn - before.pubacksIn).toBe(1);
    // The command, and the broker's own lifecycle event (connected) — counted as IoT Core's are
    // (other tests' clients may add their own lifecycle events meanwhile).
    expect(m.publishesOut - before.publishesOut).toBeGreaterThanOrEqual(2);
    c.end(true);
  });
});
