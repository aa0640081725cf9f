/**
 * The shipped agent as one executable, end to end against the real local runtime:
 * `npm run device:build`'s executable for this machine (built once here, into a temp dir) →
 * served and signed by the runtime under /v1/agent/ → the user-data's installer (sh, curl,
 * openssl, sha256sum) downloads and verifies it → the installed executable starts with no
 * Node.js on its PATH, registers and comes online over MQTT/mTLS.
 * A man in the middle that changes the manifest or the executable is refused with the reason,
 * and nothing is installed.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { buildAgent } from '../../device/build.js';
import type { AgentArch } from '../../device/build-executable.js';
import { INSTALL_SCRIPT_PATH } from '../../lambdas/domain/agent-install.js';
import { AGENT_SIGNING_KEY_FILE as AGENT_SIGNING_KEY_PATH } from '../../lambdas/contracts/agent-layout.js';
import { AGENT_CONFIG_PATH } from '../../lambdas/domain/user-data.js';
import type { AgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { eventually, startHarness, type Harness } from './harness.js';

const ARCH = process.arch as AgentArch;
const EXE = `edgefleet-agent-linux-${ARCH}`;
let h: Harness;
let dir: string;
let artifacts: string;
let manifest: AgentManifest;
let buildSeconds = 0;
const children: ChildProcess[] = [];
const servers: http.Server[] = [];

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-exe-it-'));
  artifacts = path.join(dir, 'artifacts');
  const started = Date.now();
  ({ manifest } = await buildAgent({ arches: [ARCH], outDir: artifacts }));
  buildSeconds = (Date.now() - started) / 1000;
  h = await startHarness({ agentArtifactsDir: artifacts });
}, 180_000);
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  for (const s of servers) { s.closeAllConnections(); s.close(); }
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Renders the user-data and does what Kairos does with its files (under `root`, not /). */
async function userData(root: string, body: Record<string, unknown> = {}) {
  const t = await h.call('POST', '/v1/registration-tokens', { body: { name: `exe-${path.basename(root)}`, autoApprove: true } });
  expect(t.status).toBe(201);
  const ud = await h.call('POST', '/v1/user-data', { body: { token: t.body.token, site: 'exe-site', ...body } });
  expect(ud.status).toBe(200);
  const doc = parse(ud.text);
  const files = new Map<string, string>();
  for (const steps of Object.values(doc.stages as Record<string, Array<{ files?: Array<{ path: string; content: string }> }>>)) {
    for (const s of steps) for (const f of s.files ?? []) files.set(f.path, f.content);
  }
  mkdirSync(root, { recursive: true });
  const at = (p: string) => path.join(root, p.replace(/\//g, '_'));
  for (const [p, content] of files) writeFileSync(at(p), content);
  return { doc, text: ud.text, file: at, has: (p: string) => files.has(p) };
}

/** Runs the installer the user-data wrote, as the network stage would, into `root` (async: the runtime serves in this process). */
async function install(root: string, env: Record<string, string> = {}) {
  const child = spawn('sh', [path.join(root, INSTALL_SCRIPT_PATH.replace(/\//g, '_'))], {
    env: {
      PATH: '/usr/local/bin:/usr/bin:/bin', EDGEFLEET_SIGNING_KEY: path.join(root, AGENT_SIGNING_KEY_PATH.replace(/\//g, '_')),
      EDGEFLEET_INSTALL_DIR: path.join(root, 'agent'), EDGEFLEET_UNIT_DIR: path.join(root, 'units'), EDGEFLEET_NO_SYSTEMD: '1', ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (c: Buffer) => { stdout += c.toString(); });
  child.stderr!.on('data', (c: Buffer) => { stderr += c.toString(); });
  const status = await new Promise<number | null>((r) => child.once('close', (c) => r(c)));
  return { status, stdout, stderr, installed: existsSync(path.join(root, 'agent', 'edgefleet-agent')) };
}

/** A valid signature of the served manifest by a key that is not the control plane's. */
const otherKeySignature = () => sign('sha256', readFileSync(path.join(artifacts, 'manifest.json')), generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey);

/** A man in the middle in front of the runtime that changes one response. */
async function mitm(change: (p: string, body: Buffer) => Buffer): Promise<string> {
  const server = http.createServer(async (req, res) => {
    const upstream = await fetch(`${h.rt.url}${req.url}`);
    const body = change(req.url ?? '', Buffer.from(await upstream.arrayBuffer()));
    res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/octet-stream', 'content-length': String(body.length) });
    res.end(body);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the agent executable', () => {
  test('is built for this machine with a manifest entry (SHA-256, size) that matches the file', () => {
    const a = manifest.artifacts.find((x) => x.file === EXE)!;
    const bytes = readFileSync(path.join(artifacts, EXE));
    expect(a).toMatchObject({ arch: ARCH, size: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex') });
    expect(manifest.artifacts.map((x) => x.file)).toContain('edgefleet-agent.service');
    process.stdout.write(`agent executable built in ${buildSeconds.toFixed(1)} s (${(a.size / 1048576).toFixed(1)} MiB)\n`);
  });

  test('the user-data installs it (signature and checksum verified); it starts with no Node.js on its PATH, registers and comes online', async () => {
    const root = path.join(dir, 'host-1');
    const ud = await userData(root);
    const r = await install(root);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(`installed agent ${manifest.version} (${ARCH})`);
    expect(readFileSync(path.join(root, 'units', 'edgefleet-agent.service'), 'utf8')).toContain('ExecStart=/usr/local/edgefleet/agent/edgefleet-agent');

    const emptyPath = path.join(root, 'empty-path');
    mkdirSync(emptyPath);
    expect(spawnSync('sh', ['-c', 'command -v node'], { env: { PATH: emptyPath } }).status).not.toBe(0);
    const child = spawn(path.join(root, 'agent', 'edgefleet-agent'), [], {
      env: { PATH: emptyPath, EDGEFLEET_AGENT_CONFIG: ud.file(AGENT_CONFIG_PATH), EDGEFLEET_STATE_DIR: path.join(root, 'state'), EDGEFLEET_UID: 'EXE-HOST-1', EDGEFLEET_NATIVE_DIR: path.join(root, 'native') },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    children.push(child);
    let log = '';
    child.stdout!.on('data', (c: Buffer) => { log += c.toString(); });
    child.stderr!.on('data', (c: Buffer) => { log += c.toString(); });
    const host = await eventually('the executable\'s host online', async () => {
      if (child.exitCode !== null) throw new Error(`the agent exited ${child.exitCode}:\n${log}`);
      const got = await h.call('GET', '/v1/hosts/exe-host-1');
      return got.status === 200 && got.body.presence === 'online' ? got.body : undefined;
    }, 90_000, 250);
    expect(host).toMatchObject({ status: 'approved', site: 'exe-site' });
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
    expect(code).toBe(0);
  }, 150_000);

  test.each([
    ['a changed checksum in the manifest', (p: string, b: Buffer) => (p === '/v1/agent/manifest' ? Buffer.from(b.toString().replace(/"sha256":"[0-9a-f]{64}"/, `"sha256":"${'0'.repeat(64)}"`)) : b),
      /agent manifest from .* is not signed by this control plane's key \(.*\): refusing to install anything/],
    ['a changed executable', (p: string, b: Buffer) => { if (p === `/v1/agent/artifacts/${EXE}`) b[b.length >> 1] ^= 0xff; return b; },
      new RegExp(`${EXE} from .* does not match the SHA-256 in the signed manifest \\(expected [0-9a-f]{64}, got [0-9a-f]{64}\\): refusing to install it`)],
    ['the manifest signed by another key (another control plane)', (p: string, b: Buffer) => (p === '/v1/agent/manifest.sig' ? otherKeySignature() : b),
      /not signed by this control plane's key/],
    ['a cut signature', (p: string, b: Buffer) => (p === '/v1/agent/manifest.sig' ? Buffer.from(b.subarray(0, b.length - 1)) : b),
      /not signed by this control plane's key/],
  ])('a man in the middle sending %s is refused with the reason and nothing is installed', async (label, change, reason) => {
    const root = path.join(dir, `mitm-${label.replace(/\W+/g, '-')}`);
    await userData(root);
    const r = await install(root, { EDGEFLEET_API_URL: await mitm(change) });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(reason);
    expect(r.installed).toBe(false);
    expect(existsSync(path.join(root, 'units', 'edgefleet-agent.service'))).toBe(false);
  }, 120_000);

  test('agentInstall: baked renders no download, no key and no installer', async () => {
    const ud = await userData(path.join(dir, 'baked'), { agentInstall: 'baked' });
    expect(ud.text).not.toContain('/v1/agent/');
    expect(ud.has(INSTALL_SCRIPT_PATH)).toBe(false);
    expect(ud.has(AGENT_SIGNING_KEY_PATH)).toBe(false);
  });
});

describe('bad input on the agent routes and the new user-data fields', () => {
  test.each([
    ['GET', '/v1/agent/nothing', 404, 'not-found'],
    ['GET', '/v1/agent/artifacts/..%2F..%2Fetc%2Fpasswd', 404, 'not-found'],
    ['GET', '/v1/agent/artifacts/manifest.json', 404, 'not-found'],
    ['GET', '/v1/agent/artifacts/.native', 404, 'not-found'],
    ['GET', '/v1/agent/artifacts/', 404, 'not-found'],
    ['POST', '/v1/agent/manifest', 405, 'method-not-allowed'],
    ['DELETE', `/v1/agent/artifacts/${EXE}`, 405, 'method-not-allowed'],
  ])('%s %s → %i %s', async (method, p, status, code) => {
    const r = await fetch(`${h.rt.url}${p}`, { method });
    expect(r.status).toBe(status);
    expect(r.headers.get('content-type')).toBe('application/problem+json');
    expect(((await r.json()) as { code: string }).code).toBe(code);
  });

  test('the public key, manifest and signature are served without a credential; HEAD of the executable gives its size', async () => {
    const key = await fetch(`${h.rt.url}/v1/agent/public-key.pem`);
    expect(await key.text()).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const head = await fetch(`${h.rt.url}/v1/agent/artifacts/${EXE}`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(Number(head.headers.get('content-length'))).toBe(manifest.artifacts.find((a) => a.file === EXE)!.size);
  });

  test.each([
    ['an unknown install mode', { agentInstall: 'curl' }, 'agentInstall'],
    ['a CA bundle that is no PEM certificate', { caBundle: 'trust me' }, 'caBundle'],
    ['a CA bundle with YAML after the certificate', { caBundle: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\nruncmd: [reboot]' }, 'caBundle'],
  ])('POST /v1/user-data with %s → 400 naming the field', async (_label, extra, field) => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'bad-ud' } });
    const r = await h.call('POST', '/v1/user-data', { body: { token: t.body.token, site: 's', ...extra } });
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body)).toContain(field);
  });
});
