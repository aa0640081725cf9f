/**
 * The simulated chart registry: real charts, their real repositories and some of their real
 * versions. A simulated host installs a HelmChart only when its chart and version are here,
 * exactly as `helm install --repo <repo> <chart> --version <version>` would only find a chart the
 * repository serves. Versions compare without a leading "v" (Helm parses them as semver).
 */
export interface CatalogChart {
  /** The chart repository URL (no trailing slash), or the `oci://` reference of the chart. */
  readonly repo: string;
  readonly name: string;
  readonly versions: readonly string[];
  /** What the chart runs in its namespace once installed (names of its workloads). */
  readonly workloads: readonly string[];
}

export const CHART_CATALOG: readonly CatalogChart[] = [
  { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', versions: ['v3.28.2', 'v3.29.1', 'v3.29.3', 'v3.30.0'], workloads: ['deployment/tigera-operator'] },
  { repo: 'https://helm.cilium.io', name: 'cilium', versions: ['1.15.6', '1.16.4', '1.16.5', '1.17.0'], workloads: ['daemonset/cilium', 'deployment/cilium-operator'] },
  { repo: 'https://charts.longhorn.io', name: 'longhorn', versions: ['1.6.2', '1.7.2', '1.8.0'], workloads: ['daemonset/longhorn-manager', 'deployment/longhorn-driver-deployer', 'deployment/longhorn-ui'] },
  { repo: 'https://raw.githubusercontent.com/kubernetes-csi/csi-driver-nfs/master/charts', name: 'csi-driver-nfs', versions: ['v4.9.0', 'v4.10.0', 'v4.11.0'], workloads: ['deployment/csi-nfs-controller', 'daemonset/csi-nfs-node'] },
  { repo: 'https://charts.containeroo.ch', name: 'local-path-provisioner', versions: ['0.0.30', '0.0.31', '0.0.32'], workloads: ['deployment/local-path-provisioner'] },
  { repo: 'https://metallb.github.io/metallb', name: 'metallb', versions: ['0.14.8', '0.14.9', '0.15.2'], workloads: ['deployment/metallb-controller', 'daemonset/metallb-speaker'] },
  { repo: 'https://kubernetes.github.io/ingress-nginx', name: 'ingress-nginx', versions: ['4.11.3', '4.12.0', '4.12.1'], workloads: ['deployment/ingress-nginx-controller'] },
  { repo: 'https://charts.jetstack.io', name: 'cert-manager', versions: ['v1.15.3', 'v1.16.2', 'v1.17.0'], workloads: ['deployment/cert-manager', 'deployment/cert-manager-cainjector', 'deployment/cert-manager-webhook'] },
  { repo: 'https://kubernetes-sigs.github.io/metrics-server', name: 'metrics-server', versions: ['3.12.1', '3.12.2', '3.13.0'], workloads: ['deployment/metrics-server'] },
  { repo: 'https://prometheus-community.github.io/helm-charts', name: 'kube-prometheus-stack', versions: ['65.1.1', '66.3.0'], workloads: ['deployment/kube-prometheus-stack-operator'] },
  { repo: 'oci://registry-1.docker.io/bitnamicharts', name: 'nginx', versions: ['18.2.5', '18.3.1'], workloads: ['deployment/nginx'] },
];

const bare = (v: string) => v.replace(/^v/, '');
const normalRepo = (r: string) => r.trim().replace(/\/+$/, '');

export type ChartLookup =
  | { readonly found: true; readonly chart: CatalogChart; readonly version: string }
  | { readonly found: false; readonly reason: string };

/**
 * Finds a chart the way helm would: `repo` + `chart` name, or an `oci://registry/path/name`
 * reference in `chart` (no repo). Not found: the reason names the chart, the version and where
 * it was looked for.
 */
export function findChart(spec: { readonly repo?: string; readonly chart?: string; readonly version?: string }, catalog: readonly CatalogChart[] = CHART_CATALOG): ChartLookup {
  const chart = spec.chart?.trim();
  if (!chart) return { found: false, reason: 'the HelmChart names no chart (spec.chart)' };
  const version = spec.version?.trim() ?? '';
  let repo: string;
  let name: string;
  if (chart.startsWith('oci://')) {
    const i = chart.lastIndexOf('/');
    repo = chart.slice(0, i);
    name = chart.slice(i + 1);
  } else if (/^https?:\/\//.test(chart)) {
    return { found: false, reason: `chart archive ${chart} not found (the simulated registry serves charts from repositories only)` };
  } else {
    if (!spec.repo) return { found: false, reason: `chart ${chart} has no repository (spec.repo)` };
    repo = normalRepo(spec.repo);
    name = chart;
  }
  const entry = catalog.find((c) => normalRepo(c.repo) === repo && c.name === name);
  if (!entry) return { found: false, reason: `chart ${name} version ${version || '(latest)'} not found in ${repo}` };
  if (!version) return { found: true, chart: entry, version: entry.versions.at(-1)! };
  const match = entry.versions.find((v) => bare(v) === bare(version));
  if (!match) return { found: false, reason: `chart ${name} version ${version} not found in ${repo} (it has ${entry.versions.join(', ')})` };
  return { found: true, chart: entry, version: match };
}
