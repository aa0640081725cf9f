import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { installScript } from '../../lambdas/domain/agent-install.js';
import { installedAgentGuard } from '../../lambdas/use-cases/render-user-data.js';
import { makeHandler } from '../../lambdas/handlers/http/agent.js';
import type { AgentArtifactStore, AgentSigningKey } from '../../lambdas/ports/agent-artifacts.js';
import { fakeAgentBuild } from '../infra/agent-build.js';
import { AGENT_LAYOUT } from '../../lambdas/contracts/agent-layout.js';

/**
 * The AWS shape of a download, end to end on this machine: the agent Lambda handler (behind a
 * tiny API Gateway stand-in) answers artifacts with a 302 to a second server standing in for S3's
 * presigned GET, and the real installer (sh, curl -L, openssl, sha256sum) follows it, verifies the
 * signature and the checksums, and installs — or refuses a changed file behind the redirect.
 */
const build = fakeAgentBuild();
const root = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-redirect-install-'));
const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
const signing: AgentSigningKey = { publicKeyPem: async () => pem, sign: async (m) => sign('sha256', m, privateKey) };
let tamper = false;
const s3 = http.createServer((req, res) => {
  const file = path.basename(new URL(req.url ?? '/', 'http://s3').pathname);
  let data: Buffer;
  try { data = readFileSync(path.join(build.dir, file)); } catch { res.writeHead(404).end(); return; }
  if (tamper && file.startsWith('edgefleet-agent-linux-')) data = Buffer.concat([data, Buffer.from('!')]);
  res.writeHead(200, { 'content-length': String(data.length) }).end(data);
});
const store = (): AgentArtifactStore => ({
  where: `s3://bucket/agent/`,
  manifest: async () => readFileSync(path.join(build.dir, 'manifest.json')),
  artifact: async (file) => ({ kind: 'redirect', url: `http://127.0.0.1:${(s3.address() as AddressInfo).port}/agent/${file}?X-Amz-Expires=300&X-Amz-Signature=${'0'.repeat(64)}` }),
});
const lambda = makeHandler(() => ({ signing, store: store() }));
const api = http.createServer((req, res) => {
  const p = new URL(req.url ?? '/', 'http://api').pathname;
  const event = { version: '2.0', routeKey: `GET ${p}`, rawPath: p, rawQueryString: '', headers: {}, isBase64Encoded: false, requestContext: { requestId: 'r', http: { method: 'GET', path: p } } } as unknown as APIGatewayProxyEventV2;
  void (lambda(event) as Promise<APIGatewayProxyStructuredResultV2>).then((r) => {
    res.writeHead(r.statusCode ?? 500, (r.headers ?? {}) as http.OutgoingHttpHeaders).end(r.body ? Buffer.from(r.body, r.isBase64Encoded ? 'base64' : 'utf8') : undefined);
  });
});
const listen = (s: http.Server) => new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
beforeAll(async () => { await listen(s3); await listen(api); });
afterAll(async () => {
  await new Promise((r) => api.close(r)); await new Promise((r) => s3.close(r));
  rmSync(root, { recursive: true, force: true }); rmSync(build.dir, { recursive: true, force: true });
});

function install(dir: string): Promise<{ code: number | null; stderr: string; stdout: string }> {
  const apiUrl = `http://127.0.0.1:${(api.address() as AddressInfo).port}`;
  const script = path.join(dir, 'install-agent.sh');
  writeFileSync(script, installScript({ apiUrl, guard: installedAgentGuard(), layout: AGENT_LAYOUT }));
  writeFileSync(path.join(dir, 'signing.pub'), pem);
  return new Promise((resolve) => {
    const child = spawn('sh', [script], { env: {
      PATH: '/usr/local/bin:/usr/bin:/bin', EDGEFLEET_SIGNING_KEY: path.join(dir, 'signing.pub'),
      EDGEFLEET_INSTALL_DIR: path.join(dir, 'agent'), EDGEFLEET_UNIT_DIR: path.join(dir, 'units'), EDGEFLEET_NO_SYSTEMD: '1',
    } });
    let stdout = ''; let stderr = '';
    child.stdout.on('data', (d) => { stdout += String(d); });
    child.stderr.on('data', (d) => { stderr += String(d); });
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
const arch = process.arch === 'arm64' ? 'arm64' : 'x64';

test('the installer follows the 302 to the presigned URL, verifies signature and checksums, and installs', async () => {
  const dir = mkdtempSync(path.join(root, 'ok-'));
  const r = await install(dir);
  expect(r).toMatchObject({ code: 0, stdout: expect.stringMatching(/installed agent 1\.4\.0 .*signature and checksums verified/) });
  expect(readFileSync(path.join(dir, 'agent', 'edgefleet-agent'))).toEqual(readFileSync(path.join(build.dir, `edgefleet-agent-linux-${arch}`)));
}, 30_000);

describe('the layout the installer leaves (what agent updates use)', () => {
  const agent = (dir: string, ...p: string[]) => path.join(dir, 'agent', ...p);
  const units = installedAgentGuard().units;

  test('versions/<v>/ with the signed manifest, current, the executable as a link, the guard and its systemd pieces', async () => {
    const dir = mkdtempSync(path.join(root, 'layout-'));
    expect((await install(dir)).code).toBe(0);
    expect(readFileSync(agent(dir, 'versions', '1.4.0', 'edgefleet-agent'))).toEqual(readFileSync(path.join(build.dir, `edgefleet-agent-linux-${arch}`)));
    expect(statSync(agent(dir, 'versions', '1.4.0', 'edgefleet-agent')).mode & 0o777).toBe(0o755);
    expect(readFileSync(agent(dir, 'versions', '1.4.0', 'manifest.json'))).toEqual(readFileSync(path.join(build.dir, 'manifest.json')));
    expect(existsSync(agent(dir, 'versions', '1.4.0', 'manifest.json.sig'))).toBe(true);
    expect(readlinkSync(agent(dir, 'current'))).toBe('versions/1.4.0');
    expect(readlinkSync(agent(dir, 'edgefleet-agent'))).toBe('current/edgefleet-agent');
    expect(existsSync(agent(dir, 'previous'))).toBe(false);
    expect(readFileSync(agent(dir, 'guard.sh'), 'utf8')).toBe(installedAgentGuard().script);
    expect(statSync(agent(dir, 'guard.sh')).mode & 0o777).toBe(0o755);
    for (const [name, content] of Object.entries(units)) {
      // Kept on the persistent partition (restored by the boot stage) and next to the unit.
      expect(readFileSync(agent(dir, 'systemd', name), 'utf8')).toBe(content);
      expect(readFileSync(path.join(dir, 'units', name), 'utf8')).toBe(content);
    }
    expect(Object.keys(units).sort()).toEqual(['edgefleet-agent-guard.service', 'edgefleet-agent-guard.timer',
      'edgefleet-agent.service.d/10-update-guard.conf', 'edgefleet-agent.service.d/20-edgefleet-agent-dir.conf']);
  }, 30_000);

  test('over an old flat install: the plain executable becomes the link, a stale pending update is dropped', async () => {
    const dir = mkdtempSync(path.join(root, 'flat-'));
    mkdirSync(agent(dir), { recursive: true });
    writeFileSync(agent(dir, 'edgefleet-agent'), '#!/bin/sh\n# an agent installed by an older installer\n', { mode: 0o755 });
    writeFileSync(agent(dir, 'pending-update.env'), 'COMMAND_ID=c1\nVERSION=0.9.0\nPREVIOUS=0.8.0\nCOMMIT_BY=1\n');
    expect((await install(dir)).code).toBe(0);
    expect(lstatSync(agent(dir, 'edgefleet-agent')).isSymbolicLink()).toBe(true);
    expect(readFileSync(agent(dir, 'edgefleet-agent'))).toEqual(readFileSync(path.join(build.dir, `edgefleet-agent-linux-${arch}`)));
    expect(existsSync(agent(dir, 'pending-update.env'))).toBe(false);
  }, 30_000);

  test('the guard the installer wrote falls back once an update misses its deadline (a reboot before the first commit)', async () => {
    const dir = mkdtempSync(path.join(root, 'guard-'));
    expect((await install(dir)).code).toBe(0);
    // What an update does next (device/agent-installation.ts): 2.0.0 next to 1.4.0, pending until epoch 1000.
    mkdirSync(agent(dir, 'versions', '2.0.0'));
    writeFileSync(agent(dir, 'versions', '2.0.0', 'edgefleet-agent'), '#!/bin/sh\nexit 1\n', { mode: 0o755 });
    symlinkSync('versions/1.4.0', agent(dir, 'previous'));
    rmSync(agent(dir, 'current'));
    symlinkSync('versions/2.0.0', agent(dir, 'current'));
    writeFileSync(agent(dir, 'pending-update.env'), 'COMMAND_ID=c1\nVERSION=2.0.0\nPREVIOUS=1.4.0\nCOMMIT_BY=1000\n');
    const guard = (now: number) => execFileSync('sh', [agent(dir, 'guard.sh')], { env: { PATH: process.env.PATH, EDGEFLEET_AGENT_DIR: agent(dir), EDGEFLEET_NOW: String(now) }, stdio: 'pipe' });
    guard(999);
    expect(readlinkSync(agent(dir, 'current'))).toBe('versions/2.0.0');
    guard(1001);
    expect(readlinkSync(agent(dir, 'current'))).toBe('versions/1.4.0');
    expect(readFileSync(agent(dir, 'fell-back.env'), 'utf8')).toMatch(/REASON=agent 2\.0\.0 did not come online and commit by its deadline/);
  }, 30_000);
});

test('a file changed behind the redirect is refused with the reason and nothing is installed', async () => {
  tamper = true;
  try {
    const dir = mkdtempSync(path.join(root, 'bad-'));
    const r = await install(dir);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(new RegExp(`edgefleet-agent-linux-${arch} from .* does not match the SHA-256 in the signed manifest`));
    expect(() => readFileSync(path.join(dir, 'agent', 'edgefleet-agent'))).toThrow();
  } finally {
    tamper = false;
  }
}, 30_000);
