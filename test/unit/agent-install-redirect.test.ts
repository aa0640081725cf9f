import { spawn } from 'node:child_process';
import { generateKeyPairSync, sign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { installScript } from '../../lambdas/domain/agent-install.js';
import { makeHandler } from '../../lambdas/handlers/http/agent.js';
import type { AgentArtifactStore, AgentSigningKey } from '../../lambdas/ports/agent-artifacts.js';
import { fakeAgentBuild } from '../infra/agent-build.js';

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
  writeFileSync(script, installScript({ apiUrl }));
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
