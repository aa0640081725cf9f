import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import mqtt, { type MqttClient } from 'mqtt';
import { TOPICS } from '../../lambdas/contracts/mqtt.js';
import { deviceKeys } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import { statusFromItem } from '../../lambdas/adapters/dynamodb/status-item.js';
import { startLocal, type LocalRuntime } from '../../local/runtime.js';
import { CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';
import { eventually } from './harness.js';

/**
 * Issue 8: a retired host's live MQTT session is closed (revoke, decommission), and whatever a
 * still-open session of a host that is not registered and active publishes is dropped by the
 * rules. Real TLS broker, real rule handlers, DynamoDB Local; the device is an mqtt.js client.
 */
x509.cryptoProvider.set(webcrypto as never);
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;

let rt: LocalRuntime;
let dataDir: string;
const clients: MqttClient[] = [];

interface Device { readonly thing: string; readonly keyPem: string; readonly certPem: string; readonly certificateId: string }

/** What registration leaves behind: an approved host holding the certificate of its thing. */
async function device(thing: string, status: 'approved' | 'pending' = 'approved'): Promise<Device> {
  const k = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${thing}`, keys: k, signingAlgorithm: EC });
  const issued = await rt.registry.provision(thing, csr.toString('pem'));
  const now = new Date().toISOString();
  await rt.deps.hosts.create({ id: thing, uid: thing, project: 'default', tags: {}, status, version: 1, createdAt: now, updatedAt: now, ...(status === 'approved' ? { approvedAt: now } : {}), certificateId: issued.certificateId });
  const keyPem = x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', k.privateKey), 'PRIVATE KEY');
  return { thing, keyPem, certPem: issued.certificatePem, certificateId: issued.certificateId };
}

function connect(d: Device): Promise<MqttClient> {
  const c = mqtt.connect(rt.iot.mqttUrl, {
    protocolVersion: 4, clientId: d.thing, key: d.keyPem, cert: d.certPem, ca: rt.iot.ca.caPem, rejectUnauthorized: true, reconnectPeriod: 0, connectTimeout: 5000,
  });
  clients.push(c);
  return new Promise((resolve, reject) => {
    c.once('connect', () => resolve(c));
    c.once('error', reject);
    c.once('close', () => reject(new Error('closed before CONNACK')));
  });
}
const closed = (c: MqttClient) => new Promise<true>((r) => (c.connected ? c.once('close', () => r(true)) : r(true)));
const status = (seq: number, agentVersion = '0.1.0') => JSON.stringify({ seq, at: new Date().toISOString(), kind: 'change', boot: { state: 'active' }, agentVersion });
const storedStatus = async (hostId: string) =>
  statusFromItem((await rt.dynamo.send(new GetCommand({ TableName: rt.deps.config.stateTable, Key: deviceKeys.status(hostId), ConsistentRead: true }))).Item);
const online = (id: string) => eventually(`${id} online`, async () => (await rt.deps.hosts.get(id))?.presence === 'online');
async function api(method: string, p: string, body?: unknown) {
  const res = await fetch(`${rt.url}${p}`, { method, headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-sessions-'));
  rt = await startLocal({ port: 0, dataDir, inMemory: true, logLevel: 'CRITICAL', templateCache: CHECKOUT_TEMPLATE_CACHE });
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.endAsync(true).catch(() => undefined)));
  await rt?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

describe('retiring a host closes its live session', () => {
  it('decommission: the open session is closed at once, a reconnect is refused, presence goes offline', async () => {
    const d = await device('sess-dec');
    const c = await connect(d);
    await online(d.thing);
    await c.publishAsync(TOPICS.status(d.thing), status(1), { qos: 1 });
    await eventually('first status stored', async () => (await storedStatus(d.thing))?.seq === 1);

    const wasClosed = closed(c);
    const res = await api('POST', `/v1/hosts/${d.thing}/decommission`, {});
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('decommissioned');
    await expect(wasClosed).resolves.toBe(true);
    // Counted by the broker's thread, reported asynchronously.
    await eventually('the closed session counted', async () => rt.iot.brokerStats.closedSessions >= 1);
    await expect(connect(d)).rejects.toThrow();
    // The disconnect of a retired host still marks it offline.
    await eventually(`${d.thing} offline`, async () => (await rt.deps.hosts.get(d.thing))?.presence === 'offline');
  });

  it('reject: a pending host\'s open session is closed and a reconnect refused; its certificate stays valid for a later approval', async () => {
    const d = await device('sess-reject', 'pending');
    const c = await connect(d);
    await online(d.thing);
    const wasClosed = closed(c);
    const res = await api('POST', `/v1/hosts/${d.thing}/reject`, { reason: 'not ours' });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('rejected');
    await expect(wasClosed).resolves.toBe(true);
    await expect(connect(d)).rejects.toThrow();
    expect(rt.iot.ca.isRevoked(d.certificateId)).toBe(false);
    const approved = await api('POST', `/v1/hosts/${d.thing}/approve`, {});
    expect(approved.body.status).toBe('approved');
    const again = await connect(d);
    expect(again.connected).toBe(true);
  });

  it('revoking a certificate closes every session using it', async () => {
    const d = await device('sess-revoke');
    const c = await connect(d);
    await online(d.thing);
    const wasClosed = closed(c);
    await rt.registry.revoke(d.certificateId);
    await expect(wasClosed).resolves.toBe(true);
    await expect(connect(d)).rejects.toThrow();
  });
});

describe('a session left open by a host that is no longer active changes nothing', () => {
  // On AWS the revoked certificate's connection lingers for minutes: here the host record is
  // retired without touching the broker, so the session stays open and keeps publishing.
  it.each(['decommissioned', 'rejected'] as const)('%s: status, results and pending-command requests are dropped and counted', async (retired) => {
    const d = await device(`sess-open-${retired}`);
    const c = await connect(d);
    await online(d.thing);
    await c.publishAsync(TOPICS.status(d.thing), status(1), { qos: 1 });
    await eventually('first status stored', async () => (await storedStatus(d.thing))?.seq === 1);
    const host = (await rt.deps.hosts.get(d.thing))!;
    await rt.deps.hosts.update(d.thing, host.version, { status: retired }, new Date().toISOString());

    const before = { status: rt.iot.ruleStats.status.rejected, results: rt.iot.ruleStats.results.rejected, pending: rt.iot.ruleStats['pending-commands'].rejected };
    await c.publishAsync(TOPICS.status(d.thing), status(2, '9.9.9'), { qos: 1 });
    await c.publishAsync(TOPICS.results(d.thing), JSON.stringify({ commandId: 'cmd-x', phase: 'succeeded', at: new Date().toISOString() }), { qos: 1 });
    await c.publishAsync(TOPICS.pendingCommands(d.thing), JSON.stringify({ at: new Date().toISOString() }), { qos: 1 });
    await eventually('three messages dropped', async () => {
      await rt.iot.whenIdle();
      return rt.iot.ruleStats.status.rejected === before.status + 1 && rt.iot.ruleStats.results.rejected === before.results + 1
        && rt.iot.ruleStats['pending-commands'].rejected === before.pending + 1;
    });
    const stored = await storedStatus(d.thing);
    expect(stored?.seq).toBe(1);
    expect(JSON.stringify(stored)).not.toContain('9.9.9');
  });
});
