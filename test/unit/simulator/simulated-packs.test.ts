import { stringify } from 'yaml';
import type { NodePack } from '../../../lambdas/contracts/packs.js';
import { SimulatedKairos } from '../../../simulator/index.js';
import { findChart } from '../../../simulator/chart-catalog.js';
import { evaluatePackFile, stageFiles } from '../../../simulator/simulated-packs.js';

const DIR = '/var/lib/rancher/k3s/server/manifests';
const calico: NodePack = { name: 'calico', type: 'cni', version: '3.29.1', namespace: 'tigera-operator', file: `${DIR}/edgefleet-calico.yaml`, chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: 'v3.29.1' }, manifests: false };
const quotas: NodePack = { name: 'quotas', type: 'addon', version: '1.0.0', namespace: 'quotas', file: `${DIR}/edgefleet-quotas.yaml`, manifests: true };

const helmChart = (spec: Record<string, unknown>) => stringify({ apiVersion: 'helm.cattle.io/v1', kind: 'HelmChart', metadata: { name: 'calico', namespace: 'kube-system' }, spec: { targetNamespace: 'tigera-operator', createNamespace: true, ...spec } });
const CALICO = helmChart({ repo: 'https://docs.tigera.io/calico/charts', chart: 'tigera-operator', version: 'v3.29.1', valuesContent: 'installation:\n  cni:\n    type: Calico\n' });
const QUOTAS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: quotas\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: q\n  namespace: quotas\nspec:\n  hard:\n    pods: "10"\n';

describe('simulated chart registry and pack files', () => {
  it.each<[string, NodePack, string, RegExp | undefined]>([
    ['a chart and version the registry serves', calico, CALICO, undefined],
    ['a version the repository does not have', calico, helmChart({ repo: 'https://docs.tigera.io/calico/charts', chart: 'tigera-operator', version: 'v9.9.9' }), /chart tigera-operator version v9.9.9 not found in https:\/\/docs.tigera.io\/calico\/charts \(it has/],
    ['a chart the repository does not have', calico, helmChart({ repo: 'https://charts.example.com', chart: 'calico', version: '1.0.0' }), /chart calico version 1.0.0 not found in https:\/\/charts.example.com/],
    ['values that are not a YAML mapping', calico, helmChart({ repo: 'https://docs.tigera.io/calico/charts', chart: 'tigera-operator', version: '3.29.1', valuesContent: '- a\n- b\n' }), /valuesContent is not a YAML mapping/],
    ['values that do not parse', calico, helmChart({ repo: 'https://docs.tigera.io/calico/charts', chart: 'tigera-operator', version: '3.29.1', valuesContent: 'a: [\n' }), /valuesContent is not a YAML mapping/],
    ['an OCI chart', calico, helmChart({ chart: 'oci://registry-1.docker.io/bitnamicharts/nginx', version: '18.3.1' }), undefined],
    ['plain manifests', quotas, QUOTAS, undefined],
    ['manifests that do not parse', quotas, 'apiVersion: v1\nkind: [Namespace\n', /edgefleet-quotas.yaml does not parse \(document 1/],
    ['a document without a kind', quotas, 'apiVersion: v1\nmetadata:\n  name: x\n', /document 1 has no apiVersion or kind/],
  ])('%s', (_name, pack, content, error) => {
    const r = evaluatePackFile(pack, pack.file!, content);
    if (error) expect(r).toMatchObject({ ok: false, state: 'error', reason: expect.stringMatching(error) });
    else expect(r).toEqual({ ok: true });
  });

  it('helm finds a version with or without its "v"; a trailing slash on the repository does not matter', () => {
    expect(findChart({ repo: 'https://docs.tigera.io/calico/charts/', chart: 'tigera-operator', version: '3.29.1' })).toMatchObject({ found: true, version: 'v3.29.1' });
    expect(findChart({ repo: 'https://charts.longhorn.io', chart: 'longhorn', version: 'v1.7.2' })).toMatchObject({ found: true, version: '1.7.2' });
  });
});

/** A node configuration as the renderer writes it: node.json and the pack files, in the initramfs and the reload stage. */
function cloudConfig(role: 'init' | 'worker', files: Record<string, string>, packs: NodePack[]): string {
  const list = [
    { path: '/etc/edgefleet/node.json', permissions: 0o644, content: JSON.stringify({ hostId: 'n1', role, distribution: 'k3s', packs }) },
    ...Object.entries(files).map(([path, content]) => ({ path, permissions: 0o600, content })),
  ];
  return `#cloud-config\n${stringify({ cluster: { cluster_token: 't', control_plane_host: '10.0.0.1', role, config: 'node-name: n1\n' }, stages: { initramfs: [{ files: list }], 'edgefleet-reload': [{ files: list }] } })}`;
}

describe('simulated host: packs from what was written', () => {
  let t = 1_000_000;
  const now = () => t;
  const host = (over: ConstructorParameters<typeof SimulatedKairos>[0] = {}) => new SimulatedKairos({ now, sleep: async () => undefined, k8sReadyDelayMs: 100, packInstallDelayMs: 300, ...over });
  const states = async (k: SimulatedKairos) => Object.fromEntries((await k.packs()).map((p) => [p.name, p.state]));

  it('init node: pending until the API is up, installing for the delay, then ready; a bad version ends in error', async () => {
    const k = host();
    const badCalico = CALICO.replace('v3.29.1', 'v9.9.9');
    await k.applyCloudConfig(cloudConfig('init', { [calico.file!]: badCalico, [quotas.file!]: QUOTAS }, [calico, quotas]));
    expect(await k.packs()).toEqual([]);
    await k.bootstrap();
    expect(await states(k)).toEqual({ calico: 'pending', quotas: 'pending' });
    t += 100;
    expect(await states(k)).toEqual({ calico: 'installing', quotas: 'installing' });
    t += 300;
    const packs = await k.packs();
    expect(packs).toEqual([
      { name: 'calico', type: 'cni', version: 'v3.29.1', state: 'error', reason: expect.stringMatching(/chart tigera-operator version v9.9.9 not found in https:\/\/docs.tigera.io\/calico\/charts/) },
      { name: 'quotas', type: 'addon', version: '1.0.0', state: 'ready' },
    ]);
  });

  it('a reload that changes a pack file installs it again; unchanged packs stay ready', async () => {
    const k = host();
    await k.applyCloudConfig(cloudConfig('init', { [calico.file!]: CALICO, [quotas.file!]: QUOTAS }, [calico, quotas]));
    await k.bootstrap();
    t += 500;
    expect(await states(k)).toEqual({ calico: 'ready', quotas: 'ready' });
    const changed = CALICO.replace('type: Calico', 'type: Calico\n    mtu: 1400');
    await k.applyCloudConfig(cloudConfig('init', { [calico.file!]: changed, [quotas.file!]: QUOTAS }, [calico, quotas]));
    // Written to /oem only: nothing is re-installed until the reload stage runs.
    expect(await states(k)).toEqual({ calico: 'ready', quotas: 'ready' });
    await k.reloadKubernetes();
    expect(await states(k)).toEqual({ calico: 'installing', quotas: 'ready' });
    t += 300;
    expect(await states(k)).toEqual({ calico: 'ready', quotas: 'ready' });
  });

  it('an injected packHang keeps the pack installing however long it takes; cleared, it ends as its file says', async () => {
    const k = host({ failures: { packHang: ['calico'] } });
    await k.applyCloudConfig(cloudConfig('init', { [calico.file!]: CALICO, [quotas.file!]: QUOTAS }, [calico, quotas]));
    await k.bootstrap();
    t += 10_000;
    expect((await k.packs()).find((p) => p.name === 'calico')).toMatchObject({ state: 'installing', reason: 'helm install job helm-install-calico running' });
    expect(await states(k)).toEqual({ calico: 'installing', quotas: 'ready' });
    k.setFailures({ packHang: undefined });
    expect(await states(k)).toEqual({ calico: 'ready', quotas: 'ready' });
  });

  it('an injected packFailure ends the pack in error with that reason; a worker reports no packs; a reset wipes them', async () => {
    const k = host({ failures: { packFailure: { quotas: 'admission webhook denied the request' } } });
    await k.applyCloudConfig(cloudConfig('init', { [calico.file!]: CALICO, [quotas.file!]: QUOTAS }, [calico, quotas]));
    await k.bootstrap();
    t += 400;
    expect((await k.packs()).find((p) => p.name === 'quotas')).toMatchObject({ state: 'error', reason: 'admission webhook denied the request' });
    await k.reset();
    expect(await k.packs()).toEqual([]);
    expect(k.snapshot.files).toBeUndefined();
    const w = host();
    await w.applyCloudConfig(cloudConfig('worker', {}, [calico, quotas]));
    await w.bootstrap();
    t += 400;
    expect(await w.packs()).toEqual([]);
  });

  it('a file node.json lists but no stage wrote stays pending, naming the file', async () => {
    const k = host();
    await k.applyCloudConfig(cloudConfig('init', { [quotas.file!]: QUOTAS }, [calico, quotas]));
    await k.bootstrap();
    t += 400;
    expect((await k.packs())[0]).toMatchObject({ name: 'calico', state: 'pending', reason: expect.stringContaining(`not written to ${calico.file}`) });
  });

  it('stageFiles reads the files of the selected stages (YAML aliases resolved)', () => {
    const text = '#cloud-config\nstages:\n  initramfs:\n    - files: &f\n        - path: /a\n          content: x\n  edgefleet-reload:\n    - files: *f\n';
    expect(stageFiles(text, (s) => s === 'edgefleet-reload')).toEqual([{ path: '/a', content: 'x' }]);
  });
});
