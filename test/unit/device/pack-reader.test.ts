import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodePack } from '../../../lambdas/contracts/packs.js';
import type { CommandRunner, RunOptions, RunResult } from '../../../device/command-runner.js';
import { KairosCli } from '../../../device/kairos.js';

class FakeKubectl implements CommandRunner {
  readonly argv: string[][] = [];
  constructor(private readonly objects: Record<string, unknown>) {}
  async run(file: string, args: readonly string[], _o?: RunOptions): Promise<RunResult> {
    this.argv.push([file, ...args]);
    // `… get <resource> -n <ns> <name> -o json --ignore-not-found`: keyed by "<resource>/<name>" (or "<resource>/-l <selector>").
    const get = args.indexOf('get');
    const resource = args[get + 1]!;
    const key = args.includes('-l') ? `${resource}/${args[args.indexOf('-l') + 1]}` : args.includes('--field-selector') ? `${resource}/${args[args.indexOf('--field-selector') + 1]}` : `${resource}/${args[get + 4]}`;
    const o = this.objects[key];
    return { stdout: o === undefined ? '' : JSON.stringify(o), stderr: '' };
  }
}

const calico: NodePack = {
  name: 'calico', type: 'cni', version: '3.29.1', namespace: 'tigera-operator', file: '/var/lib/rancher/k3s/server/manifests/edgefleet-calico.yaml',
  chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: 'v3.29.1' }, manifests: false,
};

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-packs-'));
  await mkdir(join(dir, 'oem'));
  await mkdir(join(dir, 'run'));
  await writeFile(join(dir, 'run', 'active_mode'), '');
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const paths = () => ({ runDir: join(dir, 'run'), kairosRelease: join(dir, 'kairos-release'), osRelease: join(dir, 'os-release'), oemDir: join(dir, 'oem'), grubenv: '/oem/grubenv', nodeInfo: join(dir, 'node.json') });
async function host(role: 'init' | 'worker', prefix: string, packs: NodePack[]) {
  await writeFile(join(dir, 'oem', '90_edgefleet.yaml'), `cluster:\n  role: ${role}\n  config: |\n    node-name: n-1\n`);
  await writeFile(join(dir, 'kairos-release'), `KAIROS_VERSION="v3.4.2"\nKAIROS_SOFTWARE_VERSION_PREFIX="${prefix}"\n`);
  await writeFile(join(dir, 'node.json'), JSON.stringify({ hostId: 'n-1', packs }));
}

describe('KairosCli.packs(): node.json\'s packs, read with kubectl on the init node', () => {
  test('k3s: reads the Addon, its warnings, the HelmChart, its Job and the release workloads with the admin kubeconfig; only get', async () => {
    await host('init', 'k3s', [calico]);
    const k = new FakeKubectl({
      'addons.k3s.cattle.io/edgefleet-calico': { kind: 'Addon', metadata: { name: 'edgefleet-calico' } },
      'helmcharts.helm.cattle.io/calico': { kind: 'HelmChart', status: { jobName: 'helm-install-calico' } },
      'job/helm-install-calico': { kind: 'Job', status: { succeeded: 1, conditions: [{ type: 'Complete', status: 'True' }] } },
      'deployments,daemonsets,statefulsets/app.kubernetes.io/instance=calico': { items: [{ kind: 'Deployment', metadata: { name: 'tigera-operator' }, spec: { replicas: 1 }, status: { readyReplicas: 1 } }] },
      'deployments,daemonsets,statefulsets/release=calico': { items: [{ kind: 'Deployment', metadata: { name: 'tigera-operator' }, spec: { replicas: 1 }, status: { readyReplicas: 1 } }] },
    });
    expect(await new KairosCli(k, paths()).packs()).toEqual([{ name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' }]);
    for (const a of k.argv) {
      expect(a.slice(0, 4)).toEqual(['kubectl', '--kubeconfig', '/etc/rancher/k3s/k3s.yaml', 'get']);
      expect(a).toContain('--ignore-not-found');
    }
    expect(k.argv.map((a) => a[4])).toEqual(['addons.k3s.cattle.io', 'events', 'helmcharts.helm.cattle.io', 'job', 'deployments,daemonsets,statefulsets', 'deployments,daemonsets,statefulsets']);
  });

  test('rke2 uses its own kubectl and kubeconfig', async () => {
    await host('init', 'rke2', [calico]);
    const k = new FakeKubectl({});
    expect(await new KairosCli(k, paths()).packs()).toMatchObject([{ name: 'calico', state: 'pending' }]);
    expect(k.argv[0]!.slice(0, 3)).toEqual(['/var/lib/rancher/rke2/bin/kubectl', '--kubeconfig', '/etc/rancher/rke2/rke2.yaml']);
  });

  test('a worker reports no packs and runs nothing; kubeadm reads the agent\'s install results under /oem (pending until recorded)', async () => {
    await host('worker', 'k3s', [calico]);
    const k = new FakeKubectl({});
    expect(await new KairosCli(k, paths()).packs()).toEqual([]);
    expect(k.argv).toEqual([]);
    await host('init', 'kubeadm', [calico]);
    expect(await new KairosCli(k, paths()).packs()).toEqual([{ name: 'calico', type: 'cni', state: 'pending', version: 'v3.29.1' }]);
    await writeFile(join(dir, 'oem', 'edgefleet-packs.json'), JSON.stringify({ packs: { calico: { state: 'error', reason: 'helm: chart not found', at: '2026-11-30T21:00:00Z' } } }));
    expect(await new KairosCli(k, paths()).packs()).toEqual([{ name: 'calico', type: 'cni', state: 'error', version: 'v3.29.1', reason: 'helm: chart not found' }]);
    expect(k.argv).toEqual([]);
  });

  test('k3s\'s built-in flannel is ready with the node; rke2\'s own CNI is read as rke2-<pack> in kube-system', async () => {
    const canal: NodePack = { name: 'canal', type: 'cni', version: '3.29.1', namespace: 'kube-system', manifests: false, builtin: true };
    await host('init', 'k3s', [{ ...canal, name: 'flannel' }]);
    const k = new FakeKubectl({});
    expect(await new KairosCli(k, paths()).packs()).toEqual([{ name: 'flannel', type: 'cni', state: 'ready', version: '3.29.1' }]);
    expect(k.argv).toEqual([]);
    await host('init', 'rke2', [canal]);
    const r = new FakeKubectl({ 'addons.k3s.cattle.io/rke2-canal': { kind: 'Addon' }, 'helmcharts.helm.cattle.io/rke2-canal': { kind: 'HelmChart', status: {} } });
    expect(await new KairosCli(r, paths()).packs()).toMatchObject([{ name: 'canal', state: 'installing', reason: 'waiting for the helm-controller to start the install job of rke2-canal' }]);
    expect(r.argv.find((a) => a.includes('-l'))).toEqual(expect.arrayContaining(['-n', 'kube-system', 'app.kubernetes.io/instance=rke2-canal']));
  });
});
