import { Document, isMap, parseAllDocuments, parseDocument } from 'yaml';
import { ValidationError } from './errors.js';
import type { ChartRef, Layer, LayerType } from './profile.js';

/**
 * How the CNI, CSI and add-on layers of a profile reach a node (issue 11; the on-node layout is
 * documented in lambdas/contracts/packs.ts). Pure.
 *
 * - k3s / rke2 server nodes: one file `edgefleet-<pack>.yaml` per pack in the distribution's
 *   auto-deploy manifests directory. It holds a `helm.cattle.io/v1` `HelmChart` when the layer
 *   has a chart, then the layer's own manifests. The fields follow the helm-controller's
 *   HelmChartSpec (github.com/k3s-io/helm-controller, pkg/apis/helm.cattle.io/v1/types.go:
 *   `targetNamespace`, `createNamespace`, `chart`, `version`, `repo`, `valuesContent`) as the
 *   k3s documentation describes them (https://docs.k3s.io/add-ons/helm: "spec.chart — Helm
 *   Chart name in repository, or complete HTTPS URL to chart archive"; an `oci://` reference is
 *   given in `spec.chart` with no `repo`, as for `helm install oci://…`). The auto-deploy
 *   directories are documented at https://docs.k3s.io/installation/packaged-components
 *   (`/var/lib/rancher/k3s/server/manifests`) and https://docs.rke2.io/advanced#auto-deploying-manifests
 *   (`/var/lib/rancher/rke2/server/manifests`).
 * - rke2's own CNIs (canal, calico, cilium) are installed by rke2 from `cni:` in config.yaml; a
 *   layer with values but no chart customises rke2's packaged chart through a `HelmChartConfig`
 *   named `rke2-<pack>` (https://docs.rke2.io/helm#customizing-packaged-components-with-helmchartconfig).
 *   k3s's flannel is built in (nothing is written for it).
 * - kubeadm control-plane nodes: the same content under `/etc/edgefleet/packs/`; the agent on the
 *   init node installs it (helm for the HelmChart, kubectl apply for the rest).
 * - Workers get no pack file; every node's node.json lists the packs (`NodePackInfo`).
 *
 * Values and manifests go through the YAML parser and serializer (never string concatenation):
 * values end up as the HelmChart's `valuesContent` string, manifests are parsed into documents
 * (each a mapping) and serialized again, so no value can change the file's shape.
 */

export type PackDistribution = 'k3s' | 'rke2' | 'kubeadm';
export type PackType = Exclude<LayerType, 'os' | 'k8s'>;

/** Where each distribution takes pack files from on a server node. */
export const PACK_DIRS: Readonly<Record<PackDistribution, string>> = {
  k3s: '/var/lib/rancher/k3s/server/manifests',
  rke2: '/var/lib/rancher/rke2/server/manifests',
  kubeadm: '/etc/edgefleet/packs',
};

/** CNIs a distribution installs itself, chosen by name (rke2 `cni:`; k3s's embedded flannel). */
export const BUILTIN_CNIS: Readonly<Record<PackDistribution, readonly string[]>> = {
  k3s: ['flannel'],
  rke2: ['canal', 'calico', 'cilium'],
  kubeadm: [],
};

/** One pack as /etc/edgefleet/node.json lists it (contracts/packs.ts `nodePack`). */
export interface NodePackInfo {
  readonly name: string;
  readonly type: PackType;
  readonly version: string;
  readonly namespace: string;
  /** The file the pack's resources were written to on this node (servers only). */
  readonly file?: string;
  readonly chart?: ChartRef;
  /** Whether the file holds plain manifests besides the HelmChart. */
  readonly manifests: boolean;
  /** The distribution installs it itself (rke2's canal/calico/cilium, k3s's flannel). */
  readonly builtin?: boolean;
}

/** A file for the node's stages (yip `files` entry). */
export interface PackFile {
  readonly path: string;
  readonly permissions: number;
  readonly content: string;
}

export interface RenderedPacks {
  readonly files: readonly PackFile[];
  readonly packs: readonly NodePackInfo[];
  /** rke2: the `cni:` value for config.yaml (a builtin CNI, or `none` when a pack brings its own). */
  readonly rke2Cni?: string;
  /** k3s: flannel gives way to the CNI pack. */
  readonly k3sDisableFlannel: boolean;
}

const PACK_TYPES: readonly PackType[] = ['cni', 'csi', 'addon'];
const isPackLayer = (l: Layer): l is Layer & { type: PackType } => (PACK_TYPES as readonly string[]).includes(l.type);

/** The file name of a pack (the pack is a DNS name, so it is a safe file name). */
export const packFileName = (pack: string): string => `edgefleet-${pack}.yaml`;

/** A pack layer's values: YAML text that parses as a mapping (or nothing). Returns the text to deliver. */
function packValues(layer: Layer): string | undefined {
  if (!layer.values?.trim()) return undefined;
  const doc = parseDocument(layer.values);
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    throw new ValidationError('invalid-layer-values', `the ${layer.type} layer "${layer.pack}" has values that are not a YAML mapping${doc.errors[0] ? ` (${doc.errors[0].message.split('\n')[0]})` : ''}; fix the values in a new profile version`);
  }
  return layer.values.endsWith('\n') ? layer.values : `${layer.values}\n`;
}

/** A pack layer's manifests as objects, each a mapping with apiVersion and kind. */
function packManifests(layer: Layer): Record<string, unknown>[] {
  if (!layer.manifests?.trim()) return [];
  const docs = parseAllDocuments(layer.manifests).filter((d) => !(d.contents === null && d.errors.length === 0));
  docs.forEach((d, i) => {
    const bad = d.errors[0]?.message.split('\n')[0]
      ?? (!isMap(d.contents) ? 'not a mapping' : !d.get('apiVersion') || !d.get('kind') ? 'no apiVersion or kind' : undefined);
    if (bad) throw new ValidationError('invalid-layer-manifests', `the ${layer.type} layer "${layer.pack}" has a manifest (document ${i + 1}) that is not a Kubernetes object: ${bad}; fix the manifests in a new profile version`);
  });
  return docs.map((d) => d.toJS() as Record<string, unknown>);
}

function helmChart(layer: Layer, chart: ChartRef, namespace: string, values: string | undefined): Record<string, unknown> {
  const source = 'oci' in chart ? { chart: chart.oci } : { repo: chart.repo, chart: chart.name };
  return {
    apiVersion: 'helm.cattle.io/v1',
    kind: 'HelmChart',
    metadata: { name: layer.pack, namespace: 'kube-system' },
    spec: { ...source, version: chart.version, targetNamespace: namespace, createNamespace: true, ...(values ? { valuesContent: values } : {}) },
  };
}

/** rke2's packaged CNI chart customised with the layer's values (HelmChartConfig `rke2-<cni>`). */
function helmChartConfig(pack: string, values: string): Record<string, unknown> {
  return { apiVersion: 'helm.cattle.io/v1', kind: 'HelmChartConfig', metadata: { name: `rke2-${pack}`, namespace: 'kube-system' }, spec: { valuesContent: values } };
}

/** Serializes documents into one multi-document YAML file. */
function multiDocument(docs: readonly Record<string, unknown>[]): string {
  return docs.map((d) => new Document(d).toString({ lineWidth: 0 })).join('---\n');
}

/** The pack files and node.json pack entries of one node. Pure. */
export function renderPacks(layers: readonly Layer[], dist: PackDistribution, server: boolean): RenderedPacks {
  const files: PackFile[] = [];
  const packs: NodePackInfo[] = [];
  let rke2Cni: string | undefined;
  let k3sDisableFlannel = false;
  for (const layer of layers.filter(isPackLayer)) {
    const values = packValues(layer);
    const manifests = packManifests(layer);
    const namespace = layer.namespace ?? layer.pack;
    const builtin = layer.type === 'cni' && !layer.chart && BUILTIN_CNIS[dist].includes(layer.pack);
    if (layer.type === 'cni') {
      if (dist === 'rke2') rke2Cni = builtin ? layer.pack : 'none';
      if (dist === 'k3s' && layer.pack !== 'flannel') k3sDisableFlannel = true;
    }
    const docs: Record<string, unknown>[] = [];
    if (layer.chart) docs.push(helmChart(layer, layer.chart, namespace, values));
    else if (builtin && dist === 'rke2' && values) docs.push(helmChartConfig(layer.pack, values));
    docs.push(...manifests);
    const file = server && docs.length > 0 ? `${PACK_DIRS[dist]}/${packFileName(layer.pack)}` : undefined;
    // 0600: values may hold secrets (filled in when the command is sent).
    if (file) files.push({ path: file, permissions: 0o600, content: multiDocument(docs) });
    packs.push({
      name: layer.pack, type: layer.type, version: layer.version, namespace,
      ...(file ? { file } : {}), ...(layer.chart ? { chart: layer.chart } : {}), manifests: manifests.length > 0, ...(builtin ? { builtin: true } : {}),
    });
  }
  return { files, packs, ...(rke2Cni ? { rke2Cni } : {}), k3sDisableFlannel };
}
