import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { host as hostSchema } from '../../lambdas/contracts/api.js';
import { deviceRegisterResponse } from '../../lambdas/contracts/device.js';
import { formatToken, hashSecret } from '../../lambdas/domain/registration-token.js';
import { certificateIdOf } from '../../local/local-ca.js';
import { startHarness, type Harness } from './harness.js';

x509.cryptoProvider.set(webcrypto as never);
type CryptoKeyPair = webcrypto.CryptoKeyPair;
const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const INVENTORY = {
  arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [{ name: 'sda', sizeGb: 256 }], nics: [{ name: 'eth0', mac: '00:11:22:33:44:55' }],
  os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0',
};

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.stop(); });

interface Device {
  readonly uid: string;
  readonly keys: CryptoKeyPair;
  readonly csr: string;
  proof(at?: Date): Promise<{ at: string; signature: string }>;
}

async function device(uid: string, keys?: CryptoKeyPair): Promise<Device> {
  const k = keys ?? await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({ name: `CN=${uid}`, keys: k, signingAlgorithm: EC });
  return {
    uid, keys: k, csr: csr.toString('pem'),
    async proof(at = new Date()) {
      const iso = at.toISOString();
      // WebCrypto ECDSA signatures are IEEE P1363 (r || s) already.
      const sig = await webcrypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, k.privateKey, Buffer.from(`${uid}|${iso}`));
      return { at: iso, signature: Buffer.from(sig).toString('base64') };
    },
  };
}

async function newToken(body: Record<string, unknown> = {}, project?: string): Promise<{ id: string; token: string }> {
  const t = await h.call('POST', '/v1/registration-tokens', { project, body: { name: 'reg', ...body } });
  expect(t.status).toBe(201);
  return t.body;
}

const register = (token: string, d: Device, extra: Record<string, unknown> = {}) =>
  h.call('POST', '/v1/device/register', { token: null, body: { token, uid: d.uid, csr: d.csr, inventory: INVENTORY, ...extra } });
const poll = async (token: string, d: Device) => register(token, d, { proof: await d.proof() });

async function state(): Promise<string> {
  const items: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await h.rt.dynamo.send(new ScanCommand({ TableName: h.rt.deps.config.stateTable, ExclusiveStartKey: start }));
    for (const i of out.Items ?? []) items.push(JSON.stringify(Object.entries(i).sort()));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort().join('\n');
}

async function expectApprovedWithCert(res: Awaited<ReturnType<typeof register>>, d: Device, hostId: string) {
  expect(res.status).toBe(200);
  expect(deviceRegisterResponse.safeParse(res.body).error).toBeUndefined();
  expect(res.body).toMatchObject({ status: 'approved', hostId, thingName: hostId, caPem: h.rt.ca.caPem, mqtt: { endpoint: 'localhost', port: expect.any(Number) } });
  const cert = new x509.X509Certificate(res.body.certificatePem);
  const ca = new x509.X509Certificate(h.rt.ca.caPem);
  expect(await cert.verify({ publicKey: ca.publicKey, signatureOnly: true })).toBe(true);
  expect(cert.issuer).toBe(ca.subject);
  expect(cert.subject).toBe(`CN=${hostId}`);
  const spki = Buffer.from(await webcrypto.subtle.exportKey('spki', d.keys.publicKey));
  expect(Buffer.from(cert.publicKey.rawData).equals(spki)).toBe(true);
  return certificateIdOf(res.body.certificatePem);
}

describe('POST /v1/device/register', () => {
  it('pre-provisioned: approved at once, keeps site/tags, certificate signed by the local CA, audited as the device', async () => {
    expect((await h.call('POST', '/v1/hosts', { body: { uid: 'PRE-0001', site: 'shop-1', tags: { lane: '2' } } })).status).toBe(201);
    const t = await newToken({ site: 'elsewhere', maxUses: 5 });
    const d = await device('PRE-0001');
    const certId = await expectApprovedWithCert(await register(t.token, d), d, 'pre-0001');
    const host = await h.call('GET', '/v1/hosts/pre-0001');
    expect(host.body).toMatchObject({ status: 'approved', site: 'shop-1', tags: { lane: '2' }, certificateId: certId, registrationTokenId: t.id, inventory: INVENTORY });
    expect(hostSchema.strict().safeParse(host.body).error).toBeUndefined();
    expect(host.body.publicKeyPem).toBeUndefined();
    expect(host.body.pairingCode).toBeUndefined();
    expect((await h.call('GET', `/v1/registration-tokens/${t.id}`)).body.uses).toBe(1);
    // A retried call (lost response) with proof returns the same certificate, no second use.
    const again = await poll(t.token, d);
    expect(again.status).toBe(200);
    expect(certificateIdOf(again.body.certificatePem)).toBe(certId);
    expect((await h.call('GET', `/v1/registration-tokens/${t.id}`)).body.uses).toBe(1);
    const audit = await h.call('GET', `/v1/audit-events?actor=${encodeURIComponent('device:pre-0001')}`);
    expect(audit.body.items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`)).toContain('device.register:success');
  });

  it('on-site: pending (202) → operator approves with the pairing code → poll with proof → approved', async () => {
    const t = await newToken({ site: 'shop-9', tags: { region: 'eu' } });
    const d = await device('ONSITE-0001');
    const first = await register(t.token, d);
    expect(first.status).toBe(202);
    expect(first.body).toMatchObject({ status: 'pending', hostId: 'onsite-0001', pollAfterSeconds: 30 });
    expect(first.body.pairingCode).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    expect(deviceRegisterResponse.safeParse(first.body).error).toBeUndefined();
    const stored = await h.call('GET', '/v1/hosts/onsite-0001');
    expect(stored.body).toMatchObject({ status: 'pending', site: 'shop-9', tags: { region: 'eu' } });
    expect(stored.body.pairingCode).toBeUndefined();

    // Polls must prove possession of the CSR key.
    const noProof = await register(t.token, d);
    expect([noProof.status, noProof.body.code]).toEqual([401, 'proof-required']);
    const stale = await register(t.token, d, { proof: await d.proof(new Date(Date.now() - 6 * 60_000)) });
    expect([stale.status, stale.body.code]).toEqual([401, 'proof-expired']);
    const impostor = await device('ONSITE-0001');
    const forged = await register(t.token, d, { proof: await impostor.proof() });
    expect([forged.status, forged.body.code]).toEqual([401, 'proof-invalid']);
    const stillPending = await poll(t.token, d);
    expect(stillPending.status).toBe(202);
    expect(stillPending.body.pairingCode).toBe(first.body.pairingCode);

    const wrong = await h.call('POST', '/v1/hosts/onsite-0001/approve', { body: { pairingCode: 'AAAAAA' } });
    expect([wrong.status, wrong.body.code]).toEqual([409, 'pairing-code-mismatch']);
    const ok = await h.call('POST', '/v1/hosts/onsite-0001/approve', { body: { pairingCode: first.body.pairingCode } });
    expect(ok.status).toBe(200);
    await expectApprovedWithCert(await poll(t.token, d), d, 'onsite-0001');
    expect((await h.call('GET', '/v1/hosts/onsite-0001')).body.certificateId).toMatch(/^[0-9a-f]{64}$/);
  });

  it('auto-approve token: approved and certified on the first call', async () => {
    const t = await newToken({ autoApprove: true });
    const d = await device('AUTO-0001');
    await expectApprovedWithCert(await register(t.token, d), d, 'auto-0001');
  });

  it('rejected: later polls are refused and the host stays rejected', async () => {
    const t = await newToken();
    const d = await device('REJ-0001');
    expect((await register(t.token, d)).status).toBe(202);
    expect((await h.call('POST', '/v1/hosts/rej-0001/reject', { body: { reason: 'unknown box' } })).status).toBe(200);
    const before = await state();
    const res = await poll(t.token, d);
    expect([res.status, res.body.code]).toEqual([409, 'host-rejected']);
    expect(await state()).toBe(before);
    const audit = await h.call('GET', `/v1/audit-events?actor=${encodeURIComponent('device:rej-0001')}`);
    const events = audit.body.items.map((e: { action: string; outcome: string; detail?: string }) => `${e.action}:${e.outcome}:${e.detail?.split(':')[0]}`);
    expect(events).toEqual(expect.arrayContaining(['device.register:success:pending approval', 'device.register:denied:host-rejected']));
  });

  it('re-install: a new key is refused by default, allowed by an allowReregistration token (old certificate revoked)', async () => {
    const plain = await newToken({ autoApprove: true });
    const d1 = await device('REINSTALL-1');
    const oldCert = await expectApprovedWithCert(await register(plain.token, d1), d1, 'reinstall-1');
    const d2 = await device('REINSTALL-1');
    const before = await state();
    const refused = await register(plain.token, d2);
    expect([refused.status, refused.body.code]).toEqual([409, 'host-already-registered']);
    expect(await state()).toBe(before);

    const allow = await newToken({ allowReregistration: true });
    const newCert = await expectApprovedWithCert(await register(allow.token, d2), d2, 'reinstall-1');
    expect(newCert).not.toBe(oldCert);
    expect(h.rt.ca.isRevoked(oldCert)).toBe(true);
    expect(h.rt.ca.isRevoked(newCert)).toBe(false);
    expect((await h.call('GET', '/v1/hosts/reinstall-1')).body.certificateId).toBe(newCert);
    // The old key is now "another key": refused without a re-registration policy.
    const old = await poll(plain.token, d1);
    expect([old.status, old.body.code]).toEqual([409, 'host-already-registered']);
  });

  it('two devices racing for the last token use: exactly one wins', async () => {
    const t = await newToken({ maxUses: 1 });
    const [a, b] = await Promise.all([device('RACE-A'), device('RACE-B')]);
    const results = await Promise.all([register(t.token, a), register(t.token, b)]);
    expect(results.map((r) => r.status).sort()).toEqual([202, 403]);
    expect(results.find((r) => r.status === 403)!.body.code).toBe('token-used-up');
    expect((await h.call('GET', `/v1/registration-tokens/${t.id}`)).body.uses).toBe(1);
    const loser = results[0]!.status === 403 ? 'race-a' : 'race-b';
    expect((await h.call('GET', `/v1/hosts/${loser}`)).status).toBe(404);
  });

  it('one device calling twice at once: one registration, the other told to retry, then the same certificate', async () => {
    const t = await newToken({ autoApprove: true });
    const d = await device('TWICE-1');
    const both = await Promise.all([register(t.token, d), register(t.token, d)]);
    const statuses = both.map((r) => r.status).sort();
    // The loser either lost the transaction (429, retry) or read the winner's host (401: a repeat needs proof).
    expect([[200, 401], [200, 429]]).toContainEqual(statuses);
    const loser = both.find((r) => r.status !== 200)!;
    expect(loser.body.code).toBe(loser.status === 429 ? 'registration-in-progress' : 'proof-required');
    const winner = both.find((r) => r.status === 200)!;
    const again = await poll(t.token, d);
    expect(again.status).toBe(200);
    expect(certificateIdOf(again.body.certificatePem)).toBe(certificateIdOf(winner.body.certificatePem));
    expect((await h.call('GET', `/v1/registration-tokens/${t.id}`)).body.uses).toBe(1);
  });

  it('POST /v1/hosts/{id}/decommission revokes the certificate and keeps the record; stale versions change nothing', async () => {
    const t = await newToken({ autoApprove: true });
    const d = await device('DECOM-EXPLICIT');
    const certId = await expectApprovedWithCert(await register(t.token, d), d, 'decom-explicit');
    const current = (await h.call('GET', '/v1/hosts/decom-explicit')).body;
    const stale = await h.call('POST', '/v1/hosts/decom-explicit/decommission', { body: { version: current.version + 1 } });
    expect([stale.status, stale.body.code]).toEqual([412, 'version-mismatch']);
    expect(h.rt.ca.isRevoked(certId)).toBe(false);
    const viewer = await h.token('viewer-1', ['default:viewer']);
    expect((await h.call('POST', '/v1/hosts/decom-explicit/decommission', { token: viewer, body: {} })).status).toBe(403);
    expect(h.rt.ca.isRevoked(certId)).toBe(false);
    const ok = await h.call('POST', '/v1/hosts/decom-explicit/decommission', { body: { version: current.version, reason: 'stolen' } });
    expect(ok.status).toBe(200);
    expect(ok.body).toMatchObject({ status: 'decommissioned', statusReason: 'stolen' });
    expect(h.rt.ca.isRevoked(certId)).toBe(true);
    const twice = await h.call('POST', '/v1/hosts/decom-explicit/decommission', { body: {} });
    expect([twice.status, twice.body.code]).toEqual([409, 'host-decommissioned']);
    expect((await poll(t.token, d)).body.code).toBe('host-decommissioned');
  });

  describe('refusals change nothing in the state table', () => {
    let usable: { id: string; token: string };
    beforeAll(async () => { usable = await newToken(); });

    const expectRefused = async (send: () => ReturnType<typeof register>, status: number, code: string) => {
      const before = await state();
      const res = await send();
      expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await state()).toBe(before);
    };

    it('expired token', async () => {
      const secret = 'e'.repeat(43);
      await h.rt.deps.tokens.create({
        id: 'expiredtok01', project: 'default', name: 'old', secretHash: hashSecret(secret), expiresAt: '2020-01-01T00:00:00.000Z',
        uses: 0, autoApprove: true, allowReregistration: false, revoked: false, createdAt: '2019-12-01T00:00:00.000Z', createdBy: 'test',
      });
      await expectRefused(async () => register(formatToken('expiredtok01', secret), await device('EXP-1')), 403, 'token-expired');
    });
    it('revoked token', async () => {
      const t = await newToken();
      await h.call('DELETE', `/v1/registration-tokens/${t.id}`);
      await expectRefused(async () => register(t.token, await device('REV-1')), 403, 'token-revoked');
    });
    it('used-up token', async () => {
      const t = await newToken({ maxUses: 1 });
      expect((await register(t.token, await device('USED-1'))).status).toBe(202);
      await expectRefused(async () => register(t.token, await device('USED-2')), 403, 'token-used-up');
    });
    it('unknown token and wrong secret', async () => {
      await expectRefused(async () => register(formatToken('nosuchtoken1', 'x'.repeat(43)), await device('UNK-1')), 401, 'invalid-token');
      await expectRefused(async () => register(`${usable.token.slice(0, -4)}AAAA`, await device('UNK-2')), 401, 'invalid-token');
      await expectRefused(async () => register('not-a-token', await device('UNK-3')), 401, 'invalid-token');
    });
    it('host of another project', async () => {
      expect((await h.call('POST', '/v1/hosts', { project: 'other', body: { uid: 'OTHER-1' } })).status).toBe(201);
      await expectRefused(async () => register(usable.token, await device('OTHER-1')), 403, 'wrong-project');
    });
    it('decommissioned uid', async () => {
      const t = await newToken({ autoApprove: true });
      const d = await device('DECOM-1');
      const certId = await expectApprovedWithCert(await register(t.token, d), d, 'decom-1');
      const del = await h.call('DELETE', '/v1/hosts/decom-1');
      expect([del.status, del.body.status]).toEqual([200, 'decommissioned']);
      expect(h.rt.ca.isRevoked(certId)).toBe(true);
      await expectRefused(() => poll(t.token, d), 409, 'host-decommissioned');
      await expectRefused(async () => register(t.token, await device('DECOM-1')), 409, 'host-decommissioned');
      expect((await h.call('DELETE', '/v1/hosts/decom-1')).status).toBe(204);
    });
    it('invalid CSRs: garbage, RSA key, tampered signature, not PEM', async () => {
      const d = await device('CSR-1');
      const garbage = '-----BEGIN CERTIFICATE REQUEST-----\nAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n';
      await expectRefused(() => register(usable.token, { ...d, csr: garbage }), 400, 'invalid-csr');

      const rsaAlg = { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' };
      const rsa = await webcrypto.subtle.generateKey(rsaAlg, true, ['sign', 'verify']) as CryptoKeyPair;
      const rsaCsr = (await x509.Pkcs10CertificateRequestGenerator.create({ name: 'CN=CSR-1', keys: rsa, signingAlgorithm: rsaAlg })).toString('pem');
      await expectRefused(() => register(usable.token, { ...d, csr: rsaCsr }), 400, 'csr-key-unsupported');

      const der = Buffer.from(new x509.Pkcs10CertificateRequest(d.csr).rawData);
      der[der.length - 2] ^= 0x01;
      const tampered = x509.PemConverter.encode(der, 'CERTIFICATE REQUEST');
      await expectRefused(() => register(usable.token, { ...d, csr: tampered }), 400, 'csr-signature-invalid');

      await expectRefused(() => register(usable.token, { ...d, csr: 'hello' }), 400, 'validation-failed');
    });
    it('a stranger with the token and a pending uid but another key', async () => {
      const d = await device('PEND-1');
      expect((await register(usable.token, d)).status).toBe(202);
      await expectRefused(async () => register(usable.token, await device('PEND-1')), 409, 'host-key-mismatch');
    });
  });
});
