import { z } from 'zod';
import { isoTime } from './common.js';
import { inventory } from './device.js';
import { nicAddresses, packStatus } from './packs.js';

/** MQTT topics (thing name = host id). */
export const TOPICS = {
  status: (hostId: string) => `edgefleet/hosts/${hostId}/status`,
  commands: (hostId: string) => `edgefleet/hosts/${hostId}/commands`,
  pendingCommands: (hostId: string) => `edgefleet/hosts/${hostId}/commands/pending`,
  results: (hostId: string) => `edgefleet/hosts/${hostId}/results`,
  presence: (event: 'connected' | 'disconnected', clientId: string) => `$aws/events/presence/${event}/${clientId}`,
} as const;

/** The largest payload the cloud accepts on any device topic (IoT Core's own cap is 128 KB). */
export const MAX_DEVICE_PAYLOAD_BYTES = 64 * 1024;

/** The agent reports the state partition's free space in steps of this many MiB (a change is a step). */
export const STATE_FREE_STEP_MB = 256;

export const bootState = z.enum(['active', 'passive', 'recovery', 'unknown']);

/** An OCI image reference as Kairos records it (KAIROS_IMAGE_REPO: registry/repo:tag). */
const imageRef = z.string().min(1).max(255).regex(/^[^\s@]+$/, 'an image reference (registry/repo:tag) without a digest');
/** The manifest digest of an image. */
export const imageDigest = z.string().regex(/^sha256:[a-f0-9]{64}$/, 'a sha256 manifest digest');
/** What a partition holds: the image written to it (and its digest when known). */
export const partitionImage = z.strictObject({ image: imageRef, digest: imageDigest.optional() });

/**
 * device → cloud on change, plus a slow full report (hourly by default).
 *
 * `boot` is what the host runs now: the booted partition (`state`), and the running image's
 * identity from its /etc/kairos-release: `image` (KAIROS_IMAGE_REPO, repo:tag), `digest` (when
 * known), `flavor` (KAIROS_FLAVOR), `kairosVersion` (KAIROS_VERSION). `partitions` is what the
 * active and passive partitions hold: after a fallback (booted passive) the active partition
 * still holds the image that failed to boot.
 */
export const statusMessage = z.strictObject({
  seq: z.number().int().min(0),
  at: isoTime,
  kind: z.enum(['change', 'full']),
  boot: z.strictObject({
    state: bootState, kairosVersion: z.string().max(64).optional(), osRelease: z.string().max(128).optional(),
    image: imageRef.optional(), digest: imageDigest.optional(), flavor: z.string().max(64).optional(),
    partitions: z.strictObject({ active: partitionImage.optional(), passive: partitionImage.optional() }).optional(),
  }),
  agentVersion: z.string().max(32),
  kubernetes: z.strictObject({
    role: z.enum(['init', 'control-plane', 'worker']).optional(), ready: z.boolean(), version: z.string().max(64).optional(),
    /** The node is unschedulable (cordoned: by a drain, or by anyone with kubectl). */
    cordoned: z.boolean().optional(),
  }).optional(),
  inventory: inventory.optional(),
  /**
   * Free space on the state partition (active, passive and transition images), in MiB, rounded
   * down to STATE_FREE_STEP_MB so a slowly filling disk does not make every report a change.
   */
  storage: z.strictObject({ stateFreeMb: z.number().int().min(0).max(1_000_000_000) }).optional(),
  /** The host's IP addresses per network interface (sent on change). */
  addresses: z.array(nicAddresses).max(64).optional(),
  /** On the init node: each pack of the applied profile and its state (sent on change). */
  packs: z.array(packStatus).max(64).optional(),
  /** false when the install configuration switched remote access (tunnels) off. */
  remoteAccess: z.boolean().optional(),
});
export type StatusMessage = z.infer<typeof statusMessage>;

/** The allow-list of operations an agent will run. Anything else is refused on the device too. */
export const commandType = z.enum([
  'upgrade', 'reboot', 'reset', 'apply-cloud-config', 'kube-node', 'preflight', 'report-state', 'wait-packs', 'export-kubeconfig', 'collect-diagnostics',
  'troubleshoot-user', 'agent-update',
]);

/** An agent version as the signed manifest names it (lambdas/contracts/agent-artifacts.ts). */
export const agentVersionString = z.string().max(32).regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'an agent version like 0.2.0');

/**
 * Parameters of `agent-update` (device/features/agent-update-feature.ts): `version`, the agent
 * version to move to, which must be the version of the signed manifest the control plane serves
 * (GET /v1/agent/manifest); `commitSeconds`, how long the new agent has to come online and
 * commit before the guard puts the previous version back (never past the command deadline).
 * Succeeded only when the new agent runs and is online; failed with the reason otherwise
 * (refused download, fell back to the previous version and why).
 */
export const agentUpdateParams = z.strictObject({
  version: agentVersionString,
  commitSeconds: z.number().int().min(10).max(3600),
});
export type AgentUpdateParams = z.infer<typeof agentUpdateParams>;

/**
 * Parameters of `upgrade` (Kairos A/B): `image` (OCI reference), `version` (the Kairos version
 * the image carries: /etc/kairos-release must say it after the reboot), `kubeletVersion` (e.g.
 * `v1.31.2`: the node must report Ready at it), `recovery` (upgrade the recovery partition).
 * Succeeded only after the post-boot health gate: booted *active* at `version`, Kubernetes node
 * Ready at `kubeletVersion`, within the deadline. Booting *passive* means Kairos fell back.
 *
 * Parameters of `preflight` (before a node is touched): `image`, `requiredFreeMb` (the state
 * partition must hold active + passive + transition images). Succeeded when the Kubernetes
 * node is Ready, the state partition has the room and the image is reachable. With
 * `readyTimeoutSeconds` (a rollback's preflight) a node not Ready yet is waited for that long
 * (never past the deadline) before it counts as not Ready.
 */
export const UPGRADE_PARAMS = ['image', 'version', 'kubeletVersion', 'recovery'] as const;
export const PREFLIGHT_PARAMS = ['image', 'requiredFreeMb', 'readyTimeoutSeconds'] as const;

/**
 * Parameters of `apply-cloud-config` (checked again by the agent):
 * - `cloudConfig` (required): the `#cloud-config` document, written to the OEM partition.
 * - `mode`: `write` (default: Kairos applies it at the next boot), `bootstrap` (the provider
 *   brings Kubernetes up / joins the cluster; succeeded only when the node reports Ready),
 *   `restart` (restart the Kubernetes service, then wait for Ready) or `reload` (re-apply
 *   manifests and add-ons; nothing restarts).
 * - `reboot`: reboot after writing (the provider then bootstraps at boot). @default false
 * - `readyTimeoutSeconds`: how long to wait for the node to report Ready.
 * - `kubeletVersion` (e.g. `v1.31.2`): the node counts only when Ready at this version (the
 *   profile's k8s layer); Ready at another version after this boot or bootstrap fails at once,
 *   naming both (the image carries another Kubernetes than the profile says).
 */
export const APPLY_MODES = ['write', 'bootstrap', 'restart', 'reload'] as const;
export const APPLY_PARAMS = ['cloudConfig', 'yaml', 'mode', 'reboot', 'readyTimeoutSeconds', 'kubeletVersion'] as const;
export type ApplyMode = (typeof APPLY_MODES)[number];

/**
 * Parameters of `kube-node` (run on a control-plane host, which holds the admin kubeconfig):
 * - `action`: `cordon` | `uncordon` | `drain` | `delete`
 * - `node`: the Kubernetes node name (= the host id)
 * - `timeoutSeconds`: drain timeout (PodDisruptionBudgets are respected until then).
 */
export const KUBE_NODE_ACTIONS = ['cordon', 'uncordon', 'drain', 'delete'] as const;
export type KubeNodeAction = (typeof KUBE_NODE_ACTIONS)[number];

/**
 * Parameters of `export-kubeconfig` (run once on the init node after a create): `address`, the
 * control-plane address (the VIP, else the init node's address: an IPv4, IPv6 or DNS name). The
 * agent reads the distribution's admin kubeconfig (k3s /etc/rancher/k3s/k3s.yaml, rke2
 * /etc/rancher/rke2/rke2.yaml, kubeadm /etc/kubernetes/admin.conf), points its server at
 * `https://<address>:6443` and returns it in the succeeded result's `kubeconfig`, which the
 * results handler moves straight into the secret store (never stored in the state table).
 */
export const EXPORT_KUBECONFIG_PARAMS = ['address'] as const;
/** The largest kubeconfig a host may return. */
export const MAX_KUBECONFIG_BYTES = 32 * 1024;

/**
 * Parameters of `wait-packs` (run on the cluster's init node, which holds the admin kubeconfig):
 * - `packs`: the pack names to wait for, comma-separated (the profile's CNI, CSI and add-on layers).
 * - `timeoutSeconds`: how long to wait for every one of them to be `ready`.
 * Succeeded when every named pack is ready; failed at once when one is in `error` (naming it
 * and its reason), or when the time runs out (naming the packs not ready and their states).
 */
export const waitPacksParams = z.strictObject({
  packs: z.string().min(1).max(4096).regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(,[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, 'pack names (DNS labels), comma-separated'),
  timeoutSeconds: z.number().int().min(1).max(86_400),
});
export type WaitPacksParams = z.infer<typeof waitPacksParams>;

/**
 * Parameters of `collect-diagnostics` (an allow-listed collection on the host, no shell):
 * - `since`: the start of the journal window (ISO time).
 * - `uploadUrl` + `uploadFields` (a JSON object of form fields): a presigned S3 POST (the
 *   fields carry the signed policy: key, expiry, content-length range); the bundle is the
 *   `file` field, last.
 * - `maxBytes`: the bundle's bound (the policy refuses more; the agent cuts items to fit).
 * Succeeded when the bundle was uploaded: the result's `bundle` says its size and sha256.
 */
export const collectDiagnosticsParams = z.strictObject({
  since: isoTime,
  uploadUrl: z.url({ protocol: /^https?$/ }).max(2048),
  uploadFields: z.string().min(2).max(16_384),
  maxBytes: z.number().int().min(1024).max(256 * 1024 * 1024),
});
export type CollectDiagnosticsParams = z.infer<typeof collectDiagnosticsParams>;

export const commandMessage = z.strictObject({
  commandId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/),
  type: commandType,
  params: z.record(z.string(), z.union([z.string().max(65_536), z.number(), z.boolean()])),
  deadline: isoTime,
});
export type CommandMessage = z.infer<typeof commandMessage>;

export const pendingCommandsRequest = z.strictObject({ at: isoTime });

export const resultMessage = z.strictObject({
  commandId: z.string().min(1).max(64).regex(/^[A-Za-z0-9_-]+$/),
  phase: z.enum(['accepted', 'progress', 'succeeded', 'failed']),
  at: isoTime,
  detail: z.string().max(4096).optional(),
  progress: z.number().min(0).max(100).optional(),
  /** `export-kubeconfig`, phase succeeded: the cluster's admin kubeconfig (a secret: goes to the secret store only). */
  kubeconfig: z.string().min(1).max(MAX_KUBECONFIG_BYTES).optional(),
  /** `collect-diagnostics`, phase succeeded: the uploaded bundle's size and sha256 (hex). */
  bundle: z.strictObject({ bytes: z.number().int().min(1), sha256: z.string().regex(/^[a-f0-9]{64}$/) }).optional(),
});
export type ResultMessage = z.infer<typeof resultMessage>;

/** AWS IoT lifecycle event (the fields EdgeFleet uses). */
export const presenceEvent = z.object({
  clientId: z.string().max(128),
  timestamp: z.number().int(),
  eventType: z.enum(['connected', 'disconnected']),
  sessionIdentifier: z.string().max(128).optional(),
  disconnectReason: z.string().max(64).optional(),
  versionNumber: z.number().int().optional(),
});
