/**
 * The OS image is applied and addresses are used (issue 11, Build 4, 6 and 8) on the local
 * runtime with simulated hosts running the real agent: a create repaves every host that does
 * not run the profile's image (preflight, verified A/B upgrade) before it joins, skips a host
 * already at it, joins workers through the init node's reported address when there is no VIP,
 * refuses a create whose init host reports no address, fails a create whose image carries
 * another Kubernetes than the profile says, and an OS-flavour-only upgrade repaves every node.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { nicAddresses } from '../../device/inventory.js';
import { taskCommandId } from '../../lambdas/use-cases/workflows/run-host-task.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

const UBUNTU = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const OPENSUSE = 'quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
/** A custom image whose tag says nothing; the simulated registry's catalog says it carries k3s 1.30.4. */
const CUSTOM = 'registry.example.com/edge/os:2026.11';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;

beforeAll(async () => {
  // No host here is meant to time out: the step bound stays above a results invocation's own 10 s
  // timeout plus its (compressed) retry, so a slow invocation on a loaded machine is not a failure.
  h = await startHarness({ hostTimeoutSeconds: 20, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-repave-it-'));
  ({ fleet } = await startFleet(h, {
    count: 8, prefix: 'rp', stateDir: dir,
    kairos: { rebootDelayMs: 100, k8sReadyDelayMs: 150, images: { [CUSTOM]: { distribution: 'k3s', kubernetesVersion: 'v1.30.4+k3s1' } } },
    perHost: (_uid, n) => {
      if (n === 4) return { image: UBUNTU, version: 'v3.5.0' }; // installed with the profile's image already
      if (n === 6) return { nics: [] }; // no address at all
      return undefined;
    },
  }));
  const layers = (image: string, pack = 'ubuntu', extra: Record<string, unknown> = {}) =>
    [{ type: 'os', pack, version: pack === 'ubuntu' ? '24.04' : '15.6', image, ...extra }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }];
  expect((await h.call('POST', '/v1/profiles', { body: { name: 'edge' } })).status).toBe(201);
  expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version: '1.0.0', layers: layers(UBUNTU), publish: true } })).status).toBe(201);
  expect((await h.call('POST', '/v1/profiles/edge/versions', { body: { version: '1.1.0', layers: layers(OPENSUSE, 'opensuse'), publish: true } })).status).toBe(201);
  // Published: the layer states the image carries 1.31.2; the image (as the registry serves it) carries 1.30.4.
  const wrong = await h.call('POST', '/v1/profiles/edge/versions', { body: { version: '9.0.0', layers: layers(CUSTOM, 'ubuntu', { kubernetesVersion: '1.31.2' }), publish: true } });
  expect(wrong.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const finished = (operationId: string, ms = 90_000): Promise<any> => eventually(`operation ${operationId} ends`, async () => {
  const r = await h.call('GET', `/v1/operations/${operationId}`);
  return ['succeeded', 'failed', 'cancelled'].includes(r.body?.status) ? r.body : false;
}, ms, 100);
const create = (name: string, version: string, controlPlane: string[], workers: string[] = []) => h.call('POST', '/v1/clusters', {
  body: { name, profile: { name: 'edge', version }, controlPlane: { hostIds: controlPlane }, ...(workers.length ? { workers: [{ name: 'pos', hostIds: workers }] } : {}) },
});
const kairos = (id: string) => fleet.host(id)!.kairos;
/** A workflow's stored command, with its parameters (large ones are stored apart: read as publishing does). */
const command = async (hostId: string, opId: string, phase: string, step: string) => {
  const c = await h.rt.iot.deps.commands.get(hostId, taskCommandId(opId, phase, { hostId, step } as never));
  return c ? h.rt.iot.deps.commands.withParams(c) : undefined;
};
/** The host's reported address, as its agent reads it (the first IPv4 of eth0). */
const addressOf = (id: string) => nicAddresses(kairos(id).networkInterfaces())[0]!.ips[0]!;
const workerConfig = (id: string) => parse(kairos(id).snapshot.cloudConfig!.replace(/^#cloud-config\n/, '')) as { cluster: { control_plane_host: string; role: string } };

let clusterId = '';

describe('create: the profile\'s OS image on every host before it joins', () => {
  it('1 control plane + 2 workers without a VIP, hosts on another image: each repaved (preflight, upgrade) before it joins, workers join through the init node\'s reported address', async () => {
    const before = ['rp-1', 'rp-2', 'rp-3'].map((id) => kairos(id).snapshot.running.image);
    expect(before.every((i) => i !== UBUNTU)).toBe(true);
    const r = await create('repaved', '1.0.0', ['rp-1'], ['rp-2', 'rp-3']);
    expect(r.status).toBe(202);
    clusterId = r.body.id;
    const op = await finished(r.body.operationId);
    expect(op).toMatchObject({ status: 'succeeded' });
    for (const id of ['rp-1', 'rp-2', 'rp-3']) {
      const snap = kairos(id).snapshot;
      expect({ id, booted: snap.booted, running: snap.running.image, active: snap.active.image }).toEqual({ id, booted: 'active', running: UBUNTU, active: UBUNTU });
      const preflight = await command(id, op.id, 'repave', 'preflight');
      const upgrade = await command(id, op.id, 'repave', 'upgrade');
      const join = await command(id, op.id, id === 'rp-1' ? 'init' : 'workers', id === 'rp-1' ? 'init' : 'join-worker');
      expect({ id, preflight: preflight?.state, upgrade: upgrade?.state, join: join?.state }).toEqual({ id, preflight: 'succeeded', upgrade: 'succeeded', join: 'succeeded' });
      expect(upgrade!.params).toEqual({ image: UBUNTU, version: 'v3.5.0' });
      expect(join!.params.kubeletVersion).toBe('v1.31.2');
      // The join was sent only after the repave ended, and the host ran them in that order.
      expect(Date.parse(join!.createdAt)).toBeGreaterThanOrEqual(Date.parse(upgrade!.updatedAt));
      const calls = kairos(id).calls;
      expect(calls.indexOf(`upgrade ${UBUNTU}`)).toBeLessThan(calls.indexOf('apply-cloud-config'));
      expect(calls.indexOf('reboot')).toBeLessThan(calls.indexOf('apply-cloud-config'));
      expect((await kairos(id).state()).kubernetes).toMatchObject({ ready: true, version: 'v1.31.2+k3s1' });
    }
    expect(op.skipped ?? []).toEqual([]);
    // Without a VIP: the init node's reported address, stored on the cluster, in every worker's cluster stanza.
    const address = addressOf('rp-1');
    expect(address).toMatch(/^10\.\d+\.\d+\.\d+$/);
    expect((await h.call('GET', `/v1/clusters/${clusterId}`)).body).toMatchObject({ status: 'running', controlPlaneAddress: address });
    for (const w of ['rp-2', 'rp-3']) expect(workerConfig(w).cluster).toMatchObject({ role: 'worker', control_plane_host: address });
    // The host view shows the addresses the host reported.
    const host = await h.call('GET', '/v1/hosts/rp-2');
    expect(host.body.inventory.nics[0]).toMatchObject({ name: 'eth0', ips: [addressOf('rp-2')] });
    // And the simulated host's own hardware, not the hardware of the machine the test runs on.
    expect(host.body.inventory).toMatchObject({ arch: 'amd64', cpus: 4, memoryMb: 8192, disks: [{ name: 'sda', sizeGb: 128 }] });
  }, 120_000);

  it('a host already at the profile\'s image is not repaved: the operation records it as skipped with the reason', async () => {
    const r = await create('already', '1.0.0', ['rp-4']);
    const op = await finished(r.body.operationId);
    expect(op).toMatchObject({ status: 'succeeded', skipped: [{ hostId: 'rp-4', step: 'repave', reason: `already runs ${UBUNTU} (booted active): not repaved` }] });
    expect(kairos('rp-4').calls.filter((c) => c.startsWith('upgrade') || c === 'reboot')).toEqual([]);
    expect(await command('rp-4', op.id, 'repave', 'upgrade')).toBeUndefined();
  }, 90_000);

  it('an image that carries another Kubernetes than the profile says: the create fails naming both versions instead of succeeding', async () => {
    const r = await create('mismatch', '9.0.0', ['rp-5']);
    const op = await finished(r.body.operationId);
    expect(op.status).toBe('failed');
    expect(op.reason).toContain('Ready at kubelet v1.30.4+k3s1, expected v1.31.2');
    expect(kairos('rp-5').snapshot.running.image).toBe(CUSTOM);
  }, 90_000);

  it('no VIP and an init host that reports no address: refused before anything is sent, naming the host and what to do', async () => {
    const r = await create('nowhere', '1.0.0', ['rp-6'], ['rp-7']);
    expect(r.status).toBe(202);
    const op = await finished(r.body.operationId);
    expect(op.status).toBe('failed');
    expect(op.reason).toContain('cluster nowhere has no VIP and its init host rp-6 reports no IPv4 address');
    expect(op.reason).toContain('create the cluster with a vip');
    for (const id of ['rp-6', 'rp-7']) expect(kairos(id).calls).toEqual([]);
    expect((await h.rt.deps.hosts.get('rp-7'))?.clusterId).toBeUndefined();
  }, 90_000);

  it('scale-out repaves the new host before it joins, through the address the cluster was created with', async () => {
    const r = await h.call('POST', `/v1/clusters/${clusterId}/scale`, { body: { pool: 'pos', add: ['rp-8'] } });
    expect(r.status).toBe(202);
    const op = await finished(r.body.operationId);
    expect(op).toMatchObject({ status: 'succeeded' });
    expect(await command('rp-8', op.id, 'repave', 'upgrade')).toMatchObject({ state: 'succeeded' });
    expect(kairos('rp-8').snapshot.running.image).toBe(UBUNTU);
    expect(workerConfig('rp-8').cluster.control_plane_host).toBe(addressOf('rp-1'));
  }, 90_000);
});

describe('an OS-flavour-only change repaves every node', () => {
  it('ubuntu → opensuse at the same Kairos and Kubernetes: every node is upgraded into the new image, none skipped', async () => {
    const r = await h.call('POST', `/v1/clusters/${clusterId}/upgrades`, { body: { to: { version: '1.1.0' }, acknowledgeDowntime: true, maxUnavailable: 1 } });
    expect(r.status).toBe(202);
    const plan = r.body.input.plan;
    expect(plan.behaviour).toBe('repave');
    const planned = [...plan.controlPlane, ...plan.workers];
    expect(planned.map((n: { hostId: string }) => n.hostId).sort()).toEqual(['rp-1', 'rp-2', 'rp-3', 'rp-8']);
    expect(planned.every((n: { steps: { step: string }[] }) => n.steps.some((s) => s.step === 'upgrade'))).toBe(true);
    const op = await finished(r.body.id, 120_000);
    expect({ status: op.status, reason: op.reason }).toEqual({ status: 'succeeded', reason: undefined });
    for (const id of ['rp-1', 'rp-2', 'rp-3', 'rp-8']) {
      expect({ id, step: op.hosts[id].step }).not.toEqual({ id, step: 'verified' });
      const s = await kairos(id).state();
      expect({ id, boot: s.boot, image: s.image, flavor: s.flavor, kubelet: s.kubernetes?.version }).toEqual({ id, boot: 'active', image: OPENSUSE, flavor: 'opensuse', kubelet: 'v1.31.2+k3s1' });
    }
  }, 180_000);
});
