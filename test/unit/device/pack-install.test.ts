import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parse } from 'yaml';
import { AllowListRunner, CommandFailed, ProgramNotAllowed, type CommandRunner, type RunOptions, type RunResult } from '../../../device/command-runner.js';
import { KairosCli } from '../../../device/kairos.js';
import { helmArgs, installPacks, kubeadmPackStates, nodePacksOf, PACK_RESULTS_FILE, splitPackFile, type PackInstallPaths } from '../../../device/pack-install.js';
import type { NodePack } from '../../../lambdas/contracts/packs.js';
import { renderNodeConfig, type Distribution, type NodeRole } from '../../../lambdas/domain/node-config.js';
import type { Layer } from '../../../lambdas/domain/profile.js';

class RecordingRunner implements CommandRunner {
  readonly argv: string[][] = [];
  /** What each values/manifests file held (and its mode) when the command ran. */
  readonly seen: Record<string, { mode: number; text: string }> = {};
  constructor(private readonly answer: (file: string, args: readonly string[]) => RunResult | undefined = () => undefined) {}
  async run(file: string, args: readonly string[], _options?: RunOptions): Promise<RunResult> {
    this.argv.push([file, ...args]);
    for (const flag of ['--values', '-f']) {
      const i = args.indexOf(flag);
      if (i >= 0) this.seen[basename(args[i + 1]!)] = { mode: (await stat(args[i + 1]!)).mode & 0o777, text: await readFile(args[i + 1]!, 'utf8') };
    }
    return this.answer(file, args) ?? { stdout: '', stderr: '' };
  }
}

const SECRET_VALUE = 's3cr3t-value';
const REPO = { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: '3.29.1' };
const OCI = { oci: 'oci://registry.example.com/charts/longhorn', version: '1.7.2' };
const MANIFESTS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n';
const LAYERS: Layer[] = [
  { type: 'os', pack: 'ubuntu', version: '24.04' },
  { type: 'k8s', pack: 'kubeadm', version: '1.31.2' },
  { type: 'cni', pack: 'calico', version: '3.29.1', chart: REPO, values: 'installation:\n  cni:\n    type: Calico\n', namespace: 'tigera-operator' },
  { type: 'csi', pack: 'longhorn', version: '1.7.2', chart: OCI, values: `password: ${SECRET_VALUE}\n` },
  { type: 'addon', pack: 'shop', version: '1.0.0', manifests: MANIFESTS },
];

let dir: string;
let paths: PackInstallPaths;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-packs-'));
  paths = { nodeInfo: join(dir, 'etc', 'node.json'), packDir: join(dir, 'etc', 'packs'), workDir: join(dir, 'run', 'packs'), oemDir: join(dir, 'oem'), kubeconfig: '/etc/kubernetes/admin.conf', kubectl: 'kubectl' };
  await mkdir(join(dir, 'oem'), { recursive: true });
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Writes what the rendered configuration's reload stage would write (node.json, the pack files), under `dir`. Returns the cloud-config. */
async function writeNodeFiles(layers: Layer[] = LAYERS, dist: Distribution = 'kubeadm', role: NodeRole = 'init'): Promise<string> {
  const text = renderNodeConfig({
    clusterId: 'c-1', clusterName: 'shop', hostId: 'host-a', role, pool: 'control-plane', layers: layers.map((l) => (l.type === 'k8s' ? { ...l, pack: dist } : l)),
    controlPlaneAddress: '192.0.2.10', tokenPlaceholder: '@@EDGEFLEET_SECRET_JOIN_TOKEN@@',
  });
  const files = (parse(text) as { stages: Record<string, { files: { path: string; content: string }[] }[]> }).stages['edgefleet-reload']!.flatMap((s) => s.files);
  await mkdir(paths.packDir, { recursive: true });
  for (const f of files) {
    if (f.path.endsWith('node.json')) await writeFile(paths.nodeInfo, f.content);
    else if (f.path.startsWith('/etc/edgefleet/packs/')) await writeFile(join(paths.packDir, basename(f.path)), f.content);
  }
  return text;
}

const results = async () => JSON.parse(await readFile(join(dir, 'oem', PACK_RESULTS_FILE), 'utf8')) as { packs: Record<string, { state: string; reason?: string }> };

describe('installPacks (kubeadm init node)', () => {
  test('installs every pack in layer order: helm for charts (repo and OCI), kubectl apply for manifests, argv only', async () => {
    await writeNodeFiles();
    const r = new RecordingRunner();
    const states = await installPacks(r, paths);
    const values = (name: string) => join(paths.workDir, `${name}-values.yaml`);
    expect(r.argv).toEqual([
      ['helm', 'upgrade', '--install', 'calico', 'tigera-operator', '--repo', REPO.repo, '--version', '3.29.1', '--namespace', 'tigera-operator', '--create-namespace',
        '--kubeconfig', '/etc/kubernetes/admin.conf', '--timeout', '10m0s', '--values', values('calico')],
      ['helm', 'upgrade', '--install', 'longhorn', OCI.oci, '--version', '1.7.2', '--namespace', 'longhorn', '--create-namespace',
        '--kubeconfig', '/etc/kubernetes/admin.conf', '--timeout', '10m0s', '--values', values('longhorn')],
      ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf', 'apply', '-f', join(paths.workDir, 'shop-manifests.yaml')],
    ]);
    expect(states.map((s) => [s.name, s.state])).toEqual([['calico', 'ready'], ['longhorn', 'ready'], ['shop', 'ready']]);
    // Values reached helm through a 0600 file, which is gone afterwards (it may hold secrets).
    expect(r.seen['longhorn-values.yaml']).toEqual({ mode: 0o600, text: `password: ${SECRET_VALUE}\n` });
    expect(parse(r.seen['shop-manifests.yaml']!.text)).toEqual({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'shop' } });
    expect(await readdir(paths.workDir)).toEqual([]);
    expect(Object.fromEntries(Object.entries((await results()).packs).map(([k, v]) => [k, v.state]))).toEqual({ calico: 'ready', longhorn: 'ready', shop: 'ready' });
    expect(JSON.stringify(await results())).not.toContain(SECRET_VALUE);
  });

  test('a pack that fails is recorded as error with the reason; the next ones are still installed', async () => {
    await writeNodeFiles();
    const r = new RecordingRunner((file, args) => {
      if (file === 'helm' && args.includes('calico')) throw new CommandFailed('helm', args, 1, 'Error: INSTALLATION FAILED: chart "tigera-operator" version "3.29.1" not found', false);
      return undefined;
    });
    const states = await installPacks(r, paths);
    expect(states[0]).toEqual(expect.objectContaining({ name: 'calico', state: 'error', reason: expect.stringMatching(/helm upgrade --install calico failed: .*version "3.29.1" not found/) }));
    expect(states.slice(1).map((s) => s.state)).toEqual(['ready', 'ready']);
    expect(r.argv).toHaveLength(3);
    expect((await results()).packs.calico).toEqual(expect.objectContaining({ state: 'error' }));
    expect(await readdir(paths.workDir)).toEqual([]);
  });

  test('a missing pack file is an error naming the file and what to do', async () => {
    await writeNodeFiles();
    await rm(join(paths.packDir, 'edgefleet-shop.yaml'));
    const states = await installPacks(new RecordingRunner(), paths);
    expect(states[2]).toEqual(expect.objectContaining({ name: 'shop', state: 'error', reason: expect.stringMatching(/edgefleet-shop.yaml .*run-stage edgefleet-reload/) }));
  });

  test('without packs in node.json nothing runs', async () => {
    await writeNodeFiles(LAYERS.slice(0, 2));
    const r = new RecordingRunner();
    expect(await installPacks(r, paths)).toEqual([]);
    expect(r.argv).toEqual([]);
  });
});

describe('KairosCli installs packs on kubeadm init nodes only, after the provider and after a reload', () => {
  const kairosPaths = () => ({
    runDir: join(dir, 'run', 'cos'), kairosRelease: join(dir, 'kairos-release'), osRelease: join(dir, 'os-release'), oemDir: join(dir, 'oem'), grubenv: '/oem/grubenv',
    nodeInfo: paths.nodeInfo, packDir: paths.packDir, packWorkDir: paths.workDir,
  });

  test.each([
    ['kubeadm', 'init', true],
    ['kubeadm', 'control-plane', false],
    ['k3s', 'init', false],
    ['rke2', 'init', false],
  ] as [Distribution, NodeRole, boolean][])('%s %s: helm runs %s', async (dist, role, installs) => {
    const cloudConfig = await writeNodeFiles(LAYERS, dist, role);
    const r = new RecordingRunner();
    const cli = new KairosCli(r, kairosPaths());
    await cli.applyCloudConfig(cloudConfig);
    await cli.bootstrap();
    await cli.reloadKubernetes();
    const programs = r.argv.map((a) => (a[0] === 'kairos-agent' ? `kairos-agent ${a[2]}` : a[0]));
    const install = installs ? ['helm', 'helm', 'kubectl'] : [];
    expect(programs).toEqual(['kairos-agent edgefleet-reload', 'kairos-agent boot', ...install, 'kairos-agent edgefleet-reload', ...install]);
  });
});

describe('kubeadmPackStates (pure: what the status reader reports)', () => {
  const packs: NodePack[] = [
    { name: 'calico', type: 'cni', version: '3.29.1', namespace: 'tigera-operator', chart: REPO, manifests: false, file: '/etc/edgefleet/packs/edgefleet-calico.yaml' },
    { name: 'shop', type: 'addon', version: '1.0.0', namespace: 'shop', manifests: true, file: '/etc/edgefleet/packs/edgefleet-shop.yaml' },
  ];
  test.each([
    ['no file yet', undefined, [['calico', 'pending', undefined], ['shop', 'pending', undefined]]],
    ['a damaged file', '{not json', [['calico', 'pending', undefined], ['shop', 'pending', undefined]]],
    ['a file of another shape', '{"packs": 3}', [['calico', 'pending', undefined], ['shop', 'pending', undefined]]],
    ['one installing', JSON.stringify({ packs: { calico: { state: 'installing', at: 't' } } }), [['calico', 'installing', undefined], ['shop', 'pending', undefined]]],
    ['ready and error', JSON.stringify({ packs: { calico: { state: 'ready', at: 't' }, shop: { state: 'error', reason: 'kubectl apply failed', at: 't' } } }), [['calico', 'ready', undefined], ['shop', 'error', 'kubectl apply failed']]],
    ['a record of a pack no longer listed', JSON.stringify({ packs: { old: { state: 'ready', at: 't' } } }), [['calico', 'pending', undefined], ['shop', 'pending', undefined]]],
  ])('%s', (_what, text, expected) => {
    expect(kubeadmPackStates(text, packs).map((s) => [s.name, s.state, s.reason])).toEqual(expected);
  });

  test('the version is the chart version (else the layer version)', () => {
    expect(kubeadmPackStates(undefined, packs).map((s) => s.version)).toEqual(['3.29.1', '1.0.0']);
  });

  test('nodePacksOf reads node.json (none when absent, damaged or without packs)', () => {
    expect(nodePacksOf(JSON.stringify({ hostId: 'h', packs }))).toEqual(packs);
    expect(nodePacksOf(JSON.stringify({ hostId: 'h' }))).toEqual([]);
    expect(nodePacksOf('{')).toEqual([]);
    expect(nodePacksOf(undefined)).toEqual([]);
  });
});

describe('helm argv and pack files', () => {
  const pack: NodePack = { name: 'calico', type: 'cni', version: '3.29.1', namespace: 'tigera-operator', chart: REPO, manifests: false };
  test.each([
    ['a release name starting with "-"', { ...pack, name: '--post-renderer' }],
    ['a namespace with a space', { ...pack, namespace: 'a b' }],
  ])('refuses %s', (_what, p) => {
    expect(() => helmArgs(p, REPO, '/etc/kubernetes/admin.conf')).toThrow();
  });

  test('refuses a chart that is not a chart reference', () => {
    expect(() => helmArgs(pack, { repo: 'file:///etc/passwd', name: 'x', version: '1.0.0' }, '/k')).toThrow();
    expect(() => helmArgs(pack, { ...REPO, version: '--devel' }, '/k')).toThrow();
    expect(() => helmArgs(pack, { oci: 'https://r.example.com/chart', version: '1.0.0' }, '/k')).toThrow();
  });

  test('splitPackFile keeps the HelmChart named after the pack for helm, the rest for kubectl', () => {
    const text = 'apiVersion: helm.cattle.io/v1\nkind: HelmChart\nmetadata:\n  name: calico\n  namespace: kube-system\nspec:\n  valuesContent: "a: 1\\n"\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n';
    expect(splitPackFile(text, 'calico')).toEqual({ chart: { values: 'a: 1\n' }, manifests: 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n' });
    expect(() => splitPackFile('a: [1\n', 'calico')).toThrow(/does not parse/);
  });
});

describe('AllowListRunner', () => {
  test('runs allow-listed programs (helm among them) and refuses anything else before it runs', async () => {
    const inner = new RecordingRunner();
    const r = new AllowListRunner(inner);
    await r.run('helm', ['version']);
    await expect(r.run('sh', ['-c', 'id'])).rejects.toThrow(ProgramNotAllowed);
    await expect(r.run('/usr/bin/helm', [])).rejects.toThrow(/not a program the agent runs/);
    expect(inner.argv).toEqual([['helm', 'version']]);
  });
});
