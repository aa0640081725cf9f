import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildClusterBody } from '../../cli/commands/clusters.js';
import { hostListQuery, hostPatchBody } from '../../cli/commands/hosts.js';
import { describeToken } from '../../cli/commands/login.js';
import { parseLayersFile } from '../../cli/commands/profiles.js';
import { buildTokenBody, tokenState } from '../../cli/commands/tokens.js';
import { parseSshKeys, registrationSecret } from '../../cli/commands/user-data.js';
import { buildUrl } from '../../cli/client.js';
import { EXIT, EXIT_CODE_TABLE, UsageError } from '../../cli/errors.js';
import { runCli } from '../../cli/program.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ef-cli-program-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function run(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: { HOME: dir, EDGEFLEET_CONFIG: join(dir, 'none.json'), ...env },
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    cwd: dir,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('runCli without an API', () => {
  it('documents exit codes and configuration in --help', async () => {
    const r = await run(['--help']);
    expect(r.code).toBe(EXIT.ok);
    for (const line of ['0  success', '2  usage error', '3  not found', '4  conflict', '5  not authenticated', '6  invalid request', '7  control plane unreachable']) {
      expect(r.stdout).toContain(line);
    }
    expect(r.stdout).toContain('EDGEFLEET_URL/EDGEFLEET_TOKEN');
  });

  it('keeps the README exit-code table in step with the CLI', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const [code] of EXIT_CODE_TABLE) expect(readme).toMatch(new RegExp(`^\\| ${code} \\| \\S`, 'm'));
    expect(EXIT_CODE_TABLE.map(([c]) => c)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 130]);
  });

  it('has help with examples on every command', async () => {
    for (const cmd of [['hosts', 'list'], ['hosts', 'import'], ['tokens', 'create'], ['clusters', 'create'], ['profiles', 'add-version'], ['user-data'], ['login'], ['audit', 'list'], ['rollouts', 'create'], ['rollouts', 'watch'], ['rollouts', 'pause'], ['sites', 'set-timezone'], ['templates', 'upgrade'], ['images', 'build-context']]) {
      const r = await run([...cmd, '--help']);
      expect(r.code).toBe(EXIT.ok);
      expect(r.stdout).toContain('Examples:');
      expect(r.stdout).toContain('--output <format>');
    }
  });

  it.each([
    [['hosts', 'list', '--bogus']],
    [['hosts', 'frobnicate']],
    [['nosuch']],
    [['hosts']],
    [['hosts', 'list', '--tag', 'novalue']],
    [['hosts', 'list', '--status', 'sleeping']],
    [['hosts', 'list', '--limit', '500']],
    [['hosts', 'list', '-o', 'yaml']],
    [['hosts', 'get']],
    [['clusters', 'create', '--name', 'c1', '--profile', 'edge-k3s', '--control-plane', 'hw-1']],
    [['clusters', 'create', '--name', 'c1', '--profile', 'edge-k3s@1.0.0']],
    [['clusters', 'create', '--name', 'c1', '--profile', 'p@1.0.0', '--control-plane', 'hw-1', '--workers', 'hw-2']],
    [['tokens', 'create']],
    [['profiles', 'add-version', 'p', '--version', '1.0', '--file', 'x.yaml']],
  ])('exits 2 for bad usage: %j', async (args) => {
    const r = await run(args);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).not.toBe('');
  });

  it('suggests the right command on a typo', async () => {
    const r = await run(['hosts', 'lst']);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('Did you mean list?');
  });

  it('exits 5 with where it looked when no URL/token is configured', async () => {
    const r = await run(['hosts', 'list']);
    expect(r.code).toBe(EXIT.auth);
    expect(r.stderr).toContain('no API URL and token configured');
    expect(r.stderr).toContain(join(dir, '.edgefleet', 'local.json'));
  });

  it('exits 7 and names the URL when nothing listens there', async () => {
    const srv = createServer();
    await new Promise<void>((res) => srv.listen(0, '127.0.0.1', () => res()));
    const port = (srv.address() as { port: number }).port;
    await new Promise<void>((res) => srv.close(() => res()));
    const r = await run(['hosts', 'list', '--url', `http://127.0.0.1:${port}`, '--token', 't']);
    expect(r.code).toBe(EXIT.unavailable);
    expect(r.stderr).toContain(`error: cannot list hosts: cannot reach the EdgeFleet API at http://127.0.0.1:${port} (connection refused)`);
    expect(r.stderr).toContain('npm start');
    const created = await run(['--url', `http://127.0.0.1:${port}`, '--token', 't', 'hosts', 'create', 'hw-1', '--idempotency-key', 'fixed-key-1']);
    expect(created.code).toBe(EXIT.unavailable);
    expect(created.stderr).toContain('--idempotency-key fixed-key-1');
  });

  it('reports an unreadable or invalid import file before contacting the API', async () => {
    const env = { EDGEFLEET_URL: 'http://127.0.0.1:9', EDGEFLEET_TOKEN: 't' };
    const missing = await run(['hosts', 'import', 'nope.csv'], env);
    expect(missing.code).toBe(EXIT.usage);
    expect(missing.stderr).toContain('cannot read nope.csv: no such file');
    writeFileSync(join(dir, 'bad.csv'), 'uid,site\nhw-1,shop 1\n');
    const bad = await run(['hosts', 'import', 'bad.csv'], env);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.stderr).toContain('line 2 (uid hw-1): site:');
  });
});

describe('request builders', () => {
  it('builds the cluster body and refuses a host in two roles', () => {
    const body = buildClusterBody({
      name: 'c1',
      profile: { name: 'edge', version: '1.0.0' },
      controlPlane: ['hw-1'],
      workers: [{ name: 'pos', hostIds: ['hw-2'] }],
      vip: '10.0.0.5',
    });
    expect(body).toEqual({ name: 'c1', profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: ['hw-1'] }, workers: [{ name: 'pos', hostIds: ['hw-2'] }], vip: '10.0.0.5' });
    expect(() => buildClusterBody({ name: 'c', profile: { name: 'e', version: '1.0.0' }, controlPlane: ['hw-1'], workers: [{ name: 'w', hostIds: ['hw-1'] }] })).toThrow(
      /host hw-1 is listed twice \(control plane and worker pool w\)/,
    );
  });

  it('builds the host PATCH with the read version, merging and removing tags', () => {
    expect(hostPatchBody({ version: 7, tags: { env: 'prod', temp: '1' } }, { tag: { tier: 'pos' }, removeTag: ['temp'], site: 's2' })).toEqual({
      version: 7,
      site: 's2',
      tags: { env: 'prod', tier: 'pos' },
    });
    expect(hostPatchBody({ version: 2, tags: {} }, { name: 'n' })).toEqual({ version: 2, name: 'n' });
    expect(() => hostPatchBody({ version: 1, tags: {} }, {})).toThrow(UsageError);
    expect(hostListQuery({ cluster: 'c1', tag: 'env=prod' })).toEqual({ status: undefined, site: undefined, tag: 'env=prod', clusterId: 'c1' });
  });

  it('reads a layers file in YAML or JSON and names bad layers', () => {
    const yaml = 'layers:\n  - {type: os, pack: ubuntu, version: "22.04"}\n  - {type: k8s, pack: k3s, version: v1.30.4+k3s1}\n';
    expect(parseLayersFile(yaml, 'l.yaml', '1.0.0', true)).toEqual({
      version: '1.0.0',
      publish: true,
      layers: [
        { type: 'os', pack: 'ubuntu', version: '22.04' },
        { type: 'k8s', pack: 'k3s', version: 'v1.30.4+k3s1' },
      ],
    });
    expect(parseLayersFile('[{"type":"os","pack":"ubuntu","version":"22.04"},{"type":"k8s","pack":"k3s","version":"1.30.4"}]', 'l.json', '1.0.0', false).layers).toHaveLength(2);
    try {
      parseLayersFile('- {type: os, pack: ubuntu, version: "22.04"}\n- {type: kernel, pack: k3s, version: 1.30.4}\n', 'l.yaml', '1.0.0', false);
      throw new Error('expected a failure');
    } catch (e) {
      expect((e as UsageError).exitCode).toBe(EXIT.invalid);
      expect((e as UsageError).hints.join('\n')).toMatch(/layer 2 type:/);
    }
    expect(() => parseLayersFile('name: x', 'l.yaml', '1.0.0', false)).toThrow(/must hold a list of layers/);
  });

  it('builds the token body with only what was given', () => {
    expect(buildTokenBody({ name: 'n', autoApprove: true, tag: { env: 'prod' } })).toEqual({
      name: 'n',
      expiresAt: undefined,
      maxUses: undefined,
      autoApprove: true,
      allowReregistration: undefined,
      site: undefined,
      tags: { env: 'prod' },
    });
    const base = { id: 't', project: 'default', name: 'n', uses: 0, autoApprove: false, allowReregistration: false, revoked: false, createdAt: '2026-01-01T00:00:00Z', createdBy: 'a' };
    const now = Date.parse('2026-02-01T00:00:00Z');
    expect(tokenState({ ...base, expiresAt: '2026-03-01T00:00:00Z' }, now)).toBe('active');
    expect(tokenState({ ...base, expiresAt: '2026-01-15T00:00:00Z' }, now)).toBe('expired');
    expect(tokenState({ ...base, expiresAt: '2026-03-01T00:00:00Z', maxUses: 1, uses: 1 }, now)).toBe('used-up');
    expect(tokenState({ ...base, expiresAt: '2026-03-01T00:00:00Z', revoked: true }, now)).toBe('revoked');
  });

  it('takes the registration secret from --token or the environment, and refuses private SSH keys', () => {
    expect(registrationSecret({ token: 'eft_a' }, { EDGEFLEET_REGISTRATION_TOKEN: 'eft_b' })).toBe('eft_a');
    expect(registrationSecret({}, { EDGEFLEET_REGISTRATION_TOKEN: 'eft_b' })).toBe('eft_b');
    expect(() => registrationSecret({}, {})).toThrow(/registration token is needed/);
    expect(() => registrationSecret({ tokenId: 'tok-1' }, {})).toThrow(/--token-id is not supported/);
    expect(parseSshKeys('# mine\nssh-ed25519 AAAAC3Nz op@laptop\n\n', 'k.pub')).toEqual(['ssh-ed25519 AAAAC3Nz op@laptop']);
    expect(() => parseSshKeys('-----BEGIN OPENSSH PRIVATE KEY-----\n', 'id')).toThrow(/PRIVATE key/);
    expect(() => parseSshKeys('hello\n', 'k.pub')).toThrow(/line 1 is not an OpenSSH public key/);
  });

  it('shows who a JWT is for without verifying it', () => {
    const payload = Buffer.from(JSON.stringify({ sub: 'local-admin', exp: 1_900_000_000, roles: ['*:admin'] })).toString('base64url');
    expect(describeToken(`h.${payload}.s`)).toEqual({ subject: 'local-admin', expiresAt: new Date(1_900_000_000_000).toISOString(), roles: '*:admin' });
    expect(describeToken('opaque')).toEqual({});
  });

  it('joins base URLs with stage paths and drops empty query values', () => {
    expect(buildUrl('https://x.example/prod/', '/v1/hosts', { limit: 1, site: undefined, tag: 'a=b' })).toBe('https://x.example/prod/v1/hosts?limit=1&tag=a%3Db');
  });
});
