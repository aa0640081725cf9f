import { statusMessage } from '../../../lambdas/contracts/mqtt.js';
import type { KairosExecutor, KairosState } from '../../../device/kairos.js';
import { SimulatedKairos, simulatedDigest, type SimulatedKairosOptions } from '../../../simulator/index.js';
import { freshSinceBoot, sameImage } from '../../../device/upgrade.js';
import { agentFixture, waitFor } from './agent-harness.js';

/**
 * The running image identity in the status report (only what the simulated partitions really
 * hold), and the post-boot gate failing fast: with a one-minute readiness timeout, every
 * failure below arrives within seconds, so none of them waited for the timeout.
 */

const IMG = (kairos: string, k8s: string, flavor = 'ubuntu') => `quay.io/kairos/${flavor}:24.04-standard-amd64-generic-${kairos}-k3sv${k8s}-k3s1`;
const OLD = IMG('v3.4.2', '1.32.3');
const NEW = IMG('v3.5.0', '1.33.1');
const fixture = agentFixture('ef-agent-identity-', { readyTimeoutMs: 60_000 });
const { online } = fixture;
const node = (o: SimulatedKairosOptions = {}) => new SimulatedKairos({ k8sRole: 'worker', nodeName: 'host-1', k8sReadyDelayMs: 50, ...o });
const lastBoot = (a: Awaited<ReturnType<typeof online>>) => statusMessage.parse(a.t.statuses().at(-1)).boot;

describe('status report: the running image identity', () => {
  test('reports the booted image, its digest, flavour and both partitions', async () => {
    const a = await online(node());
    expect(lastBoot(a)).toEqual({
      state: 'active', kairosVersion: 'v3.4.2', osRelease: 'ubuntu 24.04', image: OLD, digest: simulatedDigest(OLD), flavor: 'ubuntu',
      partitions: { active: { image: OLD, digest: simulatedDigest(OLD) }, passive: { image: OLD, digest: simulatedDigest(OLD) } },
    });
  });

  test('after an upgrade: active holds the new image, passive the old one, and the report changes with them', async () => {
    const a = await online(node());
    expect((await a.run('i1', 'upgrade', { image: NEW, kubeletVersion: 'v1.33.1' })).phases.at(-1)).toBe('succeeded');
    await waitFor(() => lastBoot(a).image === NEW, 'a status report of the new image');
    expect(lastBoot(a)).toMatchObject({ state: 'active', image: NEW, digest: simulatedDigest(NEW), partitions: { active: { image: NEW }, passive: { image: OLD } } });
  });

  test('after a fallback: booted passive on the old image, the active partition still holds the failed one', async () => {
    const a = await online(node({ failures: { failImages: [NEW] } }));
    expect((await a.run('i2', 'upgrade', { image: NEW, kubeletVersion: 'v1.33.1' })).phases.at(-1)).toBe('failed');
    await waitFor(() => lastBoot(a).state === 'passive', 'a status report of the fallback');
    expect(lastBoot(a)).toMatchObject({ state: 'passive', image: OLD, kairosVersion: 'v3.4.2', partitions: { active: { image: NEW }, passive: { image: OLD } } });
  });

  test('wrong contents under a reference: the simulated host reports what was written, not what was asked', async () => {
    const other = IMG('v3.5.0', '1.33.1', 'opensuse');
    const k = node({ failures: { imageContents: { [NEW]: other } } });
    await k.upgrade(NEW);
    await k.reboot();
    expect(await k.state()).toMatchObject({ image: other, digest: simulatedDigest(other), flavor: 'opensuse', partitions: { active: { image: other } } });
  });
});

describe('upgrade gate: fails fast when waiting cannot help', () => {
  test.each<[string, SimulatedKairosOptions, Record<string, unknown>, string | RegExp]>([
    ['Ready at another kubelet (a fault of the booted image)', { failures: { kubeletVersion: 'v1.32.9+k3s1' } }, { image: NEW, kubeletVersion: 'v1.33.1' },
      'booted active at v3.5.0 but the node reports kubelet v1.32.9+k3s1, expected v1.33.1: the image does not carry the target Kubernetes version'],
    ['booted passive (Kairos fell back)', { failures: { bootFallback: true } }, { image: NEW, kubeletVersion: 'v1.33.1' },
      `booted passive at v3.4.2: the new image did not boot and Kairos fell back to ${OLD}; the active partition still holds ${NEW}`],
    ['booted active into another image than the target', { failures: { imageContents: { [NEW]: IMG('v3.5.0', '1.33.1', 'opensuse') } } }, { image: NEW, kubeletVersion: 'v1.33.1' },
      `booted active into ${IMG('v3.5.0', '1.33.1', 'opensuse')}@${simulatedDigest(IMG('v3.5.0', '1.33.1', 'opensuse'))}, expected ${NEW}: the image written is not the one asked for (check what the registry serves under that reference)`],
    ['a digest-pinned target whose contents differ', { failures: { imageContents: { [`${NEW}@sha256:${'a'.repeat(64)}`]: IMG('v3.5.0', '1.33.1', 'rocky') } } }, { image: `${NEW}@sha256:${'a'.repeat(64)}`, kubeletVersion: 'v1.33.1' },
      /^booted active into quay\.io\/kairos\/rocky:\S+, expected \S+@sha256:a{64}: the image written is not the one asked for/],
  ])('%s → failed at once, naming expected and actual', async (_name, options, params, detail) => {
    const started = Date.now();
    const a = await online(node(options));
    const r = await a.run(`ff-${_name.replace(/\W+/g, '-').slice(0, 40)}`, 'upgrade', params);
    expect(r.phases.at(-1)).toBe('failed');
    if (typeof detail === 'string') expect(r.detail).toBe(detail);
    else expect(r.detail).toMatch(detail);
    // The readiness timeout is 60 s: a decision within 8 s (the run's own wait) did not wait for it.
    expect(Date.now() - started).toBeLessThan(60_000);
  });

  test('a Ready status posted before this boot (the old kubelet\'s) decides nothing: the gate waits for the fresh one', async () => {
    const k = node({ k8sReadyDelayMs: 300 });
    let reads = 0;
    // The first reads after the boot show the previous kubelet's stale Ready status (heartbeat before the boot).
    const stale: KairosExecutor = {
      upgrade: (i, o) => k.upgrade(i, o), reboot: () => k.reboot(), reset: () => k.reset(), applyCloudConfig: (y) => k.applyCloudConfig(y),
      bootstrap: () => k.bootstrap(), restartKubernetes: () => k.restartKubernetes(), reloadKubernetes: () => k.reloadKubernetes(),
      kubeNode: (x, n, t) => k.kubeNode(x, n, t), stateFreeMb: () => k.stateFreeMb(), checkImage: (i) => k.checkImage(i), packs: () => k.packs(), exportKubeconfig: () => k.exportKubeconfig(),
      state: async (): Promise<KairosState> => {
        const s = await k.state();
        if (!k.calls.includes('reboot') || reads++ > 3 || !s.bootedAt) return s;
        return { ...s, kubernetes: { ready: true, version: 'v1.32.3+k3s1', role: 'worker', heartbeatAt: s.bootedAt - 5_000 } };
      },
    };
    const a = await online(stale);
    const r = await a.run('stale-1', 'upgrade', { image: NEW, kubeletVersion: 'v1.33.1' });
    expect(r.detail).toBe('booted active at v3.5.0; Kubernetes node host-1 Ready at kubelet v1.33.1+k3s1');
  });

  test('the device-side identity rules', () => {
    expect(sameImage({ image: NEW }, NEW)).toBe(true);
    expect(sameImage({ image: 'ubuntu:24.04' }, 'docker.io/library/ubuntu:24.04')).toBe(true);
    expect(sameImage({ image: NEW, digest: `sha256:${'b'.repeat(64)}` }, `${NEW}@sha256:${'a'.repeat(64)}`)).toBe(false);
    expect(sameImage({ image: NEW, digest: `sha256:${'a'.repeat(64)}` }, `${NEW}@sha256:${'a'.repeat(64)}`)).toBe(true);
    expect(sameImage({ image: OLD }, NEW)).toBe(false);
    expect(freshSinceBoot(undefined, 1000)).toBe(true);
    expect(freshSinceBoot(999, 1000)).toBe(false);
    expect(freshSinceBoot(1000, 1000)).toBe(true);
  });
});
