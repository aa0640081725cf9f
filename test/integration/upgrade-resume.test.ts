/**
 * The local runtime killed in the middle of a rolling upgrade and started again on the same
 * data directory: the upgrade resumes from the stored state and each node's real state and
 * finishes; no node is upgraded twice, none is skipped.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, freePort, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness | undefined;
let fleet: SimulatedFleet | undefined;
let dir: string;
let dataDir: string;

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
  rmSync(dataDir, { recursive: true, force: true });
});

it('an upgrade interrupted by a restart of the control plane resumes and finishes; no node upgraded twice', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-upresume-agents-'));
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-upresume-data-'));
  const options = { port: await freePort(), mqttPort: await freePort(), inMemory: false, dataDir, hostTimeoutSeconds: 60, commandSweepMs: 300 };
  h = await startHarness(options);
  let ids: string[];
  const image = (k: string, v: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${k}-k3sv${v}-k3s1`;
  // Installed with the 1.0.0 image: the create finds them at it (no repave).
  ({ fleet, ids } = await startFleet(h, { count: 3, prefix: 'ur', stateDir: dir, kairos: { version: 'v3.5.0', image: image('v3.5.0', '1.30.4'), rebootDelayMs: 800, k8sReadyDelayMs: 400 } }));
  await h.call('POST', '/v1/profiles', { body: { name: 'edge' } });
  for (const [version, img, k3s] of [['1.0.0', image('v3.5.0', '1.30.4'), '1.30.4'], ['2.0.0', image('v3.6.0', '1.31.2'), '1.31.2']]) {
    await h.call('POST', '/v1/profiles/edge/versions', { body: { version, publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04', image: img }, { type: 'k8s', pack: 'k3s', version: k3s }] } });
  }
  const c = await h.call('POST', '/v1/clusters', { body: { name: 'ur', profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: ids }, vip: '10.0.0.30' } });
  await eventually('cluster running', async () => (await h!.call('GET', `/v1/clusters/${c.body.id}`)).body?.status === 'running', 60_000);
  await eventually('kubelet versions reported', async () => {
    for (const id of ids) if (!((await h!.rt.iot.deps.status.get(id))?.content as any)?.kubernetes?.version) return false;
    return true;
  });
  const t0 = Date.now();
  const r = await h.call('POST', `/v1/clusters/${c.body.id}/upgrades`, { body: { to: { version: '2.0.0' } } });
  expect(r.status).toBe(202);
  const opId = r.body.id as string;

  // The second node is being upgraded: stop everything now.
  await eventually('second node upgrading', async () => {
    const op = (await h!.call('GET', `/v1/operations/${opId}`)).body;
    return op?.hosts?.['ur-2']?.step === 'upgrade' ? op : false;
  }, 60_000, 20);
  await h.stop({ keepData: true });
  h = undefined;

  h = await startHarness(options);
  expect(h.rt.resumed).toContain(opId);
  const op = await eventually('upgrade ends', async () => {
    const o = (await h!.call('GET', `/v1/operations/${opId}`)).body;
    return ['succeeded', 'failed', 'paused'].includes(o?.status) ? o : false;
  }, 120_000, 100);
  expect(op).toMatchObject({ status: 'succeeded' });
  expect((await h.call('GET', `/v1/clusters/${c.body.id}`)).body).toMatchObject({ status: 'running', profile: { version: '2.0.0' } });
  for (const id of ids) {
    const k = fleet.host(id)!.kairos;
    expect(k.calls.filter((x) => x.startsWith('upgrade ')).length).toBe(1);
    expect(await k.state()).toMatchObject({ boot: 'active', kairosVersion: 'v3.6.0' });
  }
  // Over the whole run, the restart included, for every node: at most one out, quorum kept,
  // and none left cordoned now that the cluster says running.
  expect(fleet.kubernetes.maxConcurrentUnavailable(ids, t0, Date.now())).toBeLessThanOrEqual(1);
  expect(fleet.kubernetes.minAvailable(ids, t0, Date.now())).toBeGreaterThanOrEqual(2);
  for (const id of ids) expect({ id, cordoned: fleet.kubernetes.node(id)?.cordoned }).toEqual({ id, cordoned: false });
}, 240_000);
