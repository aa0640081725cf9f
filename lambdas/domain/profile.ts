import { checkCompatibility } from './compatibility.js';
import type { FieldError } from './errors.js';
import { parseImageTag } from './image-tag.js';
import { packErrors } from './pack-rules.js';
import { declarationErrors, valuesProblems } from './profile-variables.js';
import { parseVersion } from './versions.js';

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

/** What makes a profile version invalid: the layer stack, its OS image against its Kubernetes layer, or its variables. */
export type ProfileErrorCode = 'invalid-layers' | 'image-version-mismatch' | 'invalid-variables';

/**
 * Rules for a profile version: exactly one OS and one Kubernetes layer, at most one CNI and one
 * CSI, add-ons unique by pack, OS x Kubernetes in the validated matrix, the pack rules
 * (pack-rules.ts), values that are YAML mappings using only declared variables, the OS image's
 * distribution and version equal to the Kubernetes layer's, and the variable declarations.
 * Returns field errors (empty = valid) naming `layers.<index>.<field>` or `variables.<index>.<field>`,
 * the code of the first kind of problem, and the stack in canonical layer order.
 */
export function validateLayers(layers: readonly Layer[], variables: readonly ProfileVariable[] = []): { errors: FieldError[]; ordered: Layer[]; code: ProfileErrorCode } {
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
  const single = count('os') === 1 && count('k8s') === 1;
  if (os && k8s && single) {
    const c = checkCompatibility(os, k8s);
    if (!c.ok) errors.push({ path: 'layers', message: c.reason });
  }
  errors.push(...packErrors(layers));
  layers.forEach((l, i) => {
    if (l.values === undefined) return;
    for (const p of valuesProblems(l.values, variables)) errors.push({ path: `layers.${i}.values`, message: `layer ${i} (${l.type} ${l.pack}): values ${p}` });
  });
  const imageErrors = os && k8s && single ? imageVersionErrors(layers.indexOf(os), os, k8s) : [];
  const variableErrors = declarationErrors(variables);
  const code: ProfileErrorCode = errors.length > 0 ? 'invalid-layers' : imageErrors.length > 0 ? 'image-version-mismatch' : 'invalid-variables';
  const ordered = [...layers].sort((a, b) => ORDER[a.type] - ORDER[b.type]);
  return { errors: [...errors, ...imageErrors, ...variableErrors], ordered, code };
}

const core = (v: string) => parseVersion(v)?.join('.');

/**
 * The OS layer's image against the Kubernetes layer (issue 11, Build 5): an image whose tag
 * names a distribution or Kubernetes version (image-tag.ts) must name the k8s layer's; an
 * image whose tag does not say needs `kubernetesVersion` on the os layer; an explicit
 * `kubernetesVersion` must equal the k8s layer's version (major.minor.patch). An os layer
 * without image (hosts keep the image they were installed with) is checked only by its
 * `kubernetesVersion`, if any.
 */
export function imageVersionErrors(index: number, os: Layer, k8s: Layer): FieldError[] {
  const errors: FieldError[] = [];
  const want = core(k8s.version);
  const who = `layer ${index} (os ${os.pack})`;
  if (os.kubernetesVersion !== undefined && core(os.kubernetesVersion) !== want) {
    errors.push({ path: `layers.${index}.kubernetesVersion`, message: `${who}: kubernetesVersion ${os.kubernetesVersion} is not the ${k8s.pack} layer's version ${k8s.version}; the image must carry the Kubernetes the profile installs` });
  }
  if (!os.image) return errors;
  const tag = parseImageTag(os.image);
  if (tag.distribution !== undefined && tag.distribution !== k8s.pack) {
    errors.push({ path: `layers.${index}.image`, message: `${who}: image ${os.image} carries ${tag.distribution} ${tag.kubernetesVersion}, but the k8s layer is ${k8s.pack} ${k8s.version}; use an image built for ${k8s.pack} ${want} (e.g. a Kairos "…-${k8s.pack}v${want}-…" or CanvOS "${k8s.pack}-${want}-…" tag)` });
  } else if (tag.kubernetesVersion !== undefined && tag.kubernetesVersion !== want) {
    errors.push({ path: `layers.${index}.image`, message: `${who}: image ${os.image} carries ${k8s.pack} ${tag.kubernetesVersion}, but the k8s layer is ${k8s.pack} ${k8s.version}; use an image built for ${k8s.pack} ${want}, or change the k8s layer's version to ${tag.kubernetesVersion}` });
  } else if (tag.kubernetesVersion === undefined && os.kubernetesVersion === undefined) {
    errors.push({ path: `layers.${index}.image`, message: `${who}: the tag of image ${os.image} does not say which Kubernetes it carries; use a Kairos or CanvOS provider image whose tag names ${k8s.pack} ${want}, or set kubernetesVersion: "${want}" on the os layer to state that the image carries it` });
  }
  return errors;
}
