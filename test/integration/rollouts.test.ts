/**
 * Fleet rollouts end to end on the local runtime (issue 13): the synthesized Rollout state
 * machine ticking over single-node simulated clusters, each upgraded by its own upgrade-cluster
 * execution with the real agent. Invariants over every cluster of the run: no cluster outside
 * the rollout's progress is touched, a failed cluster ends rolled back to the old image, and a
 * rollout never reports succeeded while any target did not pass its gate.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatedFleet } from '../../simulator/index.js';
import { EXIT } from '../../cli/errors.js';
import { runCli } from '../../cli/program.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;
const N = 20;

const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;
const OLD = image('v3.5.0', '1.30.4');
const NEW = image('v3.6.0', '1.31.2');
const layers = (img: string, k3s: string) => [{ type: 'os', pack: 'ubuntu', version: '24.04', image: img }, { type: 'k8s', pack: 'k3s', version: k3s }];
const ids = Array.from({ length: N }, (_, i) => `ro-${i + 1}`);
const clusterOf = new Map<string, string>();
const node = (id: string) => fleet.host(id)!.kairos;
const upgradeCalls = (id: string) => node(id).calls.filter((c) => c.startsWith('upgrade ')).length;

beforeAll(async () => {
  // Host steps here take well under a second on a quiet machine; the timeout only bounds a stuck
  // one, and no host here is meant to get stuck (failures are injected as failed images). With 20
  // creates at once beside another test file on 2 cores, an init step took over 30 s.
  h = await startHarness({ hostTimeoutSeconds: 60, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-rollouts-it-'));
  ({ fleet } = await startFleet(h, { count: N, prefix: 'ro', stateDir: dir, kairos: { version: 'v3.5.0', image: OLD, rebootDelayMs: 100, k8sReadyDelayMs: 1000 } }));
  await h.call('POST', '/v1/profiles', { body: { name: 'edge' } });
  expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version: '1.0.0', layers: layers(OLD, '1.30.4'), publish: true } })).status).toBe(201);
  expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version: '2.0.0', layers: layers(NEW, '1.31.2'), publish: true } })).status).toBe(201);
  const ops: string[] = [];
  for (const id of ids) {
    const r = await h.call('POST', '/v1/clusters', { body: { name: `c-${id}`, profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: [id] } } });
    expect(r.status).toBe(202);
    clusterOf.set(id, r.body.id);
    ops.push(r.body.operationId);
  }
  const outcomes: string[] = [];
  for (const op of ops) {
    const ended = await eventually(`create ${op}`, async () => {
      const o = (await h.call('GET', `/v1/operations/${op}`)).body;
      return ['succeeded', 'failed', 'cancelled'].includes(o.status) ? o : false;
    }, 180_000, 200);
    outcomes.push(`${op}: ${ended.status}${ended.reason ? ` (${ended.reason})` : ''}`);
  }
  // Every outcome at once, with the local Lambda retries seen, when one create did not succeed.
  expect({ outcomes, asyncRetries: h.rt.asyncRetries.stats }).toEqual({ outcomes: ops.map((op) => `${op}: succeeded`), asyncRetries: expect.anything() });
  await eventually('kubelet versions reported', async () => {
    for (const id of ids) if (!((await h.rt.iot.deps.status.get(id))?.content as any)?.kubernetes?.version) return false;
    return true;
  }, 30_000, 100);
}, 300_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const ENDED = ['succeeded', 'incomplete', 'aborted', 'cancelled', 'superseded', 'failed'];
async function rolloutEnded(id: string, ms = 120_000): Promise<any> {
  let last: unknown;
  return eventually(`rollout ${id} ends`, async () => {
    const r = (await h.call('GET', `/v1/rollouts/${id}`)).body;
    last = r;
    return ENDED.includes(r.status) ? r : false;
  }, ms, 200).catch((e) => { throw new Error(`${(e as Error).message}; last seen: ${JSON.stringify(last)}; targets: ${JSON.stringify(targetsSeen)}`); });
}
let targetsSeen: unknown;
const targets = async (id: string) => (await h.call('GET', `/v1/rollouts/${id}/clusters?limit=100`)).body.items as any[];

describe('fleet rollouts', () => {
  it('an injected failure rate aborts the rollout after its wave: failed clusters are rolled back and verified, no later cluster is touched', async () => {
    const group = ids.slice(0, 10);
    // Canary 1, then 2, 4, 3: the second wave (2 clusters) has both failing → 2 of 3 finished failed.
    for (const id of group.slice(1, 3)) node(id).setFailures({ failImages: [NEW] });
    const r = await h.call('POST', '/v1/rollouts', { body: {
      targets: { clusterIds: group.map((x) => clusterOf.get(x)) }, to: { name: 'edge', version: '2.0.0' },
      policy: { waves: { canary: { clusters: 1 }, growth: 2, maxConcurrent: 4 }, abort: { failurePercent: 50, minFinished: 3 }, upgrade: { acknowledgeDowntime: true }, tickSeconds: 1 },
    } });
    expect(r.status).toBe(202);
    targetsSeen = undefined;
    setTimeout(async () => { targetsSeen = await targets(r.body.id).catch(() => 'x'); }, 60_000).unref();
    const done = await rolloutEnded(r.body.id);
    for (const id of group.slice(1, 3)) node(id).setFailures({ failImages: [] });
    expect(done.status).toBe('aborted');
    expect(done.reason).toMatch(/2 of 3 finished clusters failed/);
    expect(done.waves.map((w: any) => w.size)).toEqual([1, 2, 4, 3]);
    expect(done.counts).toMatchObject({ succeeded: 1, failed: 2, running: 0, pending: 7 });
    const ts = await targets(r.body.id);
    for (const t of ts.filter((x) => x.state === 'failed')) {
      expect(t.reason).toMatch(/rolled back and verified/);
      expect(t.rollbackOperationId).toBeDefined();
    }
    // Failed clusters: back on the old image, active partition, Ready.
    for (const id of group.slice(1, 3)) expect(await node(id).state()).toMatchObject({ boot: 'active', kairosVersion: 'v3.5.0' });
    // No cluster after the aborting wave was touched: no upgrade call, no operation.
    for (const id of group.slice(3)) {
      expect(upgradeCalls(id)).toBe(0);
      const ops = (await h.call('GET', `/v1/operations?targetType=cluster&targetId=${clusterOf.get(id)}&limit=100`)).body.items;
      expect(ops.filter((o: any) => o.type === 'upgrade-cluster')).toEqual([]);
    }
    expect(ts.filter((t) => t.state === 'pending').map((t) => t.clusterId).sort()).toEqual(group.slice(3).map((x) => clusterOf.get(x)).sort());
  }, 300_000);

  it('a canary then growing waves over 10 clusters; two offline clusters are deferred and skipped while the rest finish; pause and resume hold starts', async () => {
    const group = ids.slice(10);
    const offline = group.slice(4, 6);
    for (const id of offline) await fleet.host(id)!.stop();
    await eventually('offline hosts seen offline', async () => {
      for (const id of offline) if ((await h.call('GET', `/v1/hosts/${id}`)).body.presence !== 'offline') return false;
      return true;
    }, 30_000, 100);
    const r = await h.call('POST', '/v1/rollouts', { body: {
      name: 'spring', targets: { clusterIds: group.map((x) => clusterOf.get(x)) }, to: { name: 'edge', version: '2.x' },
      policy: {
        waves: { canary: { clusters: 1 }, promotion: 'manual', growth: 2, maxConcurrent: 4 }, upgrade: { acknowledgeDowntime: true },
        deferral: { retryMinutes: 0.02, giveUpMinutes: 0.2 }, tickSeconds: 1,
      },
    } });
    expect(r.status).toBe(202);
    expect(r.body.to).toEqual({ name: 'edge', version: '2.0.0' });
    const id = r.body.id;
    // Manual promotion: the canary settles, then nothing else starts until promoted.
    const waiting = await eventually('waiting for promotion', async () => {
      const x = (await h.call('GET', `/v1/rollouts/${id}`)).body;
      return /waiting for promotion/.test(x.reason) ? x : false;
    }, 120_000, 200);
    expect(waiting.counts).toMatchObject({ succeeded: 1, running: 0 });
    expect(group.slice(1).filter((x) => upgradeCalls(x) > 0)).toEqual([]);
    // Pause before promoting: promote is accepted, but nothing starts until resume.
    expect((await h.call('POST', `/v1/rollouts/${id}/pause`, { body: {} })).body.status).toBe('paused');
    expect((await h.call('POST', `/v1/rollouts/${id}/promote`, { body: {} })).status).toBe(200);
    await new Promise((res) => setTimeout(res, 2500));
    expect(group.slice(1).filter((x) => upgradeCalls(x) > 0)).toEqual([]);
    expect((await h.call('POST', `/v1/rollouts/${id}/resume`, { body: { reason: 'canary looks good' } })).body.status).toBe('running');
    const done = await rolloutEnded(id);
    expect(done.status).toBe('incomplete');
    expect(done.counts).toMatchObject({ succeeded: 8, skipped: 2, failed: 0, running: 0, pending: 0 });
    const ts = await targets(id);
    for (const t of ts) {
      const host = group.find((x) => clusterOf.get(x) === t.clusterId)!;
      if (offline.includes(host)) {
        expect(t).toMatchObject({ state: 'skipped' });
        expect(t.reason).toMatch(/gave up after .* deferred \(last: offline: /);
        expect(upgradeCalls(host)).toBe(0);
      } else {
        expect(t.state).toBe('succeeded');
        expect(await node(host).state()).toMatchObject({ boot: 'active', kairosVersion: 'v3.6.0' });
      }
    }
    for (const x of offline) fleet.host(x)!.start();
    // The CLI against the real API: watch of an ended rollout prints the summary and exits 8 (incomplete).
    const out: string[] = [];
    const code = await runCli(['rollouts', 'watch', id], {
      env: { EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: h.rt.adminToken, HOME: dir, EDGEFLEET_CONFIG: path.join(dir, 'cli.json') },
      stdout: (x) => out.push(x), stderr: (x) => out.push(x), cwd: dir,
    });
    expect(code).toBe(EXIT.rolloutIncomplete);
    const text = out.join('');
    expect(text).toContain('incomplete');
    for (const x of offline) expect(text).toContain(clusterOf.get(x)!);
    expect(text).toContain(`edgefleet rollouts clusters ${id} --state skipped`);
    // The audit trail names the rollout's actions.
    const audit = (await h.call('GET', `/v1/audit-events?resource=rollout/${id}`)).body.items.map((e: any) => e.action);
    expect(audit).toEqual(expect.arrayContaining(['rollout.create', 'rollout.pause', 'rollout.promote', 'rollout.resume', 'rollout.incomplete']));
  }, 300_000);

  it('cancel: the canary finishes, nothing else starts, the rollout ends cancelled naming what was not started', async () => {
    // Clusters the abort test left untouched (still on 1.0.0).
    const group = ids.slice(3, 8);
    const r = await h.call('POST', '/v1/rollouts', { body: {
      targets: { clusterIds: group.map((x) => clusterOf.get(x)) }, to: { name: 'edge', version: '2.0.0' },
      policy: { waves: { canary: { clusters: 1 }, promotion: 'manual' }, upgrade: { acknowledgeDowntime: true }, tickSeconds: 1 },
    } });
    expect(r.status).toBe(202);
    await eventually('waiting for promotion', async () => /waiting for promotion/.test((await h.call('GET', `/v1/rollouts/${r.body.id}`)).body.reason), 120_000, 200);
    const cancelled = await h.call('POST', `/v1/rollouts/${r.body.id}/cancel`, { body: { reason: 'wrong version' } });
    expect(cancelled.status).toBe(200);
    const done = await rolloutEnded(r.body.id);
    expect(done.status).toBe('cancelled');
    expect(done.reason).toMatch(/1 of 5 clusters upgraded, 0 failed, 0 skipped, 4 not started/);
    expect(group.slice(1).filter((x) => upgradeCalls(x) > 0)).toEqual([]);
    expect((await h.call('POST', `/v1/rollouts/${r.body.id}/resume`, { body: {} })).status).toBe(409);
  }, 300_000);

  it('bad input on every rollout route is a 4xx problem and changes nothing', async () => {
    const before = (await h.call('GET', '/v1/rollouts?limit=100')).body.items.length;
    const bad: [string, string, unknown][] = [
      ['POST', '/v1/rollouts', { targets: {}, to: { version: '2.0.0', name: 'edge' } }],
      ['POST', '/v1/rollouts', { targets: { clusterIds: ['x'] }, to: { version: 'latest', name: 'edge' } }],
      ['POST', '/v1/rollouts', { targets: { clusterIds: ['x'] }, to: { version: '9.0.0', name: 'edge' } }],
      ['POST', '/v1/rollouts', { targets: { clusterIds: ['x'] }, to: { version: '2.0.0' } }],
      ['POST', '/v1/rollouts', { targets: { clusterIds: ['x'] }, to: { version: '2.0.0', name: 'edge' }, policy: { waves: { canary: { clusters: 1, percent: 5 } } } }],
      ['POST', '/v1/rollouts', { targets: { template: 'nope' }, to: { version: '2.0.0' } }],
      ['POST', '/v1/rollouts', { targets: { clusterIds: ['x'] }, to: { version: '2.0.0', name: 'edge' }, extra: 1 }],
      ['POST', '/v1/rollouts', { targets: { clusterIds: ['x', 'x'] }, to: { version: '2.0.0', name: 'edge' } }],
      ['POST', '/v1/rollouts', { targets: { clusterList: { count: 1 } }, to: { version: '2.0.0', name: 'edge' } }],
      ['GET', '/v1/rollouts/ro-missing', undefined],
      ['GET', '/v1/rollouts?status=bogus', undefined],
      ['GET', '/v1/rollouts?cursor=tampered', undefined],
      ['POST', '/v1/rollouts/ro-missing/pause', {}],
      ['POST', '/v1/rollouts/ro-missing/cancel', { reason: 5 }],
      ['PATCH', '/v1/sites/shop-1', { timezone: 'Mars/Olympus' }],
      ['PATCH', '/v1/sites/shop-1', { timezone: 'UTC', x: 1 }],
    ];
    for (const [method, url, body] of bad) {
      const r = await h.call(method as any, url, body === undefined ? {} : { body });
      expect({ url, body, status: r.status, type: r.headers.get('content-type') }).toEqual({ url, body, status: expect.any(Number), type: expect.stringContaining('application/problem+json') });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.status).toBeLessThan(500);
    }
    expect((await h.call('GET', '/v1/rollouts?limit=100')).body.items.length).toBe(before);
    expect((await h.call('PATCH', '/v1/sites/shop-1', { body: { timezone: 'Europe/Paris' } })).body).toMatchObject({ site: 'shop-1', timezone: 'Europe/Paris' });
  }, 60_000);
});
