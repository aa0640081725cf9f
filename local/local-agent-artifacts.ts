import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { agentArtifactFile, agentManifest, type AgentManifest } from '../lambdas/contracts/agent-artifacts.js';
import type { AgentManifestReader, AgentSigningKey } from '../lambdas/ports/agent-artifacts.js';

/**
 * The agent's artifacts on one machine (what S3 + a KMS key will do on AWS), served on the API's
 * port, device-facing and without a JWT, like POST /v1/device/register:
 *   GET /v1/agent/manifest          the manifest's exact bytes (dist/device/manifest.json)
 *   GET /v1/agent/manifest.sig      ECDSA P-256 / SHA-256 signature over them, DER
 *   GET /v1/agent/public-key.pem    the signing key's public half (also carried in the user-data)
 *   GET /v1/agent/artifacts/{file}  a file the manifest lists, nothing else
 * No credential is asked for: the files hold no secret, a host fetches them before it has
 * registered (and a baked or re-installed host may hold no usable registration token), and
 * their integrity does not rest on the transport — the host checks the signature with the key
 * from its install configuration, then each file's SHA-256, before anything runs.
 * The signing key lives in `<dataDir>/agent-signing-key.pem` (PKCS#8, 0600), made on first start.
 */
export const AGENT_PATH = '/v1/agent/';

function problem(res: http.ServerResponse, status: number, code: string, detail: string, extra: Record<string, string> = {}): true {
  res.writeHead(status, { 'content-type': 'application/problem+json', ...extra });
  res.end(JSON.stringify({ type: 'about:blank', title: httpTitle(status), status, code, detail }));
  return true;
}
const httpTitle = (s: number) => ({ 404: 'Not Found', 405: 'Method Not Allowed', 500: 'Internal Server Error', 503: 'Service Unavailable' } as Record<number, string>)[s] ?? 'Error';

export class LocalAgentArtifacts implements AgentSigningKey, AgentManifestReader {
  private readonly key: KeyObject;
  private readonly publicPem: string;

  constructor(dataDir: string, private readonly dir: string) {
    const keyFile = path.join(dataDir, 'agent-signing-key.pem');
    if (!existsSync(keyFile)) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    this.key = createPrivateKey(readFileSync(keyFile, 'utf8'));
    this.publicPem = createPublicKey(this.key).export({ type: 'spki', format: 'pem' }).toString();
  }

  async publicKeyPem(): Promise<string> {
    return this.publicPem;
  }

  async publishedVersion(): Promise<string | undefined> {
    const m = await this.manifest();
    return 'problem' in m ? undefined : m.manifest.version;
  }

  /** The manifest's bytes and what they say; a missing or invalid manifest is named. */
  private async manifest(): Promise<{ bytes: Buffer; manifest: AgentManifest } | { problem: string }> {
    const file = path.join(this.dir, 'manifest.json');
    const bytes = await readFile(file).catch(() => undefined);
    if (!bytes) return { problem: `no agent artifacts at ${this.dir}: build them with npm run device:build (or start with --agent-artifacts <dir>)` };
    let json: unknown;
    try { json = JSON.parse(bytes.toString('utf8')); } catch { json = undefined; }
    const parsed = agentManifest.safeParse(json);
    if (!parsed.success) return { problem: `${file} is not an agent manifest (${parsed.error.issues[0]?.message ?? 'not JSON'}): run npm run device:build again` };
    return { bytes, manifest: parsed.data };
  }

  /** Serves `/v1/agent/…`; false for any other path (the API gateway takes those). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!url.pathname.startsWith(AGENT_PATH)) return false;
    void this.serve(req, url.pathname.slice(AGENT_PATH.length), res).catch((e: unknown) => {
      if (!res.headersSent) problem(res, 500, 'internal', `could not serve the agent artifacts: ${(e as Error).message}`);
      else res.destroy();
    });
    return true;
  }

  private async serve(req: http.IncomingMessage, rest: string, res: http.ServerResponse): Promise<unknown> {
    req.resume();
    const known = rest === 'manifest' || rest === 'manifest.sig' || rest === 'public-key.pem' || rest.startsWith('artifacts/');
    if (!known) return problem(res, 404, 'not-found', `no such agent resource: ${AGENT_PATH}${rest.slice(0, 100)} (there are manifest, manifest.sig, public-key.pem and artifacts/{file})`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'method-not-allowed', `${req.method} is not allowed on ${AGENT_PATH}${rest}: use GET`, { allow: 'GET, HEAD' });
    if (rest === 'public-key.pem') return send(req, res, 'application/x-pem-file', Buffer.from(this.publicPem));
    const m = await this.manifest();
    if ('problem' in m) return problem(res, 503, 'agent-artifacts-missing', m.problem);
    if (rest === 'manifest') return send(req, res, 'application/json', m.bytes);
    if (rest === 'manifest.sig') return send(req, res, 'application/octet-stream', sign('sha256', m.bytes, this.key));
    const name = rest.slice('artifacts/'.length);
    const artifact = agentArtifactFile.safeParse(name).success ? m.manifest.artifacts.find((a) => a.file === name) : undefined;
    if (!artifact) return problem(res, 404, 'not-found', `the agent manifest (version ${m.manifest.version}) lists no artifact "${name.slice(0, 100)}": ask for one of ${m.manifest.artifacts.map((a) => a.file).join(', ')}`);
    const file = path.join(this.dir, artifact.file);
    const size = await stat(file).then((s) => s.size, () => -1);
    if (size < 0) return problem(res, 503, 'agent-artifacts-missing', `${file} is listed in the manifest but missing: run npm run device:build again`);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    if (req.method === 'HEAD') return res.end();
    return new Promise<void>((resolve, reject) => createReadStream(file).on('error', reject).on('end', resolve).pipe(res));
  }
}

function send(req: http.IncomingMessage, res: http.ServerResponse, type: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': type, 'content-length': String(body.length), 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
