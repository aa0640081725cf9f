import { statusMessage } from '../../../lambdas/contracts/mqtt.js';
import type { KairosExecutor, RebootOutcome } from '../../../device/kairos.js';
import { SimulatedKairos, type SimulatedKairosOptions } from '../../../simulator/index.js';
import { agentFixture, waitFor } from './agent-harness.js';

/** The agent's cluster commands (apply-cloud-config modes, kube-node) against a simulated host. */

const INIT = 'cluster:\n  cluster_token: t0k3n\n  role: init\n  config: |\n    node-name: host-1\n';
const WORKER = 'cluster:\n  cluster_token: t0k3n\n  control_plane_host: 10.0.0.1\n  role: worker\n';
const fixture = agentFixture('ef-agent-k8s-', { readyTimeoutMs: 2000 });
const { online, future } = fixture;

const sim = (o: SimulatedKairosOptions = {}) => new SimulatedKairos({ k8sReadyDelayMs: 150, ...o });

describe('apply-cloud-config', () => {
  test('bootstrap: provider, NotReady, then Ready → succeeded naming the node, role and kubelet; the status report follows', async () => {
    const k = sim();
    const a = await online(k);
    expect(a.t.statuses()[0].kubernetes).toBeUndefined();
    const r = await a.run('b1', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap' });
    expect(r.phases).toEqual(['accepted', 'progress', 'progress', 'succeeded']);
    expect(r.detail).toBe('Kubernetes node host-1 Ready: role init, kubelet v1.32.3+k3s1');
    expect(k.calls).toEqual(['apply-cloud-config', 'bootstrap']);
    await waitFor(() => a.t.statuses().some((s) => s.kubernetes?.ready === true), 'Ready in a status report');
    const last = a.t.statuses().at(-1);
    expect(statusMessage.parse(last).kubernetes).toEqual({ ready: true, cordoned: false, role: 'init', version: 'v1.32.3+k3s1' });
  });

  test('done only at the target kubelet: bootstrap Ready at the version asked for → succeeded; at another → failed at once naming both', async () => {
    const ok = await online(sim());
    const r = await ok.run('kv1', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap', kubeletVersion: 'v1.32.3' });
    expect(r.detail).toBe('Kubernetes node host-1 Ready: role init, kubelet v1.32.3+k3s1');
    const k = sim();
    const bad = await online(k);
    const started = Date.now();
    const wrong = await bad.run('kv2', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap', kubeletVersion: 'v1.31.2', readyTimeoutSeconds: 60 });
    expect(wrong.phases.at(-1)).toBe('failed');
    expect(wrong.detail).toBe('Kubernetes node host-1 is Ready at kubelet v1.32.3+k3s1, expected v1.31.2: the image it runs (quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1) does not carry the profile\'s Kubernetes version; publish a profile whose os image carries v1.31.2, or fix the k8s layer\'s version');
    expect(Date.now() - started).toBeLessThan(30_000);
  });

  test('done only at the target kubelet after a reboot too (the provider at boot)', async () => {
    const a = await online(sim({ rebootDelayMs: 20 }));
    const r = await a.run('kv3', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap', reboot: true, kubeletVersion: '1.30.4', readyTimeoutSeconds: 60 });
    expect(r.phases.at(-1)).toBe('failed');
    expect(r.detail).toMatch(/^Kubernetes node host-1 is Ready at kubelet v1\.32\.3\+k3s1, expected 1\.30\.4: /);
  });

  test('a kubeletVersion that is not a version is refused before anything is written', async () => {
    const k = sim();
    const a = await online(k);
    const r = await a.run('kv4', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap', kubeletVersion: '--all' });
    expect(r.detail).toBe('invalid parameter: kubeletVersion: "--all" is not a Kubernetes version such as v1.31.2 or v1.31.2+k3s1');
    expect(k.calls).toEqual([]);
  });

  test('a join failure fails with the reason', async () => {
    const a = await online(sim({ failures: { joinFailure: 'cannot reach 10.0.0.1:6443' } }));
    const r = await a.run('b2', 'apply-cloud-config', { cloudConfig: WORKER, mode: 'bootstrap' });
    expect(r.phases.at(-1)).toBe('failed');
    expect(r.detail).toBe('join failed: the k3s provider could not bring up the worker node: cannot reach 10.0.0.1:6443');
  });

  test('a node that never gets Ready fails after readyTimeoutSeconds, naming the node and what to look at', async () => {
    const a = await online(sim({ failures: { neverReady: true } }));
    const r = await a.run('b3', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap', readyTimeoutSeconds: 1 });
    expect(r.detail).toBe('Kubernetes node host-1 (init) not Ready within 1 s: check kubectl describe node host-1 and journalctl -u k3s');
  });

  test.each([
    [{ cloudConfig: 'stages: {}', mode: 'bootstrap' }, /mode bootstrap needs a "cluster:" stanza/],
    [{ cloudConfig: INIT, mode: '--force' }, /invalid parameter: mode: must be one of/],
    [{ cloudConfig: INIT, readyTimeoutSeconds: 100_000 }, /readyTimeoutSeconds/],
    [{ cloudConfig: INIT, argv: 'sh -c id' }, /unknown parameter "argv"/],
    [{ cloudConfig: 'cluster:\n  cluster_token: "@@EDGEFLEET_SECRET_JOIN_TOKEN@@"\n', mode: 'bootstrap' }, /secret placeholder/],
    [{ cloudConfig: 'cluster:\n  role: master\n', mode: 'bootstrap' }, /cluster.role "master"/],
    [{ cloudConfig: `a: "${'é'.repeat(33_000)}"` }, /larger than 65536 bytes/],
  ])('refused before anything is written: %#', async (params, why) => {
    const k = sim();
    const a = await online(k);
    const r = await a.run('bad', 'apply-cloud-config', params);
    expect(r.phases).toEqual(['accepted', 'failed']);
    expect(r.detail).toMatch(why);
    expect(k.calls).toEqual([]);
  });

  test('restart: restarts the unit of the role, NotReady then Ready → succeeded', async () => {
    const k = sim();
    const a = await online(k);
    await a.run('r0', 'apply-cloud-config', { cloudConfig: WORKER, mode: 'bootstrap' });
    const r = await a.run('r1', 'apply-cloud-config', { cloudConfig: WORKER, mode: 'restart' });
    expect(r.phases).toEqual(['accepted', 'progress', 'succeeded']);
    expect(r.detail).toBe('restarted k3s-agent; Kubernetes node host-1 Ready: role worker, kubelet v1.32.3+k3s1');
    expect(k.calls).toEqual(['apply-cloud-config', 'bootstrap', 'apply-cloud-config', 'restart-kubernetes']);
  });

  test('restart on a host that is not a node fails; reload re-applies and restarts nothing; write as before', async () => {
    const k = sim();
    const a = await online(k);
    expect((await a.run('x1', 'apply-cloud-config', { cloudConfig: INIT, mode: 'restart' })).detail).toMatch(/not a Kubernetes node/);
    const reload = await a.run('x2', 'apply-cloud-config', { cloudConfig: INIT, mode: 'reload' });
    expect(reload).toEqual({ phases: ['accepted', 'succeeded'], detail: 'written and re-applied (manifests and add-ons); nothing restarted' });
    const write = await a.run('x3', 'apply-cloud-config', { cloudConfig: INIT });
    expect(write.detail).toContain('Kairos applies it at the next boot');
    expect(k.calls).toEqual(['apply-cloud-config', 'restart-kubernetes', 'apply-cloud-config', 'reload-kubernetes', 'apply-cloud-config']);
    expect((await k.state()).kubernetes).toBeUndefined();
  });

  test('reboot: true → the provider runs at boot; succeeded only once the node is Ready after the reboot', async () => {
    const k = sim({ rebootDelayMs: 20 });
    const a = await online(k);
    const r = await a.run('rb1', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap', reboot: true, readyTimeoutSeconds: 5 });
    expect(r.phases).toEqual(['accepted', 'progress', 'progress', 'succeeded']);
    expect(r.detail).toBe('booted active with the new cloud-config; Kubernetes node host-1 Ready: role init, kubelet v1.32.3+k3s1');
    expect(k.calls).toEqual(['apply-cloud-config', 'reboot']);
  });

  test('reboot: true on a real host: the agent that starts after the boot waits for Ready and decides', async () => {
    const k = sim();
    const goingDown: KairosExecutor = {
      upgrade: (i, o) => k.upgrade(i, o), applyCloudConfig: (y) => k.applyCloudConfig(y), state: () => k.state(), reset: () => k.reset(),
      bootstrap: () => k.bootstrap(), restartKubernetes: () => k.restartKubernetes(), reloadKubernetes: () => k.reloadKubernetes(), kubeNode: (x, n, s) => k.kubeNode(x, n, s),
      stateFreeMb: () => k.stateFreeMb(), checkImage: (i) => k.checkImage(i), packs: () => k.packs(), exportKubeconfig: () => k.exportKubeconfig(),
      reboot: async (): Promise<RebootOutcome> => 'rebooting',
    };
    const a = await online(goingDown);
    a.t.deliver({ commandId: 'rb2', type: 'apply-cloud-config', params: { cloudConfig: WORKER, reboot: true }, deadline: future() });
    await waitFor(() => a.h.state.phase === 'rebooting', 'rebooting');
    await a.h.stop();
    await k.reboot();
    const b = await online(k);
    await waitFor(() => b.t.phases('rb2').includes('succeeded'), 'decided after boot');
    expect(b.t.results('rb2').at(-1).detail).toContain('Kubernetes node host-1 Ready: role worker');
  });
});

describe('kube-node', () => {
  async function controlPlane(o: SimulatedKairosOptions = {}) {
    const k = sim({ k8sReadyDelayMs: 0, ...o });
    await k.applyCloudConfig(INIT);
    await k.bootstrap();
    k.calls.length = 0;
    return { k, a: await online(k) };
  }

  test.each([
    ['cordon', 'node w-1 cordoned', ['accepted', 'succeeded']],
    ['uncordon', 'node w-1 uncordoned', ['accepted', 'succeeded']],
    ['drain', 'node w-1 drained', ['accepted', 'progress', 'succeeded']],
    ['delete', 'node w-1 deleted from the cluster (if it was there)', ['accepted', 'succeeded']],
  ])('%s on a control-plane host', async (action, detail, phases) => {
    const { k, a } = await controlPlane();
    const r = await a.run(`kn-${action}`, 'kube-node', { action, node: 'w-1', timeoutSeconds: 120 });
    expect(r).toEqual({ phases, detail });
    expect(k.calls).toEqual([`kube-node ${action} w-1 120s`]);
  });

  test('drain blocked by a PodDisruptionBudget fails with the reason; the node stays cordoned', async () => {
    const { k, a } = await controlPlane({ failures: { drainFailure: 'Cannot evict pod web-0: would violate the disruption budget' } });
    const r = await a.run('kn-pdb', 'kube-node', { action: 'drain', node: 'w-1' });
    expect(r.detail).toBe('drain w-1 failed: kubectl drain w-1 did not finish within 300s: Cannot evict pod web-0: would violate the disruption budget');
    expect(k.snapshot.cordoned).toEqual(['w-1']);
  });

  test('a worker refuses; so does a host that is no node; hostile names never reach kubectl', async () => {
    const k = sim({ k8sRole: 'worker' });
    const a = await online(k);
    expect((await a.run('kw', 'kube-node', { action: 'drain', node: 'w-2' })).detail).toBe('this host is a worker; kube-node commands run on a control-plane host');
    for (const [id, node] of [['h1', '-x'], ['h2', 'w-1\n--force'], ['h3', 'x'.repeat(300)]] as const) {
      expect((await a.run(id, 'kube-node', { action: 'drain', node })).detail).toMatch(/^invalid parameter: node: .* is not a DNS-1123 name/);
    }
    const plain = await online(sim());
    expect((await plain.run('kn0', 'kube-node', { action: 'cordon', node: 'w-2' })).detail).toMatch(/not a Kubernetes node .* run on a control-plane host/);
    expect(k.calls).toEqual([]);
  });
});

test('reset clears the node: the next status report has no kubernetes', async () => {
  const k = sim({ rebootDelayMs: 10, k8sReadyDelayMs: 0 });
  const a = await online(k);
  await a.run('b', 'apply-cloud-config', { cloudConfig: INIT, mode: 'bootstrap' });
  await waitFor(() => a.t.statuses().at(-1).kubernetes?.ready === true, 'Ready reported');
  const r = await a.run('rs', 'reset', {});
  expect(r.detail).toBe('reset done; booted active; no Kubernetes node on this host any more');
  await waitFor(() => a.t.statuses().at(-1).kubernetes === undefined, 'node gone from the status');
  expect(k.snapshot.cloudConfig).toBeUndefined();
});
