/**
 * Upgrades with the post-boot health gate against the real local runtime: simulated hosts
 * (startSimulatedAgents, real registration, mTLS MQTT, commands through the command channel)
 * join one simulated cluster (fleet.kubernetes), then take `preflight` and `upgrade` with a
 * target kubelet: success (node Ready at the new kubelet, availability kept), passive fallback,
 * wrong kubelet, low disk, and a host that goes dark.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulatedAgents, type SimulatedFleet } from '../../simulator/index.js';
import type { TransportFactory } from '../../device/transport.js';
import { sdkTransportFactory } from '../../device/transport-sdk.js';
import { eventually, startHarness, type Harness } from './harness.js';

const published: Array<{ topic: string; body: any }> = [];
const recording: TransportFactory = (settings) => {
  const t = sdkTransportFactory(settings);
  const publish = t.publish.bind(t);
  t.publish = async (topic, payload) => {
    await publish(topic, payload);
    published.push({ topic, body: JSON.parse(payload) });
  };
  return t;
};
const results = (hostId: string, commandId: string) =>
  published.filter((m) => m.topic === `edgefleet/hosts/${hostId}/results` && m.body.commandId === commandId).map((m) => m.body);
const outcome = (hostId: string, commandId: string) => eventually(`${commandId} on ${hostId} finished`, async () => results(hostId, commandId).find((r) => r.phase === 'succeeded' || r.phase === 'failed'), 30_000);

const node = (role: string, name: string) => `cluster:\n  cluster_token: it-token\n  control_plane_host: ku-1\n  role: ${role}\n  config: |\n    node-name: ${name}\n`;
const IMG = (kairos: string, k8s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k8s}-k3s1`;
const NODES = ['ku-1', 'ku-2', 'ku-3', 'ku-4'];

let h: Harness;
let dir: string;
let fleet: SimulatedFleet;
let n = 0;
const send = async (hostId: string, type: string, params: Record<string, string | number | boolean>) => {
  const commandId = `ku-it-${++n}`;
  const sent = await h.rt.iot.sendCommand(hostId, { commandId, type: type as never, params, deadline: new Date(Date.now() + 5 * 60_000).toISOString() });
  expect(sent.created).toBe(true);
  return commandId;
};
const run = async (hostId: string, type: string, params: Record<string, string | number | boolean>) => outcome(hostId, await send(hostId, type, params));

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agent-upgrade-it-'));
  const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'agent-upgrade-it', autoApprove: true } });
  expect(t.status).toBe(201);
  fleet = startSimulatedAgents({
    apiUrl: h.rt.url, registrationToken: t.body.token, project: 'default', count: 4, stateDir: dir, uidPrefix: 'ku', transportFactory: recording,
    checkIntervalMs: 100, readyTimeoutMs: 3000, kairos: { rebootDelayMs: 200, k8sReadyDelayMs: 300 }, kubernetes: { drainDelayMs: 50 },
  });
  await eventually('fleet online', async () => fleet.hosts.every((x) => x.agent.state.phase === 'online'), 60_000);
  expect(await run('ku-1', 'apply-cloud-config', { cloudConfig: node('init', 'ku-1'), mode: 'bootstrap' })).toMatchObject({ phase: 'succeeded' });
  for (const w of ['ku-2', 'ku-3', 'ku-4']) expect(await run(w, 'apply-cloud-config', { cloudConfig: node('worker', w), mode: 'bootstrap' })).toMatchObject({ phase: 'succeeded' });
  expect(fleet.kubernetes.nodes().map((x) => [x.name, x.role, x.ready])).toEqual([['ku-1', 'init', true], ['ku-2', 'worker', true], ['ku-3', 'worker', true], ['ku-4', 'worker', true]]);
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('agent ↔ local runtime: upgrades with the post-boot gate', () => {
  it('preflight, drain, upgrade to a new OS + kubelet, uncordon: the gate passes and at most one node was out at any instant', async () => {
    const from = Date.now();
    const target = IMG('v3.5.0', '1.33.1');
    expect(await run('ku-2', 'preflight', { image: target, requiredFreeMb: 9000 })).toMatchObject({
      phase: 'succeeded', detail: `preflight passed: Kubernetes node ku-2 Ready at kubelet v1.32.3+k3s1; state partition 20000 MB free (needs 9000 MB); image ${target} reachable`,
    });
    expect(await run('ku-1', 'kube-node', { action: 'drain', node: 'ku-2', timeoutSeconds: 60 })).toMatchObject({ phase: 'succeeded', detail: 'node ku-2 drained' });
    expect(fleet.kubernetes.node('ku-2')?.cordoned).toBe(true);
    // Held NotReady (an injected fault) until the gate said it waits for Ready: the waiting is seen however loaded the machine.
    fleet.host('ku-2')!.kairos.setFailures({ neverReady: true });
    const id = await send('ku-2', 'upgrade', { image: target, kubeletVersion: 'v1.33.1' });
    await eventually('the gate waits for ku-2 Ready', async () => results('ku-2', id).some((r) => r.phase === 'progress' && r.progress === 90), 30_000, 20);
    fleet.host('ku-2')!.kairos.setFailures({ neverReady: undefined });
    expect(await outcome('ku-2', id)).toMatchObject({ phase: 'succeeded', detail: 'booted active at v3.5.0; Kubernetes node ku-2 Ready at kubelet v1.33.1+k3s1' });
    expect(results('ku-2', id).map((r) => [r.phase, r.progress])).toEqual([['accepted', undefined], ['progress', 10], ['progress', 60], ['progress', 90], ['succeeded', undefined]]);
    expect(await run('ku-1', 'kube-node', { action: 'uncordon', node: 'ku-2' })).toMatchObject({ phase: 'succeeded' });
    const to = Date.now();
    expect(fleet.kubernetes.node('ku-2')).toMatchObject({ ready: true, cordoned: false, kubeletVersion: 'v1.33.1+k3s1' });
    expect(fleet.kubernetes.maxConcurrentUnavailable(NODES, from, to)).toBe(1);
    expect(fleet.kubernetes.minAvailable(NODES, from, to)).toBe(3);
    expect(fleet.kubernetes.unavailableAt(to)).toEqual([]);
    // ku-2 went out once (drain) and came back once (uncordon), nothing in between flapped back in.
    const ku2 = fleet.kubernetes.timeline.filter((e) => e.node === 'ku-2' && e.at >= from && e.at <= to);
    expect(ku2.map((e) => e.available)).toEqual([false, true]);
  }, 60_000);

  it('an image that does not boot: Kairos falls back to passive; the upgrade fails naming it; the node returns at the old kubelet', async () => {
    const bad = IMG('v3.6.0', '1.34.0');
    fleet.host('ku-2')!.kairos.setFailures({ failImages: [bad] });
    expect(await run('ku-2', 'upgrade', { image: bad, kubeletVersion: 'v1.34.0' })).toMatchObject({
      phase: 'failed', detail: expect.stringMatching(new RegExp(`^booted passive at v3\\.5\\.0: the new image did not boot and Kairos fell back to \\S+v3\\.5\\.0\\S+; the active partition still holds ${bad.replace(/[.]/g, '\\.')}$`)),
    });
    await eventually('ku-2 Ready again', async () => fleet.kubernetes.node('ku-2')?.ready === true);
    expect(fleet.kubernetes.node('ku-2')?.kubeletVersion).toBe('v1.33.1+k3s1');
  }, 60_000);

  it('an image that carries another Kubernetes version: the gate fails naming the kubelet found and the one expected', async () => {
    expect(await run('ku-3', 'upgrade', { image: IMG('v3.5.0', '1.30.4'), kubeletVersion: 'v1.31.2' })).toMatchObject({
      phase: 'failed', detail: 'booted active at v3.5.0 but the node reports kubelet v1.30.4+k3s1, expected v1.31.2: the image does not carry the target Kubernetes version',
    });
  }, 60_000);

  it('preflight on a host with too little room on the state partition fails naming the check; nothing is touched', async () => {
    const host = fleet.host('ku-3')!;
    host.kairos.setFailures({ lowDiskMb: 1200 });
    const before = host.kairos.calls.filter((c) => c.startsWith('upgrade')).length;
    const r = await run('ku-3', 'preflight', { image: IMG('v3.5.0', '1.33.1'), requiredFreeMb: 9000 });
    expect(r.phase).toBe('failed');
    expect(r.detail).toMatch(/^preflight failed: state partition has 1200 MB free, needs 9000 MB for the active, passive and transition images/);
    expect(host.kairos.calls.filter((c) => c.startsWith('upgrade')).length).toBe(before);
  }, 60_000);

  it('a host that goes dark at the reboot: no result ever comes, the host is offline and its node stays out', async () => {
    const host = fleet.host('ku-4')!;
    host.kairos.setFailures({ neverReturns: true });
    const id = await send('ku-4', 'upgrade', { image: IMG('v3.5.0', '1.33.1'), kubeletVersion: 'v1.33.1' });
    await eventually('ku-4 offline', async () => (await h.call('GET', '/v1/hosts/ku-4')).body?.presence === 'offline', 30_000);
    expect(host.running).toBe(false);
    expect(results('ku-4', id).map((r) => r.phase)).toEqual(['accepted', 'progress', 'progress']);
    expect(fleet.kubernetes.node('ku-4')).toMatchObject({ ready: false, rebooting: true });
    expect(fleet.kubernetes.unavailableAt(Date.now())).toEqual(['ku-4']);
  }, 60_000);
});
