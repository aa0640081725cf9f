/**
 * The agent's cluster side against the real local runtime: simulated hosts (startSimulatedAgents,
 * real registration, mTLS MQTT with the device SDK, commands stored and delivered by the command
 * channel) bootstrap a Kubernetes node, fail a join with its reason, drain a node from a
 * control-plane host, restart the Kubernetes service, and lose their node on reset.
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
const lastStatus = (hostId: string) => published.filter((m) => m.topic === `edgefleet/hosts/${hostId}/status`).at(-1)?.body;

const node = (role: string, name: string) => `cluster:\n  cluster_token: it-token\n  control_plane_host: kc-1\n  role: ${role}\n  config: |\n    node-name: ${name}\n`;
const JOIN_FAILURE = 'etcd join: cannot reach kc-1:2379 (connection refused)';

let h: Harness;
let dir: string;
let fleet: SimulatedFleet;
let n = 0;
const send = async (hostId: string, type: string, params: Record<string, string | number | boolean>) => {
  const commandId = `kc-it-${++n}`;
  const sent = await h.rt.iot.sendCommand(hostId, { commandId, type: type as never, params, deadline: new Date(Date.now() + 5 * 60_000).toISOString() });
  expect(sent.created).toBe(true);
  return commandId;
};

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agent-cluster-it-'));
  const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'agent-cluster-it', autoApprove: true } });
  expect(t.status).toBe(201);
  fleet = startSimulatedAgents({
    apiUrl: h.rt.url, registrationToken: t.body.token, project: 'default', count: 3, stateDir: dir, uidPrefix: 'kc', transportFactory: recording,
    checkIntervalMs: 100, kairos: { rebootDelayMs: 100, k8sReadyDelayMs: 300 },
    perHost: (_uid, i) => (i === 2 ? { failures: { joinFailure: JOIN_FAILURE } } : undefined),
  });
  await eventually('fleet online', async () => fleet.hosts.every((x) => x.agent.state.phase === 'online'), 60_000);
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('agent ↔ local runtime: Kubernetes nodes', () => {
  it('bootstrap: the init node becomes Ready → succeeded; the stored status shows it', async () => {
    const id = await send('kc-1', 'apply-cloud-config', { cloudConfig: node('init', 'kc-1'), mode: 'bootstrap', readyTimeoutSeconds: 30 });
    const r = await outcome('kc-1', id);
    expect(r).toMatchObject({ phase: 'succeeded', detail: 'Kubernetes node kc-1 Ready: role init, kubelet v1.32.3+k3s1' });
    // QoS 1 is at-least-once: the command may reach the agent twice (its pending-commands request
    // on connect can be answered while the first publish is in flight). It runs once; a repeat
    // delivery gets the same final result again, never a second run (this was the flaky line).
    const phases = results('kc-1', id).map((x) => x.phase);
    const end = phases.indexOf('succeeded');
    expect(phases.slice(0, end + 1)).toEqual(['accepted', 'progress', 'progress', 'succeeded']);
    const outcomeOf = (x: { phase: string; detail?: string }) => ({ phase: x.phase, detail: x.detail }); // a repeat has its own `at`
    expect(results('kc-1', id).slice(end + 1).map(outcomeOf)).toEqual(results('kc-1', id).slice(end + 1).map(() => outcomeOf(r)));
    expect(fleet.host('kc-1')!.kairos.calls.filter((c) => c === 'bootstrap')).toHaveLength(1);
    await eventually('Ready in the stored status', async () => {
      const s = await h.rt.iot.deps.status.get('kc-1');
      return (s?.content as any)?.kubernetes?.ready === true && s;
    });
    expect((await h.rt.iot.deps.status.get('kc-1'))!.content).toMatchObject({ kubernetes: { ready: true, role: 'init', version: 'v1.32.3+k3s1' } });
  }, 60_000);

  it('a join failure ends the command failed with the reason', async () => {
    const id = await send('kc-2', 'apply-cloud-config', { cloudConfig: node('controlplane', 'kc-2'), mode: 'bootstrap', readyTimeoutSeconds: 30 });
    expect(await outcome('kc-2', id)).toMatchObject({ phase: 'failed', detail: `join failed: the k3s provider could not bring up the control-plane node: ${JOIN_FAILURE}` });
    expect(fleet.host('kc-2')!.kairos.snapshot.node).toBeUndefined();
  }, 60_000);

  it('a worker joins; kube-node drain runs on the control-plane host (a worker refuses it)', async () => {
    const join = await send('kc-3', 'apply-cloud-config', { cloudConfig: node('worker', 'kc-3'), mode: 'bootstrap' });
    expect(await outcome('kc-3', join)).toMatchObject({ phase: 'succeeded', detail: expect.stringContaining('role worker') });
    const refused = await send('kc-3', 'kube-node', { action: 'cordon', node: 'kc-1' });
    expect(await outcome('kc-3', refused)).toMatchObject({ phase: 'failed', detail: 'this host is a worker; kube-node commands run on a control-plane host' });
    const drain = await send('kc-1', 'kube-node', { action: 'drain', node: 'kc-3', timeoutSeconds: 120 });
    expect(await outcome('kc-1', drain)).toMatchObject({ phase: 'succeeded', detail: 'node kc-3 drained' });
    expect(fleet.host('kc-1')!.kairos.calls).toContain('kube-node drain kc-3 120s');
    expect(fleet.host('kc-1')!.kairos.snapshot.cordoned).toEqual(['kc-3']);
    expect(fleet.kubernetes.node('kc-3')).toMatchObject({ cordoned: true, role: 'worker' });
  }, 60_000);

  it('restart: the Kubernetes service restarts, the node is Ready again → succeeded; the shared API saw it out and back', async () => {
    const from = Date.now();
    const id = await send('kc-1', 'apply-cloud-config', { cloudConfig: node('init', 'kc-1'), mode: 'restart', readyTimeoutSeconds: 30 });
    const done = await outcome('kc-1', id);
    expect(done).toMatchObject({ phase: 'succeeded', detail: 'restarted k3s; Kubernetes node kc-1 Ready: role init, kubelet v1.32.3+k3s1' });
    expect(fleet.host('kc-1')!.kairos.calls.filter((c) => c === 'restart-kubernetes')).toHaveLength(1);
    const kc1 = fleet.kubernetes.timeline.filter((e) => e.node === 'kc-1' && e.at >= from);
    expect(kc1.map((e) => e.available)).toEqual([false, true]);
    // Causality, not a duration: the command succeeded only once the API saw the node Ready again.
    expect(Date.parse(done.at)).toBeGreaterThanOrEqual(kc1[1]!.at);
    expect(fleet.kubernetes.node('kc-1')).toMatchObject({ ready: true, role: 'init' });
  }, 60_000);

  it('a host that was offline gets its reset on reconnect; the reset clears the node and its cluster config', async () => {
    const host = fleet.host('kc-3')!;
    await host.stop();
    await eventually('kc-3 offline', async () => (await h.call('GET', '/v1/hosts/kc-3')).body?.presence === 'offline');
    const id = await send('kc-3', 'reset', {});
    host.start();
    expect(await outcome('kc-3', id)).toMatchObject({ phase: 'succeeded', detail: 'reset done; booted active; no Kubernetes node on this host any more' });
    expect(host.kairos.snapshot).toMatchObject({ resets: 1 });
    expect(host.kairos.snapshot.node).toBeUndefined();
    expect(host.kairos.snapshot.cloudConfig).toBeUndefined();
    expect(fleet.kubernetes.node('kc-3')).toBeUndefined();
    await eventually('status without a node', async () => lastStatus('kc-3') && lastStatus('kc-3').kubernetes === undefined);
    // The agent kept its identity: same host, no second registration.
    expect(host.agent.state.hostId).toBe('kc-3');
  }, 60_000);
});
