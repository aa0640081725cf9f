import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SimulatedKairos } from '../../../device/simulated-kairos.js';

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
});
