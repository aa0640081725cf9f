/**
 * Registration admission (issue 14): the control plane lets at most `registerAdmissionPerSecond`
 * registrations a second through to the IoT registry and answers the rest 429 with a
 * Retry-After that spreads them; the agent honours it. Invariants over the whole run: every
 * device ends registered exactly once (one certificate, one host, one use of the token), the
 * registry was never called more often than the windows admitted, and a refused call wrote
 * nothing but its place in the window.
 */
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as x509 from '@peculiar/x509';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startSimulatedAgents, type SimulatedFleet } from '../../simulator/index.js';
import { eventually, startHarness, type Harness } from './harness.js';

x509.cryptoProvider.set(webcrypto as never);
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const INVENTORY = { arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [], nics: [], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' };
const RATE = 3;

let h: Harness;
let dir: string;
let fleet: SimulatedFleet | undefined;
/** Every call to the registry's provision, by thing. */
const provisioned: string[] = [];

beforeAll(async () => {
  h = await startHarness({ registerAdmissionPerSecond: RATE });
  const provision = h.rt.registry.provision.bind(h.rt.registry);
  h.rt.registry.provision = async (thing: string, csr: string) => {
    provisioned.push(thing);
    return provision(thing, csr);
  };
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-admission-it-'));
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function items(): Promise<Record<string, unknown>[]> {
  const out: Record<string, unknown>[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await h.rt.dynamo.send(new ScanCommand({ TableName: h.rt.deps.config.stateTable, ExclusiveStartKey: start }));
    out.push(...(page.Items ?? []));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}

/** Σ over the admission windows of the places they admitted: the registry may have been called at most this often. */
async function admittedPlaces(): Promise<{ admitted: number; refused: number }> {
  const windows = (await items()).filter((i) => String(i['pk']).startsWith('ADMIT#')).map((i) => Number(i['n']));
  return { admitted: windows.reduce((s, n) => s + Math.min(n, RATE), 0), refused: windows.reduce((s, n) => s + Math.max(0, n - RATE), 0) };
}

async function csrFor(uid: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${uid}`, keys, signingAlgorithm: EC })).toString('pem');
}

describe('registration admission at a configured rate', () => {
  it('a burst on one token: the first places of each second are admitted, the rest get 429 with Retry-After and change nothing', async () => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'burst', autoApprove: true } });
    const uids = Array.from({ length: 12 }, (_, i) => `burst-${i + 1}`);
    const csrs = await Promise.all(uids.map(csrFor));
    const answers = await Promise.all(uids.map((uid, i) => h.call('POST', '/v1/device/register', { token: null, body: { token: t.body.token, uid, csr: csrs[i], inventory: INVENTORY } })));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(ok.length + refused.length).toBe(uids.length);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.body).toMatchObject({ code: 'registration-rate-limited', detail: expect.stringMatching(/admits 3 registrations per second .* retry after \d+ s/) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // A refused device has no host, no certificate; an admitted one has both, once.
    for (const [i, uid] of uids.entries()) {
      const host = await h.rt.deps.hosts.get(uid);
      if (answers[i]!.status === 200) expect(host).toMatchObject({ status: 'approved', certificateId: expect.any(String) });
      else expect(host).toBeUndefined();
    }
    const places = await admittedPlaces();
    expect(provisioned.length).toBe(ok.length);
    expect(provisioned.length).toBeLessThanOrEqual(places.admitted);
    expect(places.refused).toBe(refused.length);
    expect((await h.call('GET', `/v1/registration-tokens/${t.body.id}`)).body.uses).toBe(ok.length);
  }, 60_000);

  it('a fleet of agents booting at once on one unlimited token: every host online, registered exactly once, the registry never called past the admitted places', async () => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'storm', autoApprove: true } });
    const before = provisioned.length;
    const refusedBefore = (await admittedPlaces()).refused;
    fleet = startSimulatedAgents({ apiUrl: h.rt.url, registrationToken: t.body.token, project: 'default', count: 10, stateDir: dir, uidPrefix: 'storm', checkIntervalMs: 1000 });
    const ids = Array.from({ length: 10 }, (_, i) => `storm-${i + 1}`);
    await eventually('every storm host online', async () => {
      for (const id of ids) if ((await h.rt.deps.hosts.get(id))?.presence !== 'online') return false;
      return true;
    }, 90_000, 250);
    const mine = provisioned.slice(before);
    expect([...mine].sort()).toEqual([...ids].sort());
    const places = await admittedPlaces();
    expect(provisioned.length).toBeLessThanOrEqual(places.admitted);
    // 10 agents at 3 a second: some were told to come back, and did.
    expect(places.refused).toBeGreaterThan(refusedBefore);
    expect((await h.call('GET', `/v1/registration-tokens/${t.body.id}`)).body.uses).toBe(10);
    for (const id of ids) {
      const audit = await h.call('GET', `/v1/audit-events?actor=${encodeURIComponent(`device:${id}`)}`);
      expect(audit.body.items.filter((e: { action: string; outcome: string }) => e.action === 'device.register' && e.outcome === 'success')).toHaveLength(1);
    }
  }, 120_000);
});
