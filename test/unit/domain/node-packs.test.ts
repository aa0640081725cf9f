import { parse, parseAllDocuments } from 'yaml';
import { RELOAD_STAGE as AGENT_RELOAD_STAGE } from '../../../device/kairos.js';
import { nodePack } from '../../../lambdas/contracts/packs.js';
import { NODE_INFO_PATH, RELOAD_STAGE, renderNodeConfig, type Distribution, type NodeConfigInput, type NodeRole } from '../../../lambdas/domain/node-config.js';
import { PACK_DIRS } from '../../../lambdas/domain/node-packs.js';
import type { Layer } from '../../../lambdas/domain/profile.js';

/** Every distribution × pack kind × role × VIP: where the files land, what they hold, and that the reload stage writes the same. */

const TOKEN = '@@EDGEFLEET_SECRET_JOIN_TOKEN@@';
const SECRET = '@@EDGEFLEET_SECRET_VAR_DB_PASSWORD@@';
const VIP = '192.0.2.100';
const REPO = { repo: 'https://charts.example.com/stable', name: 'longhorn', version: '1.7.2' };
const OCI = { oci: 'oci://registry.example.com/charts/monitoring', version: '2.3.0' };
const MANIFESTS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shop-settings\n  namespace: shop\ndata:\n  currency: EUR\n';

type Kind = 'repo chart' | 'OCI chart' | 'manifests only' | 'chart + manifests';
const KINDS: Kind[] = ['repo chart', 'OCI chart', 'manifests only', 'chart + manifests'];

function packLayer(kind: Kind, type: 'cni' | 'csi' | 'addon' = 'addon', pack = 'demo'): Layer {
  const values = `replicas: 2\npassword: "${SECRET}"\n`;
  switch (kind) {
    case 'repo chart': return { type, pack, version: '1.7.2', chart: REPO, values, namespace: 'demo-system' };
    case 'OCI chart': return { type, pack, version: '2.3.0', chart: OCI, values };
    case 'manifests only': return { type, pack, version: '1.0.0', manifests: MANIFESTS };
    case 'chart + manifests': return { type, pack, version: '1.7.2', chart: REPO, values, manifests: MANIFESTS };
  }
}

const base = (dist: string): Layer[] => [{ type: 'os', pack: 'ubuntu', version: '24.04' }, { type: 'k8s', pack: dist, version: '1.31.2' }];

interface StageFile { path: string; permissions: number; content: string }
interface Rendered {
  cluster: { config: string };
  stages: Record<string, { name: string; files: StageFile[] }[]>;
}

function render(over: Partial<NodeConfigInput> & { layers: Layer[] }) {
  const text = renderNodeConfig({
    clusterId: 'c-1', clusterName: 'shop-7', hostId: 'host-a', role: 'init', pool: 'control-plane',
    controlPlaneAddress: '192.0.2.10', tokenPlaceholder: TOKEN, ...over,
  });
  const doc = parse(text) as Rendered;
  const boot = doc.stages.initramfs!.flatMap((s) => s.files);
  const reload = doc.stages[RELOAD_STAGE]!.flatMap((s) => s.files);
  const nodeJson = JSON.parse(boot.find((f) => f.path === NODE_INFO_PATH)!.content) as { packs?: unknown[] };
  return { text, doc, boot, reload, nodeJson, config: parse(doc.cluster.config) as Record<string, unknown> };
}

/** A pack file's documents (each must parse). */
function documents(content: string): Record<string, any>[] {
  const docs = parseAllDocuments(content);
  for (const d of docs) expect(d.errors).toEqual([]);
  return docs.map((d) => d.toJS() as Record<string, any>);
}

const ROLES: NodeRole[] = ['init', 'control-plane', 'worker'];
const DISTS: Distribution[] = ['k3s', 'rke2', 'kubeadm'];

describe.each(DISTS)('packs on %s', (dist) => {
  describe.each(KINDS)('%s', (kind) => {
    it.each(ROLES.flatMap((role) => [[role, false], [role, true]] as [NodeRole, boolean][]))('as %s (VIP %s)', (role, withVip) => {
      const layer = packLayer(kind);
      const { boot, reload, nodeJson, text } = render({ layers: [...base(dist), layer], role, ...(withVip ? { vip: VIP, controlPlaneAddress: VIP } : {}) });
      const file = `${PACK_DIRS[dist]}/edgefleet-demo.yaml`;
      const packFiles = boot.filter((f) => f.path.includes('/edgefleet-'));
      // node.json lists the pack on every node, with the file only where it is written.
      expect(nodeJson.packs).toHaveLength(1);
      const listed = nodePack.parse(nodeJson.packs![0]);
      expect(listed).toEqual(expect.objectContaining({ name: 'demo', type: 'addon', version: layer.version, namespace: layer.namespace ?? 'demo', manifests: !!layer.manifests }));
      expect(listed.chart).toEqual(layer.chart);
      // The reload stage writes exactly what the boot stage writes.
      expect(reload).toEqual(boot);
      if (role === 'worker') {
        expect(packFiles).toEqual([]);
        expect(listed.file).toBeUndefined();
        expect(text).not.toContain(SECRET);
        return;
      }
      expect(packFiles.map((f) => f.path)).toEqual([file]);
      expect(listed.file).toBe(file);
      expect(packFiles[0]!.permissions).toBe(0o600);
      const docs = documents(packFiles[0]!.content);
      const charts = docs.filter((d) => d.kind === 'HelmChart');
      const plain = docs.filter((d) => d.kind !== 'HelmChart');
      expect(plain.map((d) => `${d.kind}/${d.metadata.name}`)).toEqual(layer.manifests ? ['Namespace/shop', 'ConfigMap/shop-settings'] : []);
      if (!layer.chart) {
        expect(charts).toEqual([]);
        return;
      }
      expect(charts).toHaveLength(1);
      const hc = charts[0]!;
      expect(docs[0]).toBe(hc); // the chart first, then the manifests
      expect(hc.apiVersion).toBe('helm.cattle.io/v1');
      expect(hc.metadata).toEqual({ name: 'demo', namespace: 'kube-system' });
      const source = 'oci' in layer.chart ? { chart: OCI.oci } : { repo: REPO.repo, chart: REPO.name };
      expect(hc.spec).toEqual({
        ...source, version: layer.chart.version, targetNamespace: layer.namespace ?? 'demo', createNamespace: true,
        valuesContent: layer.values,
      });
      // The secret placeholder survives unchanged, only inside the values (once: the reload stage aliases the same list).
      expect(text.split(SECRET)).toHaveLength(2);
      expect(parse(hc.spec.valuesContent)).toEqual({ replicas: 2, password: SECRET });
    });
  });
});

it('the reload stage is the one the agent runs on reload', () => {
  expect(RELOAD_STAGE).toBe(AGENT_RELOAD_STAGE);
});

describe('CNI layers', () => {
  const cni = (pack: string, extra: Partial<Layer> = {}): Layer => ({ type: 'cni', pack, version: '3.29.1', ...extra });

  it.each([
    // dist, layer, config.yaml keys expected, pack file expected, builtin
    ['rke2', cni('canal'), { cni: 'canal' }, false, true],
    ['rke2', cni('calico'), { cni: 'calico' }, false, true],
    ['rke2', cni('cilium', { values: 'kubeProxyReplacement: true\n' }), { cni: 'cilium' }, true, true],
    ['rke2', cni('calico', { chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: '3.29.1' } }), { cni: 'none' }, true, false],
    ['rke2', cni('weave', { manifests: MANIFESTS }), { cni: 'none' }, true, false],
    ['k3s', cni('flannel'), { 'flannel-backend': undefined, 'disable-network-policy': undefined }, false, true],
    ['k3s', cni('calico', { chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: '3.29.1' } }), { 'flannel-backend': 'none', 'disable-network-policy': true }, true, false],
    ['k3s', cni('cilium', { chart: { oci: 'oci://quay.io/cilium/charts/cilium', version: '1.16.4' } }), { 'flannel-backend': 'none' }, true, false],
    ['kubeadm', cni('calico', { manifests: MANIFESTS }), {}, true, false],
  ] as [Distribution, Layer, Record<string, unknown>, boolean, boolean][])('%s with %j', (dist, layer, expected, hasFile, builtin) => {
    const { config, boot, nodeJson } = render({ layers: [...base(dist), layer] });
    for (const [k, v] of Object.entries(expected)) expect(config[k]).toEqual(v);
    expect(boot.some((f) => f.path === `${PACK_DIRS[dist]}/edgefleet-${layer.pack}.yaml`)).toBe(hasFile);
    expect((nodeJson.packs![0] as { builtin?: boolean }).builtin).toBe(builtin ? true : undefined);
  });

  it("rke2: a builtin CNI's values customise rke2's packaged chart through a HelmChartConfig", () => {
    const { boot } = render({ layers: [...base('rke2'), cni('cilium', { values: 'kubeProxyReplacement: true\n' })] });
    const [doc] = documents(boot.find((f) => f.path.endsWith('edgefleet-cilium.yaml'))!.content);
    expect(doc).toEqual({
      apiVersion: 'helm.cattle.io/v1', kind: 'HelmChartConfig', metadata: { name: 'rke2-cilium', namespace: 'kube-system' },
      spec: { valuesContent: 'kubeProxyReplacement: true\n' },
    });
  });

  it('the k8s layer values still choose the CNI when they name one', () => {
    const { config } = render({ layers: [...base('rke2').slice(0, 1), { type: 'k8s', pack: 'rke2', version: '1.31.2', values: 'cni: multus,canal\n' }, cni('canal')] });
    expect(config.cni).toBe('multus,canal');
  });
});

describe('every pack layer, in layer order', () => {
  it('lists CNI, CSI and add-ons in node.json in the order of the layers and writes one file each', () => {
    const layers = [...base('k3s'), packLayer('repo chart', 'cni', 'calico'), packLayer('OCI chart', 'csi', 'longhorn'), packLayer('manifests only', 'addon', 'shop'), packLayer('chart + manifests', 'addon', 'metrics')];
    const { nodeJson, boot } = render({ layers });
    expect((nodeJson.packs as { name: string; type: string }[]).map((p) => `${p.type}/${p.name}`)).toEqual(['cni/calico', 'csi/longhorn', 'addon/shop', 'addon/metrics']);
    expect(boot.filter((f) => f.path.startsWith(PACK_DIRS.k3s)).map((f) => f.path.split('/').pop())).toEqual(['edgefleet-calico.yaml', 'edgefleet-longhorn.yaml', 'edgefleet-shop.yaml', 'edgefleet-metrics.yaml']);
  });
});

describe('hostile values and manifests cannot change the shape', () => {
  it.each([
    ['a document marker', 'a: 1\n---\napiVersion: v1\nkind: Secret\n'],
    ['a key that closes the block', 'a: |\n  x\nspec:\n  chart: evil\n'],
    ['a template', 'a: "{{ .Values.secret }}"\n'],
    ['YAML specials', 'a: "&anchor *alias !!binary | > # comment: - [x]"\n'],
  ])('values with %s stay one valuesContent string', (_what, values) => {
    const layer: Layer = { type: 'addon', pack: 'demo', version: '1.0.0', chart: REPO, values };
    let rendered: ReturnType<typeof render> | undefined;
    try {
      rendered = render({ layers: [...base('k3s'), layer] });
    } catch (e) {
      // Values that are not one YAML mapping are refused, naming the layer.
      expect(e).toEqual(expect.objectContaining({ code: 'invalid-layer-values', message: expect.stringContaining('"demo"') }));
      return;
    }
    const docs = documents(rendered.boot.find((f) => f.path.endsWith('edgefleet-demo.yaml'))!.content);
    expect(docs).toHaveLength(1);
    expect(docs[0]!.spec.chart).toBe(REPO.name);
    expect(docs[0]!.spec.valuesContent).toBe(values);
    expect(Object.keys(rendered.doc)).toEqual(['cluster', 'stages']);
  });

  it('manifests are re-serialized document by document (a document marker in a value stays a value)', () => {
    const manifests = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: m\ndata:\n  script: "---\\ncluster_token: stolen"\n';
    const { boot, doc } = render({ layers: [...base('rke2'), { type: 'addon', pack: 'demo', version: '1.0.0', manifests }] });
    const docs = documents(boot.find((f) => f.path.endsWith('edgefleet-demo.yaml'))!.content);
    expect(docs).toEqual([{ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'm' }, data: { script: '---\ncluster_token: stolen' } }]);
    expect(Object.keys(doc)).toEqual(['cluster', 'stages']);
  });

  it.each([
    ['values that are a list', { values: '- a\n- b\n', chart: REPO }, 'invalid-layer-values'],
    ['values that do not parse', { values: 'a: [1, 2\n', chart: REPO }, 'invalid-layer-values'],
    ['a manifest without kind', { manifests: 'apiVersion: v1\nmetadata: {name: x}\n' }, 'invalid-layer-manifests'],
    ['a manifest that is a string', { manifests: 'just text\n' }, 'invalid-layer-manifests'],
  ])('refuses %s, naming the layer', (_what, extra, code) => {
    expect(() => render({ layers: [...base('k3s'), { type: 'addon', pack: 'demo', version: '1.0.0', ...extra } as Layer] }))
      .toThrow(expect.objectContaining({ code, message: expect.stringContaining('addon layer "demo"') }));
  });

  it('refuses a node configuration larger than a host accepts, saying what to shorten', () => {
    const big = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: big\ndata:\n  blob: "${'x'.repeat(62_000)}"\n`;
    expect(() => render({ layers: [...base('k3s'), { type: 'addon', pack: 'demo', version: '1.0.0', manifests: big }] }))
      .toThrow(expect.objectContaining({ code: 'node-config-too-large', message: expect.stringMatching(/host-a .*shorten/) }));
  });
});
