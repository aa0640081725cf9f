import { checkCompatibility } from './compatibility.js';
import type { FieldError } from './errors.js';

export type LayerType = 'os' | 'k8s' | 'cni' | 'csi' | 'addon';

export interface Layer {
  readonly type: LayerType;
  readonly pack: string;
  readonly version: string;
  readonly image?: string;
  readonly values?: string;
  /** os layer: the Kubernetes version the image carries when its tag and labels do not say. */
  readonly kubernetesVersion?: string;
  /** cni/csi/addon: the Helm chart the pack installs. */
  readonly chart?: ChartRef;
  /** cni/csi/addon: plain manifests (multi-document YAML). */
  readonly manifests?: string;
  /** cni/csi/addon: the namespace the chart is installed into (default: the pack name). */
  readonly namespace?: string;
}

/** A Helm chart from a repository, or from an OCI registry (contracts/packs.ts `chartRef`). */
export type ChartRef =
  | { readonly repo: string; readonly name: string; readonly version: string }
  | { readonly oci: string; readonly version: string };

/** A profile variable (contracts/api.ts `profileVariable`). */
export interface ProfileVariable {
  readonly name: string;
  readonly type?: 'string' | 'number' | 'boolean';
  readonly description?: string;
  readonly default?: string | number | boolean;
  readonly required?: boolean;
  readonly secret?: boolean;
  readonly regex?: string;
}

const ORDER: Record<LayerType, number> = { os: 0, k8s: 1, cni: 2, csi: 3, addon: 4 };

/**
 * Rules for a profile version's layer stack: exactly one OS and one Kubernetes layer, at most
 * one CNI and one CSI, add-ons unique by pack, OS x Kubernetes in the validated matrix.
 * Returns field errors (empty = valid); the stack is normalized into canonical layer order.
 */
export function validateLayers(layers: readonly Layer[]): { errors: FieldError[]; ordered: Layer[] } {
  const errors: FieldError[] = [];
  const count = (t: LayerType) => layers.filter((l) => l.type === t).length;
  for (const [t, min, max] of [['os', 1, 1], ['k8s', 1, 1], ['cni', 0, 1], ['csi', 0, 1]] as const) {
    const n = count(t);
    if (n < min || n > max) {
      errors.push({ path: 'layers', message: min === max ? `needs exactly one ${t} layer, found ${n}` : `allows at most one ${t} layer, found ${n}` });
    }
  }
  const seen = new Set<string>();
  layers.forEach((l, i) => {
    const key = `${l.type}/${l.pack}`;
    if (seen.has(key)) errors.push({ path: `layers.${i}.pack`, message: `${l.type} pack "${l.pack}" appears twice` });
    seen.add(key);
  });
  const os = layers.find((l) => l.type === 'os');
  const k8s = layers.find((l) => l.type === 'k8s');
  if (os && k8s && count('os') === 1 && count('k8s') === 1) {
    const c = checkCompatibility(os, k8s);
    if (!c.ok) errors.push({ path: 'layers', message: c.reason });
  }
  const ordered = [...layers].sort((a, b) => ORDER[a.type] - ORDER[b.type]);
  return { errors, ordered };
}
