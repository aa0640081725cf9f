/**
 * The local runtime stopped in the middle of a create and started again on the same data
 * directory: the operation's workflow is started again from the stored state and finishes;
 * no host is asked to bootstrap twice.
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

it('a create interrupted by a restart of the control plane resumes and finishes; nothing runs twice', async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-resume-agents-'));
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-resume-data-'));
  const options = { port: await freePort(), mqttPort: await freePort(), inMemory: false, dataDir, hostTimeoutSeconds: 60, commandSweepMs: 300 };
  h = await startHarness(options);
  let ids: string[];
  ({ fleet, ids } = await startFleet(h, { count: 3, prefix: 'rs', stateDir: dir, kairos: { rebootDelayMs: 100, k8sReadyDelayMs: 1500 } }));
  await h.call('POST', '/v1/profiles', { body: { name: 'edge' } });
  await h.call('POST', '/v1/profiles/edge/versions', {
    body: { version: '1.0.0', publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04', image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.30.4-k3s1' }, { type: 'k8s', pack: 'k3s', version: '1.30.4' }] },
  });
  const r = await h.call('POST', '/v1/clusters', { body: { name: 'resumed', profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: ids }, vip: '10.0.0.20' } });
  expect(r.status).toBe(202);
  const opId = r.body.operationId as string;

  // The first node is Ready and the second was asked to join: stop everything now.
  await eventually('second control-plane join sent', async () => {
    const op = (await h!.call('GET', `/v1/operations/${opId}`)).body;
    return op?.hosts?.['rs-1']?.status === 'succeeded' && op?.hosts?.['rs-2']?.commandId ? op : false;
  }, 60_000, 50);
  await h.stop({ keepData: true });
  h = undefined;

  h = await startHarness(options);
  expect(h.rt.resumed).toContain(opId);
  const op = await eventually('operation ends', async () => {
    const o = (await h!.call('GET', `/v1/operations/${opId}`)).body;
    return ['succeeded', 'failed'].includes(o?.status) ? o : false;
  }, 90_000, 100);
  expect(op).toMatchObject({ status: 'succeeded' });
  expect((await h.call('GET', `/v1/clusters/${r.body.id}`)).body.status).toBe('running');
  for (const id of ids) {
    const bootstraps = fleet.host(id)!.kairos.calls.filter((c) => c === 'bootstrap').length;
    expect(bootstraps).toBe(1);
    expect(await h.rt.deps.hosts.get(id)).toMatchObject({ status: 'in-cluster' });
  }
  // 300 s: above the sum of the waits' own limits (fleet online 60 s, join 60 s, end 90 s) and two
  // starts, so a step that does not happen fails with its own label, not with jest's timeout (a
  // proof run on a loaded machine hit 180 s with no step named).
}, 300_000);
