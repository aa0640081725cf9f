/**
 * Rolling upgrades end to end on the local runtime: the synthesized upgrade state machine,
 * simulated hosts running the real agent (Kairos A/B partitions, reboots, a simulated
 * Kubernetes API with an availability timeline), the post-boot health gate on every node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;
const N = 12;

const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;
const OLD = image('v3.5.0', '1.30.4');
const NEW = image('v3.6.0', '1.31.2');
const layers = (img: string, k3s: string, values?: string) => [
  { type: 'os', pack: 'ubuntu', version: '24.04', image: img },
  { type: 'k8s', pack: 'k3s', version: k3s, ...(values ? { values } : {}) },
];

beforeAll(async () => {
  h = await startHarness({ hostTimeoutSeconds: 8, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-upgrades-it-'));
  // Installed with the 1.0.0 image: a create finds them at it (no repave).
  ({ fleet } = await startFleet(h, { count: N, prefix: 'up', stateDir: dir, kairos: { version: 'v3.5.0', image: OLD, rebootDelayMs: 150, k8sReadyDelayMs: 200 } }));
  await h.call('POST', '/v1/profiles', { body: { name: 'edge' } });
  for (const [version, l] of [['1.0.0', layers(OLD, '1.30.4')], ['2.0.0', layers(NEW, '1.31.2')], ['2.1.0', layers(NEW, '1.31.2', 'node-label:\n  - tier=b\n')]] as const) {
    expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version, layers: l, publish: true } })).status).toBe(201);
  }
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function ended(operationId: string, ms = 90_000): Promise<any> {
  return eventually(`operation ${operationId} ends`, async () => {
    const r = await h.call('GET', `/v1/operations/${operationId}`);
    return ['succeeded', 'failed', 'cancelled', 'paused'].includes(r.body?.status) ? r.body : false;
  }, ms, 100);
}

async function cluster(name: string, cp: string[], workers: string[] = []): Promise<string> {
  const r = await h.call('POST', '/v1/clusters', {
    body: { name, profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: cp }, ...(cp.length > 1 ? { vip: '10.0.0.50' } : {}), ...(workers.length ? { workers: [{ name: 'w', hostIds: workers }] } : {}) },
  });
  expect(r.status).toBe(202);
  expect((await ended(r.body.operationId)).status).toBe('succeeded');
  // Every node has reported its kubelet version (the planner reads it).
  await eventually('status reports', async () => {
    for (const id of [...cp, ...workers]) {
      const s = await h.rt.iot.deps.status.get(id);
      if (!(s?.content as any)?.kubernetes?.version) return false;
    }
    return true;
  });
  return r.body.id;
}

const upgrade = (clusterId: string, body: Record<string, unknown>, headers?: Record<string, string>) =>
  h.call('POST', `/v1/clusters/${clusterId}/upgrades`, { body, ...(headers ? { headers } : {}) });
const node = (id: string) => fleet.host(id)!.kairos;
const upgrades = (id: string) => node(id).calls.filter((c) => c.startsWith('upgrade ')).length;

async function expectAtTarget(id: string, kairos: string, kubelet: string) {
  const s = await node(id).state();
  expect(s).toMatchObject({ boot: 'active', kairosVersion: kairos });
  expect(s.kubernetes).toMatchObject({ ready: true });
  expect(s.kubernetes?.version).toMatch(new RegExp(`^${kubelet.replace(/\./g, '\\.')}`));
}

describe('rolling upgrades', () => {
  it('3 control-plane nodes: one at a time, every node passes the gate, never more than one out, quorum kept', async () => {
    const cp = ['up-1', 'up-2', 'up-3'];
    const id = await cluster('three', cp);
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    expect(r.status).toBe(202);
    expect(r.body.input.plan.behaviour).toBe('repave');
    expect(r.body.input.plan.controlPlane.map((n: any) => n.hostId)).toEqual(cp);
    const dup = await upgrade(id, { to: { version: '2.0.0' } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('cluster-busy');
    const op = await ended(r.body.id);
    expect(op).toMatchObject({ status: 'succeeded' });
    for (const n of cp) {
      expect(op.hosts[n]).toMatchObject({ status: 'succeeded', step: 'uncordon' });
      await expectAtTarget(n, 'v3.6.0', 'v1.31.2');
      expect(upgrades(n)).toBe(1);
    }
    const c = (await h.call('GET', `/v1/clusters/${id}`)).body;
    expect(c).toMatchObject({ status: 'running', profile: { name: 'edge', version: '2.0.0' } });
    expect(fleet.kubernetes.maxConcurrentUnavailable(cp, t0, Date.now())).toBe(1);
    expect(fleet.kubernetes.minAvailable(cp, t0, Date.now())).toBeGreaterThanOrEqual(2);
    const got = await h.call('GET', `/v1/clusters/${id}/upgrades/${r.body.id}`);
    expect(got.body).toMatchObject({ id: r.body.id, type: 'upgrade-cluster', status: 'succeeded' });
  }, 120_000);

  it('3 control plane + 2 workers: control plane first, then workers one at a time; availability invariant over the whole run', async () => {
    const cp = ['up-4', 'up-5', 'up-6'];
    const workers = ['up-7', 'up-8'];
    const id = await cluster('five', cp, workers);
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' }, maxUnavailable: 1 });
    expect(r.status).toBe(202);
    const op = await ended(r.body.id);
    expect(op).toMatchObject({ status: 'succeeded' });
    for (const n of [...cp, ...workers]) await expectAtTarget(n, 'v3.6.0', 'v1.31.2');
    const all = [...cp, ...workers];
    expect(fleet.kubernetes.maxConcurrentUnavailable(all, t0, Date.now())).toBe(1);
    expect(fleet.kubernetes.minAvailable(cp, t0, Date.now())).toBeGreaterThanOrEqual(2);
    // Workers only after the whole control plane.
    const firstWorkerDown = Math.min(...workers.map((w) => fleet.kubernetes.timeline.find((e) => e.node === w && !e.available && e.at >= t0)!.at));
    const lastCpBack = Math.max(...cp.map((n) => fleet.kubernetes.timeline.filter((e) => e.node === n && e.available && e.at >= t0).at(-1)!.at));
    expect(lastCpBack).toBeLessThanOrEqual(firstWorkerDown);

    // A service-restart change takes the short path: no reboot, no new image.
    const before = all.map(upgrades);
    const restart = await upgrade(id, { to: { version: '2.1.0' } });
    expect(restart.body.input.plan.behaviour).toBe('service-restart');
    const restarted = await ended(restart.body.id);
    expect({ status: restarted.status, reason: restarted.reason }).toEqual({ status: 'succeeded', reason: undefined });
    expect(all.map(upgrades)).toEqual(before);
  }, 150_000);

  it('a single-node cluster: downtime must be acknowledged; then it upgrades through one reboot', async () => {
    const id = await cluster('single', ['up-9']);
    // The dry run: the plan and the refusal, and nothing changes (cluster, operations, audit, Idempotency-Key records, the node).
    const look = async () => ({
      cluster: (({ status, profile, operationId, activeOperationId }: any) => ({ status, profile, operationId, activeOperationId }))((await h.call('GET', `/v1/clusters/${id}`)).body),
      operations: (await h.call('GET', `/v1/operations?targetType=cluster&targetId=${id}`)).body.items.map((o: any) => `${o.id} ${o.status}`),
      audit: (await h.call('GET', `/v1/audit-events?resource=${encodeURIComponent(`cluster/${id}`)}`)).body.items.length,
    });
    const before = await look();
    const key = { 'idempotency-key': `dry-run-${id}` };
    const dry = await upgrade(id, { to: { version: '2.0.0' }, dryRun: true }, key);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, clusterId: id, wouldStart: false, from: { version: '1.0.0' }, to: { version: '2.0.0' }, refusal: { code: 'downtime-not-acknowledged' }, order: [['up-9']] });
    expect(dry.body.plan).toMatchObject({ behaviour: 'repave', downtime: { expected: true }, controlPlane: [{ hostId: 'up-9', steps: expect.arrayContaining([{ step: 'upgrade', on: 'node' }]) }] });
    const acknowledged = await upgrade(id, { to: { version: '2.0.0' }, acknowledgeDowntime: true, dryRun: true }, key);
    expect(acknowledged.status).toBe(200);
    expect(acknowledged.body).toMatchObject({ wouldStart: true, order: [['up-9']] });
    expect(acknowledged.body.refusal).toBeUndefined();
    expect(await look()).toEqual(before);
    expect(upgrades('up-9')).toBe(0);
    // A request that is itself wrong is refused as the upgrade would be.
    expect((await upgrade(id, { to: { version: '9.9.9' }, dryRun: true })).status).toBe(400);
    // The key of the dry runs was not kept: a real request with it (another body) is not a reuse.
    const reuse = await upgrade(id, { to: { version: '2.0.0' } }, key);
    expect(reuse.body.code).toBe('downtime-not-acknowledged');
    const refused = await upgrade(id, { to: { version: '2.0.0' } });
    expect(refused.status).toBe(409);
    expect(refused.body.code).toBe('downtime-not-acknowledged');
    expect(refused.body.detail).toMatch(/acknowledge/i);
    const r = await upgrade(id, { to: { version: '2.0.0' }, acknowledgeDowntime: true });
    expect(r.status).toBe(202);
    expect(r.body.input.plan.downtime.expected).toBe(true);
    expect((await ended(r.body.id)).status).toBe('succeeded');
    await expectAtTarget('up-9', 'v3.6.0', 'v1.31.2');
  }, 120_000);
});

describe('failures', () => {
  it('a node that falls back to passive halts the upgrade; the nodes before it are rolled back, each verified', async () => {
    const cp = ['up-10', 'up-11', 'up-12'];
    const id = await cluster('fallback', cp);
    node('up-11').setFailures({ failImages: [NEW] });
    const r = await upgrade(id, { to: { version: '2.0.0' }, onFailure: 'rollback' });
    const op = await ended(r.body.id);
    expect(op.status).toBe('failed');
    expect(op.reason).toContain('up-11');
    expect(op.reason).toMatch(/passive/);
    expect(upgrades('up-12')).toBe(0); // the upgrade stopped at node 2 of 3
    const rollbackId = op.input.rolledBackBy;
    expect(rollbackId).toMatch(/^op-/);
    const rb = await ended(rollbackId);
    expect(rb).toMatchObject({ status: 'succeeded', input: { rollbackOf: r.body.id } });
    await expectAtTarget('up-10', 'v3.5.0', 'v1.30.4');
    await expectAtTarget('up-11', 'v3.5.0', 'v1.30.4');
    const c = (await h.call('GET', `/v1/clusters/${id}`)).body;
    expect(c).toMatchObject({ status: 'running', profile: { version: '1.0.0' } });
    expect(c.statusReason).toMatch(/rolled back/);
    node('up-11').setFailures({ failImages: [] });
  }, 150_000);

  it('policy pause: a node that never comes back times out, the upgrade pauses with the reason; resume finishes it', async () => {
    const list = (await h.call('GET', '/v1/clusters')).body.items;
    const id = list.find((c: any) => c.name === 'fallback').id;
    node('up-10').setFailures({ neverReturns: true });
    const r = await upgrade(id, { to: { version: '2.0.0' }, onFailure: 'pause' });
    const op = await ended(r.body.id);
    expect(op.status).toBe('paused');
    expect(op.reason).toMatch(/up-10/);
    expect((await h.call('GET', `/v1/clusters/${id}`)).body.status).toBe('degraded');
    // The host comes back; resume continues from its real state: it is not upgraded again.
    node('up-10').setFailures({ neverReturns: false });
    node('up-10').stop(); // power-cycled: the process that hung in the dark reboot is gone
    await fleet.host('up-10')!.stop();
    fleet.host('up-10')!.start();
    await eventually('up-10 back', async () => (await h.rt.deps.hosts.get('up-10'))?.presence === 'online');
    const resumed = await h.call('POST', `/v1/clusters/${id}/upgrades/${r.body.id}/resume`);
    expect(resumed.status).toBe(202);
    const after = await ended(r.body.id);
    expect({ status: after.status, reason: after.reason }).toEqual({ status: 'succeeded', reason: '' });
    for (const n of ['up-10', 'up-11', 'up-12']) await expectAtTarget(n, 'v3.6.0', 'v1.31.2');
  }, 150_000);

  it('a maintenance window holds the upgrade until its start', async () => {
    const list = (await h.call('GET', '/v1/clusters')).body.items;
    const id = list.find((c: any) => c.name === 'five').id;
    const start = new Date(Date.now() + 3000).toISOString();
    const r = await upgrade(id, { to: { version: '2.0.0' }, maintenanceWindow: { start, end: new Date(Date.now() + 600_000).toISOString() } });
    expect(r.status).toBe(202);
    await new Promise((res) => setTimeout(res, 1000));
    expect((await h.call('GET', `/v1/operations/${r.body.id}`)).body).toMatchObject({ status: 'queued', step: 'queued' });
    const op = await ended(r.body.id);
    expect(op).toMatchObject({ status: 'succeeded' });
    expect(Date.parse(op.updatedAt)).toBeGreaterThanOrEqual(Date.parse(start));
  }, 60_000);

  it('cancel stops an upgrade; the cluster says it is degraded and why', async () => {
    const list = (await h.call('GET', '/v1/clusters')).body.items;
    const id = list.find((c: any) => c.name === 'single').id;
    const r = await upgrade(id, { to: { version: '2.1.0' } });
    const cancelled = await h.call('POST', `/v1/clusters/${id}/upgrades/${r.body.id}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.status).toBe('cancelled');
    const c = (await h.call('GET', `/v1/clusters/${id}`)).body;
    expect(c.status).toBe('degraded');
    expect(c.statusReason).toMatch(/cancelled/);
    expect(c.activeOperationId).toBeUndefined();
  }, 60_000);
});
