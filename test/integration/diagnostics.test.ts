/**
 * Diagnostics bundles end to end on the local runtime: the CLI asks a simulated host (the real
 * agent) for a bundle, the agent collects the allow-listed items from what was written to the
 * host, redacts, packs and uploads to the runtime's presigned-upload endpoint, the record
 * follows the command to `uploaded`, and the CLI downloads, verifies the sha256 and prints the
 * manifest. Secrets planted in the host's journal never reach the bundle. A viewer is refused
 * and audited; a tampered, expired or oversized upload is refused like S3 refuses it.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/program.js';
import { readTarGz } from '../../cli/bundle-reader.js';
import { bundleManifest } from '../../lambdas/contracts/diagnostics.js';
import { LocalBundleStore } from '../../local/local-bundle-store.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;
const HOST = 'dg-1';
const JOIN_TOKEN = `K10${'c3'.repeat(32)}::server:planted0join0secret0value00001`;
const BEARER = 'plantedBearerValue0123456789';
const PASSWORD = 'planted-registry-password';

beforeAll(async () => {
  h = await startHarness({ commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-diag-it-'));
  ({ fleet } = await startFleet(h, { count: 1, prefix: 'dg', stateDir: dir, kairos: { rebootDelayMs: 50, k8sReadyDelayMs: 50 } }));
  // What a misbehaving service might print on a real host: written to the simulated host's journal.
  const kairos = fleet.host(HOST)!.kairos;
  kairos.writeJournal('kairos-agent', `joining with --token=${JOIN_TOKEN}`);
  kairos.writeJournal('kairos-agent', `registry auth: password: ${PASSWORD}`);
  kairos.writeJournal('edgefleet-agent', `GET /v1/device/register Authorization: Bearer ${BEARER}`);
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const cli = async (args: string[], token = h.rt.adminToken) => {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { env: { EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: token }, stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: dir });
  return { code, stdout: out.join(''), stderr: err.join('') };
};

describe('diagnostics bundle from a simulated host', () => {
  it('the CLI starts it, waits, downloads and verifies it; the bundle has its manifest and no planted secret', async () => {
    const r = await cli(['hosts', 'diagnose', HOST, '--since', '1h', '--out', 'bundle.tgz', '--interval', '1', '--reason', 'POS freezes']);
    expect(r).toMatchObject({ code: 0 });
    expect(r.stdout).toMatch(/Diagnostics \S+ of host dg-1: \d+ items/);
    expect(r.stdout).toMatch(/journal\/kairos-agent\.log .*ok .*redacted/);
    expect(r.stdout).toMatch(/sha256 [a-f0-9]{64} verified/);

    const tgz = readFileSync(path.join(dir, 'bundle.tgz'));
    const files = readTarGz(tgz);
    const manifest = bundleManifest.parse(JSON.parse(files.get('manifest.json')!.toString()));
    expect(manifest.hostId).toBe(HOST);
    expect(manifest.items.map((i) => i.file)).toEqual(expect.arrayContaining([
      'journal/edgefleet-agent.log', 'journal/kairos-agent.log', 'kairos/state.txt', 'kairos/kairos-release', 'system/df.txt', 'system/mounts',
      'network/ip-addr.txt', 'network/ip-route.txt', 'network/resolv.conf', 'network/reach-registry.txt',
    ]));
    for (const i of manifest.items) expect(files.get(i.file)?.length).toBe(i.bytes);
    // Answered from what the simulated host is: its running image and its interfaces.
    const state = await fleet.host(HOST)!.kairos.state();
    expect(files.get('kairos/kairos-release')!.toString()).toContain(state.image!);
    expect(files.get('network/ip-addr.txt')!.toString()).toContain(Object.values(fleet.host(HOST)!.kairos.networkInterfaces())[0]![0]!.address);
    // Not a node yet: no Kubernetes journal, no kubectl; node.json was never written, recorded as failed.
    expect(manifest.items.find((i) => i.file === 'edgefleet/node.json')).toMatchObject({ exitCode: 1, error: expect.stringContaining('ENOENT') });

    const all = [...files.values()].map((b) => b.toString('utf8')).join('\n');
    expect(all).toContain('[REDACTED]');
    for (const secret of [JOIN_TOKEN, 'planted0join0secret0value00001', BEARER, PASSWORD]) expect(all.includes(secret)).toBe(false);
    expect(tgz.includes(Buffer.from(PASSWORD))).toBe(false);

    // The record is uploaded with what the host reported; requesting and downloading are audited.
    const id = /Diagnostics (\S+) of host/.exec(r.stdout)![1]!;
    const got = await h.call('GET', `/v1/hosts/${HOST}/diagnostics/${id}`);
    expect(got.body).toMatchObject({ status: 'uploaded', reason: 'POS freezes', bundle: { bytes: tgz.length }, download: { url: expect.stringContaining('/_local/s3/') } });
    expect(got.body).not.toHaveProperty('objectKey');
    const listed = await h.call('GET', `/v1/hosts/${HOST}/diagnostics`);
    expect(listed).toMatchObject({ status: 200, body: { more: false, items: [{ id, status: 'uploaded', bundle: { bytes: tgz.length } }] } });
    expect(listed.body.items[0]).not.toHaveProperty('download');
    const audit = await h.call('GET', `/v1/audit-events?resource=${encodeURIComponent(`host/${HOST}/diagnostics/${id}`)}`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual(expect.arrayContaining(['host.diagnostics.request', 'host.diagnostics.download']));
  }, 90_000);

  it('a viewer is refused (403, audited), in the API and the CLI', async () => {
    const viewer = await h.token('diag-viewer', ['default:viewer']);
    const r = await h.call('POST', `/v1/hosts/${HOST}/diagnostics`, { token: viewer, body: { since: '1h' } });
    expect(r.status).toBe(403);
    expect(r.body).toMatchObject({ code: 'forbidden', detail: expect.stringContaining('hosts:diagnose') });
    const audit = await h.call('GET', '/v1/audit-events?actor=diag-viewer');
    expect(audit.body.items).toEqual(expect.arrayContaining([expect.objectContaining({ outcome: 'denied', actor: 'diag-viewer' })]));
    const cliRun = await cli(['hosts', 'diagnose', HOST], viewer);
    expect(cliRun.code).not.toBe(0);
    expect(cliRun.stderr).toMatch(/operator or admin role/);
  });

  it('bad input gets a specific 4xx and changes nothing', async () => {
    const cases: [string, unknown, number, RegExp][] = [
      [`/v1/hosts/${HOST}/diagnostics`, { since: '8d' }, 400, /since: at most 7 days/],
      [`/v1/hosts/${HOST}/diagnostics`, { since: 'yesterday' }, 400, /since: a window such as/],
      [`/v1/hosts/${HOST}/diagnostics`, {}, 400, /since/],
      [`/v1/hosts/${HOST}/diagnostics`, { since: '1h', extra: 1 }, 400, /unknown field\(s\): extra/],
      [`/v1/hosts/${HOST}/diagnostics`, { since: '1h', reason: 'x'.repeat(201) }, 400, /reason/],
      ['/v1/hosts/nope/diagnostics', { since: '1h' }, 404, /host nope does not exist/],
    ];
    for (const [p, body, status, detail] of cases) {
      const r = await h.call('POST', p, { body });
      expect({ p, body, status: r.status }).toEqual({ p, body, status });
      expect(r.body.detail).toMatch(detail);
    }
    expect((await h.call('POST', `/v1/hosts/${HOST}/diagnostics`, { raw: '{', headers: { 'content-type': 'application/json' } })).status).toBe(400);
    expect((await h.call('GET', `/v1/hosts/${HOST}/diagnostics/nope`)).status).toBe(404);
  });
});

describe('the local presigned-upload endpoint behaves as S3 does', () => {
  const KEY = `diagnostics/default/${HOST}/manual0001.tar.gz`;
  const post = async (url: string, fields: Record<string, string>, bytes: number) => {
    const form = new FormData();
    for (const [k, v] of Object.entries(fields)) form.append(k, v);
    form.append('file', new Blob([new Uint8Array(bytes)]), 'b.tgz');
    const res = await fetch(url, { method: 'POST', body: form });
    return { status: res.status, text: await res.text() };
  };

  it('accepts a signed upload within the bounds; refuses tampered, expired and oversized ones (nothing written)', async () => {
    const store = new LocalBundleStore(h.rt.dataDir, () => h.rt.url);
    const ok = await store.presignUpload(KEY, { maxBytes: 1024, expiresAt: new Date(Date.now() + 60_000) });
    expect(await post(ok.url, ok.fields, 100)).toEqual({ status: 204, text: '' });

    const other = `diagnostics/default/${HOST}/manual0002.tar.gz`;
    const good = await store.presignUpload(other, { maxBytes: 1024, expiresAt: new Date(Date.now() + 60_000) });
    const tamperedKey = await post(good.url, { ...good.fields, key: `diagnostics/default/${HOST}/elsewhere.tar.gz` }, 10);
    expect(tamperedKey.status).toBe(403);
    const forged = JSON.parse(Buffer.from(good.fields.Policy!, 'base64').toString());
    forged.conditions[1] = ['content-length-range', 1, 10 ** 9];
    const tamperedPolicy = await post(good.url, { ...good.fields, Policy: Buffer.from(JSON.stringify(forged)).toString('base64') }, 10);
    expect(tamperedPolicy).toMatchObject({ status: 403, text: expect.stringContaining('SignatureDoesNotMatch') });
    expect(await post(good.url, good.fields, 2048)).toMatchObject({ status: 400, text: expect.stringContaining('EntityTooLarge') });
    const expired = await store.presignUpload(other, { maxBytes: 1024, expiresAt: new Date(Date.now() - 1000) });
    expect(await post(expired.url, expired.fields, 10)).toMatchObject({ status: 403, text: expect.stringContaining('Policy expired') });

    // Downloads: the signed one works; tampered and expired ones are refused; nothing else was written.
    const dl = await store.presignDownload(KEY, { expiresInSeconds: 60 });
    const got = await fetch(dl.url);
    expect(got.status).toBe(200);
    expect((await got.arrayBuffer()).byteLength).toBe(100);
    // A different first character (replacing it with a fixed one left the URL unchanged whenever the
    // signature began with it: 1 run in 16 failed).
    const tampered = dl.url.replace(/X-Amz-Signature=(.)/, (_m, c: string) => `X-Amz-Signature=${c === '0' ? '1' : '0'}`);
    expect(tampered).not.toBe(dl.url);
    expect((await fetch(tampered)).status).toBe(403);
    const old = await store.presignDownload(KEY, { expiresInSeconds: -1 });
    const refused = await fetch(old.url);
    expect({ status: refused.status, text: await refused.text() }).toMatchObject({ status: 403, text: expect.stringContaining('Request has expired') });
    const missing = await fetch((await store.presignDownload(other, { expiresInSeconds: 60 })).url);
    expect(missing.status).toBe(404);
  });
});
