import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderAgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { verifyArtifact, verifyManifest } from '../../device/verify-artifact.js';
import { LocalAgentArtifacts } from '../../local/local-agent-artifacts.js';

/** The local artifact server on its own port, over a directory the test fills. */
describe('LocalAgentArtifacts (GET /v1/agent/… on the local runtime)', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'edgefleet-artifacts-data-'));
  const dir = mkdtempSync(join(tmpdir(), 'edgefleet-artifacts-'));
  let server: http.Server;
  let url: string;
  const exe = Buffer.from('\x7fELF pretend executable');
  beforeAll(async () => {
    const store = new LocalAgentArtifacts(dataDir, dir);
    server = http.createServer((req, res) => { if (!store.handle(req, res)) { res.writeHead(418); res.end(); } });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => {
    server.close();
    rmSync(dataDir, { recursive: true, force: true });
    rmSync(dir, { recursive: true, force: true });
  });
  const get = (p: string) => fetch(`${url}${p}`);

  test('leaves other paths to the API gateway', async () => {
    expect((await get('/v1/hosts')).status).toBe(418);
  });

  test('before a build: 503 agent-artifacts-missing naming the command that builds them', async () => {
    const r = await get('/v1/agent/manifest');
    expect(r.status).toBe(503);
    expect(await r.json()).toMatchObject({ code: 'agent-artifacts-missing', detail: expect.stringContaining('npm run device:build') });
  });

  test('a manifest that is not one is named, not served', async () => {
    writeFileSync(join(dir, 'manifest.json'), '{"version": "x"}');
    const r = await get('/v1/agent/manifest.sig');
    expect(r.status).toBe(503);
    expect(((await r.json()) as { detail: string }).detail).toMatch(/is not an agent manifest .*: run npm run device:build again/);
  });

  test('serves the manifest, a signature the device accepts with the served key, and the listed files', async () => {
    writeFileSync(join(dir, 'edgefleet-agent-linux-x64'), exe);
    writeFileSync(join(dir, 'manifest.json'), renderAgentManifest({
      version: '0.1.0', node: 'v20.20.2', builtAt: '2026-12-01T12:00:00.000Z',
      artifacts: [{ arch: 'x64', file: 'edgefleet-agent-linux-x64', sha256: createHash('sha256').update(exe).digest('hex'), size: exe.length }],
    }));
    const bytes = Buffer.from(await (await get('/v1/agent/manifest')).arrayBuffer());
    expect(bytes.equals(readFileSync(join(dir, 'manifest.json')))).toBe(true);
    const sig = Buffer.from(await (await get('/v1/agent/manifest.sig')).arrayBuffer());
    const key = await (await get('/v1/agent/public-key.pem')).text();
    const manifest = verifyManifest(bytes, sig, key);
    const file = Buffer.from(await (await get('/v1/agent/artifacts/edgefleet-agent-linux-x64')).arrayBuffer());
    expect(verifyArtifact(manifest, 'edgefleet-agent-linux-x64', file).size).toBe(exe.length);
  });

  test('a listed file that is gone is a 503 naming it; an unlisted one a 404 naming what is listed', async () => {
    writeFileSync(join(dir, 'manifest.json'), renderAgentManifest({
      version: '0.1.0', node: 'v20.20.2', builtAt: '2026-12-01T12:00:00.000Z',
      artifacts: [{ arch: 'arm64', file: 'edgefleet-agent-linux-arm64', sha256: 'a'.repeat(64), size: 1 }],
    }));
    const gone = await get('/v1/agent/artifacts/edgefleet-agent-linux-arm64');
    expect(gone.status).toBe(503);
    expect(((await gone.json()) as { detail: string }).detail).toContain('edgefleet-agent-linux-arm64 is listed in the manifest but missing');
    const unlisted = await get('/v1/agent/artifacts/edgefleet-agent-linux-x64');
    expect(unlisted.status).toBe(404);
    expect(((await unlisted.json()) as { detail: string }).detail).toContain('ask for one of edgefleet-agent-linux-arm64');
  });

  test('the signing key survives a restart (same data dir, same public key)', async () => {
    const again = new LocalAgentArtifacts(dataDir, dir);
    expect(await again.publicKeyPem()).toBe(await (await get('/v1/agent/public-key.pem')).text());
  });
});
