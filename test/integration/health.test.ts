/**
 * Health on the real local runtime: simulated hosts running the real agent report through the
 * TLS broker and the topic rules; the status and presence handlers derive health and store it
 * on change. Seen through the API and the CLI; filtered; an idle healthy fleet writes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/program.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let dir: string;
let fleet: SimulatedFleet;
let ids: string[] = [];
let writes: string[] = [];

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-health-it-'));
  // Every write any handler sends to DynamoDB Local, by command name.
  h.rt.dynamo.middlewareStack.add((next, context) => async (args) => {
    if (/^(Put|Update|Delete|BatchWrite|TransactWrite)/.test(String(context.commandName))) writes.push(String(context.commandName));
    return next(args);
  }, { step: 'initialize', name: 'countWrites' });
  ({ fleet, ids } = await startFleet(h, { count: 3, prefix: 'hl', stateDir: dir }));
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const host = async (id: string) => (await h.call('GET', `/v1/hosts/${id}`)).body;
const healthOf = async (id: string) => (await host(id))?.health;

async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: { HOME: dir, EDGEFLEET_CONFIG: path.join(dir, 'cli.json'), EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: h.rt.adminToken },
    stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: dir,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('host health', () => {
  it('every online host that reported is healthy, with its reported block', async () => {
    for (const id of ids) await eventually(`${id} healthy`, async () => (await healthOf(id))?.state === 'healthy');
    const one = await host(ids[0]!);
    expect(one.health).toMatchObject({ state: 'healthy', reasons: [] });
    expect(one.reported).toMatchObject({ boot: { state: 'active' }, agentVersion: expect.any(String), storage: { stateFreeMb: expect.any(Number) } });
    expect(Date.parse(one.reported.reportedAt)).toBeGreaterThan(0);
    const list = await h.call('GET', '/v1/hosts?limit=10');
    expect(list.body.items.map((x: { health: { state: string } }) => x.health.state)).toEqual(['healthy', 'healthy', 'healthy']);
  });

  it('an idle healthy fleet writes nothing to the database (agents keep checking every 100 ms)', async () => {
    writes = [];
    const before = await Promise.all(ids.map(host));
    // 30 status checks per host: a quiet interval has to be waited out (there is no condition to wait for).
    await new Promise((r) => setTimeout(r, 3000));
    expect(writes).toEqual([]);
    const after = await Promise.all(ids.map(host));
    expect(after.map((x) => [x.health, x.reported])).toEqual(before.map((x) => [x.health, x.reported]));
  });

  it('a host short of disk room and a stopped host become unhealthy with their reasons; filters find exactly them', async () => {
    const [low, stopped, fine] = ids as [string, string, string];
    fleet.host(low)!.kairos.failures.lowDiskMb = 900;
    await fleet.host(stopped)!.stop();
    const offline = await eventually('stopped host unhealthy', async () => {
      const x = await healthOf(stopped);
      return x?.state === 'unhealthy' ? x : undefined;
    });
    expect(offline.reasons).toEqual([expect.stringMatching(/^offline since \d{4}-\d\d-\d\dT/)]);
    const short = await eventually('low-disk host unhealthy', async () => {
      const x = await healthOf(low);
      return x?.state === 'unhealthy' ? x : undefined;
    });
    expect(short.reasons).toEqual(['state partition has 768 MiB free (needs 2.0 GiB)']);

    const unhealthy = await h.call('GET', '/v1/hosts?health=unhealthy');
    expect(unhealthy.status).toBe(200);
    expect(unhealthy.body.items.map((x: { id: string }) => x.id).sort()).toEqual([low, stopped].sort());
    const healthy = await h.call('GET', '/v1/hosts?health=healthy');
    expect(healthy.body.items.map((x: { id: string }) => x.id)).toEqual([fine]);
    // Paginated: one at a time, following the cursor.
    const first = await h.call('GET', '/v1/hosts?health=unhealthy&limit=1');
    expect(first.body.items).toHaveLength(1);
    const second = await h.call('GET', `/v1/hosts?health=unhealthy&limit=1&cursor=${encodeURIComponent(first.body.nextCursor)}`);
    expect([...first.body.items, ...second.body.items].map((x: { id: string }) => x.id).sort()).toEqual([low, stopped].sort());
    // A health filter with another filter: both apply.
    const both = await h.call('GET', `/v1/hosts?health=unhealthy&status=approved&site=simulated`);
    expect(both.body.items.map((x: { id: string }) => x.id).sort()).toEqual([low, stopped].sort());

    const table = await cli(['hosts', 'list', '--health', 'unhealthy']);
    expect(table.code).toBe(0);
    expect(table.stdout.split('\n')[0]).toMatch(/PRESENCE\s+HEALTH\s+ADDRESS/);
    expect(table.stdout).toMatch(new RegExp(`^${stopped}\\s.*offline\\s+unhealthy\\s`, 'm'));
    expect(table.stdout).not.toContain(fine);
    const shown = await cli(['hosts', 'get', low]);
    expect(shown.stdout).toMatch(/Health:\s+unhealthy: state partition has 768 MiB free \(needs 2\.0 GiB\)/);
    expect(shown.stdout).toMatch(/State free:\s+768 MiB/);
    expect(shown.stdout).toMatch(/Boot:\s+active /);
  });

  it('recovers: the host back online and the disk freed make both healthy again', async () => {
    const [low, stopped] = ids as [string, string];
    fleet.host(low)!.kairos.failures.lowDiskMb = undefined;
    fleet.host(stopped)!.start();
    for (const id of [low, stopped]) await eventually(`${id} healthy again`, async () => (await healthOf(id))?.state === 'healthy', 30_000);
    expect((await h.call('GET', '/v1/hosts?health=unhealthy')).body.items).toEqual([]);
  });

  it('a host that never connected is stored unknown with why; ?health=unknown finds exactly it', async () => {
    expect((await h.call('POST', '/v1/hosts', { body: { uid: 'never-1', site: 'north' } })).status).toBe(201);
    const listed = (await h.call('GET', '/v1/hosts?health=unknown')).body.items;
    expect(listed.map((x: { id: string }) => x.id)).toEqual(['never-1']);
    expect(listed[0].health).toMatchObject({ state: 'unknown', reasons: ['host is pre-registered: it is not expected to report'] });
  });

  it('refuses a health filter that is not a health state, naming the valid ones', async () => {
    const r = await h.call('GET', '/v1/hosts?health=sick');
    expect(r.status).toBe(400);
    expect(JSON.stringify(r.body.errors)).toMatch(/healthy.*unhealthy.*unknown/);
    const c = await h.call('GET', '/v1/clusters?health=sick');
    expect(c.status).toBe(400);
    expect(JSON.stringify(c.body.errors)).toMatch(/degraded/);
  });
});
