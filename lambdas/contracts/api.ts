import { z } from 'zod';
import {
  dnsName, hostId, hostUid, isoTime, listQuery, page, resourceVersion, safeText, semver, siteName, tags,
} from './common.js';
import { inventory } from './device.js';
import { statusMessage } from './mqtt.js';
import { chartRef, packStatus } from './packs.js';
import { operationRecord as operation, operationStatus, profileRef, upgradePlan, type OperationType } from './operations.js';

// ---------- registration tokens ----------
export const createTokenBody = z.strictObject({
  name: safeText(100),
  expiresAt: isoTime.optional(),
  maxUses: z.number().int().min(1).max(100_000).optional(),
  autoApprove: z.boolean().optional(),
  allowReregistration: z.boolean().optional(),
  site: siteName.optional(),
  tags: tags.optional(),
});
export const registrationToken = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  expiresAt: isoTime,
  maxUses: z.number().int().optional(),
  uses: z.number().int(),
  autoApprove: z.boolean(),
  allowReregistration: z.boolean(),
  site: z.string().optional(),
  tags: z.record(z.string(), z.string()).optional(),
  revoked: z.boolean(),
  createdAt: isoTime,
  createdBy: z.string(),
  /** Present only in the response that created the token. */
  token: z.string().optional(),
});
export type RegistrationTokenView = z.infer<typeof registrationToken>;

// ---------- user-data ----------
export const userDataBody = z.strictObject({
  token: z.string().min(1).max(256),
  site: siteName,
  tags: tags.optional(),
  hostname: dnsName.optional(),
  sshAuthorizedKeys: z.array(z.string().max(4096).regex(/^(ssh-|ecdsa-|sk-)[^\n\r]+$/, 'an OpenSSH public key on one line')).max(20).optional(),
  network: z
    .strictObject({
      interface: z.string().max(15).regex(/^[a-zA-Z0-9._-]+$/).optional(),
      dhcp: z.boolean().optional(),
      address: z.string().max(43).regex(/^\d{1,3}(\.\d{1,3}){3}\/\d{1,2}$/, 'IPv4 CIDR such as 192.0.2.10/24').optional(),
      gateway: z.ipv4().optional(),
      dns: z.array(z.ipv4()).max(4).optional(),
      proxy: z.url().max(512).optional(),
    })
    .optional(),
  installDevice: z.string().max(64).regex(/^(auto|\/dev\/[a-zA-Z0-9/_-]+)$/).optional(),
  /** false: the host refuses remote-shell tunnels entirely (the agent is told in its settings). @default true */
  remoteAccess: z.boolean().optional(),
  /**
   * download: the host fetches the agent from this control plane, checks the manifest's signature
   * and the checksums, installs and starts it; baked: the image carries the agent, only checked. @default 'download'
   */
  agentInstall: z.enum(['download', 'baked']).optional(),
  /** Extra CA certificates (PEM) the host trusts for the control plane and the download, e.g. a TLS-inspecting proxy's. */
  caBundle: z.string().max(32 * 1024).regex(/^(-----BEGIN CERTIFICATE-----\r?\n[A-Za-z0-9+/=\r\n]+-----END CERTIFICATE-----\s*)+$/, 'one or more PEM certificates').optional(),
});

// ---------- hosts ----------
export const hostStatus = z.enum(['pre-registered', 'pending', 'approved', 'rejected', 'in-cluster', 'decommissioned']);
export const hostPresence = z.enum(['online', 'offline']);

export const createHostBody = z.strictObject({
  uid: hostUid,
  name: safeText(100).optional(),
  site: siteName.optional(),
  tags: tags.optional(),
  clusterId: z.string().max(64).optional(),
});
export const batchHostsBody = z.strictObject({
  hosts: z.array(createHostBody.omit({ clusterId: true })).min(1).max(10_000),
});
export const batchHostsResult = z.object({
  created: z.number().int(),
  existing: z.number().int(),
  failed: z.array(z.object({ uid: z.string(), code: z.string(), detail: z.string() })),
  /**
   * Hosts this request had no time left for (a large batch on a slow moment): nothing of them
   * was written; send them again in another request (`edgefleet hosts import` does).
   */
  unprocessed: z.array(z.string()),
});
export const patchHostBody = z.strictObject({
  version: resourceVersion,
  name: safeText(100).optional(),
  site: siteName.optional(),
  tags: tags.optional(),
});
export const approveHostBody = z.strictObject({
  version: resourceVersion.optional(),
  pairingCode: z.string().max(16).optional(),
});
export const rejectHostBody = z.strictObject({
  version: resourceVersion.optional(),
  reason: safeText(500).optional(),
});
/** POST /v1/hosts/{hostId}/decommission: revoke the certificate, delete the IoT thing, keep the record. */
/** POST /v1/hosts/{hostId}/agent-update: the agent version to move the host to (the published manifest's). */
export const agentUpdateBody = z.strictObject({
  version: z.string().min(1).max(32).regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/, 'an agent version like 0.2.0 (GET /v1/agent/manifest says the published one)'),
});
export const decommissionHostBody = z.strictObject({
  version: resourceVersion.optional(),
  reason: safeText(500).optional(),
});
/** Derived health (domain/host-health.ts), stored when it changes. */
export const hostHealthState = z.enum(['healthy', 'unhealthy', 'unknown']);
export const hostHealth = z.object({
  state: hostHealthState,
  /** Why, for an operator ("offline since …", "Kubernetes NotReady", …); empty when healthy. */
  reasons: z.array(z.string()),
  /** When the host entered this state (absent: never evaluated). */
  since: isoTime.optional(),
});
/** What the host last reported (its stored status report, change-only) and when (its clock). */
export const reportedState = statusMessage.omit({ seq: true, kind: true, at: true }).extend({ reportedAt: isoTime });
export const listHostsQuery = listQuery.extend({
  status: hostStatus.optional(),
  health: hostHealthState.optional(),
  site: siteName.optional(),
  tag: z.string().max(130).regex(/^[^=]+=[^=]*$/, 'key=value').optional(),
  clusterId: z.string().max(64).optional(),
});
export const host = z.object({
  id: hostId,
  uid: z.string(),
  project: z.string(),
  name: z.string().optional(),
  site: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  status: hostStatus,
  statusReason: z.string().optional(),
  presence: hostPresence,
  clusterId: z.string().optional(),
  targetClusterId: z.string().optional(),
  version: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
  approvedAt: isoTime.optional(),
  /** Set by device registration (POST /v1/device/register). */
  registeredAt: isoTime.optional(),
  registrationTokenId: z.string().optional(),
  certificateId: z.string().optional(),
  inventory: inventory.optional(),
  reported: reportedState.optional(),
  health: hostHealth,
});
export type HostView = z.infer<typeof host>;

// ---------- profiles ----------
export const layerType = z.enum(['os', 'k8s', 'cni', 'csi', 'addon']);
export const layer = z.strictObject({
  type: layerType,
  pack: dnsName,
  version: z.string().min(1).max(64).regex(/^v?\d+(\.\d+){0,2}([-+][0-9A-Za-z.+-]+)?$/, 'a version such as 1.30.4 or v1.30.4+k3s1'),
  image: z.string().max(512).regex(/^[a-z0-9][a-z0-9._\-/:@]*$/, 'an OCI image reference').optional(),
  /** YAML: the distribution's configuration (k8s), the chart's values (cni/csi/addon); may use `{{ .vars.NAME }}`. */
  values: z.string().max(65_536).optional(),
  /** os layer: the Kubernetes version the image carries, when its tag and labels do not say (e.g. a custom image). */
  kubernetesVersion: z.string().min(1).max(64).regex(/^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]+)?$/, 'a Kubernetes version such as 1.31.2 or v1.31.2+k3s1').optional(),
  /** cni/csi/addon: the Helm chart the pack installs. */
  chart: chartRef.optional(),
  /** cni/csi/addon: plain Kubernetes manifests (multi-document YAML) the pack applies. */
  manifests: z.string().max(65_536).optional(),
  /** cni/csi/addon: the namespace the chart is installed into. @default the pack name */
  namespace: dnsName.optional(),
});

/** A profile variable, used in layer values as `{{ .vars.NAME }}`; a cluster supplies its value. */
export const variableName = z.string().min(1).max(63).regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'letters, digits and "_", starting with a letter or "_"');
export const variableValue = z.union([z.string().max(4096), z.number(), z.boolean()]);
export const profileVariable = z.strictObject({
  name: variableName,
  type: z.enum(['string', 'number', 'boolean']).optional(),
  description: safeText(500).optional(),
  default: variableValue.optional(),
  /** A cluster must supply a value (or the variable has a default). @default false */
  required: z.boolean().optional(),
  /** The value is a secret: stored in the secret store, never in the state table, never shown. @default false */
  secret: z.boolean().optional(),
  /** A JavaScript regular expression a string value must match in full. */
  regex: z.string().min(1).max(256).optional(),
});
/** Values for a profile's variables, by name. */
export const variableValues = z.record(variableName, variableValue).refine((v) => Object.keys(v).length <= 100, 'at most 100 variables');
export const createProfileBody = z.strictObject({
  name: dnsName,
  description: safeText(500).optional(),
});
export const createProfileVersionBody = z.strictObject({
  version: semver,
  layers: z.array(layer).min(2).max(20),
  variables: z.array(profileVariable).max(100).optional(),
  publish: z.boolean().optional(),
});
export const profile = z.object({
  name: z.string(),
  project: z.string(),
  description: z.string().optional(),
  latestVersion: z.string().optional(),
  createdAt: isoTime,
  updatedAt: isoTime,
  version: z.number().int(),
});
export const profileVersion = z.object({
  name: z.string(),
  project: z.string(),
  version: z.string(),
  layers: z.array(layer),
  variables: z.array(profileVariable).optional(),
  status: z.enum(['draft', 'published']),
  publishedAt: isoTime.optional(),
  createdAt: isoTime,
  createdBy: z.string(),
});
export type LayerView = z.infer<typeof layer>;

// ---------- clusters ----------
export const createClusterBody = z.strictObject({
  name: dnsName,
  profile: z.strictObject({ name: dnsName, version: semver }),
  controlPlane: z.strictObject({ hostIds: z.array(hostId).min(1).max(5) }),
  workers: z.array(z.strictObject({ name: dnsName, hostIds: z.array(hostId).min(1).max(90) })).max(10).optional(),
  vip: z.ipv4().optional(),
  /** Values of the profile version's variables; secret ones go to the secret store, never the state table. */
  variables: variableValues.optional(),
});
/** Day-2: add hosts to a pool (scale out) or remove hosts from it (scale in); one of the two. */
export const scaleClusterBody = z.strictObject({
  /** `control-plane`, or a worker pool name (a new pool is created when hosts are added to it). */
  pool: dnsName,
  add: z.array(hostId).min(1).max(90).optional(),
  remove: z.array(hostId).min(1).max(90).optional(),
}).refine((b) => (b.add === undefined) !== (b.remove === undefined), { message: 'give either add or remove (one operation scales one way)', path: ['add'] });
export const CONTROL_PLANE_POOL = 'control-plane';

/** Day-2: move the cluster to another published profile version (restart/reload changes only). */
export const reconfigureClusterBody = z.strictObject({
  /** Another published version of the cluster's profile. @default the cluster's current version */
  profile: z.strictObject({ name: dnsName, version: semver }).optional(),
  /** New values of the profile's variables; a variable not named keeps its value. */
  variables: variableValues.optional(),
}).refine((b) => b.profile !== undefined || b.variables !== undefined, { message: 'give a new profile version, new variable values, or both', path: ['profile'] });

/** Rolling upgrade to another published version of the cluster's profile. */
export const createUpgradeBody = z.strictObject({
  to: z.strictObject({ version: semver, name: dnsName.optional() }),
  /** Worker nodes out at a time. @default 1 */
  maxUnavailable: z.number().int().min(1).max(100).optional(),
  /** What a failed node does to the upgrade. @default 'rollback' */
  onFailure: z.enum(['rollback', 'pause']).optional(),
  /** Required when the upgrade cannot avoid downtime (a single-node cluster that reboots). */
  acknowledgeDowntime: z.boolean().optional(),
  /** Alternatively: do it in this window (the upgrade waits for its start). */
  maintenanceWindow: z.strictObject({ start: isoTime, end: isoTime }).optional(),
  /** Upgrade the control plane only (allowed while workers stay within the version-skew rule). */
  skipWorkers: z.boolean().optional(),
  /** Seconds a drain may take (PodDisruptionBudgets respected); a drain that does not finish fails the node. @default 600 */
  drainTimeoutSeconds: z.number().int().min(30).max(3600).optional(),
  /** Values of the target version's variables (e.g. one it newly requires); a variable not named keeps its value. */
  variables: variableValues.optional(),
  /** Plan only: answer 200 with the plan (node order, per-node steps, downtime, refusal) and start, change and record nothing. */
  dryRun: z.boolean().optional(),
});

/**
 * The answer to an upgrade with `dryRun: true`: the plan the same request would run, and whether
 * it would start. A refusal the operator can lift (downtime not acknowledged, maxUnavailable
 * taking every worker out, the cluster busy) comes with the plan as it would run once lifted.
 */
export const upgradePreview = z.object({
  dryRun: z.literal(true),
  clusterId: z.string(),
  from: profileRef,
  to: profileRef,
  /** Whether the same request without dryRun would start the upgrade now. */
  wouldStart: z.boolean(),
  refusal: z.object({ code: z.string(), message: z.string() }).optional(),
  plan: upgradePlan.optional(),
  /** The hosts in the order they are upgraded: control-plane nodes one by one, then worker batches of maxUnavailable. */
  order: z.array(z.array(z.string())),
});
export type UpgradePreview = z.infer<typeof upgradePreview>;

export const clusterHealthState = z.enum(['healthy', 'degraded', 'unreachable', 'unknown']);
export const clusterHealth = z.object({ state: clusterHealthState, reasons: z.array(z.string()), since: isoTime.optional() });
export const clusterStatus = z.enum(['provisioning', 'running', 'updating', 'upgrading', 'degraded', 'failed', 'deleting']);
export const cluster = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  profile: z.object({ name: z.string(), version: z.string() }),
  controlPlane: z.object({ hostIds: z.array(z.string()) }),
  workers: z.array(z.object({ name: z.string(), hostIds: z.array(z.string()) })),
  vip: z.string().optional(),
  /** When the cluster's kubeconfig was fetched from the init node and stored (GET /v1/clusters/{id}/kubeconfig). */
  kubeconfigStoredAt: isoTime.optional(),
  /** Without a VIP: the init node's reported address the nodes join through (control_plane_host), fixed when the create began. */
  controlPlaneAddress: z.string().optional(),
  /** The values of the profile's variables this cluster sets; a secret one shows as `********`. */
  variables: z.record(z.string(), variableValue).optional(),
  /** Names of the secret variables this cluster sets (their values are only in the secret store). */
  secretVariables: z.array(z.string()).optional(),
  /** Each CNI, CSI and add-on pack's state, as the init node last reported it. */
  packs: z.array(packStatus).optional(),
  /** When the init node reported them (its clock). */
  packsReportedAt: isoTime.optional(),
  status: clusterStatus,
  statusReason: z.string().optional(),
  /** Derived from the nodes' health and the packs (domain/cluster-health.ts), stored when it changes. */
  health: clusterHealth,
  operationId: z.string().optional(),
  activeOperationId: z.string().optional(),
  /** The cluster template that built it and manages it (absent once detached). */
  templateId: z.string().optional(),
  /** The site its template built it for. */
  site: z.string().optional(),
  version: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export const listClustersQuery = listQuery.extend({ health: clusterHealthState.optional() });

// ---------- operations ----------
/** An operation: a discriminated union by `type`, each kind with its typed input (contracts/operations.ts). */
export { operationStatus, operationRecord as operation } from './operations.js';
export const listOperationsQuery = listQuery.extend({
  targetType: z.enum(['cluster', 'host']).optional(),
  targetId: z.string().max(64).optional(),
  /** Only operations in this status (a filtered page may hold fewer than `limit`; follow nextCursor). */
  status: operationStatus.optional(),
  /** Only operations of this kind. */
  type: z.enum(['create-cluster', 'scale-out', 'scale-in', 'reconfigure', 'delete-cluster', 'upgrade-cluster'] as const satisfies readonly OperationType[]).optional(),
});

// ---------- audit ----------
export const auditEvent = z.object({
  id: z.string(),
  project: z.string(),
  time: isoTime,
  actor: z.string(),
  action: z.string(),
  resource: z.string(),
  outcome: z.enum(['success', 'denied', 'failed']),
  requestId: z.string(),
  detail: z.string().optional(),
});
export const listAuditQuery = listQuery.extend({
  resource: z.string().max(200).optional(),
  actor: z.string().max(200).optional(),
  since: isoTime.optional(),
});

export const hostPage = page(host);
export const tokenPage = page(registrationToken);
export const profilePage = page(profile);
export const profileVersionPage = page(profileVersion);
export const clusterPage = page(cluster);
export const operationPage = page(operation);
export const auditPage = page(auditEvent);
