/**
 * Fleet rollout decisions (a template's profile version bump upgrading many clusters): wave
 * sizes, abort thresholds, per-site maintenance windows in the site's own time zone, and the
 * estimated end. Pure: time is always an argument.
 */
import { WEEKDAYS, addDays, localDateOf, weekdayOf, zonedInstant, type LocalDate, type Weekday } from './zoned-time.js';

export type { Weekday } from './zoned-time.js';
export { canonicalTimeZone, isTimeZone } from './zoned-time.js';

const isWhole = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n);
const isNumber = (n: unknown): n is number => typeof n === 'number' && Number.isFinite(n);

/** `Math.ceil`, but a product that is an integer up to float noise (10 × 1.1) stays that integer. */
function ceilExact(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) <= 1e-9 * Math.max(1, Math.abs(x)) ? r : Math.ceil(x);
}

// ---------------------------------------------------------------------------------------------
// Waves

export interface WavePolicy {
  /** Canary wave size: `clusters` (absolute) or `percent` of the targets (rounded up, at least 1). Exactly one is set; @default clusters 1 */
  readonly canary?: { readonly clusters?: number; readonly percent?: number };
  /** Each later wave is the previous one times this (rounded up). @default 2 */
  readonly growth?: number;
  /** No wave is larger than this (the rollout's concurrency cap). @default 50 */
  readonly maxConcurrent?: number;
}

export const DEFAULT_WAVE_POLICY = { canaryClusters: 1, growth: 2, maxConcurrent: 50 } as const;

/** Throws a plain Error naming the bad field when `policy` makes no sense; returns the policy with defaults applied. */
export function checkWavePolicy(policy: WavePolicy = {}): { readonly canary: { readonly clusters: number } | { readonly percent: number }; readonly growth: number; readonly maxConcurrent: number } {
  const growth = policy.growth ?? DEFAULT_WAVE_POLICY.growth;
  if (!isNumber(growth) || growth < 1) {
    throw new Error(`Rollout wave policy: growth must be a number of at least 1 (got ${String(policy.growth)}); each wave is the previous one times growth, 1 keeps every wave the canary's size`);
  }
  const maxConcurrent = policy.maxConcurrent ?? DEFAULT_WAVE_POLICY.maxConcurrent;
  if (!isWhole(maxConcurrent) || maxConcurrent < 1) {
    throw new Error(`Rollout wave policy: maxConcurrent must be a whole number of at least 1 (got ${String(policy.maxConcurrent)}); it caps how many clusters upgrade at once`);
  }
  if (policy.canary === undefined) return { canary: { clusters: DEFAULT_WAVE_POLICY.canaryClusters }, growth, maxConcurrent };
  const { clusters, percent } = policy.canary;
  if ((clusters === undefined) === (percent === undefined)) {
    throw new Error(`Rollout wave policy: canary must set exactly one of clusters or percent (got ${clusters === undefined ? 'neither' : 'both'}); e.g. {"clusters": 1} or {"percent": 5}`);
  }
  if (clusters !== undefined) {
    if (!isWhole(clusters) || clusters < 1) {
      throw new Error(`Rollout wave policy: canary.clusters must be a whole number of at least 1 (got ${String(clusters)})`);
    }
    return { canary: { clusters }, growth, maxConcurrent };
  }
  if (!isNumber(percent) || percent < 1 || percent > 100) {
    throw new Error(`Rollout wave policy: canary.percent must be between 1 and 100 (got ${String(percent)})`);
  }
  return { canary: { percent }, growth, maxConcurrent };
}

/** Wave sizes for `total` targets: [canary, canary*g, canary*g^2, ... capped at maxConcurrent, ..., remainder]; sum === total; every size >= 1; [] for total 0. The canary never exceeds total nor maxConcurrent. */
export function planWaves(total: number, policy?: WavePolicy): number[] {
  if (!isWhole(total) || total < 0) {
    throw new Error(`Rollout waves: the number of target clusters must be a whole number of at least 0 (got ${String(total)})`);
  }
  const { canary, growth, maxConcurrent } = checkWavePolicy(policy);
  if (total === 0) return [];
  const wanted = 'clusters' in canary ? canary.clusters : Math.max(1, ceilExact((total * canary.percent) / 100));
  const sizes: number[] = [];
  let remaining = total;
  let size = Math.min(wanted, maxConcurrent);
  while (remaining > 0) {
    const wave = Math.min(size, remaining);
    sizes.push(wave);
    remaining -= wave;
    size = Math.min(ceilExact(size * growth), maxConcurrent);
  }
  return sizes;
}

/** Index of the wave the target at `position` (0-based, in target order) belongs to, given the sizes. Throws when `position` is not one of the targets. */
export function waveOf(position: number, sizes: readonly number[]): number {
  let end = 0;
  for (let i = 0; i < sizes.length; i++) {
    end += sizes[i];
    if (isWhole(position) && position >= 0 && position < end) return i;
  }
  const valid = end === 0 ? 'the planned waves hold no targets' : `positions 0 to ${end - 1}`;
  throw new Error(`Rollout waves: target position ${String(position)} is not among the ${end} targets of the planned waves (${valid}); the target list and the wave plan are out of step`);
}

// ---------------------------------------------------------------------------------------------
// Abort thresholds

export interface AbortPolicy {
  /** Abort when failed/finished*100 exceeds this (strictly greater). @default 20 */
  readonly failurePercent?: number;
  /** Abort when this many have failed (>=). @default none */
  readonly failureCount?: number;
  /** Thresholds apply only once at least this many targets finished (succeeded + failed). @default 1 for failureCount, and for percent: min(5, total) */
  readonly minFinished?: number;
}
export interface RolloutCounts { readonly total: number; readonly succeeded: number; readonly failed: number }

export const DEFAULT_ABORT_FAILURE_PERCENT = 20;
const DEFAULT_PERCENT_MIN_FINISHED = 5;

/** Throws a plain Error naming the bad field when `policy` makes no sense. */
export function checkAbortPolicy(policy: AbortPolicy = {}): void {
  const { failurePercent, failureCount, minFinished } = policy;
  if (failurePercent !== undefined && (!isNumber(failurePercent) || failurePercent < 0 || failurePercent > 100)) {
    throw new Error(`Rollout abort policy: failurePercent must be between 0 and 100 (got ${String(failurePercent)}); the rollout aborts when more than this share of finished clusters failed`);
  }
  if (failureCount !== undefined && (!isWhole(failureCount) || failureCount < 1)) {
    throw new Error(`Rollout abort policy: failureCount must be a whole number of at least 1 (got ${String(failureCount)}); the rollout aborts once this many clusters failed`);
  }
  if (minFinished !== undefined && (!isWhole(minFinished) || minFinished < 0)) {
    throw new Error(`Rollout abort policy: minFinished must be a whole number of at least 0 (got ${String(minFinished)})`);
  }
}

/** "30", "33.3", "20.01": one decimal, more only when one would hide that the share is above the threshold. */
function formatPercent(value: number, threshold: number): string {
  for (let digits = 1; digits < 6; digits++) {
    const text = String(Number(value.toFixed(digits)));
    if (Number(text) > threshold) return text;
  }
  return String(value);
}

/**
 * Whether the thresholds are crossed; `reason` is an operator-readable sentence naming the numbers
 * and the threshold crossed, e.g. "3 of 10 finished clusters failed (30%), above the 20% abort threshold".
 * An explicit minFinished larger than the rollout counts as `total` (once every target finished,
 * the thresholds apply). The percent threshold is checked before the count threshold.
 */
export function judgeAbort(counts: RolloutCounts, policy: AbortPolicy = {}): { readonly abort: false } | { readonly abort: true; readonly reason: string } {
  const { total, succeeded, failed } = counts;
  if (![total, succeeded, failed].every((n) => isWhole(n) && n >= 0) || succeeded + failed > total) {
    throw new Error(`Rollout counts make no sense: ${String(succeeded)} succeeded and ${String(failed)} failed of ${String(total)} targets (each must be a whole number ≥ 0, and succeeded + failed ≤ total)`);
  }
  checkAbortPolicy(policy);
  const finished = succeeded + failed;
  const failurePercent = policy.failurePercent ?? DEFAULT_ABORT_FAILURE_PERCENT;
  const percentMinFinished = Math.min(policy.minFinished ?? DEFAULT_PERCENT_MIN_FINISHED, total);
  // Integer comparison: failed/finished*100 is float-noisy (1/5*100 = 20.000000000000004).
  if (finished > 0 && finished >= percentMinFinished && failed * 100 > failurePercent * finished) {
    const percent = formatPercent((failed * 100) / finished, failurePercent);
    return { abort: true, reason: `${failed} of ${finished} finished clusters failed (${percent}%), above the ${failurePercent}% abort threshold` };
  }
  const { failureCount } = policy;
  const countMinFinished = Math.min(policy.minFinished ?? 1, total);
  if (failureCount !== undefined && finished >= countMinFinished && failed >= failureCount) {
    return { abort: true, reason: `${failed} ${failed === 1 ? 'cluster' : 'clusters'} failed (of ${finished} finished, ${total} targeted), reaching the abort threshold of ${failureCount} failed ${failureCount === 1 ? 'cluster' : 'clusters'}` };
  }
  return { abort: false };
}

// ---------------------------------------------------------------------------------------------
// Maintenance windows

export interface MaintenanceWindow {
  /** Days the window STARTS on, in the site's local calendar; @default every day */
  readonly days?: readonly Weekday[];
  /** Local start time HH:MM (24 h). */
  readonly start: string;
  /** 30..1440; a window may run past local midnight (it then belongs to the day it started). */
  readonly durationMinutes: number;
}

export const MIN_WINDOW_MINUTES = 30;
export const MAX_WINDOW_MINUTES = 1440;
/** How far ahead contiguous or overlapping windows are merged into one open period. */
export const WINDOW_MERGE_DAYS = 8;

/** Throws a plain Error naming the bad field; returns the start as minutes after local midnight. */
export function checkMaintenanceWindow(window: MaintenanceWindow, tz: string): { readonly startMinute: number; readonly days: ReadonlySet<Weekday> } {
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(window.start);
  if (!match) {
    throw new Error(`Maintenance window: start ${JSON.stringify(window.start)} is not a local time HH:MM on a 24-hour clock (e.g. "02:00" or "22:30")`);
  }
  const { durationMinutes, days } = window;
  if (!isWhole(durationMinutes) || durationMinutes < MIN_WINDOW_MINUTES || durationMinutes > MAX_WINDOW_MINUTES) {
    throw new Error(`Maintenance window: durationMinutes must be a whole number from ${MIN_WINDOW_MINUTES} to ${MAX_WINDOW_MINUTES} (got ${String(durationMinutes)})`);
  }
  if (days !== undefined && (days.length === 0 || !days.every((d) => WEEKDAYS.includes(d)))) {
    throw new Error(`Maintenance window: days must list at least one of ${WEEKDAYS.join(', ')} or be left out for every day (got ${JSON.stringify(days)})`);
  }
  // zonedInstant/localDateOf throw on an unknown zone too; checking first names the window.
  localDateOf(tz, 0);
  return { startMinute: Number(match[1]) * 60 + Number(match[2]), days: new Set(days ?? WEEKDAYS) };
}

/**
 * Whether `now` is inside `window` in time zone `tz` (DST-correct: a 02:00 start on a
 * spring-forward day starts at the first valid local instant after the gap; on a fall-back day
 * the first occurrence), and when it next opens or closes.
 *
 * A window lasts `durationMinutes` of real time from its start, so across a DST change its local
 * end moves by the change (22:00 + 6 h ends 03:00 local on a fall-back night). Occurrences that
 * overlap or touch are one open period: `closesAt` is when no occurrence covers the site any more
 * (looking at most WINDOW_MERGE_DAYS ahead, so a window that never closes reports that horizon).
 */
export function windowState(window: MaintenanceWindow, tz: string, now: Date):
  { readonly open: true; readonly closesAt: Date } | { readonly open: false; readonly opensAt: Date } {
  const { startMinute, days } = checkMaintenanceWindow(window, tz);
  const t = now.getTime();
  if (!Number.isFinite(t)) throw new Error('Maintenance window: the current time is an invalid Date');
  const durationMs = window.durationMinutes * 60_000;
  const today = localDateOf(tz, t);
  const occurrence = (date: LocalDate): { start: number; end: number } | undefined => {
    if (!days.has(weekdayOf(date))) return undefined;
    const start = zonedInstant(tz, date, startMinute);
    return { start, end: start + durationMs };
  };
  // A window lasts at most a day, so only one started yesterday or today can be open now.
  let closesAt: number | undefined;
  for (let i = -2; i <= WINDOW_MERGE_DAYS; i++) {
    const o = occurrence(addDays(today, i));
    if (!o) continue;
    if (o.start <= t && t < o.end) closesAt = Math.max(closesAt ?? o.end, o.end);
    else if (closesAt !== undefined && o.start <= closesAt) closesAt = Math.max(closesAt, o.end);
    else if (o.start > t) {
      return closesAt === undefined ? { open: false, opensAt: new Date(o.start) } : { open: true, closesAt: new Date(closesAt) };
    }
  }
  if (closesAt !== undefined) return { open: true, closesAt: new Date(closesAt) };
  // Unreachable: with at least one weekday, a window starts within the next 7 days.
  throw new Error(`Maintenance window: found no opening within ${WINDOW_MERGE_DAYS} days in ${tz}`);
}

// ---------------------------------------------------------------------------------------------
// Estimated end

/**
 * Estimated end: from the finished targets' mean duration (ms) and what remains, given the waves
 * still to run (each wave ~ one duration since a wave runs fully in parallel). undefined before
 * any target finished.
 *
 * `remainingWaves` counts the waves not finished yet, the running one included. `runningSinceMs`
 * is the epoch ms at which the running wave started: that wave is then expected at
 * runningSince + mean (not before now), and each later wave one mean after it.
 */
export function estimateEnd(input: { readonly now: Date; readonly meanClusterMs?: number; readonly remainingWaves: number; readonly runningSinceMs?: number }): Date | undefined {
  const { now, meanClusterMs, remainingWaves, runningSinceMs } = input;
  if (meanClusterMs === undefined) return undefined;
  const t = now.getTime();
  if (!Number.isFinite(t) || !isNumber(meanClusterMs) || meanClusterMs < 0 || !isWhole(remainingWaves) || remainingWaves < 0
    || (runningSinceMs !== undefined && !isNumber(runningSinceMs))) {
    throw new Error(`Rollout estimate: inputs make no sense (now ${String(now)}, meanClusterMs ${String(meanClusterMs)}, remainingWaves ${String(remainingWaves)}, runningSinceMs ${String(runningSinceMs)})`);
  }
  if (remainingWaves === 0) return new Date(t);
  const currentEnd = runningSinceMs === undefined ? t + meanClusterMs : Math.max(t, runningSinceMs + meanClusterMs);
  return new Date(currentEnd + (remainingWaves - 1) * meanClusterMs);
}
