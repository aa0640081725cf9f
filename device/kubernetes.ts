import { parseDocument } from 'yaml';
import { APPLY_MODES, APPLY_PARAMS, KUBE_NODE_ACTIONS, waitPacksParams, type ApplyMode, type KubeNodeAction } from '../lambdas/contracts/mqtt.js';

/**
 * The Kubernetes side of a Kairos host: pure helpers (no I/O) shared by the real executor
 * (KairosCli), the simulated one and the command handlers. Everything that ends up in an argv
 * is validated here first.
 */

export class InvalidParameter extends Error {
  override readonly name = 'InvalidParameter';
}

export type KubeRole = 'init' | 'control-plane' | 'worker';
export type Distribution = 'k3s' | 'rke2' | 'kubeadm';
export const DISTRIBUTIONS: readonly Distribution[] = ['k3s', 'rke2', 'kubeadm'];

/** What the node looks like from the host (the status report keeps role, ready and version). */
export interface KubernetesNodeState {
  readonly ready: boolean;
  readonly version?: string;
  /** `spec.unschedulable`: cordoned by a drain or by anyone with kubectl. */
  readonly cordoned?: boolean;
  readonly role?: KubeRole;
  readonly distribution?: Distribution;
  readonly nodeName?: string;
  /** When the kubelet last posted the Ready condition (epoch ms): older than the boot means a stale status. */
  readonly heartbeatAt?: number;
}

/** The `cluster:` stanza a Kairos provider (provider-k3s, provider-rke2, provider-kubeadm) reads. */
export interface ClusterStanza {
  readonly role: KubeRole;
  /** From the provider's `config` (node-name) or the cloud-config's `hostname`. */
  readonly nodeName?: string;
  /** Optional hints: `cluster.distribution` / `cluster.version` (or the k8s `version` in the provider config). */
  readonly distribution?: Distribution;
  readonly version?: string;
  /** The EdgeFleet cluster id, from node.json (when the cloud-config carries it). */
  readonly clusterId?: string;
}

/** Kairos spells the role `controlplane`; the contract says `control-plane`. */
export function normalizeRole(role: unknown): KubeRole | undefined {
  if (role === 'init' || role === 'worker') return role;
  if (role === 'controlplane' || role === 'control-plane') return 'control-plane';
  return undefined;
}

const str = (v: unknown, max = 128): string | undefined => (typeof v === 'string' && v.length > 0 && v.length <= max && !/[\s]/.test(v) ? v : undefined);

/**
 * The cluster stanza of a cloud-config, or undefined when it has none (no Kubernetes wanted).
 * Throws InvalidParameter when the stanza is there but its role is not one of the provider's.
 */
export function clusterStanza(cloudConfig: string | undefined): ClusterStanza | undefined {
  if (!cloudConfig) return undefined;
  const doc = parseDocument(cloudConfig);
  if (doc.errors.length) return undefined;
  const root = doc.toJS() as Record<string, unknown> | null;
  const cluster = root && typeof root === 'object' ? (root.cluster as Record<string, unknown> | undefined) : undefined;
  if (!cluster || typeof cluster !== 'object') return undefined;
  const role = normalizeRole(cluster.role ?? 'init');
  if (!role) throw new InvalidParameter(`cloudConfig: cluster.role ${JSON.stringify(cluster.role)?.slice(0, 40)} is not init, controlplane or worker`);
  let providerConfig: Record<string, unknown> = {};
  if (typeof cluster.config === 'string') {
    const inner = parseDocument(cluster.config);
    const v: unknown = inner.errors.length ? undefined : inner.toJS();
    if (v && typeof v === 'object' && !Array.isArray(v)) providerConfig = v as Record<string, unknown>;
  }
  const info = nodeInfo(root!);
  const kubeadmName = ['initConfiguration', 'joinConfiguration']
    .map((k) => (providerConfig[k] as { nodeRegistration?: { name?: unknown } } | undefined)?.nodeRegistration?.name)
    .find((n) => typeof n === 'string');
  const nodeName = str(providerConfig['node-name'], 253) ?? str(kubeadmName, 253) ?? str(info.hostId, 253) ?? str(root!.hostname, 253);
  const distribution = DISTRIBUTIONS.find((d) => d === cluster.distribution || d === info.distribution);
  const version = str(cluster.version, 64) ?? str(info.kubernetesVersion, 64) ?? str(providerConfig.version, 64);
  const clusterId = str(info.clusterId, 64);
  return {
    role, ...(nodeName ? { nodeName: nodeName.toLowerCase() } : {}), ...(distribution ? { distribution } : {}), ...(version ? { version } : {}),
    ...(clusterId ? { clusterId } : {}),
  };
}

/** The path of the node facts file EdgeFleet's rendered cloud-config writes (JSON: hostId, distribution, kubernetesVersion…). */
export const NODE_INFO_PATH = '/etc/edgefleet/node.json';

/** The node facts from the `stages.*[].files[]` entry that writes NODE_INFO_PATH, if any. */
function nodeInfo(root: Record<string, unknown>): Record<string, unknown> {
  const stages = root.stages;
  if (!stages || typeof stages !== 'object') return {};
  for (const steps of Object.values(stages as Record<string, unknown>)) {
    for (const step of Array.isArray(steps) ? steps : []) {
      for (const f of Array.isArray((step as { files?: unknown })?.files) ? ((step as { files: unknown[] }).files) : []) {
        const file = f as { path?: unknown; content?: unknown };
        if (file.path !== NODE_INFO_PATH || typeof file.content !== 'string') continue;
        try {
          const v: unknown = JSON.parse(file.content);
          if (v && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
        } catch {
          return {};
        }
      }
    }
  }
  return {};
}

type Params = Readonly<Record<string, string | number | boolean>>;

function onlyKnown(p: Params, allowed: readonly string[]): void {
  for (const k of Object.keys(p)) {
    if (!allowed.includes(k)) throw new InvalidParameter(`unknown parameter ${JSON.stringify(k.slice(0, 40))} (allowed: ${allowed.join(', ')})`);
  }
}

function intIn(p: Params, name: string, min: number, max: number): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw new InvalidParameter(`${name}: must be a whole number of seconds from ${min} to ${max}`);
  return v;
}

export interface ApplyParams {
  readonly cloudConfig: string;
  readonly mode: ApplyMode;
  readonly reboot: boolean;
  readonly readyTimeoutSeconds?: number;
  /** The kubelet version the node must be Ready at (validated by the caller: device/upgrade.ts validateKubeletVersion). */
  readonly kubeletVersion?: string;
}

/** `apply-cloud-config` parameters (the cloud-config itself is checked by validateCloudConfig). */
export function parseApplyParams(p: Params): ApplyParams {
  onlyKnown(p, APPLY_PARAMS);
  const cloudConfig = p.cloudConfig ?? p.yaml;
  if (typeof cloudConfig !== 'string') throw new InvalidParameter('cloudConfig: required, a YAML document');
  const mode = p.mode ?? 'write';
  if (typeof mode !== 'string' || !(APPLY_MODES as readonly string[]).includes(mode)) throw new InvalidParameter(`mode: must be one of ${APPLY_MODES.join(', ')}`);
  if (p.reboot !== undefined && typeof p.reboot !== 'boolean') throw new InvalidParameter('reboot: must be true or false');
  const readyTimeoutSeconds = intIn(p, 'readyTimeoutSeconds', 1, 86_400);
  const kubeletVersion = p.kubeletVersion === undefined ? undefined : kubeletVersionParam(p.kubeletVersion);
  return {
    cloudConfig, mode: mode as ApplyMode, reboot: p.reboot === true,
    ...(readyTimeoutSeconds !== undefined ? { readyTimeoutSeconds } : {}), ...(kubeletVersion ? { kubeletVersion } : {}),
  };
}

/** `v1.31.2`, `1.31.2`, `v1.31.2+k3s1`: what a kubelet reports (the same rule as upgrade's kubeletVersion). */
const KUBELET_VERSION = /^v?\d{1,4}\.\d{1,4}\.\d{1,6}(?:[-+][A-Za-z0-9.+-]{1,40})?$/;

function kubeletVersionParam(v: unknown): string {
  if (typeof v !== 'string' || v.length > 64 || !KUBELET_VERSION.test(v)) {
    throw new InvalidParameter(`kubeletVersion: ${JSON.stringify(String(v).slice(0, 40))} is not a Kubernetes version such as v1.31.2 or v1.31.2+k3s1`);
  }
  return v;
}

/** RFC 1123 subdomain, as Kubernetes names nodes: lower case, ≤ 253, labels ≤ 63, no leading "-". */
const DNS1123_LABEL = '[a-z0-9](?:[-a-z0-9]{0,61}[a-z0-9])?';
const DNS1123 = new RegExp(`^${DNS1123_LABEL}(?:\\.${DNS1123_LABEL})*$`);

export function validateNodeName(node: unknown): string {
  if (typeof node !== 'string' || node.length === 0) throw new InvalidParameter('node: required, the Kubernetes node name');
  if (node.length > 253 || !DNS1123.test(node)) throw new InvalidParameter(`node: ${JSON.stringify(node.slice(0, 64))} is not a DNS-1123 name (lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)`);
  return node;
}

export const DEFAULT_KUBE_NODE_TIMEOUT_SECONDS = 300;

export interface KubeNodeParams {
  readonly action: KubeNodeAction;
  readonly node: string;
  readonly timeoutSeconds: number;
}

export function parseKubeNodeParams(p: Params): KubeNodeParams {
  onlyKnown(p, ['action', 'node', 'timeoutSeconds']);
  const action = p.action;
  if (typeof action !== 'string' || !(KUBE_NODE_ACTIONS as readonly string[]).includes(action)) throw new InvalidParameter(`action: must be one of ${KUBE_NODE_ACTIONS.join(', ')}`);
  return { action: action as KubeNodeAction, node: validateNodeName(p.node), timeoutSeconds: intIn(p, 'timeoutSeconds', 1, 3600) ?? DEFAULT_KUBE_NODE_TIMEOUT_SECONDS };
}

export interface WaitPacksParams {
  readonly packs: readonly string[];
  readonly timeoutSeconds: number;
}

/** `wait-packs` parameters (contracts/mqtt.ts `waitPacksParams`): the pack names, and how long to wait. */
export function parseWaitPacksParams(p: Params): WaitPacksParams {
  onlyKnown(p, ['packs', 'timeoutSeconds']);
  const parsed = waitPacksParams.safeParse(p);
  if (!parsed.success) {
    throw new InvalidParameter(parsed.error.issues.slice(0, 2).map((i) => `${i.path.join('.') || 'params'}: ${i.message}`).join('; '));
  }
  return { packs: [...new Set(parsed.data.packs.split(','))], timeoutSeconds: parsed.data.timeoutSeconds };
}

/** Where each distribution keeps its binaries, kubeconfigs and services on a Kairos host. */
export interface DistributionLayout {
  readonly kubectl: string;
  /** The cluster-admin kubeconfig a server (control-plane) node holds. */
  readonly adminKubeconfig: string;
  /** The kubelet's own kubeconfig: enough to read its own Node object (a worker has no admin one). */
  readonly kubeletKubeconfig: string;
  readonly serverService: string;
  readonly agentService: string;
}

export const LAYOUTS: Readonly<Record<Distribution, DistributionLayout>> = {
  k3s: { kubectl: 'kubectl', adminKubeconfig: '/etc/rancher/k3s/k3s.yaml', kubeletKubeconfig: '/var/lib/rancher/k3s/agent/kubelet.kubeconfig', serverService: 'k3s', agentService: 'k3s-agent' },
  rke2: { kubectl: '/var/lib/rancher/rke2/bin/kubectl', adminKubeconfig: '/etc/rancher/rke2/rke2.yaml', kubeletKubeconfig: '/var/lib/rancher/rke2/agent/kubelet.kubeconfig', serverService: 'rke2-server', agentService: 'rke2-agent' },
  kubeadm: { kubectl: 'kubectl', adminKubeconfig: '/etc/kubernetes/admin.conf', kubeletKubeconfig: '/etc/kubernetes/kubelet.conf', serverService: 'kubelet', agentService: 'kubelet' },
};

export function serviceFor(distribution: Distribution, role: KubeRole): string {
  const l = LAYOUTS[distribution];
  return role === 'worker' ? l.agentService : l.serverService;
}

export function isControlPlane(role: KubeRole | undefined): boolean {
  return role === 'init' || role === 'control-plane';
}

/** The kubectl argv (after the binary) of a kube-node action; PodDisruptionBudgets are always respected. */
export function kubeNodeArgs(kubeconfig: string, action: KubeNodeAction, node: string, timeoutSeconds: number): string[] {
  const base = ['--kubeconfig', kubeconfig];
  validateNodeName(node);
  switch (action) {
    case 'cordon':
    case 'uncordon':
      return [...base, action, node];
    case 'drain':
      return [...base, 'drain', node, '--ignore-daemonsets', '--delete-emptydir-data', `--timeout=${timeoutSeconds}s`];
    case 'delete':
      return [...base, 'delete', 'node', node, '--ignore-not-found'];
  }
}

/** Ready condition (and when it was last posted), cordon (`spec.unschedulable`) and kubelet version out of `kubectl get node <name> -o json`. */
export function parseNodeJson(text: string): { ready: boolean; cordoned: boolean; version?: string; heartbeatAt?: number } {
  const node = JSON.parse(text) as {
    spec?: { unschedulable?: boolean };
    status?: { conditions?: Array<{ type?: string; status?: string; lastHeartbeatTime?: string }>; nodeInfo?: { kubeletVersion?: string } };
  };
  const cond = node.status?.conditions?.find((c) => c.type === 'Ready');
  const ready = cond?.status === 'True';
  const heartbeatAt = typeof cond?.lastHeartbeatTime === 'string' ? Date.parse(cond.lastHeartbeatTime) : NaN;
  const version = node.status?.nodeInfo?.kubeletVersion;
  return {
    ready, cordoned: node.spec?.unschedulable === true,
    ...(typeof version === 'string' && version ? { version: version.slice(0, 64) } : {}), ...(Number.isNaN(heartbeatAt) ? {} : { heartbeatAt }),
  };
}

/** `k3s` / `rke2` / `kubeadm` out of /etc/kairos-release's KAIROS_SOFTWARE_VERSION_PREFIX (standard images). */
export function distributionFromRelease(release: Readonly<Record<string, string>>): Distribution | undefined {
  const prefix = (release.KAIROS_SOFTWARE_VERSION_PREFIX ?? '').toLowerCase();
  return DISTRIBUTIONS.find((d) => prefix === d || prefix.startsWith(d));
}
