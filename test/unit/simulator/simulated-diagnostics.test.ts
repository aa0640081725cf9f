import { ProgramNotAllowed } from '../../../device/command-runner.js';
import { collectBundle } from '../../../device/diagnostics/collect.js';
import { SimulatedKairos } from '../../../simulator/simulated-kairos.js';

/** A simulated host answers the collection from what it is, never kinder. */
describe('simulated diagnostics', () => {
  let t = Date.parse('2026-11-30T12:00:00Z');
  const now = () => t;

  it('a host that is not a node: no Kubernetes journal or kubectl; the journal honours --since', async () => {
    const k = new SimulatedKairos({ now, nodeName: 'sim-a' });
    k.writeJournal('kairos-agent', 'old line');
    t += 3_600_000;
    k.writeJournal('kairos-agent', 'new line');
    const src = k.diagnostics();
    expect(await src.facts()).toEqual({ registry: { host: 'quay.io', port: 443 } });
    const out = await src.runner.run('journalctl', ['--unit=kairos-agent', `--since=@${(t - 60_000) / 1000}`]);
    expect(out.stdout).toContain('new line');
    expect(out.stdout).not.toContain('old line');
    expect((await src.runner.run('journalctl', ['--unit=edgefleet-agent', '--since=@0'])).stdout).toBe('-- No entries --\n');
    await expect(src.runner.run('kubectl', ['--kubeconfig', '/etc/rancher/k3s/k3s.yaml', 'get', 'nodes,pods'])).rejects.toMatchObject({ exitCode: 1 });
    await expect(src.runner.run('cat', ['/etc/shadow'])).rejects.toBeInstanceOf(ProgramNotAllowed);
    await expect(src.readFile('/etc/shadow')).rejects.toThrow(/not a file diagnostics read/);
    await expect(src.readFile('/etc/edgefleet/node.json')).rejects.toThrow(/ENOENT/);
  });

  it('an init node: its Kubernetes service journal, kubectl from the shared API, the running image in kairos-release', async () => {
    const k = new SimulatedKairos({ now, nodeName: 'sim-b', k8sRole: 'init' });
    const src = k.diagnostics();
    expect(await src.facts()).toMatchObject({ distribution: 'k3s', role: 'init', nodeName: 'sim-b' });
    const bundle = await collectBundle(src, { hostId: 'sim-b', commandId: 'c', since: new Date(t - 3_600_000), maxBytes: 1024 * 1024, now });
    const files = bundle.manifest.items.map((i) => i.file);
    expect(files).toEqual(expect.arrayContaining(['journal/k3s.log', 'kubernetes/nodes-pods.txt', 'kubernetes/describe-node.txt']));
    expect(bundle.manifest.items.find((i) => i.file === 'kubernetes/describe-node.txt')!.error).toBeUndefined();
    const state = await k.state();
    expect(await src.readFile('/etc/kairos-release')).toContain(state.image!);
  });

  it('the registry answers unless the host cannot reach it', async () => {
    const k = new SimulatedKairos({ now, nodeName: 'sim-c' });
    const src = k.diagnostics();
    await expect(src.connect('quay.io', 443, 100)).resolves.toBeUndefined();
    k.setFailures({ imageUnreachable: 'dial tcp: i/o timeout' });
    await expect(src.connect('quay.io', 443, 100)).rejects.toThrow('dial tcp: i/o timeout');
    await expect(src.connect('10.9.9.9', 6443, 100)).rejects.toThrow('ECONNREFUSED');
  });
});
