import { z } from 'zod';

/**
 * Packs: what a CNI, CSI or add-on layer installs into the cluster (issue 11), and how its
 * state travels back. Shared by the API (profile layers, cluster view), the node configuration
 * renderer, the agent and the simulator.
 *
 * On the node (written by the rendered node configuration, lambdas/domain/node-config.ts):
 * - k3s / rke2 servers: one file per pack in the distribution's auto-deploy manifests directory
 *   (`/var/lib/rancher/k3s/server/manifests/`, `/var/lib/rancher/rke2/server/manifests/`),
 *   named `edgefleet-<pack>.yaml`, holding a `helm.cattle.io/v1` `HelmChart` (namespace
 *   `kube-system`, name = the pack) when the layer has a chart, then the layer's manifests.
 *   `spec.targetNamespace` = the layer's namespace (default: the pack), `spec.createNamespace`,
 *   `spec.repo` + `spec.chart` + `spec.version` (repository chart) or `spec.chart: oci://…` +
 *   `spec.version` (OCI chart), `spec.valuesContent` = the layer's values.
 * - A CNI the distribution installs itself (rke2's canal, calico, cilium through `cni:` in its
 *   config.yaml; k3s's flannel) when the layer brings no chart: `builtin` in node.json; on rke2 a
 *   layer with values gets them as a `HelmChartConfig` `rke2-<pack>` in the same directory.
 * - kubeadm control-plane nodes: the same file content under `/etc/edgefleet/packs/`; the agent
 *   on the init node installs it (charts with helm, manifests with kubectl apply) and records
 *   each pack's result in `/oem/edgefleet-packs.json` (device/pack-install.ts).
 * - Workers get no pack file.
 * - Every node's `/etc/edgefleet/node.json` lists the packs as `packs: NodePack[]`, in layer order
 *   (absent when the profile has none).
 * - The files are written at boot (`initramfs` stage) and again by the `edgefleet-reload` stage
 *   (reconfigure's reload: `kairos-agent run-stage edgefleet-reload`).
 */

/** A Helm chart from a chart repository (`repo` + `name`) or an OCI registry (`oci`). */
export const chartRef = z.union([
  z.strictObject({
    repo: z.url({ protocol: /^https?$/ }).max(512),
    name: z.string().min(1).max(128).regex(/^[a-z0-9]([a-z0-9._-]*[a-z0-9])?$/, 'a chart name (lowercase letters, digits, ".", "_" and "-")'),
    version: z.string().min(1).max(64).regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/, 'a chart version such as 3.29.1'),
  }),
  z.strictObject({
    oci: z.string().max(512).regex(/^oci:\/\/[a-z0-9][a-z0-9.-]*(:\d+)?(\/[a-z0-9._-]+)+$/, 'an OCI chart reference such as oci://registry.example.com/charts/name'),
    version: z.string().min(1).max(64).regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/, 'a chart version such as 3.29.1'),
  }),
]);
export type ChartRef = z.infer<typeof chartRef>;

export const packState = z.enum(['pending', 'installing', 'ready', 'error']);
export type PackState = z.infer<typeof packState>;

/** One pack's state as the init node sees it (and as the cluster API shows it). */
export const packStatus = z.strictObject({
  /** The layer's pack name. */
  name: z.string().min(1).max(63),
  type: z.enum(['cni', 'csi', 'addon']),
  state: packState,
  /** Why it is not ready: the HelmChart job's result, the workloads' readiness, the apply error. */
  reason: z.string().max(1024).optional(),
  /** The chart or layer version installed. */
  version: z.string().max(64).optional(),
});
export type PackStatus = z.infer<typeof packStatus>;

/** What /etc/edgefleet/node.json says about each pack of the profile. */
export const nodePack = z.strictObject({
  name: z.string().min(1).max(63),
  type: z.enum(['cni', 'csi', 'addon']),
  version: z.string().max(64),
  namespace: z.string().max(63),
  /** The file the pack's resources were written to on this node (servers only). */
  file: z.string().max(255).optional(),
  chart: chartRef.optional(),
  /** Whether the file holds plain manifests (besides the HelmChart, if any). */
  manifests: z.boolean(),
  /** The distribution installs this CNI itself (rke2's canal/calico/cilium, k3s's flannel); no chart of ours. */
  builtin: z.boolean().optional(),
});
export type NodePack = z.infer<typeof nodePack>;

/** IP addresses of one network interface (IPv4 and IPv6, without prefix length). */
export const nicAddresses = z.strictObject({
  name: z.string().max(32),
  ips: z.array(z.union([z.ipv4(), z.ipv6()])).max(16),
});
export type NicAddresses = z.infer<typeof nicAddresses>;
