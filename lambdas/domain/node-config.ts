import { isMap, parseDocument, stringify } from 'yaml';
import { ValidationError } from './errors.js';
import { renderPacks, type RenderedPacks } from './node-packs.js';
import type { Layer } from './profile.js';

/**
 * Renders one node's Kairos `#cloud-config`: the `cluster:` stanza read by the Kairos cluster
 * plugin (kairos-sdk `clusterplugin.Cluster`: `cluster_token`, `control_plane_host`,
 * `role: init|controlplane|worker`, `config` = the distribution's own configuration as YAML
 * text), which provider-k3s, provider-rke2 and provider-kubeadm turn into the bootstrap.
 *
 * - k3s / rke2: `config` is the distribution's config.yaml (`node-name`, `node-label`,
 *   `node-taint`, `tls-san` on servers). The provider writes `token` and `server` itself from
 *   `cluster_token` and `control_plane_host`.
 * - kubeadm: `config` holds `clusterConfiguration` / `initConfiguration` / `joinConfiguration`
 *   (kubeadm v1beta3, as provider-kubeadm parses it). The provider fills the join discovery
 *   (token, `<control_plane_host>:6443`) and the control-plane certificate key from
 *   `cluster_token` itself.
 * - A control plane with a VIP gets kube-vip as a static pod (ARP, leader election), written by
 *   a Kairos `stages.initramfs` file entry into the distribution's static-pod directory, so the
 *   VIP exists before the API server is needed through it (kube-vip's documented static-pod way).
 * - Every node also gets /etc/edgefleet/node.json (no secret) so the agent knows which cluster,
 *   pool, role and Kubernetes version it was configured for, and which packs (CNI, CSI, add-ons)
 *   the profile delivers (`packs`, in layer order; see node-packs.ts for where each distribution
 *   takes them from).
 * - The files are written by the `initramfs` stage (before the distribution starts at boot) and
 *   again by the `edgefleet-reload` stage, the same list (a YAML alias of it): `kairos-agent
 *   run-stage edgefleet-reload` runs a stage of that name from the cloud-configs under /oem
 *   (Kairos runs any yip stage by name: https://kairos.io/docs/architecture/cloud-init/ "Stages",
 *   and `kairos-agent run-stage <stage>`), so a reload rewrites the pack files, which k3s's and
 *   rke2's deploy controllers apply on change, without restarting anything. The agent runs the
 *   stage before the provider on a live bootstrap too (the initramfs stage only runs at boot).
 *
 * The cluster token is never rendered: `tokenPlaceholder` stands where it goes (only there) and
 * the real token is substituted when the command is published. Every value goes through the
 * YAML serializer, never string concatenation, so hostile label or pool text cannot change the
 * document's shape.
 */

export type NodeRole = 'init' | 'control-plane' | 'worker';
export type Distribution = 'k3s' | 'rke2' | 'kubeadm';

export interface NodeConfigInput {
  readonly clusterId: string;
  readonly clusterName: string;
  /** Also the Kubernetes node name. */
  readonly hostId: string;
  readonly role: NodeRole;
  /** 'control-plane' or the worker pool name. */
  readonly pool: string;
  /** The profile version's layers. */
  readonly layers: readonly Layer[];
  /** Where nodes reach the API server: the VIP when there is one, else the init node's address. */
  readonly controlPlaneAddress: string;
  readonly vip?: string;
  /** Written where the cluster join token goes; the real token is substituted at publish time. */
  readonly tokenPlaceholder: string;
  readonly labels?: Readonly<Record<string, string>>;
  /** "key=value:Effect" or "key:Effect". */
  readonly taints?: readonly string[];
}

export const DISTRIBUTIONS: readonly Distribution[] = ['k3s', 'rke2', 'kubeadm'];
export const CLUSTER_LABEL = 'edgefleet.io/cluster';
export const POOL_LABEL = 'edgefleet.io/pool';
/** Pinned kube-vip release for the control-plane VIP. */
export const KUBE_VIP_IMAGE = 'ghcr.io/kube-vip/kube-vip:v0.8.9';
export const NODE_INFO_PATH = '/etc/edgefleet/node.json';
const API_PORT = 6443;

/** The Kubernetes distribution of a layer stack, from its k8s layer's pack. */
export function distributionOf(layers: readonly Layer[]): Distribution {
  const k8s = layers.filter((l) => l.type === 'k8s');
  if (k8s.length !== 1) {
    throw new ValidationError('invalid-profile', `the profile has ${k8s.length} Kubernetes (k8s) layers; a cluster needs exactly one, with pack k3s, rke2 or kubeadm. Publish a profile version with one k8s layer and use it`);
  }
  const pack = k8s[0]!.pack;
  if (!(DISTRIBUTIONS as readonly string[]).includes(pack)) {
    throw new ValidationError('unknown-distribution', `Kubernetes pack "${pack}" is not a distribution EdgeFleet can bootstrap; use one of ${DISTRIBUTIONS.join(', ')}`);
  }
  return pack as Distribution;
}

const EFFECTS = ['NoSchedule', 'PreferNoSchedule', 'NoExecute'] as const;
interface Taint { readonly key: string; readonly value?: string; readonly effect: (typeof EFFECTS)[number] }

function parseTaint(t: string): Taint {
  const m = /^([^=:\s]+)(?:=([^:\s]*))?:([A-Za-z]+)$/.exec(t);
  const effect = EFFECTS.find((e) => e === m?.[3]);
  if (!m || !effect) {
    throw new ValidationError('invalid-taint', `taint ${JSON.stringify(t)} is not "key=value:Effect" or "key:Effect" with Effect one of ${EFFECTS.join(', ')}; fix the taint and retry`);
  }
  return { key: m[1]!, ...(m[2] ? { value: m[2] } : {}), effect };
}

/** A layer's `values` as a YAML mapping (empty when there are none). */
function valuesMapping(layer: Layer | undefined): Record<string, unknown> {
  if (!layer?.values?.trim()) return {};
  const doc = parseDocument(layer.values);
  if (doc.errors.length > 0 || !isMap(doc.contents)) {
    throw new ValidationError('invalid-layer-values', `the ${layer.type} layer "${layer.pack}" has values that are not a YAML mapping${doc.errors[0] ? ` (${doc.errors[0].message})` : ''}; fix the values in a new profile version`);
  }
  return doc.toJS() as Record<string, unknown>;
}

const uniq = <T>(xs: readonly T[]): T[] => [...new Set(xs)];
const asList = (v: unknown): unknown[] => (Array.isArray(v) ? v : v === undefined ? [] : [v]);
const asObject = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : {});

interface NodeFacts {
  readonly input: NodeConfigInput;
  readonly packs: RenderedPacks;
  readonly labels: Readonly<Record<string, string>>;
  readonly taints: readonly Taint[];
  readonly sans: readonly string[];
  readonly server: boolean;
  readonly k8s: Layer;
}

const JOIN_KEYS = ['token', 'agent-token', 'token-file', 'agent-token-file', 'server'];

/** k3s and rke2 share config.yaml keys; lists given in the k8s layer's values are kept. */
function rancherConfig(f: NodeFacts, dist: 'k3s' | 'rke2'): Record<string, unknown> {
  const base = valuesMapping(f.k8s);
  // The provider sets the join token and server from the cluster stanza; profile values may not.
  for (const key of JOIN_KEYS) delete base[key];
  const cni = f.input.layers.find((l) => l.type === 'cni');
  const config: Record<string, unknown> = {
    ...base,
    'node-name': f.input.hostId,
    'node-label': uniq([...asList(base['node-label']).map(String), ...Object.entries(f.labels).map(([k, v]) => `${k}=${v}`)]),
  };
  const taints = uniq([...asList(base['node-taint']).map(String), ...f.taints.map((t) => `${t.key}${t.value ? `=${t.value}` : ''}:${t.effect}`)]);
  if (taints.length) config['node-taint'] = taints;
  if (f.server) {
    config['tls-san'] = uniq([...asList(base['tls-san']).map(String), ...f.sans]);
    // The CNI layer picks the network: rke2 installs its own CNIs by name (any other comes as a
    // pack: `cni: none`); k3s drops its flannel for another one, delivered as a pack.
    if (cni && dist === 'rke2' && base.cni === undefined && f.packs.rke2Cni) config.cni = f.packs.rke2Cni;
    if (cni && dist === 'k3s' && f.packs.k3sDisableFlannel && base['flannel-backend'] === undefined) {
      config['flannel-backend'] = 'none';
      config['disable-network-policy'] = true;
    }
  } else {
    delete config['tls-san'];
  }
  return config;
}

function kubeadmConfig(f: NodeFacts): Record<string, unknown> {
  const base = valuesMapping(f.k8s);
  const baseCluster = asObject(base.clusterConfiguration);
  const baseApi = asObject(baseCluster.apiServer);
  const nodeRegistration = (section: unknown): Record<string, unknown> => {
    const reg = asObject(asObject(section).nodeRegistration);
    const extra = asObject(reg.kubeletExtraArgs);
    const labels = [...(typeof extra['node-labels'] === 'string' && extra['node-labels'] ? [extra['node-labels']] : []), ...Object.entries(f.labels).map(([k, v]) => `${k}=${v}`)];
    return {
      ...reg,
      name: f.input.hostId,
      kubeletExtraArgs: { ...extra, 'node-labels': labels.join(',') },
      // Left out when none are asked for, so kubeadm keeps its default control-plane taint.
      ...(f.taints.length || reg.taints ? { taints: [...asList(reg.taints), ...f.taints] } : {}),
    };
  };
  const version = f.k8s.version.startsWith('v') ? f.k8s.version : `v${f.k8s.version}`;
  const config: Record<string, unknown> = {
    ...base,
    clusterConfiguration: {
      ...baseCluster,
      clusterName: f.input.clusterName,
      kubernetesVersion: version,
      controlPlaneEndpoint: `${f.input.controlPlaneAddress}:${API_PORT}`,
      apiServer: { ...baseApi, certSANs: uniq([...asList(baseApi.certSANs).map(String), ...f.sans]) },
    },
  };
  if (f.input.role === 'init') config.initConfiguration = { ...asObject(base.initConfiguration), nodeRegistration: nodeRegistration(base.initConfiguration) };
  else config.joinConfiguration = { ...asObject(base.joinConfiguration), nodeRegistration: nodeRegistration(base.joinConfiguration) };
  return config;
}

const STATIC_POD_DIR: Record<Distribution, string> = {
  k3s: '/var/lib/rancher/k3s/agent/pod-manifests',
  rke2: '/var/lib/rancher/rke2/agent/pod-manifests',
  kubeadm: '/etc/kubernetes/manifests',
};

/**
 * kube-vip needs a kubeconfig for leader election. On kubeadm >= 1.29 the init node's
 * admin.conf has no rights until init finishes, so kube-vip's docs use super-admin.conf there.
 */
function kubeVipKubeconfig(dist: Distribution, role: NodeRole, version: string): string {
  if (dist === 'k3s') return '/etc/rancher/k3s/k3s.yaml';
  if (dist === 'rke2') return '/etc/rancher/rke2/rke2.yaml';
  const [major = 0, minor = 0] = version.replace(/^v/, '').split('.').map(Number);
  return role === 'init' && (major > 1 || minor >= 29) ? '/etc/kubernetes/super-admin.conf' : '/etc/kubernetes/admin.conf';
}

function kubeVipPod(vip: string, kubeconfig: string): Record<string, unknown> {
  const env: Record<string, string> = {
    vip_arp: 'true', port: String(API_PORT), cp_enable: 'true', cp_namespace: 'kube-system',
    vip_leaderelection: 'true', vip_leasename: 'plndr-cp-lock', address: vip,
  };
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: 'kube-vip', namespace: 'kube-system' },
    spec: {
      hostNetwork: true,
      hostAliases: [{ ip: '127.0.0.1', hostnames: ['kubernetes'] }],
      containers: [{
        name: 'kube-vip', image: KUBE_VIP_IMAGE, imagePullPolicy: 'IfNotPresent', args: ['manager'],
        env: [...Object.entries(env).map(([name, value]) => ({ name, value })), { name: 'vip_nodename', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
        securityContext: { capabilities: { add: ['NET_ADMIN', 'NET_RAW'] } },
        volumeMounts: [{ name: 'kubeconfig', mountPath: '/etc/kubernetes/admin.conf' }],
      }],
      volumes: [{ name: 'kubeconfig', hostPath: { path: kubeconfig } }],
    },
  };
}

const KAIROS_ROLE: Record<NodeRole, string> = { init: 'init', 'control-plane': 'controlplane', worker: 'worker' };

/** The yip stage `reload` runs (device/kairos.ts RELOAD_STAGE): it writes the node's files again. */
export const RELOAD_STAGE = 'edgefleet-reload';
/** The rendered document stays below the agent's 64 KiB limit, with room for the secrets filled in at publish. */
export const MAX_NODE_CONFIG_BYTES = 60 * 1024;

/** One node's Kairos cloud-config; starts with "#cloud-config\n". Pure. */
export function renderNodeConfig(input: NodeConfigInput): string {
  const dist = distributionOf(input.layers);
  const k8s = input.layers.find((l) => l.type === 'k8s')!;
  const server = input.role !== 'worker';
  if (!input.tokenPlaceholder) throw new ValidationError('invalid-node-config', `no token placeholder was given for host ${input.hostId}; the join token cannot be placed`);
  const packs = renderPacks(input.layers, dist, server);
  const facts: NodeFacts = {
    input, k8s, server, packs,
    labels: { ...input.labels, [CLUSTER_LABEL]: input.clusterId, [POOL_LABEL]: input.pool },
    taints: (input.taints ?? []).map(parseTaint),
    sans: uniq([input.vip, input.controlPlaneAddress].filter((s): s is string => !!s)),
  };
  const config = dist === 'kubeadm' ? kubeadmConfig(facts) : rancherConfig(facts, dist);

  const nodeInfo = {
    clusterId: input.clusterId, clusterName: input.clusterName, hostId: input.hostId, role: input.role, pool: input.pool,
    distribution: dist, kubernetesVersion: k8s.version, controlPlaneAddress: input.controlPlaneAddress, ...(input.vip ? { vip: input.vip } : {}),
    ...(packs.packs.length ? { packs: packs.packs } : {}),
  };
  const files: Record<string, unknown>[] = [{ path: NODE_INFO_PATH, permissions: 0o644, content: `${JSON.stringify(nodeInfo, null, 2)}\n` }];
  if (server && input.vip) {
    files.push({
      path: `${STATIC_POD_DIR[dist]}/kube-vip.yaml`, permissions: 0o600,
      content: stringify(kubeVipPod(input.vip, kubeVipKubeconfig(dist, input.role, k8s.version)), { lineWidth: 0 }),
    });
  }
  files.push(...packs.files.map((f) => ({ ...f })));
  const doc = {
    cluster: {
      cluster_token: input.tokenPlaceholder,
      control_plane_host: input.controlPlaneAddress,
      role: KAIROS_ROLE[input.role],
      config: stringify(config, { lineWidth: 0 }),
    },
    // One list, two stages: the serializer writes it once (an anchor) and aliases it in the reload stage.
    stages: {
      initramfs: [{ name: 'EdgeFleet node configuration', files }],
      [RELOAD_STAGE]: [{ name: 'EdgeFleet node configuration (reload)', files }],
    },
  };
  const text = `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
  const bytes = new TextEncoder().encode(text).length;
  if (bytes > MAX_NODE_CONFIG_BYTES) {
    throw new ValidationError('node-config-too-large', `the node configuration of host ${input.hostId} is ${bytes} bytes, more than the ${MAX_NODE_CONFIG_BYTES} a host accepts: shorten the profile's pack values and manifests (or move large manifests into a Helm chart) in a new profile version`);
  }
  return text;
}
