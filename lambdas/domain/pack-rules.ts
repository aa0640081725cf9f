import { parseAllDocuments } from 'yaml';
import type { FieldError } from './errors.js';

/**
 * What a CNI, CSI or add-on layer (a pack) must say so that a node can install it, checked when
 * a profile version is created or published. Pure; errors name `layers.<index>.<field>`.
 *
 * Packs a distribution ships itself need neither chart nor manifests: the distribution installs
 * them from its own configuration (the known pack/distribution pairs):
 *
 * | distribution | ships itself                                       | how it is selected                                                                                   |
 * |--------------|----------------------------------------------------|------------------------------------------------------------------------------------------------------|
 * | k3s          | cni `flannel`, csi `local-path`                     | on by default (https://docs.k3s.io/networking/basic-network-options, https://docs.k3s.io/storage); a CNI layer other than flannel turns flannel off (`flannel-backend: none`), so it must bring its chart or manifests |
 * | rke2         | cni `canal`, `calico`, `cilium`                     | rke2's `cni:` setting (https://docs.rke2.io/networking/basic_network_options); it deploys the pack's chart itself |
 * | kubeadm      | nothing                                             | every CNI, CSI and add-on brings its chart or manifests                                              |
 *
 * Every other pack brings a Helm chart, plain manifests, or both. The CNI column is the one the
 * node configuration installs by name (node-packs.ts `BUILTIN_CNIS`; a test keeps them equal).
 */
export const BUILT_IN_PACKS: Readonly<Record<string, Readonly<Partial<Record<'cni' | 'csi' | 'addon', readonly string[]>>>>> = {
  k3s: { cni: ['flannel'], csi: ['local-path'] },
  rke2: { cni: ['canal', 'calico', 'cilium'] },
  kubeadm: {},
};

/** What these rules read of a layer (domain/profile.ts `Layer`; declared here so profile.ts can call these rules). */
export interface PackLayer {
  readonly type: 'os' | 'k8s' | 'cni' | 'csi' | 'addon';
  readonly pack: string;
  readonly kubernetesVersion?: string;
  readonly chart?: unknown;
  readonly manifests?: string;
  readonly namespace?: string;
}
type Layer = PackLayer;

const PACK_TYPES: ReadonlySet<Layer['type']> = new Set(['cni', 'csi', 'addon']);

/** Whether `distribution` installs this pack by itself (no chart or manifests needed). */
export function isBuiltIn(distribution: string, layer: Pick<Layer, 'type' | 'pack'>): boolean {
  if (layer.type === 'os' || layer.type === 'k8s') return false;
  return BUILT_IN_PACKS[distribution]?.[layer.type]?.includes(layer.pack) ?? false;
}

/** Problems of a multi-document manifests text: each document a mapping with apiVersion, kind and metadata.name. */
export function manifestProblems(text: string): string[] {
  const docs = parseAllDocuments(text);
  if (!Array.isArray(docs)) return ['is empty: give at least one Kubernetes object, or leave manifests out'];
  const problems: string[] = [];
  let objects = 0;
  docs.forEach((d, i) => {
    const n = i + 1;
    if (d.errors.length > 0) { problems.push(`document ${n} is not valid YAML: ${d.errors[0]!.message.split('\n')[0]}`); return; }
    const v: unknown = d.toJS();
    if (v === null || v === undefined) return;
    if (typeof v !== 'object' || Array.isArray(v)) { problems.push(`document ${n} is not a Kubernetes object (a mapping with apiVersion, kind and metadata)`); return; }
    objects++;
    const o = v as Record<string, unknown>;
    const missing = [
      typeof o.apiVersion === 'string' && o.apiVersion ? undefined : 'apiVersion',
      typeof o.kind === 'string' && o.kind ? undefined : 'kind',
      isNamed(o.metadata) ? undefined : 'metadata.name',
    ].filter((x): x is string => x !== undefined);
    if (missing.length > 0) problems.push(`document ${n} has no ${missing.join(', ')}`);
  });
  if (problems.length === 0 && objects === 0) problems.push('holds no Kubernetes object: give at least one, or leave manifests out');
  return problems;
}

function isNamed(metadata: unknown): boolean {
  if (metadata === null || typeof metadata !== 'object' || Array.isArray(metadata)) return false;
  const name: unknown = (metadata as Record<string, unknown>).name;
  return typeof name === 'string' && name.length > 0;
}

/**
 * Pack rules of a layer stack: chart/manifests/namespace only on packs; a pack brings a chart
 * or manifests unless the distribution ships it; manifests are Kubernetes objects; pack names
 * are unique across cni, csi and add-ons (they name the HelmChart and the file on the node);
 * `kubernetesVersion` only on the os layer.
 */
export function packErrors(layers: readonly Layer[]): FieldError[] {
  const errors: FieldError[] = [];
  const distribution = layers.find((l) => l.type === 'k8s')?.pack;
  const names = new Map<string, number>();
  layers.forEach((l, i) => {
    const at = (field: string) => `layers.${i}.${field}`;
    if (l.kubernetesVersion !== undefined && l.type !== 'os') {
      errors.push({ path: at('kubernetesVersion'), message: `layer ${i} (${l.type} ${l.pack}): kubernetesVersion belongs on the os layer (the Kubernetes version its image carries), not on a ${l.type} layer` });
    }
    if (!PACK_TYPES.has(l.type)) {
      for (const field of ['chart', 'manifests', 'namespace'] as const) {
        if (l[field] !== undefined) errors.push({ path: at(field), message: `layer ${i} (${l.type} ${l.pack}): ${field} is only for cni, csi and addon layers` });
      }
      return;
    }
    const first = names.get(l.pack);
    // The same type and pack twice is reported by validateLayers already ("appears twice").
    if (first !== undefined && layers[first]!.type !== l.type) {
      errors.push({ path: at('pack'), message: `layer ${i} (${l.type} ${l.pack}): pack name "${l.pack}" is already used by layer ${first}; pack names must be unique across cni, csi and addon layers (they name the HelmChart and its file on the node)` });
    } else if (first === undefined) names.set(l.pack, i);
    if (l.chart === undefined && l.manifests === undefined && distribution !== undefined && !isBuiltIn(distribution, l)) {
      const shipped = BUILT_IN_PACKS[distribution]?.[l.type as 'cni' | 'csi' | 'addon'] ?? [];
      const hint = shipped.length > 0 ? `${distribution} ships only ${shipped.join(', ')} as ${l.type}` : `${distribution} ships no ${l.type} pack itself`;
      errors.push({ path: at('chart'), message: `layer ${i} (${l.type} ${l.pack}): needs a chart or manifests to install — ${hint}; add chart {repo, name, version} (or {oci, version}) or manifests` });
    }
    if (l.manifests !== undefined) {
      for (const p of manifestProblems(l.manifests)) errors.push({ path: at('manifests'), message: `layer ${i} (${l.type} ${l.pack}): manifests ${p}` });
    }
  });
  return errors;
}
