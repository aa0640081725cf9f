import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { createReadStream, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import type http from 'node:http';
import path from 'node:path';
import { NotFoundError, UnavailableError } from '../lambdas/domain/errors.js';
import type { AgentArtifactLocation, AgentArtifactStore, AgentSigningKey } from '../lambdas/ports/agent-artifacts.js';
import { agentResource } from '../lambdas/use-cases/agent-artifacts.js';

/**
 * The agent's artifacts on one machine (what S3 + a KMS key do on AWS, lambdas/handlers/http/agent.ts), served on the API's
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

export class LocalAgentArtifacts implements AgentSigningKey, AgentArtifactStore {
  private readonly key: KeyObject;
  private readonly publicPem: string;
  readonly where: string;

  constructor(dataDir: string, private readonly dir: string) {
    const keyFile = path.join(dataDir, 'agent-signing-key.pem');
    if (!existsSync(keyFile)) {
      const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
      writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
    }
    this.key = createPrivateKey(readFileSync(keyFile, 'utf8'));
    this.publicPem = createPublicKey(this.key).export({ type: 'spki', format: 'pem' }).toString();
    this.where = this.dir;
  }

  async publicKeyPem(): Promise<string> {
    return this.publicPem;
  }

  async sign(message: Uint8Array): Promise<Uint8Array> {
    return sign('sha256', message, this.key);
  }

  async manifest(): Promise<Uint8Array | undefined> {
    return readFile(path.join(this.dir, 'manifest.json')).catch(() => undefined);
  }

  async artifact(file: string): Promise<AgentArtifactLocation> {
    return { kind: 'file', path: path.join(this.dir, file) };
  }

  /** Serves `/v1/agent/…`; false for any other path (the API gateway takes those). */
  handle(req: http.IncomingMessage, res: http.ServerResponse): boolean {
    const url = new URL(req.url ?? '/', 'http://local');
    if (!url.pathname.startsWith(AGENT_PATH)) return false;
    void this.serve(req, url.pathname.slice(AGENT_PATH.length), res).catch((e: unknown) => {
      if (res.headersSent) return res.destroy();
      if (e instanceof NotFoundError) return problem(res, 404, e.code, e.message);
      if (e instanceof UnavailableError) return problem(res, 503, e.code, e.message);
      return problem(res, 500, 'internal', `could not serve the agent artifacts: ${(e as Error).message}`);
    });
    return true;
  }

  /** The same use case as the AWS function (lambdas/handlers/http/agent.ts); files are streamed, not redirected. */
  private async serve(req: http.IncomingMessage, rest: string, res: http.ServerResponse): Promise<unknown> {
    req.resume();
    const known = rest === 'manifest' || rest === 'manifest.sig' || rest === 'public-key.pem' || rest.startsWith('artifacts/');
    if (known && req.method !== 'GET' && req.method !== 'HEAD') return problem(res, 405, 'method-not-allowed', `${req.method} is not allowed on ${AGENT_PATH}${rest}: use GET`, { allow: 'GET, HEAD' });
    const r = await agentResource({ signing: this, store: this }, rest);
    if (r.kind === 'bytes') return send(req, res, r.contentType, Buffer.from(r.body));
    if (r.kind === 'redirect') { res.writeHead(302, { location: r.url }); return res.end(); }
    const size = await stat(r.path).then((s) => s.size, () => -1);
    if (size < 0) return problem(res, 503, 'agent-artifacts-missing', `${r.path} is listed in the manifest but missing: run npm run device:build again`);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(size) });
    if (req.method === 'HEAD') return res.end();
    return new Promise<void>((resolve, reject) => createReadStream(r.path).on('error', reject).on('end', resolve).pipe(res));
  }
}

function send(req: http.IncomingMessage, res: http.ServerResponse, type: string, body: Buffer): void {
  res.writeHead(200, { 'content-type': type, 'content-length': String(body.length), 'cache-control': 'no-cache' });
  res.end(req.method === 'HEAD' ? undefined : body);
}
