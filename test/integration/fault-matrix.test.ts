/**
 * Zero downtime under faults: rolling upgrades on the local runtime (synthesized state
 * machines, the real agent on simulated Kairos hosts sharing one simulated Kubernetes API) with
 * faults injected through the simulator. Every case asserts, over the whole run and for EVERY
 * node of its cluster (not only the ones the upgrade touched):
 * - the availability timeline never has more than maxUnavailable nodes out, and the control
 *   plane keeps quorum;
 * - no command of an operation starts on any host after that operation ended, paused or was
 *   cancelled (also not after the host reconnects);
 * - when the cluster says `running`, no node is cordoned and every node runs the image of the
 *   cluster's profile version, booted active.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatedFleet } from '../../simulator/index.js';
import type { TransportFactory } from '../../device/transport.js';
import { sdkTransportFactory } from '../../device/transport-sdk.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;

const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;
const OLD = image('v3.5.0', '1.30.4');
const MID = image('v3.5.5', '1.30.4');
const NEW = image('v3.6.0', '1.31.2');
const IMAGE_OF: Record<string, string> = { '1.0.0': OLD, '1.5.0': MID, '2.0.0': NEW };

/** Hosts of each case (fm-1 … fm-27); slow reboots where a case pauses or cancels during one. */
const HOSTS = 27;
const SLOW_REBOOT = new Set(['fm-14', 'fm-17', 'fm-21']);
const NEWER_POOL_HOST = 'fm-27';

/** Every result an agent publishes, with the time it left the host. */
const published: Array<{ host: string; commandId: string; phase: string; at: number }> = [];
const recording: TransportFactory = (settings) => {
  const t = sdkTransportFactory({ ...settings, minReconnectMs: 200, maxReconnectMs: 1000 });
  const publish = t.publish.bind(t);
  t.publish = async (topic, payload) => {
    const m = /^edgefleet\/hosts\/([^/]+)\/results$/.exec(topic);
    if (m) {
      const body = JSON.parse(payload) as { commandId: string; phase: string };
      published.push({ host: m[1]!, commandId: body.commandId, phase: body.phase, at: Date.now() });
    }
    await publish(topic, payload);
  };
  return t;
};

beforeAll(async () => {
  h = await startHarness({ hostTimeoutSeconds: 8, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-fault-matrix-'));
  ({ fleet } = await startFleet(h, {
    count: HOSTS, prefix: 'fm', stateDir: dir, transportFactory: recording,
    kairos: { version: 'v3.5.0', image: OLD, rebootDelayMs: 150, k8sReadyDelayMs: 200 },
    perHost: (uid) => (uid === NEWER_POOL_HOST ? { version: 'v3.6.0', image: NEW } : SLOW_REBOOT.has(uid) ? { rebootDelayMs: 2500 } : undefined),
  }));
  await h.call('POST', '/v1/profiles', { body: { name: 'edge' } });
  for (const [version, img, k3s] of [['1.0.0', OLD, '1.30.4'], ['1.5.0', MID, '1.30.4'], ['2.0.0', NEW, '1.31.2']] as const) {
    const r = await h.call('POST', '/v1/profiles/edge/versions', {
      body: { version, publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04', image: img }, { type: 'k8s', pack: 'k3s', version: k3s }] },
    });
    expect(r.status).toBe(201);
  }
}, 180_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const hosts = (from: number, n: number) => Array.from({ length: n }, (_, i) => `fm-${from + i}`);
const kairos = (id: string) => fleet.host(id)!.kairos;
const upgradesOf = (id: string) => kairos(id).calls.filter((c) => c.startsWith('upgrade ')).length;
const get = async (p: string) => (await h.call('GET', p)).body;

async function settled(operationId: string, ms = 90_000): Promise<any> {
  return eventually(`operation ${operationId} ends or pauses`, async () => {
    const op = await get(`/v1/operations/${operationId}`);
    return ['succeeded', 'failed', 'cancelled', 'paused'].includes(op?.status) ? { ...op, seenAt: Date.now() } : false;
  }, ms, 50);
}

async function cluster(name: string, cp: string[], workers: string[] = [], version = '1.0.0'): Promise<string> {
  const r = await h.call('POST', '/v1/clusters', {
    body: {
      name, profile: { name: 'edge', version }, controlPlane: { hostIds: cp }, ...(cp.length > 1 ? { vip: '10.0.0.60' } : {}),
      ...(workers.length ? { workers: [{ name: 'w', hostIds: workers }] } : {}),
    },
  });
  expect(r.status).toBe(202);
  // The reason is part of the comparison so that a failure says why.
  const created = await settled(r.body.operationId);
  expect({ status: created.status, reason: created.reason }).toEqual({ status: 'succeeded', reason: undefined });
  await eventually(`${name}: every node reported Kubernetes`, async () => {
    for (const id of [...cp, ...workers]) if (!((await h.rt.iot.deps.status.get(id))?.content as any)?.kubernetes?.version) return false;
    return true;
  });
  return r.body.id;
}

const upgrade = (clusterId: string, body: Record<string, unknown>) => h.call('POST', `/v1/clusters/${clusterId}/upgrades`, { body });

/** When each operation stopped acting: its server end time, or when it was first seen paused. */
const ends = new Map<string, number>();
function ended(op: any): void {
  const at = op.endedAt ? Date.parse(op.endedAt) : op.seenAt;
  if (!ends.has(op.id) || at < ends.get(op.id)!) ends.set(op.id, at);
}

/** The invariants, over the whole run [t0, now] and every node of the cluster. */
async function invariants(c: { id: string; cp: string[]; workers?: string[]; t0: number; maxUnavailable?: number }): Promise<void> {
  const nodes = [...c.cp, ...(c.workers ?? [])];
  const t1 = Date.now();
  const budget = c.maxUnavailable ?? 1;
  expect(fleet.kubernetes.maxConcurrentUnavailable(nodes, c.t0, t1)).toBeLessThanOrEqual(budget);
  if (c.cp.length >= 3) expect(fleet.kubernetes.minAvailable(c.cp, c.t0, t1)).toBeGreaterThanOrEqual(Math.floor(c.cp.length / 2) + 1);
  // No command of an ended (or paused) operation started on any host after it ended.
  for (const p of published.filter((x) => x.phase === 'accepted' && nodes.includes(x.host) && x.at >= c.t0)) {
    const cmd = await h.rt.iot.deps.commands.get(p.host, p.commandId);
    const end = cmd?.operationId ? ends.get(cmd.operationId) : undefined;
    if (end !== undefined) expect({ command: p.commandId, on: p.host, startedAfterEnd: p.at > end }).toEqual({ command: p.commandId, on: p.host, startedAfterEnd: false });
  }
  const cl = await get(`/v1/clusters/${c.id}`);
  if (cl.status === 'running') {
    for (const n of nodes) {
      expect({ node: n, cordoned: fleet.kubernetes.node(n)?.cordoned }).toEqual({ node: n, cordoned: false });
      const s = await kairos(n).state();
      expect({ node: n, boot: s.boot, image: s.image }).toEqual({ node: n, boot: 'active', image: IMAGE_OF[cl.profile.version] });
    }
  }
}

/** Accepted commands of this operation after `since` (none may start once it ended). */
async function startedSince(opId: string, since: number): Promise<string[]> {
  const out: string[] = [];
  for (const p of published.filter((x) => x.phase === 'accepted' && x.at > since)) {
    if ((await h.rt.iot.deps.commands.get(p.host, p.commandId))?.operationId === opId) out.push(`${p.host}/${p.commandId}`);
  }
  return out;
}

const quiet = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('rollback policy', () => {
  it('fallback at node 1 of 3+2: only node 1 is rolled back; nothing else is touched; cluster running at the old image', async () => {
    const [cp, workers] = [hosts(1, 3), hosts(4, 2)];
    const id = await cluster('fb1', cp, workers);
    kairos('fm-1').setFailures({ failImages: [NEW] });
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' }, onFailure: 'rollback' });
    expect(r.status).toBe(202);
    const op = await settled(r.body.id);
    ended(op);
    expect(op.status).toBe('failed');
    expect(op.reason).toMatch(/fm-1/);
    const rb = await settled(op.input.rolledBackBy);
    ended(rb);
    expect(rb).toMatchObject({ status: 'succeeded', input: { rollbackOf: r.body.id } });
    for (const n of [...cp.slice(1), ...workers]) expect({ n, upgrades: upgradesOf(n) }).toEqual({ n, upgrades: 0 });
    await invariants({ id, cp, workers, t0 });
    expect((await get(`/v1/clusters/${id}`))).toMatchObject({ status: 'running', profile: { version: '1.0.0' } });
    kairos('fm-1').setFailures({ failImages: [] });
  }, 150_000);

  it('fallback at node 2: the dead run sends nothing more (node 3 never preflighted or drained); nodes 1 and 2 rolled back, drained and uncordoned', async () => {
    const cp = hosts(6, 3);
    const id = await cluster('fb2', cp);
    kairos('fm-7').setFailures({ failImages: [NEW] });
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    const op = await settled(r.body.id);
    ended(op);
    expect(op.status).toBe('failed');
    const rb = await settled(op.input.rolledBackBy);
    ended(rb);
    expect(rb.status).toBe('succeeded');
    // The rollback of a 3-node cluster drains and uncordons each node it takes back.
    for (const n of rb.input.plan.controlPlane) expect(n.steps.map((s: any) => s.step)).toEqual(expect.arrayContaining(['drain', 'uncordon']));
    expect(kairos('fm-8').calls.filter((c) => c.startsWith('check-image') || c.startsWith('state-free-mb'))).toEqual([]);
    expect(fleet.kubernetes.timeline.filter((e) => e.node === 'fm-8' && e.at >= t0 && !e.available)).toEqual([]);
    expect(upgradesOf('fm-8')).toBe(0);
    await invariants({ id, cp, t0 });
    expect((await get(`/v1/clusters/${id}`))).toMatchObject({ status: 'running', statusReason: expect.stringMatching(/rolled back/) });
    kairos('fm-7').setFailures({ failImages: [] });
  }, 150_000);

  it('a rollback that fails upgrades nothing after it failed', async () => {
    const cp = hosts(9, 3);
    const id = await cluster('rbfail', cp);
    kairos('fm-10').setFailures({ failImages: [NEW] });
    kairos('fm-9').setFailures({ failImages: [OLD] }); // node 1 cannot go back either
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    const op = await settled(r.body.id);
    ended(op);
    const rb = await settled(op.input.rolledBackBy);
    ended(rb);
    expect(rb.status).toBe('failed');
    await quiet(1500);
    expect(await startedSince(rb.id, ends.get(rb.id)!)).toEqual([]);
    expect(upgradesOf('fm-11')).toBe(0);
    await invariants({ id, cp, t0 });
    expect((await get(`/v1/clusters/${id}`)).status).toBe('degraded');
    kairos('fm-9').setFailures({ failImages: [] });
    kairos('fm-10').setFailures({ failImages: [] });
  }, 150_000);

  it('a rollback whose planned drain peer went offline: never drained from it, refused at once (the offline node counts as out), nothing upgraded', async () => {
    const cp = hosts(20, 3);
    const id = await cluster('peer', cp);
    kairos('fm-21').setFailures({ failImages: [NEW] });
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    // While node 2 reboots into the image that will fail, node 3's agent loses its connection.
    await eventually('fm-21 rebooting', async () => fleet.kubernetes.node('fm-21')?.rebooting === true, 60_000, 10);
    await fleet.host('fm-22')!.stop();
    await eventually('fm-22 offline', async () => (await h.rt.deps.hosts.get('fm-22'))?.presence === 'offline', 10_000, 10);
    expect(fleet.kubernetes.node('fm-21')?.rebooting).toBe(true); // still in its (slow) reboot
    const op = await settled(r.body.id);
    ended(op);
    const rb = await settled(op.input.rolledBackBy);
    ended(rb);
    expect(rb.status).toBe('failed');
    expect(rb.reason).toMatch(/fm-22 offline/);
    expect(rb.reason).not.toMatch(/did not finish|timed out|host timeout/); // refused, not waited out
    expect(upgradesOf('fm-20')).toBe(1);
    expect(upgradesOf('fm-21')).toBe(1);
    fleet.host('fm-22')!.start();
    await eventually('fm-22 back', async () => (await h.rt.deps.hosts.get('fm-22'))?.presence === 'online');
    await quiet(1000);
    expect(await startedSince(rb.id, ends.get(rb.id)!)).toEqual([]);
    await invariants({ id, cp, t0 });
    kairos('fm-21').setFailures({ failImages: [] });
  }, 150_000);
});

describe('pause and cancel', () => {
  it('policy pause with node 1 offline: nodes 2 and 3 are not touched; nothing runs after the pause, also not on reconnect', async () => {
    const cp = ['fm-12', 'fm-13', 'fm-25'];
    const id = await cluster('offline', cp);
    await fleet.host('fm-12')!.stop();
    await eventually('fm-12 offline', async () => (await h.rt.deps.hosts.get('fm-12'))?.presence === 'offline');
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' }, onFailure: 'pause' });
    const op = await settled(r.body.id);
    ended(op);
    expect(op.status).toBe('paused');
    expect(op.reason).toMatch(/fm-12/);
    for (const n of cp) expect({ n, upgrades: upgradesOf(n) }).toEqual({ n, upgrades: 0 });
    fleet.host('fm-12')!.start();
    await eventually('fm-12 back', async () => (await h.rt.deps.hosts.get('fm-12'))?.presence === 'online');
    await quiet(1000);
    expect(await startedSince(op.id, ends.get(op.id)!)).toEqual([]);
    await invariants({ id, cp, t0 });
    expect((await h.call('POST', `/v1/clusters/${id}/upgrades/${op.id}/cancel`)).status).toBe(200);
  }, 150_000);

  it('operator pause while node 2 reboots: node 2 is not uncordoned before its gate, node 3 is not drained; resume finishes with the invariant kept', async () => {
    const cp = ['fm-15', 'fm-17', 'fm-16']; // node 2 (fm-17) reboots slowly
    const id = await cluster('pause', cp);
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    const order: string[] = r.body.input.plan.controlPlane.map((n: any) => n.hostId);
    expect(order).toEqual(cp);
    const slow = 'fm-17';
    await eventually(`${slow} rebooting`, async () => fleet.kubernetes.node(slow)?.rebooting === true, 60_000, 10);
    const paused = await h.call('POST', `/v1/clusters/${id}/upgrades/${r.body.id}/pause`);
    expect(paused.status).toBe(200);
    ends.set(r.body.id, Date.now());
    await quiet(3500); // the slow node's reboot (2.5 s) ends while paused
    expect(await startedSince(r.body.id, ends.get(r.body.id)!)).toEqual([]);
    const after = order.slice(order.indexOf(slow) + 1);
    for (const n of after) expect({ n, upgrades: upgradesOf(n) }).toEqual({ n, upgrades: 0 });
    ends.delete(r.body.id); // resumed: the operation acts again
    expect((await h.call('POST', `/v1/clusters/${id}/upgrades/${r.body.id}/resume`)).status).toBe(202);
    const done = await settled(r.body.id);
    expect(done.status).toBe('succeeded');
    for (const n of cp) expect({ n, upgrades: upgradesOf(n) }).toEqual({ n, upgrades: 1 });
    await invariants({ id, cp, t0 });
  }, 150_000);

  it('cancel while a node reboots: nothing runs after; the node stays cordoned and the cluster says degraded; the next upgrade uncordons it (a stale cordon) and finishes', async () => {
    const cp = hosts(18, 2).concat(['fm-14']); // fm-14 reboots slowly
    const id = await cluster('cancel', cp);
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    await eventually('fm-14 rebooting', async () => fleet.kubernetes.node('fm-14')?.rebooting === true, 60_000, 10);
    const c = await h.call('POST', `/v1/clusters/${id}/upgrades/${r.body.id}/cancel`);
    expect(c.status).toBe(200);
    ended({ id: r.body.id, seenAt: Date.now() });
    await quiet(3500);
    expect(await startedSince(r.body.id, ends.get(r.body.id)!)).toEqual([]);
    expect(fleet.kubernetes.node('fm-14')?.cordoned).toBe(true);
    expect((await get(`/v1/clusters/${id}`)).status).toBe('degraded');
    await invariants({ id, cp, t0 });
    // The next upgrade finds fm-14 at the target but cordoned: it only uncordons it.
    await eventually('fm-14 reports cordoned', async () => ((await h.rt.iot.deps.status.get('fm-14'))?.content as any)?.kubernetes?.cordoned === true);
    const t1 = Date.now();
    const again = await upgrade(id, { to: { version: '2.0.0' } });
    expect(again.status).toBe(202);
    const done = await settled(again.body.id);
    expect(done.status).toBe('succeeded');
    for (const n of cp) expect({ n, upgrades: upgradesOf(n) }).toEqual({ n, upgrades: 1 });
    await invariants({ id, cp, t0: t1 });
  }, 150_000);
});

describe('stale state from earlier operations', () => {
  it('a node cordoned by someone else counts as out: it goes first, then the others; never two out', async () => {
    const cp = ['fm-23', 'fm-24', 'fm-26'];
    const id = await cluster('stale', cp);
    fleet.kubernetes.cordon('fm-24');
    await eventually('fm-24 reports cordoned', async () => ((await h.rt.iot.deps.status.get('fm-24'))?.content as any)?.kubernetes?.cordoned === true);
    const t0 = Date.now();
    const r = await upgrade(id, { to: { version: '2.0.0' } });
    const op = await settled(r.body.id);
    expect(op).toMatchObject({ status: 'succeeded' });
    // fm-24 was out from t0: with at most one node out over the whole run (the invariant), no
    // other node went out before fm-24 was upgraded and uncordoned.
    await invariants({ id, cp, t0 });
    expect(fleet.kubernetes.node('fm-24')?.cordoned).toBe(false);
  }, 150_000);

  it('a pool host newer than the profile: the create repaves it to the profile\'s image; taken to a newer OS by hand afterwards, an upgrade that would take it down is refused, naming it', async () => {
    const id = await cluster('newer', [NEWER_POOL_HOST]);
    expect(kairos(NEWER_POOL_HOST).snapshot.running.image).toBe(OLD);
    // Someone at the site installs a newer image by hand; the agent reports what runs.
    await kairos(NEWER_POOL_HOST).upgrade(NEW);
    await kairos(NEWER_POOL_HOST).reboot();
    await eventually('the newer image reported', async () => ((await h.rt.iot.deps.status.get(NEWER_POOL_HOST))?.content as any)?.boot?.image === NEW);
    const r = await upgrade(id, { to: { version: '1.5.0' }, acknowledgeDowntime: true });
    expect(r.status).toBe(409);
    expect(r.body.code).toBe('node-newer-than-target');
    expect(r.body.detail).toContain(NEWER_POOL_HOST);
    expect(kairos(NEWER_POOL_HOST).calls).not.toContain(`upgrade ${MID}`);
  }, 120_000);
});
