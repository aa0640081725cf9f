/**
 * The edgefleet CLI against the REAL local runtime (DynamoDB Local, API Gateway emulator with
 * JWT checks, the same handlers), run in-process through runCli.
 */
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT } from '../../cli/errors.js';
import { runCli } from '../../cli/program.js';
import { seedApprovedHosts, startHarness, type Harness } from './harness.js';

let h: Harness;
let work: string;

beforeAll(async () => {
  h = await startHarness();
  work = mkdtempSync(join(tmpdir(), 'edgefleet-cli-it-'));
});
afterAll(async () => {
  await h?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Runs the CLI with only the saved login (no EDGEFLEET_URL/TOKEN) unless env adds them. */
async function cli(args: string[], env: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: { HOME: work, EDGEFLEET_CONFIG: join(work, 'config.json'), ...env },
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    cwd: work,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

async function cliJson<T = any>(args: string[]): Promise<T> {
  const r = await cli([...args, '-o', 'json']);
  if (r.code !== 0) throw new Error(`edgefleet ${args.join(' ')} exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as T;
}

describe('edgefleet CLI against the local runtime', () => {
  it('logs in from the runtime data dir and saves the config with mode 0600', async () => {
    const r = await cli(['login', '--data-dir', h.rt.dataDir]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain(`Logged in to ${h.rt.url} as local-admin`);
    const path = join(work, 'config.json');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toMatchObject({ url: h.rt.url, token: h.rt.adminToken });
  });

  let regSecret = '';
  it('creates a registration token, printing the secret once', async () => {
    const r = await cli(['tokens', 'create', '--name', 'shop-1 wave', '--site', 'shop-1', '--max-uses', '5', '--expires-at', '30d', '--tag', 'env=prod']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/Token: eft_\S+/);
    expect(r.stdout).toContain('shown only once');
    regSecret = /Token: (eft_\S+)/.exec(r.stdout)![1];
    const id = /Created registration token (\S+)/.exec(r.stdout)![1];

    const got = await cliJson(['tokens', 'get', id]);
    expect(got).toMatchObject({ id, name: 'shop-1 wave', site: 'shop-1', maxUses: 5, tags: { env: 'prod' } });
    expect(got.token).toBeUndefined();
    const listed = await cli(['tokens', 'list']);
    expect(listed.stdout).toMatch(new RegExp(`^${id}\\s+shop-1 wave\\s+active\\s+shop-1\\s+0/5`, 'm'));
  });

  it('writes user-data for the token to a private file', async () => {
    const r = await cli(['user-data', '--site', 'shop-1', '--tag', 'lane=3', '--out', 'ud.yaml'], { EDGEFLEET_REGISTRATION_TOKEN: regSecret });
    expect(r.code).toBe(EXIT.ok);
    const file = join(work, 'ud.yaml');
    expect(readFileSync(file, 'utf8').startsWith('#cloud-config\n')).toBe(true);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const bad = await cli(['user-data', '--site', 'shop-1', '--token', 'eft_nope_nope']);
    expect(bad.code).toBe(EXIT.invalid);
    expect(bad.stderr).toMatch(/error: cannot generate user-data for site "shop-1": .*\(code invalid-token, HTTP 400\)/);
  });

  it('pre-registers one host and imports more from CSV', async () => {
    const one = await cli(['hosts', 'create', 'hw-001', '--site', 'shop-1', '--tag', 'env=prod']);
    expect(one.code).toBe(EXIT.ok);
    expect(one.stdout).toContain('Created host hw-001 (uid hw-001), status pre-registered.');

    writeFileSync(
      join(work, 'fleet.csv'),
      ['uid,name,site,tags', 'hw-001,,shop-1,env=prod', 'hw-002,Till 2,shop-1,env=prod;tier=pos', 'hw-003,,shop-1,env=prod', 'hw-004,,shop-2,env=dev'].join('\n'),
    );
    const imported = await cli(['hosts', 'import', 'fleet.csv']);
    expect(imported.stderr).toBe('');
    expect(imported.code).toBe(EXIT.ok);
    expect(imported.stdout).toContain('Imported fleet.csv: 3 created, 1 already existed, 0 failed.');

    const dup = await cli(['hosts', 'create', 'hw-001']);
    expect(dup.code).toBe(EXIT.conflict);
    expect(dup.stderr).toMatch(/cannot create host "hw-001": .*\(code host-exists, HTTP 409\)/);
    expect(dup.stderr).toMatch(/request id: \S+/);
  });

  it('lists hosts filtered by site and tag, and follows cursors with --all', async () => {
    const filtered = await cliJson<{ items: { id: string }[] }>(['hosts', 'list', '--site', 'shop-1', '--tag', 'env=prod']);
    expect(filtered.items.map((x) => x.id).sort()).toEqual(['hw-001', 'hw-002', 'hw-003']);
    const dev = await cliJson<{ items: { id: string }[] }>(['hosts', 'list', '--tag', 'env=dev']);
    expect(dev.items.map((x) => x.id)).toEqual(['hw-004']);
    const all = await cliJson<{ items: { id: string }[]; nextCursor?: string }>(['hosts', 'list', '--limit', '1', '--all']);
    expect(all.items.map((x) => x.id).sort()).toEqual(['hw-001', 'hw-002', 'hw-003', 'hw-004']);
    expect(all.nextCursor).toBeUndefined();

    const table = await cli(['hosts', 'list', '--site', 'shop-2']);
    expect(table.stdout.split('\n')[0]).toMatch(/^ID\s+NAME\s+SITE\s+STATUS\s+PRESENCE\s+HEALTH\s+ADDRESS\s+CLUSTER\s+AGENT\s+TAGS$/);
    expect(table.stdout).toMatch(/^hw-004\s+-\s+shop-2\s+pre-registered\s+offline\s+unknown\s+-\s+-\s+-\s+env=dev$/m);
  });

  it('updates a host with its current version, keeping other tags', async () => {
    const r = await cli(['hosts', 'update', 'hw-002', '--name', 'Till two', '--tag', 'lane=1', '--remove-tag', 'tier']);
    expect(r.code).toBe(EXIT.ok);
    const host = await cliJson(['hosts', 'get', 'hw-002']);
    expect(host).toMatchObject({ name: 'Till two', tags: { env: 'prod', lane: '1' }, version: 2 });
    const missing = await cli(['hosts', 'get', 'hw-999']);
    expect(missing.code).toBe(EXIT.notFound);
    expect(missing.stderr).toContain('edgefleet hosts list');
  });

  it('creates a profile and publishes a version from a layers file', async () => {
    expect((await cli(['profiles', 'create', 'edge-k3s', '--description', 'k3s on Ubuntu'])).code).toBe(EXIT.ok);
    writeFileSync(
      join(work, 'layers.yaml'),
      'layers:\n  - {type: os, pack: ubuntu, version: "24.04", image: "quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.30.4-k3s1"}\n  - {type: k8s, pack: k3s, version: 1.30.4}\n',
    );
    const added = await cli(['profiles', 'add-version', 'edge-k3s', '--version', '1.0.0', '--file', 'layers.yaml', '--publish']);
    expect(added.code).toBe(EXIT.ok);
    expect(added.stdout).toContain('Added edge-k3s@1.0.0 (published)');
    const versions = await cliJson<{ items: { version: string; status: string }[] }>(['profiles', 'versions', 'edge-k3s']);
    expect(versions.items).toEqual([expect.objectContaining({ version: '1.0.0', status: 'published' })]);
    const again = await cli(['profiles', 'add-version', 'edge-k3s', '--version', '1.0.0', '--file', 'layers.yaml']);
    expect(again.code).toBe(EXIT.conflict);
  });

  it('refuses a cluster on hosts that are not approved, saying which and why', async () => {
    const r = await cli(['clusters', 'create', '--name', 'shop-1', '--profile', 'edge-k3s@1.0.0', '--control-plane', 'hw-001']);
    expect([EXIT.conflict, EXIT.invalid]).toContain(r.code);
    expect(r.stderr).toContain('cannot create cluster "shop-1"');
    expect(r.stderr).toMatch(/hw-001 is pre-registered, not approved/);
    expect(r.stderr).toContain('edgefleet hosts approve');
    expect(r.stderr).toMatch(/request id: \S+/);
    const clusters = await cliJson<{ items: unknown[] }>(['clusters', 'list']);
    expect(clusters.items).toEqual([]);
  });

  it('creates a cluster on approved hosts and follows its operation', async () => {
    await seedApprovedHosts(h, 'default', ['hw-101', 'hw-102']);
    const r = await cli(['clusters', 'create', '--name', 'shop-9', '--profile', 'edge-k3s@1.0.0', '--control-plane', 'hw-101', '--workers', 'pos=hw-102']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const opId = /operations get (\S+)/.exec(r.stdout)![1];
    const clusterId = /\((c-[^)]+)\)/.exec(r.stdout)![1];
    expect(await cliJson(['operations', 'get', opId])).toMatchObject({ id: opId, target: { type: 'cluster', id: clusterId } });
    const ops = await cliJson<{ items: { id: string }[] }>(['operations', 'list', '--target-type', 'cluster', '--target-id', clusterId]);
    expect(ops.items.map((o) => o.id)).toContain(opId);
    expect(await cliJson(['clusters', 'get', clusterId])).toMatchObject({ name: 'shop-9', workers: [{ name: 'pos', hostIds: ['hw-102'] }] });
  });

  it('decommissions an approved host and follows fleet changes with hosts watch', async () => {
    await seedApprovedHosts(h, 'default', ['retire-me']);
    const watch = await cli(['hosts', 'watch', '--count', '1']);
    expect(watch.code).toBe(EXIT.ok);
    expect(watch.stdout).toMatch(/host\(s\); \d+ online\. Watching for changes/);
    const r = await cli(['hosts', 'decommission', 'retire-me', '--reason', 'replaced by a new till']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Host retire-me is decommissioned');
    const host = await cliJson<{ status: string; statusReason: string }>(['hosts', 'get', 'retire-me']);
    expect(host).toMatchObject({ status: 'decommissioned' });
    expect((await cli(['hosts', 'decommission', 'retire-me'])).code).toBe(EXIT.conflict);
  });

  it('shows the mutations in the audit log', async () => {
    const audit = await cliJson<{ items: { action: string; resource: string; outcome: string; actor: string }[] }>(['audit', 'list', '--since', '1h', '--all']);
    const seen = audit.items.map((e) => `${e.action} ${e.resource}`);
    expect(seen).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^registration-token\.create registration-token\//),
        'host.create host/hw-001',
        expect.stringMatching(/^host\.batch-create /),
        'host.update host/hw-002',
        'profile.create profile/edge-k3s',
        expect.stringMatching(/^profile\.version\.create profile\/edge-k3s@1\.0\.0/),
        expect.stringMatching(/^cluster\.create cluster\//),
      ]),
    );
    expect(audit.items.every((e) => e.actor === 'local-admin' && e.outcome === 'success')).toBe(true);
    const byResource = await cliJson<{ items: { action: string }[] }>(['audit', 'list', '--resource', 'host/hw-002']);
    expect(byResource.items.map((e) => e.action)).toEqual(['host.update']);
  });

  it('exits 5 with advice when the token is wrong', async () => {
    const r = await cli(['hosts', 'list', '--token', 'not-a-valid-token']);
    expect(r.code).toBe(EXIT.auth);
    expect(r.stderr).toContain('error: cannot list hosts:');
    expect(r.stderr).toContain('(from --token) was refused');
    const env = await cli(['hosts', 'list'], { EDGEFLEET_TOKEN: `${h.rt.adminToken}x` });
    expect(env.code).toBe(EXIT.auth);
    expect(env.stderr).toContain('(from EDGEFLEET_TOKEN)');
  });
});
