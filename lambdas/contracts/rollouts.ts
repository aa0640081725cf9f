/**
 * Fleet rollouts (issue 13, Build 3–4): one profile version rolled out over many clusters in
 * waves (a canary wave, then waves growing exponentially up to a concurrency cap), each cluster
 * through its own verified upgrade, with abort thresholds, per-site maintenance windows and
 * deferral of offline or busy clusters. One zod schema per wire shape, shared by the API, the
 * workflow, the CLI and the OpenAPI document.
 */
import { z } from 'zod';
import { dnsName, hostId, isoTime, listQuery, safeText, semver, siteName, tags } from './common.js';
import { agentUpdateBody } from './api.js';
import { versionChannel } from './templates.js';
import { rolloutPolicy } from './rollout-policy.js';

export { abortPolicy, clusterUpgradeOptions, deferralPolicy, rolloutPolicy, siteWindow, wavePolicy, weekday, type RolloutPolicy } from './rollout-policy.js';

const clusterId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'a cluster id');
export const rolloutId = z.string().min(1).max(64).regex(/^[A-Za-z0-9_.:-]+$/, 'a rollout id');



const templateTarget = z.strictObject({ template: dnsName });
const selectorTarget = z.strictObject({ site: z.string().max(64).regex(/^[A-Za-z0-9][A-Za-z0-9._-]*\*?$/, 'a site name, or a prefix ending in * (shop-*)').optional(), tags: tags.optional() })
  .refine((s) => s.site !== undefined || s.tags !== undefined, 'name a template, cluster ids, a site (prefix) or tags');

/** Which clusters: the clusters attached to a template, a list of cluster ids, or a selector over the project's clusters. */
export const rolloutTargets = z.union([
  templateTarget,
  z.strictObject({ clusterIds: z.array(clusterId).min(1).max(1000).refine((ids) => new Set(ids).size === ids.length, 'each cluster id once') }),
  selectorTarget,
]);

/**
 * The targets as a rollout keeps and shows them: a list of cluster ids becomes its count (the
 * ids are kept apart and read only while planning; `GET /v1/rollouts/{id}/clusters` lists the
 * targets), so the rollout item, rewritten on every tick, stays small however long the list.
 */
export const storedRolloutTargets = z.union([
  templateTarget,
  z.strictObject({ clusterList: z.strictObject({ count: z.number().int().min(1).max(1000) }) }),
  selectorTarget,
  /** agent-update: listed host ids (kept apart, as cluster ids are), or every approved host. */
  z.strictObject({ hostList: z.strictObject({ count: z.number().int().min(1).max(1000) }) }),
  z.strictObject({ all: z.literal(true) }),
]);

/** What a rollout does to each target: upgrade a cluster's profile (the default), or update a host's agent. */
export const rolloutKind = z.enum(['cluster-upgrade', 'agent-update']);
export type RolloutKind = z.infer<typeof rolloutKind>;

/** A cluster-upgrade rollout (`kind` may be left out: the body of every rollout before agent updates). */
export const clusterUpgradeRolloutBody = z.strictObject({
  kind: z.literal('cluster-upgrade').optional(),
  name: safeText(100).optional(),
  targets: rolloutTargets,
  /** The profile version (or channel: its highest published version now) every target moves to. */
  to: z.strictObject({ version: z.union([semver, versionChannel]), name: dnsName.optional() }),
  policy: rolloutPolicy.optional(),
});

const hostSelectorTarget = z.strictObject({ site: selectorTarget.shape.site, tags: tags.optional() })
  .refine((s) => s.site !== undefined || s.tags !== undefined, 'name host ids, a site (prefix), tags, or all: true');

/** Which hosts an agent-update rollout updates: listed host ids, a site (prefix) / tag selector, or every approved host of the project. */
export const hostRolloutTargets = z.union([
  z.strictObject({ hostIds: z.array(hostId).min(1).max(1000).refine((ids) => new Set(ids).size === ids.length, 'each host id once') }),
  z.strictObject({ all: z.literal(true) }),
  hostSelectorTarget,
]);

/** An agent-update rollout: every target host moves to the published agent `version` through its own agent-update operation. */
export const agentUpdateRolloutBody = z.strictObject({
  kind: z.literal('agent-update'),
  name: safeText(100).optional(),
  targets: hostRolloutTargets,
  version: agentUpdateBody.shape.version,
  policy: rolloutPolicy.optional(),
});

/** POST /v1/rollouts: a discriminated union on `kind` (absent: cluster-upgrade). */
export const createRolloutBody = z.discriminatedUnion('kind', [clusterUpgradeRolloutBody, agentUpdateRolloutBody]);
export type CreateRolloutBody = z.infer<typeof createRolloutBody>;
export type ClusterUpgradeRolloutBody = z.infer<typeof clusterUpgradeRolloutBody>;
export type AgentUpdateRolloutBody = z.infer<typeof agentUpdateRolloutBody>;

export const rolloutStatus = z.enum(['planning', 'running', 'paused', 'aborting', 'cancelling', 'succeeded', 'incomplete', 'aborted', 'cancelled', 'superseded', 'failed']);
export type RolloutStatus = z.infer<typeof rolloutStatus>;
export const ROLLOUT_ENDED: readonly RolloutStatus[] = ['succeeded', 'incomplete', 'aborted', 'cancelled', 'superseded', 'failed'];

/**
 * One target cluster's state in the rollout: `pending` (not started), `waiting` (outside its
 * maintenance window), `deferred` (offline or busy; tried again), `running` (its upgrade runs,
 * or its rollback after a failure), `succeeded` (passed its upgrade gate), `failed` (its upgrade
 * failed, rolled back or paused by its policy), `skipped` (deleted, detached, or deferred too long).
 */
export const targetState = z.enum(['pending', 'waiting', 'deferred', 'running', 'succeeded', 'failed', 'skipped']);
export type TargetState = z.infer<typeof targetState>;
export const TARGET_STATES = targetState.options;
export const targetCounts = z.object(Object.fromEntries(TARGET_STATES.map((s) => [s, z.number().int()])) as Record<TargetState, z.ZodNumber>);
export type TargetCounts = z.infer<typeof targetCounts>;

export const rolloutWave = z.object({
  index: z.number().int(),
  size: z.number().int(),
  counts: targetCounts,
  startedAt: isoTime.optional(),
  endedAt: isoTime.optional(),
});

export const rolloutTarget = z.object({
  /** The target's id: a cluster id, or in an agent-update rollout the host id (also in `hostId`). */
  clusterId: z.string(),
  /** agent-update rollouts: the target host. */
  hostId: z.string().optional(),
  position: z.number().int(),
  wave: z.number().int(),
  state: targetState,
  operationId: z.string().optional(),
  rollbackOperationId: z.string().optional(),
  site: z.string().optional(),
  reason: z.string().optional(),
  /** deferred / waiting: when it is tried again. */
  retryAt: isoTime.optional(),
  deferredSince: isoTime.optional(),
  startedAt: isoTime.optional(),
  endedAt: isoTime.optional(),
});
export type RolloutTarget = z.infer<typeof rolloutTarget>;

/** The stored rollout (small and of constant size: counts live per wave, targets per cluster, a list of cluster ids in an item of its own). */
export const rolloutRecord = z.object({
  id: z.string(),
  project: z.string(),
  name: z.string().optional(),
  /** Absent: cluster-upgrade (every rollout stored before agent updates). Not `kind`: the table's item type is `kind`. */
  rolloutKind: rolloutKind.optional(),
  targets: storedRolloutTargets,
  to: z.object({ name: z.string(), version: z.string() }),
  /** What was asked for (a version or a channel). */
  requested: z.string(),
  policy: rolloutPolicy,
  status: rolloutStatus,
  reason: z.string(),
  createdBy: z.string(),
  createdAt: isoTime,
  updatedAt: isoTime,
  endedAt: isoTime.optional(),
  /** Targets found (planning) and the wave sizes once planned. */
  total: z.number().int(),
  waveSizes: z.array(z.number().int()),
  /** The wave clusters are started from (earlier waves only retry deferred ones). */
  currentWave: z.number().int(),
  /** Manual promotion: waves up to this index may start. */
  promotedThrough: z.number().int().optional(),
  /** The execution allowed to act (continue-as-new replaces it). */
  execution: z.string(),
  ticks: z.number().int(),
  /** Planning: where the enumeration of targets stopped (opaque). */
  planCursor: z.string().optional(),
  /** Mean milliseconds of a finished cluster upgrade (ETA). */
  meanClusterMs: z.number().optional(),
  finishedClusters: z.number().int().optional(),
  supersededBy: z.string().optional(),
  version: z.number().int(),
});
export type RolloutRecord = z.infer<typeof rolloutRecord>;

/** GET /v1/rollouts/{id}: the rollout with counts overall and per wave, the ETA, and the clusters that failed or were deferred. */
export const rolloutView = rolloutRecord.omit({ planCursor: true, execution: true, ticks: true, version: true, rolloutKind: true }).extend({
  /** What the rollout does to each target (cluster-upgrade, or agent-update: the targets are hosts). */
  kind: rolloutKind,
  counts: targetCounts,
  waves: z.array(rolloutWave),
  eta: isoTime.optional(),
  failed: z.array(rolloutTarget),
  deferred: z.array(rolloutTarget),
  version: z.number().int(),
});
export type RolloutView = z.infer<typeof rolloutView>;

export const listRolloutsQuery = listQuery.extend({ status: rolloutStatus.optional() });
export const listRolloutTargetsQuery = listQuery.extend({ state: targetState.optional(), wave: z.coerce.number().int().min(0).max(100_000).optional() });
export const rolloutActionBody = z.strictObject({ reason: safeText(200).optional() }).optional();

/** PATCH /v1/sites/{site}: the site's time zone (maintenance windows are evaluated in it). */
export const patchSiteBody = z.strictObject({ timezone: z.string().min(1).max(64) });
export const siteSettings = z.object({ site: z.string(), project: z.string(), timezone: z.string(), updatedAt: isoTime });
export const siteParam = siteName;
