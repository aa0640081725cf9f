import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { nicAddresses } from '../../../device/inventory.js';
import { SimulatedKairos } from '../../../simulator/index.js';

const V2 = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.33.1-k3s1';

describe('simulated Kairos', () => {
  test('upgrade writes active, keeps the old image as passive; the new version runs only after reboot', async () => {
    const k = new SimulatedKairos({ version: 'v3.4.2', k8sRole: 'worker' });
    await k.upgrade(V2);
    expect((await k.state()).kairosVersion).toBe('v3.4.2');
    expect(k.snapshot.passive.version).toBe('v3.4.2');
    expect(await k.reboot()).toBe('rebooted');
    expect(await k.state()).toMatchObject({ boot: 'active', kairosVersion: 'v3.5.0', kubernetes: { ready: true } });
  });

  test('boot fallback: the new image fails, the host comes back on passive at the old version', async () => {
    const k = new SimulatedKairos({ version: 'v3.4.2', failures: { bootFallback: true } });
    await k.upgrade(V2);
    await k.reboot();
    expect(await k.state()).toMatchObject({ boot: 'passive', kairosVersion: 'v3.4.2' });
  });

  test('download failure leaves the partitions untouched; it happens once', async () => {
    const k = new SimulatedKairos({ failures: { download: true } });
    const before = k.snapshot;
    await expect(k.upgrade(V2)).rejects.toThrow(/error pulling/);
    expect(k.snapshot).toEqual(before);
    await expect(k.upgrade(V2)).resolves.toBeUndefined();
  });

  test('hang: the upgrade never ends until stopped', async () => {
    const k = new SimulatedKairos({ failures: { hang: true } });
    let settled = false;
    const p = k.upgrade(V2).catch(() => (settled = true));
    await new Promise((r) => setTimeout(r, 50));
    expect(settled).toBe(false);
    k.stop();
    await p;
    expect(settled).toBe(true);
  });

  test('stop() ends a reboot still waiting its delay and leaves no timer behind', async () => {
    const k = new SimulatedKairos({ rebootDelayMs: 60_000 });
    const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
    const p = k.reboot();
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before + 1);
    k.stop();
    await expect(p).rejects.toThrow(/stopped while it waited/);
    expect(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length).toBe(before);
  });

  test('reset goes through the statereset entry and wipes the applied config', async () => {
    const k = new SimulatedKairos();
    await k.applyCloudConfig('a: 1');
    await k.reset();
    expect(k.snapshot).toMatchObject({ resets: 1, booted: 'active' });
    expect(k.snapshot.cloudConfig).toBeUndefined();
    expect(k.calls).toEqual(['apply-cloud-config', 'reset', 'reboot']);
  });

  test('a pre-provisioned node (k8sRole): readiness follows the boot with a delay; invalid images are refused', async () => {
    let t = 1000;
    const k = new SimulatedKairos({ k8sReadyDelayMs: 500, k8sRole: 'init', now: () => t });
    expect((await k.state()).kubernetes?.ready).toBe(false);
    t += 500;
    expect((await k.state()).kubernetes?.ready).toBe(true);
    await expect(k.upgrade('--evil')).rejects.toThrow(/must not start with "-"/);
  });

  test('the disk survives a restart through the state file', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'ef-sim-'));
    try {
      const file = join(dir, 'disk.json');
      const k = new SimulatedKairos({ stateFile: file });
      await k.upgrade(V2);
      await k.reboot();
      expect((await new SimulatedKairos({ stateFile: file }).state()).kairosVersion).toBe('v3.5.0');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('addresses: deterministic per host (an IPv4 in 10.0.0.0/8 on eth0), as the agent reads them; `nics` sets them, [] means none', () => {
    const a = nicAddresses(new SimulatedKairos({ nodeName: 'sim-1' }).networkInterfaces());
    expect(a).toEqual(nicAddresses(new SimulatedKairos({ nodeName: 'sim-1' }).networkInterfaces()));
    expect(a).toEqual([{ name: 'eth0', ips: [expect.stringMatching(/^10\.\d+\.\d+\.\d+$/)] }]);
    expect(a).not.toEqual(nicAddresses(new SimulatedKairos({ nodeName: 'sim-2' }).networkInterfaces()));
    const k = new SimulatedKairos({ nics: [{ name: 'enp1s0', ips: ['192.168.7.5'] }] });
    expect(nicAddresses(k.networkInterfaces())).toEqual([{ name: 'enp1s0', ips: ['192.168.7.5'] }]);
    k.setNics([]);
    expect(nicAddresses(k.networkInterfaces())).toEqual([]);
  });

  describe('Kubernetes node', () => {
    const CP = 'cluster:\n  cluster_token: t\n  role: controlplane\n  config: |\n    node-name: cp-1\n';
    const RKE2_WORKER = `cluster:\n  role: worker\nstages:\n  initramfs:\n    - files:\n        - path: /etc/edgefleet/node.json\n          content: '{"hostId":"w-2","distribution":"rke2","kubernetesVersion":"1.31.4"}'\n`;
    let t = 0;
    const clock = () => t;
    beforeEach(() => (t = 10_000));

    test('none before the cluster config; NotReady after bootstrap, Ready after the delay; role, distribution and version from the config', async () => {
      const k = new SimulatedKairos({ k8sReadyDelayMs: 500, now: clock });
      expect((await k.state()).kubernetes).toBeUndefined();
      await k.applyCloudConfig(CP);
      expect((await k.state()).kubernetes).toBeUndefined();
      await k.bootstrap();
      expect((await k.state()).kubernetes).toEqual({ ready: false, cordoned: false, role: 'control-plane', distribution: 'k3s', version: 'v1.32.3+k3s1', nodeName: 'cp-1' });
      t += 500;
      expect((await k.state()).kubernetes?.ready).toBe(true);
      expect(k.calls).toEqual(['apply-cloud-config', 'bootstrap']);
    });

    const RKE2_IMAGE = 'quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-rke2v1.31.4-rke2r1';
    const CORE_IMAGE = 'quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0';

    test('distribution and version come from the image running, never from the cloud-config (which asks for rke2 1.31.4)', async () => {
      const k = new SimulatedKairos({ now: clock, image: RKE2_IMAGE });
      await k.applyCloudConfig(RKE2_WORKER);
      await k.bootstrap();
      expect((await k.state()).kubernetes).toEqual({ ready: true, cordoned: false, role: 'worker', distribution: 'rke2', version: 'v1.31.4+rke2r1', nodeName: 'w-2' });
      expect(await k.restartKubernetes()).toBe('rke2-agent');
    });

    test('the cloud-config names another version than the image carries: the node runs what the image carries', async () => {
      const k = new SimulatedKairos({ now: clock });
      await k.applyCloudConfig(RKE2_WORKER.replace('"rke2"', '"k3s"'));
      await k.bootstrap();
      expect((await k.state()).kubernetes).toMatchObject({ distribution: 'k3s', version: 'v1.32.3+k3s1' });
    });

    test('an image without Kubernetes (core) brings no node up; another distribution than the image carries neither', async () => {
      const core = new SimulatedKairos({ now: clock, image: CORE_IMAGE });
      await core.applyCloudConfig(CP);
      await expect(core.bootstrap()).rejects.toThrow(`the Kubernetes provider could not bring up the control-plane node: no Kubernetes distribution in image ${CORE_IMAGE}`);
      expect((await core.state()).kubernetes).toBeUndefined();
      const k3s = new SimulatedKairos({ now: clock });
      await k3s.applyCloudConfig(RKE2_WORKER);
      await expect(k3s.bootstrap()).rejects.toThrow(/no rke2 in image quay\.io\/kairos\/ubuntu:24\.04-standard-amd64-generic-v3\.4\.2-k3sv1\.32\.3-k3s1 \(it carries k3s v1\.32\.3\+k3s1\)/);
      // Rebooting with the config (the provider at boot) brings no node up either.
      await core.reboot();
      expect((await core.state()).kubernetes).toBeUndefined();
    });

    test('the simulated image catalog says what a label-only image carries', async () => {
      const k = new SimulatedKairos({ now: clock, image: CORE_IMAGE, images: { [CORE_IMAGE]: { distribution: 'k3s', kubernetesVersion: '1.31.2+k3s1' } } });
      await k.applyCloudConfig(CP);
      await k.bootstrap();
      expect((await k.state()).kubernetes).toMatchObject({ distribution: 'k3s', version: 'v1.31.2+k3s1' });
    });

    test('a repave: the node comes back at the kubelet of the image written (the slot records it); a core image leaves no node', async () => {
      const k = new SimulatedKairos({ now: clock });
      await k.applyCloudConfig(CP);
      await k.bootstrap();
      await k.upgrade(V2);
      expect(k.snapshot.active).toMatchObject({ image: V2, kubeletVersion: 'v1.33.1+k3s1', distribution: 'k3s' });
      await k.reboot();
      expect((await k.state()).kubernetes).toMatchObject({ version: 'v1.33.1+k3s1' });
      await k.upgrade(CORE_IMAGE);
      await k.reboot();
      expect((await k.state()).kubernetes).toBeUndefined();
    });

    test('the cordon it reports is the shared Kubernetes API\'s (whoever cordoned it: a peer\'s drain, an operator)', async () => {
      const k = new SimulatedKairos({ now: clock, image: RKE2_IMAGE });
      await k.applyCloudConfig(RKE2_WORKER);
      await k.bootstrap();
      k.kubernetes.cordon('w-2');
      expect((await k.state()).kubernetes?.cordoned).toBe(true);
      k.kubernetes.uncordon('w-2');
      expect((await k.state()).kubernetes?.cordoned).toBe(false);
    });

    test('bootstrap without a cluster stanza and a join failure are named; the failure stays until cleared', async () => {
      const k = new SimulatedKairos({ now: clock, failures: { joinFailure: 'etcd cluster join: connection refused' } });
      await expect(k.bootstrap()).rejects.toThrow(/no cluster stanza/);
      await k.applyCloudConfig(CP);
      await expect(k.bootstrap()).rejects.toThrow(/k3s provider could not bring up the control-plane node: etcd cluster join: connection refused/);
      await expect(k.bootstrap()).rejects.toThrow(/connection refused/);
      expect((await k.state()).kubernetes).toBeUndefined();
      k.failures.joinFailure = undefined;
      await k.bootstrap();
      expect((await k.state()).kubernetes?.role).toBe('control-plane');
    });

    test('neverReady: the node joins but stays NotReady', async () => {
      const k = new SimulatedKairos({ now: clock, failures: { neverReady: true } });
      await k.applyCloudConfig(CP);
      await k.bootstrap();
      t += 3_600_000;
      expect((await k.state()).kubernetes).toMatchObject({ ready: false, role: 'control-plane' });
    });

    test('restart: NotReady, then Ready after the delay; a host without a node has nothing to restart', async () => {
      const k = new SimulatedKairos({ k8sReadyDelayMs: 200, now: clock });
      await expect(k.restartKubernetes()).rejects.toThrow(/not a Kubernetes node/);
      await k.applyCloudConfig(CP);
      await k.bootstrap();
      t += 200;
      expect((await k.state()).kubernetes?.ready).toBe(true);
      expect(await k.restartKubernetes()).toBe('k3s');
      expect((await k.state()).kubernetes?.ready).toBe(false);
      t += 200;
      expect((await k.state()).kubernetes?.ready).toBe(true);
    });

    test('a reboot with the cluster config brings the node up (the provider runs at boot)', async () => {
      const k = new SimulatedKairos({ k8sReadyDelayMs: 100, now: clock });
      await k.applyCloudConfig(CP);
      await k.reboot();
      expect((await k.state()).kubernetes).toMatchObject({ ready: false, role: 'control-plane' });
      t += 100;
      expect((await k.state()).kubernetes?.ready).toBe(true);
    });

    test('kube-node: cordon, drain, uncordon, delete on a control plane; drainFailure; refused on a worker', async () => {
      const k = new SimulatedKairos({ now: clock });
      await expect(k.kubeNode('cordon', 'w-1', 10)).rejects.toThrow(/not a control-plane node/);
      await k.applyCloudConfig(CP);
      await k.bootstrap();
      await k.kubeNode('cordon', 'w-1', 10);
      await k.kubeNode('drain', 'w-2', 10);
      await k.kubeNode('uncordon', 'w-1', 10);
      await k.kubeNode('delete', 'w-2', 10);
      expect(k.snapshot).toMatchObject({ cordoned: [], deletedNodes: ['w-2'] });
      k.failures.drainFailure = 'Cannot evict pod as it would violate the pod\'s disruption budget';
      await expect(k.kubeNode('drain', 'w-3', 30)).rejects.toThrow(/kubectl drain w-3 did not finish within 30s: Cannot evict pod/);
      expect(k.snapshot.cordoned).toEqual(['w-3']);
      await expect(k.kubeNode('drain', '-x', 30)).rejects.toThrow(/DNS-1123/);
      const worker = new SimulatedKairos({ k8sRole: 'worker' });
      await expect(worker.kubeNode('drain', 'w-3', 30)).rejects.toThrow(/not a control-plane node/);
    });

    test('a reset removes the node and the cluster config; the disk (and node) survive a restart through the state file', async () => {
      const dir = await mkdtemp(join(tmpdir(), 'ef-sim-k8s-'));
      try {
        const file = join(dir, 'disk.json');
        const k = new SimulatedKairos({ stateFile: file, now: clock });
        await k.applyCloudConfig(CP);
        await k.bootstrap();
        expect((await new SimulatedKairos({ stateFile: file, now: clock }).state()).kubernetes?.role).toBe('control-plane');
        await k.reset();
        expect((await k.state()).kubernetes).toBeUndefined();
        expect(k.snapshot.cloudConfig).toBeUndefined();
        await k.reboot();
        expect((await k.state()).kubernetes).toBeUndefined();
        expect((await new SimulatedKairos({ stateFile: file }).state()).kubernetes).toBeUndefined();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    });
  });
});
