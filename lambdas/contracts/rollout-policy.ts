/**
 * How a rollout proceeds (issue 13): waves, abort thresholds, deferral, each cluster's upgrade
 * options and the maintenance window in each site's time zone. Shared by POST /v1/rollouts and a
 * cluster template's `upgradePolicy.rollout` (its own module: templates and rollouts both use it).
 */
import { z } from 'zod';

export const weekday = z.enum(['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun']);

/** A site's maintenance window, in the site's own time zone (PATCH /v1/sites/{site} sets it). */
export const siteWindow = z.strictObject({
  /** Days the window starts on (site-local calendar). @default every day */
  days: z.array(weekday).min(1).max(7).optional(),
  /** Site-local start, `HH:MM` (24 h). */
  start: z.string().regex(/^([01]\d|2[0-3]):[0-5]\d$/, 'a time of day such as 02:00'),
  durationMinutes: z.number().int().min(30).max(1440),
});

export const wavePolicy = z.strictObject({
  /** The canary wave: a number of clusters or a percentage of the targets (rounded up). @default {clusters: 1} */
  canary: z.union([
    z.strictObject({ clusters: z.number().int().min(1).max(10_000) }),
    z.strictObject({ percent: z.number().min(1).max(100) }),
  ]).optional(),
  /** Minutes to wait after the canary wave succeeded before the next wave. @default 0 */
  soakMinutes: z.number().int().min(0).max(10_080).optional(),
  /** `manual`: the rollout waits after the canary wave until `POST /v1/rollouts/{id}/promote`. @default auto */
  promotion: z.enum(['auto', 'manual']).optional(),
  /** Each later wave is the previous one times this. @default 2 */
  growth: z.number().min(1).max(10).optional(),
  /** No wave has more clusters than this: at most this many cluster upgrades run at once. @default 50 */
  maxConcurrent: z.number().int().min(1).max(1000).optional(),
});

export const abortPolicy = z.strictObject({
  /** Abort when more than this percentage of the finished clusters failed. @default 20 */
  failurePercent: z.number().min(0).max(100).optional(),
  /** Abort once this many clusters failed. @default none */
  failureCount: z.number().int().min(1).max(100_000).optional(),
  /** The thresholds apply from this many finished clusters on. @default min(5, targets) */
  minFinished: z.number().int().min(1).max(100_000).optional(),
});

export const deferralPolicy = z.strictObject({
  /** A cluster that was offline or busy is tried again after this many minutes. @default 5 */
  retryMinutes: z.number().min(0.01).max(1440).optional(),
  /** After this many minutes deferred, a cluster is skipped (reported, never upgraded by this rollout). @default 1440 */
  giveUpMinutes: z.number().min(0.01).max(10_080).optional(),
});

/** How each cluster's own upgrade runs (the cluster upgrade API's options). */
export const clusterUpgradeOptions = z.strictObject({
  /** @default 'rollback' */
  onFailure: z.enum(['rollback', 'pause']).optional(),
  maxUnavailable: z.number().int().min(1).max(100).optional(),
  /** Single-node clusters reboot once per OS upgrade: required to roll out to them. */
  acknowledgeDowntime: z.boolean().optional(),
  drainTimeoutSeconds: z.number().int().min(30).max(3600).optional(),
});

/** Everything about how a rollout proceeds; also a template's `upgradePolicy.rollout`. */
export const rolloutPolicy = z.strictObject({
  waves: wavePolicy.optional(),
  abort: abortPolicy.optional(),
  deferral: deferralPolicy.optional(),
  upgrade: clusterUpgradeOptions.optional(),
  /** Clusters upgrade only inside this window, evaluated in each site's time zone (sites without one: UTC). Overrides the template's. */
  maintenanceWindow: siteWindow.optional(),
  /** Seconds between two looks at the running clusters. @default 30 */
  tickSeconds: z.number().int().min(1).max(600).optional(),
});
export type RolloutPolicy = z.infer<typeof rolloutPolicy>;
