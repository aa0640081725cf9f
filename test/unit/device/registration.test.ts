import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createPublicKey, verify } from 'node:crypto';
import { deviceRegisterBody, type Inventory } from '../../../lambdas/contracts/device.js';
import { createCsr, generateDeviceKey, publicKeyPem } from '../../../device/identity.js';
import { printPairing, register, RegistrationRefused } from '../../../device/registration.js';

/** A tiny stand-in for POST /v1/device/register that follows the contract. */
type Reply = { status: number; body?: unknown; headers?: Record<string, string> } | 'drop';
interface Fake { url: string; calls: Array<{ body: unknown; valid: boolean; proofOk: boolean }>; replies: Reply[]; server: Server }

async function fakeServer(replies: Reply[]): Promise<Fake> {
  const fake = { calls: [], replies } as unknown as Fake;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let raw = '';
    req.on('data', (c) => (raw += c));
    req.on('end', () => {
      if (req.method !== 'POST' || req.url !== '/v1/device/register') {
        res.writeHead(404).end();
        return;
      }
      const body = JSON.parse(raw);
      const parsed = deviceRegisterBody.safeParse(body);
      let proofOk = false;
      if (parsed.success && parsed.data.proof) {
        const key = createPublicKey(publicKeyPem(KEY));
        proofOk = verify('sha256', Buffer.from(`${parsed.data.uid}|${parsed.data.proof.at}`), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(parsed.data.proof.signature, 'base64'));
      }
      fake.calls.push({ body, valid: parsed.success, proofOk });
      const r = fake.replies.shift() ?? { status: 500 };
      if (r === 'drop') {
        req.socket.destroy();
        return;
      }
      const problem = r.status >= 400;
      res.writeHead(r.status, { 'content-type': problem ? 'application/problem+json' : 'application/json', ...r.headers });
      res.end(r.body === undefined ? '' : JSON.stringify(r.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  fake.server = server;
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return fake;
}

const KEY = generateDeviceKey();
let CSR: string;
const inventory: Inventory = { arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [{ name: 'sda', sizeGb: 128 }], nics: [{ name: 'eth0', mac: '52:54:00:12:34:56' }], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' };
const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const approved = { status: 'approved', hostId: 'host-1', thingName: 'host-1', certificatePem: CERT, caPem: CERT, mqtt: { endpoint: 'localhost', port: 8883 } };
const pending = (code = 'ABC234') => ({ status: 'pending', hostId: 'host-1', pairingCode: code, pollAfterSeconds: 30 });

let fake: Fake | undefined;
beforeAll(async () => {
  CSR = await createCsr(KEY, 'host-1');
});
afterEach(async () => {
  if (fake) await new Promise((r) => fake!.server.close(r));
  fake = undefined;
});

function run(f: Fake, extra: { random?: () => number } = {}) {
  const sleeps: number[] = [];
  const shown: Array<{ hostId: string; pairingCode: string; qrText: string }> = [];
  const logs: string[] = [];
  const promise = register(
    { apiUrl: `${f.url}/`, token: 'tok', uid: 'host-1', keyPem: KEY, csrPem: CSR, inventory, project: 'acme' },
    { sleep: async (ms) => void sleeps.push(ms), random: extra.random ?? (() => 0.5), showPairing: (p) => shown.push(p), log: (_l, m) => logs.push(m) },
  );
  return { promise, sleeps, shown, logs };
}

describe('device registration', () => {
  test('tells its progress: each request, each backoff with the retries so far, the wait for approval', async () => {
    fake = await fakeServer([{ status: 429, body: { code: 'throttled' } }, { status: 503 }, { status: 200, body: pending() }, { status: 200, body: approved }]);
    const steps: string[] = [];
    await register(
      { apiUrl: fake.url, token: 'tok', uid: 'host-1', keyPem: KEY, csrPem: CSR, inventory },
      { sleep: async () => undefined, random: () => 0.5, showPairing: () => undefined, onProgress: (p) => steps.push(`${p.step}:${p.retries}${p.reason ? `:${p.reason}` : ''}`) },
    );
    expect(steps).toEqual(['request:0', 'backoff:1:the control plane answered 429 (throttled)', 'request:1', 'backoff:2:the control plane answered 503', 'request:2', 'pending:2', 'request:2']);
  });

  test('approved at once: one valid contract call with a verifying proof', async () => {
    fake = await fakeServer([{ status: 200, body: approved }]);
    const r = run(fake);
    await expect(r.promise).resolves.toMatchObject({ status: 'approved', hostId: 'host-1', mqtt: { endpoint: 'localhost', port: 8883 } });
    expect(fake.calls).toHaveLength(1);
    expect(fake.calls[0]).toMatchObject({ valid: true, proofOk: true });
    expect(r.sleeps).toEqual([]);
  });

  test('pending: polls with a fresh proof each time, shows the pairing code and QR once, then approved', async () => {
    fake = await fakeServer([{ status: 202, body: pending() }, { status: 200, body: pending() }, { status: 200, body: pending() }, { status: 200, body: approved }]);
    const r = run(fake, { random: () => 0 });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    expect(fake.calls).toHaveLength(4);
    expect(fake.calls.every((c) => c.valid && c.proofOk)).toBe(true);
    expect(r.shown).toEqual([{ hostId: 'host-1', pairingCode: 'ABC234', qrText: 'edgefleet:pair?host=host-1&code=ABC234&project=acme' }]);
    expect(r.sleeps).toEqual([30_000, 30_000, 30_000]);
  });

  test('network errors, 503 and 429 are retried with growing full-jitter delays; a Retry-After is waited instead', async () => {
    fake = await fakeServer(['drop', 'drop', { status: 503, body: { code: 'unavailable' } }, { status: 429, body: { code: 'throttled' }, headers: { 'retry-after': '20' } }, { status: 500 }, { status: 200, body: approved }]);
    const r = run(fake, { random: () => 0.5 });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    // The first dropped connection is retried at once (below); then base 1 s, full jitter at 0.5:
    // 500, 1000, then the Retry-After plus its jitter (20 000 + 0.5 × 1000) without a doubling, 2000.
    expect(r.sleeps).toEqual([500, 1000, 20_500, 2000]);
    expect(fake.calls).toHaveLength(6);
    expect(r.logs.some((l) => l.includes('cannot reach'))).toBe(true);
  });

  test('a connection closed under the request is retried at once, once; another in a row backs off, and an answer in between starts over', async () => {
    fake = await fakeServer(['drop', { status: 200, body: approved }]);
    let r = run(fake, { random: () => 0.5 });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    expect(r.sleeps).toEqual([]);
    expect(fake.calls).toHaveLength(2);
    expect(r.logs.filter((l) => l.includes('retrying at once on a new connection (the request is idempotent)'))).toHaveLength(1);
    await new Promise((done) => fake!.server.close(done));

    fake = await fakeServer(['drop', 'drop', 'drop', { status: 503 }, 'drop', { status: 200, body: approved }]);
    r = run(fake, { random: () => 0.5 });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    // at once, 500, at once (the 500 ms wait broke the run), 1000 after the 503, at once.
    expect(r.sleeps).toEqual([500, 1000]);
    expect(fake.calls).toHaveLength(6);
  });

  test.each([[0, 2000], [0.25, 2250], [0.999, 2999]])('a 429 with Retry-After: 2 is spread over [2 s, 3 s): random %d → %d ms', async (rnd, ms) => {
    fake = await fakeServer([{ status: 429, body: { code: 'throttled' }, headers: { 'retry-after': '2' } }, { status: 200, body: approved }]);
    const r = run(fake, { random: () => rnd });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    expect(r.sleeps).toEqual([ms]);
  });

  test('a Retry-After is taken in place of a long doubled backoff, not as a floor under it', async () => {
    // Eight 503s without one raise the ceiling to 256 s; the server then says "2 s".
    fake = await fakeServer([...Array.from({ length: 8 }, () => ({ status: 503 })), { status: 429, body: { code: 'throttled' }, headers: { 'retry-after': '2' } }, { status: 200, body: approved }]);
    const r = run(fake, { random: () => 0.5 });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    expect(r.sleeps).toEqual([500, 1000, 2000, 4000, 8000, 16_000, 32_000, 64_000, 2500]);
  });

  test.each([
    ['0', 1500], ['86400', 300_500], ['a date a day ahead', 300_500],
  ])('a Retry-After of %p is kept within [1 s, the 5 min cap] before its jitter: %d ms at random 0.5', async (header, ms) => {
    const value = header === 'a date a day ahead' ? new Date(Date.now() + 86_400_000).toUTCString() : header;
    fake = await fakeServer([{ status: 503, headers: { 'retry-after': value } }, { status: 200, body: approved }]);
    const r = run(fake, { random: () => 0.5 });
    await expect(r.promise).resolves.toMatchObject({ status: 'approved' });
    expect(r.sleeps).toEqual([ms]);
  });

  test('a clock-skew refusal (proof-expired) is retried, not fatal', async () => {
    fake = await fakeServer([{ status: 401, body: { code: 'proof-expired', detail: 'check the device clock' } }, { status: 200, body: approved }]);
    await expect(run(fake).promise).resolves.toMatchObject({ status: 'approved' });
  });

  test.each([
    ['token-expired', 403, /token has expired/],
    ['host-rejected', 409, /operator rejected this host/],
    ['invalid-token', 401, /Check "apiUrl" and "registrationToken"/],
    ['something-new', 400, /Registration was refused/],
  ])('terminal refusal %s stops with a message for the technician', async (code, status, hint) => {
    fake = await fakeServer([{ status, body: { type: 'about:blank', title: 'refused', status, code, detail: 'because' } }]);
    const err = await run(fake).promise.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistrationRefused);
    expect((err as RegistrationRefused).code).toBe(code);
    expect((err as Error).message).toMatch(hint);
    expect((err as Error).message).toContain('because');
    expect(fake.calls).toHaveLength(1);
  });

  test('an answer that breaks the contract is retried', async () => {
    fake = await fakeServer([{ status: 200, body: { status: 'approved' } }, { status: 200, body: approved }]);
    await expect(run(fake).promise).resolves.toMatchObject({ status: 'approved' });
    expect(fake.calls).toHaveLength(2);
  });

  test('aborting stops the loop and resolves undefined', async () => {
    fake = await fakeServer([{ status: 200, body: pending() }]);
    const c = new AbortController();
    const p = register(
      { apiUrl: fake.url, token: 'tok', uid: 'host-1', keyPem: KEY, csrPem: CSR, inventory },
      { signal: c.signal, showPairing: () => c.abort() },
    );
    await expect(p).resolves.toBeUndefined();
  });
});

test('printPairing writes the code and a QR code to the console', () => {
  const out: string[] = [];
  printPairing({ hostId: 'host-1', pairingCode: 'XY23ZK', qrText: 'edgefleet:pair?host=host-1&code=XY23ZK' }, (s) => out.push(s));
  const text = out.join('');
  expect(text).toContain('Pairing code: XY23ZK');
  expect(text).toMatch(/[▀▄█]/);
});
