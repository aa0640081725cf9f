/**
 * GET /v1/auth/config on the REAL local runtime (its API Gateway emulator serves the route
 * table): the local runtime names no OIDC client, so `edgefleet login --url` says to use its
 * admin token, and a plain `login` still does.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../cli/errors.js';
import { runCli } from '../../cli/program.js';
import { startHarness, type Harness } from './harness.js';

let h: Harness;
let work: string;
beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'edgefleet-login-local-'));
});
afterAll(async () => {
  await h?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, { env: { HOME: work, EDGEFLEET_CONFIG: join(work, 'config.json'), EDGEFLEET_DATA_DIR: join(work, 'elsewhere') }, stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: work });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('sign-in settings of the local runtime', () => {
  it('GET /v1/auth/config is public and answers 404 sign-in-not-configured as problem+json', async () => {
    const res = await fetch(`${h.rt.url}/v1/auth/config`);
    expect(res.status).toBe(404);
    expect(res.headers.get('content-type')).toContain('application/problem+json');
    expect(await res.json()).toMatchObject({ status: 404, code: 'sign-in-not-configured' });
  });

  it('edgefleet login --url explains that this control plane takes tokens, and a plain login still works', async () => {
    const r = await cli(['login', '--url', h.rt.url, '--no-browser']);
    expect(r.code).toBe(EXIT.auth);
    expect(r.stderr).toContain(`${h.rt.url} offers no browser sign-in: this control plane names no OIDC client`);
    const plain = await cli(['login', '--data-dir', h.rt.dataDir]);
    expect(plain.code).toBe(EXIT.ok);
    expect(plain.stdout).toContain(`Logged in to ${h.rt.url}`);
  });
});
