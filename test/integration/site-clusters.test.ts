/**
 * Zero-touch site clusters end to end on the local runtime (issue 13): a cluster template, hosts of
 * one site registering with an auto-approve token (the real agent on simulated hosts), the
 * site's cluster created by the presence rule when its third host comes online — once, although
 * the second and third hosts connect at the same moment — and a fourth host joining as a worker.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
const fleets: SimulatedFleet[] = [];
let dir: string;

const IMG = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const LAYERS = [{ type: 'os', pack: 'ubuntu', version: '24.04', image: IMG }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }];
const SITE = 'shop-42';
const kairos = { rebootDelayMs: 100, k8sReadyDelayMs: 150 };
const join = async (prefix: string, count: number) => {
  const { fleet, ids } = await startFleet(h, { count, prefix, stateDir: dir, site: SITE, tags: { tier: 'edge' }, kairos });
  fleets.push(fleet);
  return ids;
};
const site = async () => (await h.call('GET', '/v1/sites')).body.items.find((s: { site: string }) => s.site === SITE);
const siteClusters = async () => (await h.call('GET', '/v1/clusters?limit=100')).body.items.filter((c: { site?: string }) => c.site === SITE);

beforeAll(async () => {
  // No host here is meant to time out. A step's bound must outlive one result invocation timing
  // out on a loaded machine (the results function's 10 s, then Lambda's retry, compressed to 3 s):
  // at 8 s, one did, and the site's upgrade rollout aborted in a full run.
  h = await startHarness({ hostTimeoutSeconds: 20, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-sites-it-'));
  expect((await h.call('POST', '/v1/profiles', { body: { name: 'edge' } })).status).toBe(201);
  expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version: '1.0.0', layers: LAYERS, publish: true } })).status).toBe(201);
  const t = await h.call('POST', '/v1/cluster-templates', { body: {
    name: 'shops', profile: { name: 'edge', version: '1.x' },
    topology: { minHosts: 3, controlPlane: [{ hosts: 1, size: 1 }], workerPool: 'pos' },
    selector: { site: 'shop-*', tags: { tier: 'edge' } },
    upgradePolicy: { maxUnavailable: 1, onFailure: 'rollback', maintenanceWindow: { days: ['mon'], start: '02:00', durationMinutes: 120 } },
  } });
  expect(t.status).toBe(201);
}, 120_000);

afterAll(async () => {
  for (const f of fleets) await f.stop();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

it('a site waits for its third host, then gets exactly one cluster from the template; a fourth host joins as a worker', async () => {
  await join('zt-a', 1);
  const waiting = await eventually('the site is seen, waiting', async () => {
    const s = await site();
    return s?.state === 'waiting' ? s : false;
  }, 30_000, 100);
  expect(waiting).toMatchObject({ template: 'shops', hosts: { seen: 1, online: 1 } });
  expect(waiting.reason).toMatch(/^waiting for 2 more hosts \(1 of 3 approved and online\)/);
  expect(await siteClusters()).toEqual([]);

  // The second and third hosts come online together: their checks race.
  await join('zt-b', 2);
  const created = await eventually('the site cluster is running', async () => {
    const cs = await siteClusters();
    return cs.length === 1 && cs[0].status === 'running' ? cs[0] : false;
  }, 120_000, 200);
  expect(created).toMatchObject({ name: SITE, templateId: 'shops', profile: { name: 'edge', version: '1.0.0' } });
  expect([...created.controlPlane.hostIds, ...created.workers.flatMap((w: { hostIds: string[] }) => w.hostIds)].sort()).toEqual(['zt-a-1', 'zt-b-1', 'zt-b-2']);
  const creates = (await h.call('GET', `/v1/operations?targetType=cluster&targetId=${created.id}&limit=100`)).body.items ?? [];
  expect(creates.filter((o: { type: string }) => o.type === 'create-cluster')).toHaveLength(1);
  const audit = await h.call('GET', `/v1/audit-events?resource=cluster/${created.id}`);
  expect(audit.body.items.filter((e: { action: string }) => e.action === 'cluster.create')).toEqual([expect.objectContaining({ actor: 'template:shops', outcome: 'success' })]);

  await join('zt-c', 1);
  const grown = await eventually('the fourth host is a worker of the cluster', async () => {
    const c = (await h.call('GET', `/v1/clusters/${created.id}`)).body;
    return c.status === 'running' && c.workers.some((w: { name: string; hostIds: string[] }) => w.name === 'pos' && w.hostIds.includes('zt-c-1')) ? c : false;
  }, 120_000, 200);
  expect(grown.id).toBe(created.id);
  expect(await siteClusters()).toHaveLength(1);
  expect((await h.call('GET', '/v1/hosts/zt-c-1')).body).toMatchObject({ status: 'in-cluster', clusterId: created.id });

  // A template bump rolls out to its attached cluster, in the template's window, in the site's time zone.
  const IMG2 = IMG.replace('v3.5.0', 'v3.6.0');
  for (const version of ['1.1.0', '1.2.0']) {
    expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version, layers: [{ ...LAYERS[0], image: IMG2 }, LAYERS[1]], publish: true } })).status).toBe(201);
  }
  expect((await h.call('PATCH', `/v1/sites/${SITE}`, { body: { timezone: 'Asia/Kolkata' } })).body.timezone).toBe('Asia/Kolkata');
  // A window on a day that is not today or tomorrow anywhere: the cluster waits for it.
  const days = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
  const closedDay = days[(new Date().getUTCDay() + 3) % 7]!;
  let tpl = (await h.call('GET', '/v1/cluster-templates/shops')).body;
  const rolloutPolicy = { waves: { canary: { clusters: 1 } }, upgrade: { maxUnavailable: 1 }, tickSeconds: 1 };
  tpl = (await h.call('PATCH', '/v1/cluster-templates/shops', { body: { version: tpl.version, upgradePolicy: { onFailure: 'rollback', maintenanceWindow: { days: [closedDay], start: '02:00', durationMinutes: 60 }, rollout: rolloutPolicy } } })).body;
  const bumped = await h.call('PATCH', '/v1/cluster-templates/shops', { body: { version: tpl.version, profile: { name: 'edge', version: '1.1.0' } } });
  expect(bumped.status).toBe(200);
  expect(bumped.body.rolloutId).toMatch(/^ro-/);
  const first = bumped.body.rolloutId;
  const waitingTarget = await eventually('the cluster waits for its window', async () => {
    const ts = (await h.call('GET', `/v1/rollouts/${first}/clusters`)).body.items;
    return ts?.[0]?.state === 'waiting' ? ts[0] : false;
  }, 60_000, 200);
  expect(waitingTarget.reason).toMatch(/outside its maintenance window/);
  // 02:00 in Kolkata (+05:30) is 20:30 UTC the day before.
  expect(waitingTarget.retryAt).toMatch(/T20:30:00\.000Z$/);
  expect(new Date(Date.parse(waitingTarget.retryAt) + 5.5 * 3600_000).getUTCDay()).toBe(days.indexOf(closedDay));
  // A new version while it rolls out is refused by default.
  const refused = await h.call('PATCH', '/v1/cluster-templates/shops', { body: { version: bumped.body.version, profile: { name: 'edge', version: '1.2.0' } } });
  expect(refused.status).toBe(409);
  expect(refused.body.code).toBe('rollout-in-progress');
  // supersede: the waiting rollout ends superseded, the new one (window always open) upgrades the cluster.
  tpl = (await h.call('PATCH', '/v1/cluster-templates/shops', { body: { version: bumped.body.version, upgradePolicy: { onFailure: 'rollback', onNewVersion: 'supersede', maintenanceWindow: { start: '00:00', durationMinutes: 1440 }, rollout: rolloutPolicy } } })).body;
  const second = (await h.call('PATCH', '/v1/cluster-templates/shops', { body: { version: tpl.version, profile: { name: 'edge', version: '1.2.0' } } })).body.rolloutId;
  expect(second).not.toBe(first);
  const ended = await eventually('the second rollout ends', async () => {
    const r = (await h.call('GET', `/v1/rollouts/${second}`)).body;
    return ['succeeded', 'incomplete', 'aborted', 'cancelled', 'failed'].includes(r.status) ? r : false;
  }, 180_000, 200);
  expect(ended).toMatchObject({ status: 'succeeded', to: { version: '1.2.0' }, counts: { succeeded: 1 } });
  expect((await h.call('GET', `/v1/rollouts/${first}`)).body).toMatchObject({ status: 'superseded', supersededBy: second });
  expect((await h.call('GET', `/v1/clusters/${created.id}`)).body.profile.version).toBe('1.2.0');

  // Attached: the template cannot go while the cluster is; detach, then it can.
  expect((await h.call('DELETE', '/v1/cluster-templates/shops')).status).toBe(409);
  expect((await h.call('POST', `/v1/clusters/${created.id}/detach`, { body: {} })).body.templateId).toBeUndefined();
  expect((await h.call('DELETE', '/v1/cluster-templates/shops')).body).toEqual({ detached: [] });
}, 300_000);
