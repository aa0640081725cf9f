/**
 * Registration admission (issue 14): the control plane lets at most `registerAdmissionPerSecond`
 * registrations a second through to the IoT registry and answers the rest 429 with a
 * Retry-After of the turn it keeps for them; the agent honours it. Invariants over the whole run:
 * every device ends registered exactly once (one certificate, one host, one use of the token), the
 * registry was never called more often than the admission clock handed out turns, every turn kept
 * for a host was used once, and a refused call wrote nothing but its turn.
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

/** The admission clock's count of turns taken, and the turns kept for refused hosts. */
async function admission(): Promise<{ taken: number; kept: Map<string, { turnMs: number; used: boolean }> }> {
  const all = await items();
  const clock = all.find((i) => i['pk'] === 'ADMIT' && i['sk'] === 'CLOCK');
  const kept = new Map(all.filter((i) => String(i['pk']).startsWith('ADMIT#'))
    .map((i) => [String(i['pk']).slice('ADMIT#'.length), { turnMs: Number(i['turnMs']), used: i['used'] === true }] as const));
  return { taken: Number(clock?.['n'] ?? 0), kept };
}

async function csrFor(uid: string): Promise<string> {
  const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as webcrypto.CryptoKeyPair;
  return (await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${uid}`, keys, signingAlgorithm: EC })).toString('pem');
}

describe('registration admission at a configured rate', () => {
  it('a burst on one token: a second\'s worth admitted, the rest 429 with the Retry-After of the turn each keeps; early repeats keep their place', async () => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'burst', autoApprove: true } });
    const uids = Array.from({ length: 18 }, (_, i) => `burst-${i + 1}`);
    const csrs = await Promise.all(uids.map(csrFor));
    const register = (i: number) => h.call('POST', '/v1/device/register', { token: null, body: { token: t.body.token, uid: uids[i], csr: csrs[i], inventory: INVENTORY } });
    const answers = await Promise.all(uids.map((_, i) => register(i)));
    const ok = answers.filter((a) => a.status === 200);
    const refused = answers.filter((a) => a.status === 429);
    expect(ok.length + refused.length).toBe(uids.length);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.headers.get('content-type')).toBe('application/problem+json');
      expect(r.body).toMatchObject({ code: 'registration-rate-limited', detail: expect.stringMatching(/admits 3 registrations per second .* host\(s\) are ahead of it; its turn is kept for it: retry after \d+ s/) });
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    }
    // A refused device has no host, no certificate, and a kept turn; an admitted one has both, once, and no turn kept.
    const a = await admission();
    for (const [i, uid] of uids.entries()) {
      const host = await h.rt.deps.hosts.get(uid);
      if (answers[i]!.status === 200) {
        expect(host).toMatchObject({ status: 'approved', certificateId: expect.any(String) });
        expect(a.kept.has(uid)).toBe(false);
      } else {
        expect(host).toBeUndefined();
        expect(a.kept.get(uid)).toMatchObject({ used: false });
      }
    }
    // Each turn its own instant, a third of a second apart; the registry called no more often than turns were taken.
    const kept = [...a.kept.values()].map((k) => k.turnMs).sort((x, y) => x - y);
    for (let i = 1; i < kept.length; i++) expect(kept[i]! - kept[i - 1]!).toBeGreaterThanOrEqual(1000 / RATE - 0.01);
    expect(a.taken).toBe(uids.length);
    expect(provisioned.length).toBe(ok.length);
    expect((await h.call('GET', `/v1/registration-tokens/${t.body.id}`)).body.uses).toBe(ok.length);

    // The refused device whose turn is furthest (about 5 s) asks again at once: refused again,
    // told no later a time, no new turn taken.
    const retryAfter = (i: number) => (answers[i]!.status === 429 ? Number(answers[i]!.headers.get('retry-after')) : 0);
    const last = uids.reduce((best, _, i) => (retryAfter(i) > retryAfter(best) ? i : best), 0);
    expect(retryAfter(last)).toBeGreaterThanOrEqual(3);
    const again = await register(last);
    expect(again.status).toBe(429);
    expect(Number(again.headers.get('retry-after'))).toBeLessThanOrEqual(Number(answers[last]!.headers.get('retry-after')));
    expect((await admission()).taken).toBe(uids.length);
    // Come back when told: admitted with the turn it kept, which is now used.
    await new Promise((r) => setTimeout(r, Number(again.headers.get('retry-after')) * 1000));
    expect((await register(last)).status).toBe(200);
    expect((await admission()).kept.get(uids[last]!)).toMatchObject({ used: true });
    expect(provisioned.filter((p) => p === uids[last])).toHaveLength(1);
  }, 60_000);

  it('a fleet of agents booting at once on one unlimited token: every host online, registered exactly once, the registry never called past the turns taken, every kept turn used', async () => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'storm', autoApprove: true } });
    const before = provisioned.length;
    const takenBefore = (await admission()).taken;
    fleet = startSimulatedAgents({ apiUrl: h.rt.url, registrationToken: t.body.token, project: 'default', count: 10, stateDir: dir, uidPrefix: 'storm', checkIntervalMs: 1000 });
    const ids = Array.from({ length: 10 }, (_, i) => `storm-${i + 1}`);
    await eventually('every storm host online', async () => {
      for (const id of ids) if ((await h.rt.deps.hosts.get(id))?.presence !== 'online') return false;
      return true;
    }, 90_000, 250);
    const mine = provisioned.slice(before);
    expect([...mine].sort()).toEqual([...ids].sort());
    const a = await admission();
    expect(a.taken - takenBefore).toBeGreaterThanOrEqual(mine.length);
    // 10 agents at 3 a second: some were told to come back, and each came back and used the turn kept for it.
    const keptForStorm = [...a.kept.entries()].filter(([id]) => id.startsWith('storm-'));
    expect(keptForStorm.length).toBeGreaterThan(0);
    for (const [, k] of keptForStorm) expect(k.used).toBe(true);
    expect((await h.call('GET', `/v1/registration-tokens/${t.body.id}`)).body.uses).toBe(10);
    for (const id of ids) {
      const audit = await h.call('GET', `/v1/audit-events?actor=${encodeURIComponent(`device:${id}`)}`);
      expect(audit.body.items.filter((e: { action: string; outcome: string }) => e.action === 'device.register' && e.outcome === 'success')).toHaveLength(1);
    }
  }, 120_000);
});
