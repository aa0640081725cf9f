import type { KairosExecutor, RebootOutcome } from '../../../device/kairos.js';
import { SimulatedKairos, type SimulatedKairosOptions } from '../../../simulator/index.js';
import { StateStore } from '../../../device/state-store.js';
import { agentFixture, waitFor } from './agent-harness.js';

/** upgrade with the post-boot health gate (kubelet version) and preflight, against a simulated host. */

const IMG = (kairos: string, k8s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k8s}-k3s1`;
const NEW = IMG('v3.5.0', '1.33.1');
const fixture = agentFixture('ef-agent-upgrade-', { readyTimeoutMs: 600 });
const { online, future } = fixture;

const node = (o: SimulatedKairosOptions = {}) => new SimulatedKairos({ k8sRole: 'worker', nodeName: 'host-1', k8sReadyDelayMs: 100, ...o });

describe('upgrade: the post-boot health gate', () => {
  test('booted active at the target, node Ready at the target kubelet → succeeded naming both', async () => {
    const k = node();
    const a = await online(k);
    const r = await a.run('g1', 'upgrade', { image: NEW, kubeletVersion: 'v1.33.1' });
    expect(r.phases).toEqual(['accepted', 'progress', 'progress', 'progress', 'succeeded']);
    expect(r.detail).toBe('booted active at v3.5.0; Kubernetes node host-1 Ready at kubelet v1.33.1+k3s1');
    expect(k.kubernetes.node('host-1')).toMatchObject({ ready: true, kubeletVersion: 'v1.33.1+k3s1' });
  });

  test.each([
    ['passive fallback', { failures: { bootFallback: true } }, { image: NEW, kubeletVersion: 'v1.33.1' },
      `booted passive at v3.4.2: the new image did not boot and Kairos fell back to ${IMG('v3.4.2', '1.32.3')}; the active partition still holds ${NEW}`],
    ['wrong Kairos version', {}, { image: NEW, version: 'v3.6.0', kubeletVersion: 'v1.33.1' },
      'booted active at v3.5.0, expected active at v3.6.0'],
    ['wrong kubelet', {}, { image: IMG('v3.5.0', '1.30.4'), kubeletVersion: 'v1.31.2' },
      'booted active at v3.5.0 but the node reports kubelet v1.30.4+k3s1, expected v1.31.2: the image does not carry the target Kubernetes version'],
    ['not Ready', { failures: { neverReady: true } }, { image: NEW, kubeletVersion: 'v1.33.1' },
      'booted active at v3.5.0 but Kubernetes node host-1 was not Ready within 1 s (kubelet v1.33.1+k3s1): check kubectl describe node host-1 and journalctl -u k3s-agent'],
    ['no node at all while a kubelet is expected', { k8sRole: undefined }, { image: NEW, kubeletVersion: 'v1.33.1' },
      'booted active at v3.5.0 but there is no Kubernetes node on this host after 1 s, expected kubelet v1.33.1 Ready: the provider did not bring Kubernetes up (journalctl -u kairos-agent)'],
  ])('%s → failed with what was found', async (_name, options, params, detail) => {
    const a = await online(node(options as SimulatedKairosOptions));
    const r = await a.run(`g-${_name.replace(/\W+/g, '-')}`, 'upgrade', params);
    expect(r.phases.at(-1)).toBe('failed');
    expect(r.detail).toBe(detail);
  });

  test('a host that is no cluster node and no kubelet named: booted active is enough', async () => {
    const a = await online(new SimulatedKairos());
    const r = await a.run('g-plain', 'upgrade', { image: NEW });
    expect(r.detail).toBe('booted active at v3.5.0');
  });

  test.each([
    [{ image: NEW, kubeletVersion: '--v=9' }, 'invalid parameter: kubeletVersion: must not start with "-"'],
    [{ image: NEW, kubeletVersion: 'v1.33.1 && reboot' }, 'invalid parameter: kubeletVersion: "v1.33.1 && reboot" is not a Kubernetes version such as v1.31.2 or v1.31.2+k3s1'],
    [{ image: NEW, argv: 'x' }, 'invalid parameter: unknown parameter "argv" (allowed: image, version, kubeletVersion, recovery)'],
  ])('hostile parameters %j are refused before anything runs', async (params, detail) => {
    const k = node();
    const a = await online(k);
    const r = await a.run(`bad-${Math.random().toString(36).slice(2, 8)}`, 'upgrade', params);
    expect(r).toEqual({ phases: ['accepted', 'failed'], detail });
    expect(k.calls).toEqual([]);
  });

  test('agent restart after the reboot (real host): the new agent applies the full gate from the in-flight record', async () => {
    const k = node({ k8sReadyDelayMs: 150 });
    const goingDown: KairosExecutor = {
      upgrade: (i, o) => k.upgrade(i, o), applyCloudConfig: (y) => k.applyCloudConfig(y), state: () => k.state(), reset: () => k.reset(),
      bootstrap: () => k.bootstrap(), restartKubernetes: () => k.restartKubernetes(), reloadKubernetes: () => k.reloadKubernetes(), kubeNode: (x, n, s) => k.kubeNode(x, n, s),
      stateFreeMb: () => k.stateFreeMb(), checkImage: (i) => k.checkImage(i), packs: () => k.packs(), exportKubeconfig: () => k.exportKubeconfig(),
      reboot: async (): Promise<RebootOutcome> => 'rebooting',
    };
    const a = await online(goingDown);
    a.t.deliver({ commandId: 'gr1', type: 'upgrade', params: { image: IMG('v3.5.0', '1.30.4'), kubeletVersion: 'v1.31.2' }, deadline: future() });
    await waitFor(() => a.h.state.phase === 'rebooting', 'rebooting');
    expect(await new StateStore(fixture.dir()).readInflight()).toMatchObject({ commandId: 'gr1', type: 'upgrade', targetVersion: 'v3.5.0', kubeletVersion: 'v1.31.2' });
    await a.h.stop();
    await k.reboot();
    const b = await online(k);
    await waitFor(() => b.t.phases('gr1').includes('failed'), 'decided after boot');
    expect(b.t.results('gr1').at(-1).detail).toBe('booted active at v3.5.0 but the node reports kubelet v1.30.4+k3s1, expected v1.31.2: the image does not carry the target Kubernetes version');
    expect(await new StateStore(fixture.dir()).readInflight()).toBeUndefined();
  });

  test('agent restart after the reboot: Ready at the target kubelet → succeeded, after waiting for Ready', async () => {
    const k = node({ k8sReadyDelayMs: 200 });
    await k.upgrade(NEW);
    const store = new StateStore(fixture.dir());
    await store.init();
    await store.writeInflight({ commandId: 'gr2', type: 'upgrade', deadline: future(), image: NEW, targetVersion: 'v3.5.0', kubeletVersion: 'v1.33.1+k3s1', startedAt: new Date().toISOString() });
    await k.reboot();
    // Not Ready at the gate's first look; Ready from its third (counted reads, not a race against a delay).
    k.setFailures({ neverReady: true });
    let reads = 0;
    const counted: KairosExecutor = {
      upgrade: (i, o) => k.upgrade(i, o), reboot: () => k.reboot(), reset: () => k.reset(), applyCloudConfig: (y) => k.applyCloudConfig(y),
      bootstrap: () => k.bootstrap(), restartKubernetes: () => k.restartKubernetes(), reloadKubernetes: () => k.reloadKubernetes(),
      kubeNode: (x, n, t) => k.kubeNode(x, n, t), stateFreeMb: () => k.stateFreeMb(), checkImage: (i) => k.checkImage(i), packs: () => k.packs(), exportKubeconfig: () => k.exportKubeconfig(),
      state: async () => {
        const s = await k.state();
        if (++reads === 3) k.setFailures({ neverReady: undefined });
        return s;
      },
    };
    const b = await online(counted);
    await waitFor(() => b.t.phases('gr2').includes('succeeded'), `succeeded after boot: ${JSON.stringify(b.t.results('gr2'))}`);
    expect(b.t.results('gr2').map((r) => r.phase)).toEqual(['progress', 'succeeded']);
    expect(b.t.results('gr2').at(-1).detail).toBe('booted active at v3.5.0; Kubernetes node host-1 Ready at kubelet v1.33.1+k3s1');
  });
});

describe('preflight', () => {
  const params = { image: NEW, requiredFreeMb: 9000 };

  test('all three checks pass → succeeded listing them', async () => {
    const k = node();
    const a = await online(k);
    await waitFor(() => k.kubernetes.node('host-1')?.ready === true, 'Ready');
    const r = await a.run('p1', 'preflight', params);
    expect(r).toEqual({ phases: ['accepted', 'succeeded'], detail: `preflight passed: Kubernetes node host-1 Ready at kubelet v1.32.3+k3s1; state partition 20000 MB free (needs 9000 MB); image ${NEW} reachable` });
    expect(k.calls).toEqual(['state-free-mb', `check-image ${NEW}`]);
  });

  test.each([
    ['low disk', { failures: { lowDiskMb: 4000 } }, 'preflight failed: state partition has 4000 MB free, needs 9000 MB for the active, passive and transition images: free space on COS_STATE or use a smaller image'],
    ['image unreachable', { failures: { imageUnreachable: 'quay.io did not answer within 30 s' } }, `preflight failed: image ${NEW} not reachable: quay.io did not answer within 30 s`],
    ['node not Ready', { failures: { neverReady: true } }, 'preflight failed: Kubernetes node host-1 is not Ready (kubectl describe node host-1)'],
  ])('%s → failed naming the failing check', async (_name, options, prefix) => {
    const k = node(options as SimulatedKairosOptions);
    const a = await online(k);
    // The node's kubelet comes up after boot: wait for Ready (a fixed sleep is load-dependent),
    // except in the case where it never will.
    if (!('neverReady' in options.failures)) await waitFor(() => k.kubernetes.node('host-1')?.ready === true, 'Ready');
    const r = await a.run(`p-${_name.replace(/\W+/g, '-')}`, 'preflight', params);
    expect(r.phases).toEqual(['accepted', 'failed']);
    expect(r.detail.startsWith(prefix)).toBe(true);
    expect(r.detail).toContain('(passed: ');
  });

  test('readyTimeoutSeconds (a rollback): a node not Ready yet is waited for, then passes; without it, the same node is refused at once', async () => {
    const k = node({ failures: { neverReady: true } });
    const a = await online(k);
    expect((await a.run('p-now', 'preflight', params)).detail).toMatch(/^preflight failed: Kubernetes node host-1 is not Ready/);
    setTimeout(() => k.setFailures({ neverReady: undefined }), 300);
    const r = await a.run('p-wait', 'preflight', { ...params, readyTimeoutSeconds: 30 });
    expect(r.phases).toEqual(['accepted', 'progress', 'succeeded']);
    expect(r.detail).toMatch(/^preflight passed: Kubernetes node host-1 Ready/);
  });

  test('not a cluster node: the Ready check is skipped and said so', async () => {
    const a = await online(new SimulatedKairos());
    expect((await a.run('p-plain', 'preflight', params)).detail).toMatch(/^preflight passed: not a Kubernetes node \(no Ready check\); state partition/);
  });

  test.each([
    [{ image: NEW }, 'invalid parameter: requiredFreeMb: must be a whole number of MB from 0 to 1048576'],
    [{ image: '-x', requiredFreeMb: 1 }, 'invalid parameter: image: must not start with "-"'],
    [{ ...params, path: '/' }, 'invalid parameter: unknown parameter "path" (allowed: image, requiredFreeMb, readyTimeoutSeconds)'],
    [{ ...params, readyTimeoutSeconds: 0 }, 'invalid parameter: readyTimeoutSeconds: must be a whole number of seconds from 1 to 3600'],
    [{ ...params, readyTimeoutSeconds: '30' }, 'invalid parameter: readyTimeoutSeconds: must be a whole number of seconds from 1 to 3600'],
  ])('refuses %j', async (p, detail) => {
    const k = node();
    const a = await online(k);
    expect(await a.run(`pb-${Math.random().toString(36).slice(2, 8)}`, 'preflight', p)).toEqual({ phases: ['accepted', 'failed'], detail });
    expect(k.calls).toEqual([]);
  });
});
