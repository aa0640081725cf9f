/**
 * What an OS image reference says about itself: the one parser of image tags in the control
 * plane (profile validation, upgrade planning). Pure.
 *
 * Tag shapes understood (the Kubernetes distribution and version are the part after the
 * Kairos version; "+" in a Kubernetes version becomes "-" in a tag, since OCI tags cannot
 * hold "+"):
 *
 * | shape  | example tag                                             | from                                                       |
 * |--------|---------------------------------------------------------|------------------------------------------------------------|
 * | kairos | `24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1`   | Kairos releases ≤ v3.4 (`<flavor_release>-<variant>-<arch>-<model>-<kairos>-<k8s>`; https://kairos.io/docs/reference/image_matrix/) |
 * | kairos | `3.21-standard-amd64-generic-v3.5.0-k3s-v1.33.2-k3s1`   | newer Kairos releases put a "-" between distribution and version |
 * | kairos | `leap-15.6-standard-amd64-generic-v3.5.0-rke2v1.31.2-rke2r1` | the rke2 provider (kairos-io/provider-rke2)            |
 * | kairos | `22.04-standard-amd64-generic-v3.5.0-kubeadmv1.30.4`    | the kubeadm provider (kairos-io/provider-kubeadm)          |
 * | kairos | `24.04-standard-amd64-generic-v3.7.2-k0s-v1.34.3-k0s.0` | the k0s provider (not a distribution EdgeFleet runs)       |
 * | kairos | `v2.4.3-k3sv1.27.3-k3s1`                                | legacy tags before the image matrix                        |
 * | kairos | `24.04-core-amd64-generic-v3.5.0`                       | a core image: no Kubernetes                                |
 * | canvos | `k3s-1.32.1-v4.5.7-demo`                                | Spectro Cloud CanvOS (`<k8s_distribution>-<k8s_version>-<pe_version>-<custom_tag>`, CanvOS README "Build provider images") |
 *
 * The CanvOS `v4.5.7` is the Palette Edge version, not Kairos': `kairosVersion` is then unknown.
 */

export type ImageDistribution = 'k3s' | 'rke2' | 'kubeadm' | 'k0s';

export interface ImageTag {
  /** The reference without tag and digest, e.g. `quay.io/kairos/ubuntu`. */
  readonly repository: string;
  readonly tag?: string;
  readonly digest?: string;
  readonly shape: 'kairos' | 'canvos' | 'unknown';
  /** The Kairos release, e.g. `v3.5.0`, `v3.2.1-rc2`. */
  readonly kairosVersion?: string;
  /** The Kubernetes distribution the image carries. */
  readonly distribution?: ImageDistribution;
  /** The Kubernetes version, `major.minor.patch` without "v" or distribution suffix, e.g. `1.31.2`. */
  readonly kubernetesVersion?: string;
}

const DISTRIBUTIONS = 'k3s|rke2|kubeadm|k0s';
const KAIROS_VERSION = /(?:^|-)(v\d+\.\d+\.\d+(?:-(?:alpha|beta|rc)[.\d]*)?)(?=-|$)/;
const KAIROS_K8S = new RegExp(`(?:^|-)(${DISTRIBUTIONS})-?v(\\d+\\.\\d+\\.\\d+)(?=$|[-+._])`);
const CANVOS = new RegExp(`^(${DISTRIBUTIONS})-v?(\\d+\\.\\d+\\.\\d+)(?=$|[-_])`);

/** Splits `registry:5000/org/name:tag@sha256:…` into repository, tag and digest. */
function split(image: string): { repository: string; tag?: string; digest?: string } {
  const [ref, digest] = image.trim().split('@', 2) as [string, string | undefined];
  const slash = ref.lastIndexOf('/');
  const colon = ref.indexOf(':', slash + 1);
  const repository = colon < 0 ? ref : ref.slice(0, colon);
  const tag = colon < 0 ? undefined : ref.slice(colon + 1);
  return { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
}

/** Parses an OS image reference; fields the tag does not say are absent. */
export function parseImageTag(image: string): ImageTag {
  const { repository, tag, digest } = split(image);
  const base = { repository, ...(tag ? { tag } : {}), ...(digest ? { digest } : {}) };
  if (!tag) return { ...base, shape: 'unknown' };
  const canvos = CANVOS.exec(tag);
  if (canvos) return { ...base, shape: 'canvos', distribution: canvos[1] as ImageDistribution, kubernetesVersion: canvos[2]! };
  const kairos = KAIROS_VERSION.exec(tag);
  if (!kairos) return { ...base, shape: 'unknown' };
  // The distribution follows the Kairos version ("…-v3.5.0-k3sv1.31.2-k3s1").
  const rest = tag.slice(kairos.index + kairos[0].length);
  const k8s = KAIROS_K8S.exec(rest);
  return {
    ...base, shape: 'kairos', kairosVersion: kairos[1]!,
    ...(k8s ? { distribution: k8s[1] as ImageDistribution, kubernetesVersion: k8s[2]! } : {}),
  };
}

/** The Kairos version an OS image carries, from its tag; undefined when the tag does not say. */
export const kairosVersionOfImage = (image: string): string | undefined => parseImageTag(image).kairosVersion;

/** The kubelet version an OS image carries (`v1.31.2`), from its tag; undefined when it does not say. */
export function kubeletOfImage(image: string): string | undefined {
  const v = parseImageTag(image).kubernetesVersion;
  return v ? `v${v}` : undefined;
}
