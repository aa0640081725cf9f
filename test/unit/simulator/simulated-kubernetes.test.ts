import { SimulatedKairos, SimulatedKubernetes, type AvailabilityEvent } from '../../../simulator/index.js';

/** The shared simulated Kubernetes API: nodes, kube-node actions, the availability timeline and its helpers. */

const clock = () => {
  let t = 1000;
  return { now: () => t, advance: (ms: number) => (t += ms), sleep: async (ms: number) => void (t += ms) };
};
const ev = (at: number, node: string, available: boolean): AvailabilityEvent => ({ at, node, available });

describe('timeline helpers', () => {
  // a, b, c up at 0; a out 10..20; b out 15..30; c out 40..50; d joins at 60.
  const k = SimulatedKubernetes.fromTimeline([
    ev(0, 'a', true), ev(0, 'b', true), ev(0, 'c', true),
    ev(10, 'a', false), ev(15, 'b', false), ev(20, 'a', true), ev(30, 'b', true), ev(40, 'c', false), ev(50, 'c', true), ev(60, 'd', false), ev(70, 'd', true),
  ]);

  it.each([
    [5, []], [10, ['a']], [15, ['a', 'b']], [20, ['b']], [35, []], [45, ['c']], [65, ['d']], [75, []],
  ])('unavailableAt(%d) = %j', (t, out) => {
    expect(k.unavailableAt(t)).toEqual(out);
  });

  it.each([
    [undefined, undefined, undefined, 2],
    [['a', 'c'], undefined, undefined, 1],
    [undefined, 21, 100, 1],
    [undefined, 31, 39, 0],
    [['c'], 0, 45, 1],
  ])('maxConcurrentUnavailable(%j, %s, %s) = %d', (nodes, from, to, max) => {
    expect(k.maxConcurrentUnavailable(nodes, from, to)).toBe(max);
  });

  it.each([
    [['a', 'b', 'c'], 0, 100, 1],
    [['a', 'c'], 0, 100, 1],
    [['a', 'b', 'c'], 31, 39, 3],
    [['a', 'b', 'c', 'd'], 0, 59, 1],
  ])('minAvailable(%j, %d, %d) = %d', (nodes, from, to, min) => {
    expect(k.minAvailable(nodes, from, to)).toBe(min);
  });
});

describe('SimulatedKubernetes', () => {
  it('register: NotReady, then Ready after the delay (foreseen on the timeline); cordon and uncordon', () => {
    const c = clock();
    const k = new SimulatedKubernetes({ now: c.now });
    k.register('n1', { role: 'init', kubeletVersion: 'v1.31.2', readyInMs: 100 });
    expect(k.node('n1')).toMatchObject({ ready: false, cordoned: false });
    c.advance(100);
    expect(k.node('n1')).toMatchObject({ ready: true });
    k.cordon('n1');
    c.advance(50);
    k.uncordon('n1');
    expect(k.timeline).toEqual([ev(1000, 'n1', false), ev(1100, 'n1', true), ev(1100, 'n1', false), ev(1150, 'n1', true)]);
  });

  it('a change before the foreseen Ready replaces it', () => {
    const c = clock();
    const k = new SimulatedKubernetes({ now: c.now });
    k.register('n1', { role: 'worker', kubeletVersion: 'v1.31.2', readyInMs: 100 });
    c.advance(50);
    k.kubeletStarted('n1', 100);
    expect(k.timeline).toEqual([ev(1000, 'n1', false), ev(1150, 'n1', true)]);
    k.setRebooting('n1', true);
    c.advance(500);
    expect(k.unavailableAt(c.now())).toEqual(['n1']);
    expect(k.timeline).toEqual([ev(1000, 'n1', false)]);
  });

  it('drain cordons then evicts (delay); a failing drain leaves the node cordoned; remove takes it out', async () => {
    const c = clock();
    const k = new SimulatedKubernetes({ now: c.now, sleep: c.sleep, drainDelayMs: 30 });
    k.register('w1', { role: 'worker', kubeletVersion: 'v1.31.2', readyInMs: 0 });
    await k.drain('w1', 60);
    expect(c.now()).toBe(1030);
    expect(k.node('w1')).toMatchObject({ cordoned: true, ready: true });
    k.uncordon('w1');
    k.drainFailure = 'Cannot evict pod web-0: would violate the disruption budget';
    await expect(k.drain('w1', 60)).rejects.toThrow('kubectl drain w1 did not finish within 60s: Cannot evict pod web-0');
    expect(k.node('w1')?.cordoned).toBe(true);
    k.remove('w1');
    expect(k.node('w1')).toBeUndefined();
    expect(k.nodes()).toEqual([]);
  });
});

describe('simulated hosts on a shared Kubernetes API', () => {
  const IMG = (kairos: string, k8s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k8s}-k3s1`;
  const setup = () => {
    const c = clock();
    const kubernetes = new SimulatedKubernetes({ now: c.now, sleep: c.sleep });
    const host = (name: string, role: 'init' | 'worker') => new SimulatedKairos({ now: c.now, sleep: c.sleep, kubernetes, nodeName: name, k8sRole: role, k8sReadyDelayMs: 100, rebootDelayMs: 200 });
    return { c, kubernetes, host };
  };

  it('an upgrade reboot: out while rebooting and until Ready, back at the kubelet the image carries', async () => {
    const { c, kubernetes, host } = setup();
    host('a', 'init');
    const b = host('b', 'worker');
    c.advance(100);
    expect(kubernetes.nodes().map((n) => [n.name, n.ready, n.kubeletVersion])).toEqual([['a', true, 'v1.32.3+k3s1'], ['b', true, 'v1.32.3+k3s1']]);
    const t0 = c.now();
    await b.upgrade(IMG('v3.5.0', '1.33.1'));
    await b.reboot();
    expect(kubernetes.node('b')).toMatchObject({ ready: false, kubeletVersion: 'v1.33.1+k3s1' });
    expect((await b.state()).kubernetes?.version).toBe('v1.33.1+k3s1');
    c.advance(100);
    expect(kubernetes.node('b')?.ready).toBe(true);
    expect(kubernetes.maxConcurrentUnavailable(['a', 'b'], t0, c.now())).toBe(1);
    expect(kubernetes.minAvailable(['a', 'b'], t0, c.now())).toBe(1);
    expect(kubernetes.timeline.filter((e) => e.node === 'b').slice(-2)).toEqual([ev(t0, 'b', false), ev(t0 + 300, 'b', true)]);
  });

  it('kube-node on a control-plane host acts on the named node; restart goes NotReady then Ready; reset removes', async () => {
    const { c, kubernetes, host } = setup();
    const a = host('a', 'init');
    const b = host('b', 'worker');
    c.advance(100);
    await a.kubeNode('drain', 'b', 60);
    expect(kubernetes.node('b')?.cordoned).toBe(true);
    await a.kubeNode('uncordon', 'b', 60);
    expect(kubernetes.node('b')?.cordoned).toBe(false);
    const t = c.now();
    await b.restartKubernetes();
    expect(kubernetes.unavailableAt(t)).toEqual(['b']);
    c.advance(100);
    expect(kubernetes.unavailableAt(c.now())).toEqual([]);
    await b.reset();
    expect(kubernetes.node('b')).toBeUndefined();
    await a.kubeNode('delete', 'b', 60);
    expect(kubernetes.nodes().map((n) => n.name)).toEqual(['a']);
  });

  it('failImages boots passive (old kubelet) for those images only; a later rollback to the old image succeeds', async () => {
    const { c, kubernetes } = setup();
    const old = IMG('v3.4.2', '1.32.3');
    const bad = IMG('v3.5.0', '1.33.1');
    const h = new SimulatedKairos({ now: c.now, sleep: c.sleep, kubernetes, nodeName: 'x', k8sRole: 'worker', image: old, failures: { failImages: [bad] } });
    await h.upgrade(bad);
    await h.reboot();
    expect(await h.state()).toMatchObject({ boot: 'passive', kairosVersion: 'v3.4.2', kubernetes: { version: 'v1.32.3+k3s1' } });
    await h.upgrade(bad);
    await h.reboot();
    expect((await h.state()).boot).toBe('passive');
    h.setFailures({ failImages: undefined });
    await h.upgrade(old);
    await h.reboot();
    expect(await h.state()).toMatchObject({ boot: 'active', kairosVersion: 'v3.4.2', kubernetes: { version: 'v1.32.3+k3s1' } });
  });

  it('neverReturns: the host goes dark (powered-off hook), stays out on the timeline; stop() ends the wait', async () => {
    const { c, kubernetes, host } = setup();
    host('d', 'worker');
    c.advance(100);
    let dark = 0;
    const d = new SimulatedKairos({ now: c.now, sleep: c.sleep, kubernetes, nodeName: 'e', k8sRole: 'worker', onPowerOff: () => dark++, failures: { neverReturns: true } });
    c.advance(100);
    const rebooting = d.reboot();
    expect(dark).toBe(1);
    c.advance(10_000);
    expect(kubernetes.unavailableAt(c.now())).toEqual(['e']);
    expect(kubernetes.node('d')?.ready).toBe(true);
    d.stop();
    await expect(rebooting).rejects.toThrow('the host went dark during the reboot and never came back');
  });

  it('setFailures mid-run: neverReady takes the node out, clearing it brings it back; low disk and unreachable images are reported', async () => {
    const { c, kubernetes, host } = setup();
    const h = host('f', 'worker');
    c.advance(100);
    h.setFailures({ neverReady: true });
    expect(kubernetes.node('f')?.ready).toBe(false);
    h.setFailures({ neverReady: undefined });
    c.advance(100);
    expect(kubernetes.node('f')?.ready).toBe(true);
    expect(await h.stateFreeMb()).toBe(20_000);
    h.setFailures({ lowDiskMb: 512, imageUnreachable: 'quay.io: connection refused' });
    expect(await h.stateFreeMb()).toBe(512);
    await expect(h.checkImage(IMG('v3.5.0', '1.33.1'))).rejects.toThrow('quay.io: connection refused');
  });
});

describe('one clock reading per change', () => {
  it('NotReady → Ready is exactly the kubelet delay, even when the clock moves between readings', () => {
    let t = 1000;
    const k = new SimulatedKubernetes({ now: () => t++ }); // every reading is 1 ms later
    k.register('n1', { role: 'worker', kubeletVersion: 'v1.31.2', readyInMs: 0 });
    t += 5000; // Ready for a while, then the kubelet restarts
    k.kubeletStarted('n1', 300);
    const [out, back] = k.timeline.filter((e) => e.node === 'n1').slice(-2);
    expect([out!.available, back!.available]).toEqual([false, true]);
    expect(back!.at - out!.at).toBe(300);
  });
});
