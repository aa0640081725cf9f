/**
 * Cluster templates and sites (issue 13): one zod schema per wire shape. A template builds the
 * cluster of every site whose hosts match its selector (zero-touch); the clusters it builds are
 * attached to it (`templateId`) until detached.
 */
import { z } from 'zod';
import { dnsName, isoTime, listQuery, resourceVersion, safeText, semver, tagKey, tags } from './common.js';
import { variableValue, variableValues } from './api.js';
import { rolloutPolicy, weekday } from './rollout-policy.js';

export { weekday } from './rollout-policy.js';

/** `1.x` or `1.4.x`: the highest published version of the profile matching it. */
export const versionChannel = z.string().max(32).regex(/^\d+\.(x|\d+\.x)$/, 'a version channel such as 1.x or 1.4.x');
export const templateProfile = z.strictObject({
  name: dnsName,
  /** A published version (`1.2.0`) or a channel (`1.x`, `1.4.x`): the highest published version matching it when a cluster is built. */
  version: z.union([semver, versionChannel]),
});

/** From `hosts` approved, online hosts at the site on, the control plane has `size` nodes. */
export const controlPlaneRule = z.strictObject({
  hosts: z.number().int().min(1).max(1000),
  size: z.union([z.literal(1), z.literal(3), z.literal(5)]),
});

export const templateTopology = z.strictObject({
  /** The site's cluster is built once this many matching hosts are approved and online. @default 1 */
  minHosts: z.number().int().min(1).max(100).optional(),
  /** Control-plane size by the number of hosts at the site (e.g. 1 host → 1, 3+ → 3). */
  controlPlane: z.array(controlPlaneRule).min(1).max(5)
    .refine((rules) => new Set(rules.map((r) => r.hosts)).size === rules.length, 'each rule needs its own number of hosts')
    .refine((rules) => rules.every((r) => r.size <= r.hosts), 'a rule cannot ask for more control-plane nodes than the hosts it applies to'),
  /** The worker pool the other hosts join (now and later). @default workers */
  workerPool: dnsName.optional(),
  /** The VIP is the value of this host tag at the site (e.g. `vip`, set by the site's registration token): a per-site value. */
  vipTag: tagKey.optional(),
}).refine((t) => t.vipTag !== undefined || t.controlPlane.every((r) => r.size === 1),
  { message: 'a control plane of more than one node needs a VIP: set vipTag (the host tag that carries each site\'s VIP)', path: ['vipTag'] });

/**
 * How the template's clusters are upgraded when its profile version changes: the rollout that a
 * PATCH of `profile` starts (waves, abort thresholds, deferral), each cluster's upgrade options,
 * the maintenance window (in each site's time zone), and what a new version does while a
 * rollout of the template still runs (`refuse`: 409; `supersede`: the running one stops
 * starting clusters and ends `superseded`).
 */
export const upgradePolicy = z.strictObject({
  maxUnavailable: z.number().int().min(1).max(100).optional(),
  onFailure: z.enum(['rollback', 'pause']).optional(),
  rollout: rolloutPolicy.optional(),
  /** @default refuse */
  onNewVersion: z.enum(['refuse', 'supersede']).optional(),
  maintenanceWindow: z.strictObject({
    days: z.array(weekday).min(1).max(7).optional(),
    /** Local time of the site, `HH:MM` (24 h). */
    start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 02:00'),
    durationMinutes: z.number().int().min(30).max(1440),
  }).optional(),
});

/** Which hosts a template builds clusters from: a site (`shop-*` matches by prefix) and tags all present. */
export const templateSelector = z.strictObject({
  site: z.string().max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\*?$/, 'a site name, or a prefix ending in * (shop-*)').optional(),
  tags: tags.optional(),
});

export const createTemplateBody = z.strictObject({
  name: dnsName,
  description: safeText(500).optional(),
  profile: templateProfile,
  /** Values of the profile's variables; secret ones go to the secret store, never the state table. */
  variables: variableValues.optional(),
  topology: templateTopology,
  selector: templateSelector,
  upgradePolicy: upgradePolicy.optional(),
});

export const patchTemplateBody = z.strictObject({
  version: resourceVersion,
  description: safeText(500).optional(),
  profile: templateProfile.optional(),
  variables: variableValues.optional(),
  topology: templateTopology.optional(),
  selector: templateSelector.optional(),
  upgradePolicy: upgradePolicy.optional(),
});

export const clusterTemplate = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string(),
  description: z.string().optional(),
  profile: z.object({ name: z.string(), version: z.string() }),
  /** Non-secret values, and secret ones shown as `********`. */
  variables: z.record(z.string(), variableValue).optional(),
  secretVariables: z.array(z.string()).optional(),
  topology: templateTopology,
  selector: templateSelector,
  upgradePolicy: upgradePolicy.optional(),
  /** The rollout its last profile change started (GET /v1/rollouts/{id}). */
  rolloutId: z.string().optional(),
  createdBy: z.string(),
  version: z.number().int(),
  createdAt: isoTime,
  updatedAt: isoTime,
});

export const deleteTemplateQuery = z.strictObject({
  /** `true`: detach the clusters attached to it first (they keep running, unmanaged by it). */
  detach: z.enum(['true', 'false']).optional(),
});

export const detachClusterBody = z.strictObject({ version: resourceVersion.optional() });

export const listSitesQuery = listQuery;
export const siteStatus = z.object({
  site: z.string(),
  hosts: z.object({ seen: z.number().int(), approved: z.number().int(), online: z.number().int(), matching: z.number().int() }),
  template: z.string().optional(),
  clusterId: z.string().optional(),
  state: z.enum(['cluster', 'creating', 'waiting', 'no-template', 'ambiguous', 'blocked']),
  reason: z.string(),
});
