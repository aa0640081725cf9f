/**
 * Fleet rollouts (issue 13): the decisions of one rollout tick, pure and table-tested
 * (test/unit/domain/rollout.test.ts). The rules they rest on (wave sizes, abort thresholds,
 * maintenance windows) are in rollout-rules.ts.
 */
import type { OperationStatus } from './model.js';

export type TargetStateName = 'pending' | 'waiting' | 'deferred' | 'running' | 'succeeded' | 'failed' | 'skipped';
export type Counts = Readonly<Record<TargetStateName, number>>;
export const TARGET_STATE_NAMES: readonly TargetStateName[] = ['pending', 'waiting', 'deferred', 'running', 'succeeded', 'failed', 'skipped'];

export const zero = (): Record<TargetStateName, number> => ({ pending: 0, waiting: 0, deferred: 0, running: 0, succeeded: 0, failed: 0, skipped: 0 });
export function sumCounts(all: readonly Counts[]): Counts {
  const out = zero();
  for (const c of all) for (const s of TARGET_STATE_NAMES) out[s] += c[s];
  return out;
}

/** What a target's cluster is like when the rollout wants to start it. */
export interface ClusterFacts {
  readonly exists: boolean;
  readonly name?: string;
  /** Still attached to the rollout's template (always true for selector rollouts). */
  readonly inScope: boolean;
  readonly activeOperationId?: string;
  readonly status?: string;
  readonly profileVersion?: string;
  readonly offlineHosts: readonly string[];
  /** Outside its maintenance window: when it opens. */
  readonly windowOpensAt?: Date;
}

export type StartVerdict =
  | { readonly kind: 'start' }
  | { readonly kind: 'succeeded'; readonly reason: string }
  | { readonly kind: 'skipped'; readonly reason: string }
  | { readonly kind: 'deferred'; readonly reason: string }
  | { readonly kind: 'waiting'; readonly reason: string; readonly until: Date };

/**
 * Whether to start a target's upgrade now: a deleted or detached cluster is skipped; one already
 * at the version succeeded (nothing to do); a busy or offline one is deferred (never blocks a
 * wave); one outside its window waits for it; otherwise start.
 */
export function startVerdict(c: ClusterFacts, target: string): StartVerdict {
  if (!c.exists) return { kind: 'skipped', reason: 'the cluster was deleted' };
  if (!c.inScope) return { kind: 'skipped', reason: 'the cluster was detached from the template' };
  if (c.profileVersion === target && !c.activeOperationId) return { kind: 'succeeded', reason: `already at ${target}` };
  if (c.activeOperationId) return { kind: 'deferred', reason: `busy: operation ${c.activeOperationId} is running on it` };
  if (c.status !== undefined && !['running', 'degraded'].includes(c.status)) return { kind: 'deferred', reason: `the cluster is ${c.status}` };
  if (c.offlineHosts.length > 0) {
    const names = c.offlineHosts.slice(0, 3).join(', ') + (c.offlineHosts.length > 3 ? ` and ${c.offlineHosts.length - 3} more` : '');
    return { kind: 'deferred', reason: `offline: ${names}` };
  }
  if (c.windowOpensAt) return { kind: 'waiting', reason: `outside its maintenance window (opens ${c.windowOpensAt.toISOString()})`, until: c.windowOpensAt };
  return { kind: 'start' };
}

/** A running target's upgrade (and the rollback its failure started) as last read. */
export interface UpgradeFacts {
  readonly status: OperationStatus;
  readonly reason?: string;
  readonly updatedAt: string;
  readonly rolledBackBy?: string;
  /** The rollback operation, when it exists yet. */
  readonly rollback?: { readonly id: string; readonly status: OperationStatus; readonly reason?: string };
}

export type Settlement =
  | { readonly kind: 'running' }
  | { readonly kind: 'succeeded' }
  | { readonly kind: 'failed'; readonly reason: string };

/** A rollback announced but not recorded after this long did not start. */
export const ROLLBACK_START_GRACE_MS = 5 * 60_000;

/**
 * Whether a running target is done: succeeded when its upgrade passed the gate; failed when it
 * failed (once its rollback, if any, ended: failed clusters end rolled back), was cancelled, or
 * paused by its policy; still running otherwise.
 */
export function settle(u: UpgradeFacts | undefined, now: Date, what = 'upgrade'): Settlement {
  if (!u) return { kind: 'failed', reason: `its ${what} operation is gone` };
  if (u.status === 'succeeded') return { kind: 'succeeded' };
  if (u.status === 'queued' || u.status === 'running') return { kind: 'running' };
  const why = u.reason ? `: ${u.reason}` : '';
  if (u.status === 'paused') return { kind: 'failed', reason: `its ${what} paused on failure (policy pause)${why}` };
  if (u.status === 'cancelled') return { kind: 'failed', reason: `its ${what} was cancelled${why}` };
  // failed
  if (!u.rolledBackBy) return { kind: 'failed', reason: `its ${what} failed${why}` };
  if (!u.rollback) {
    if (now.getTime() - Date.parse(u.updatedAt) < ROLLBACK_START_GRACE_MS) return { kind: 'running' };
    return { kind: 'failed', reason: `its upgrade failed and the rollback ${u.rolledBackBy} never started${why}` };
  }
  if (u.rollback.status === 'queued' || u.rollback.status === 'running') return { kind: 'running' };
  const rb = u.rollback.status === 'succeeded'
    ? `rolled back and verified in ${u.rollback.id}`
    : `its rollback ${u.rollback.id} ended ${u.rollback.status}${u.rollback.reason ? ` (${u.rollback.reason})` : ''}: look at the cluster`;
  return { kind: 'failed', reason: `upgrade failed (${u.reason ?? 'no reason recorded'}); ${rb}` };
}

export type RolloutPhase = 'running' | 'paused' | 'aborting' | 'cancelling';

export type RolloutEnd =
  | { readonly end: false }
  | { readonly end: true; readonly status: 'succeeded' | 'incomplete' | 'aborted' | 'cancelled'; readonly reason: string };

/**
 * Whether the rollout ends now. Aborting and cancelling end once nothing runs (untouched
 * clusters stay pending: reported as not started). A running rollout ends when every wave has
 * started and no target is pending, running, waiting or deferred: succeeded only when every
 * target succeeded, else incomplete with the numbers.
 */
/** How a rollout's end names its targets (cluster upgrades: the default; agent updates: hosts). */
export interface TargetWords { readonly targets: string; readonly done: string; readonly verified: string }
export const CLUSTER_WORDS: TargetWords = { targets: 'clusters', done: 'upgraded', verified: 'upgraded and verified' };

export function rolloutEnd(phase: RolloutPhase, counts: Counts, allWavesStarted: boolean, why: string, words: TargetWords = CLUSTER_WORDS): RolloutEnd {
  const total = TARGET_STATE_NAMES.reduce((t, s) => t + counts[s], 0);
  const summary = `${counts.succeeded} of ${total} ${words.targets} ${words.done}, ${counts.failed} failed, ${counts.skipped} skipped`;
  if (phase === 'aborting' || phase === 'cancelling') {
    if (counts.running > 0) return { end: false };
    const untouched = counts.pending + counts.waiting + counts.deferred;
    return { end: true, status: phase === 'aborting' ? 'aborted' : 'cancelled', reason: `${why}; ${summary}, ${untouched} not started` };
  }
  if (phase === 'paused' || !allWavesStarted) return { end: false };
  if (counts.pending + counts.running + counts.waiting + counts.deferred > 0) return { end: false };
  if (counts.succeeded === total) return { end: true, status: 'succeeded', reason: `all ${total} ${words.targets} ${words.verified}` };
  return { end: true, status: 'incomplete', reason: `${summary}: see edgefleet rollouts clusters <id> --state failed (and --state skipped)` };
}

/** A wave is settled when none of its targets is pending or running (deferred and waiting ones never block it). */
export const waveSettled = (c: Counts) => c.pending === 0 && c.running === 0;

/* ---- The stored shapes (the wire schemas in contracts/rollouts.ts are the same: a compile-time test keeps them equal). ---- */

export type RolloutStatusName = 'planning' | 'running' | 'paused' | 'aborting' | 'cancelling' | 'succeeded' | 'incomplete' | 'aborted' | 'cancelled' | 'superseded' | 'failed';
type Day = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';

export interface RolloutPolicyData {
  waves?: {
    canary?: { clusters: number } | { percent: number };
    soakMinutes?: number;
    promotion?: 'auto' | 'manual';
    growth?: number;
    maxConcurrent?: number;
  };
  abort?: { failurePercent?: number; failureCount?: number; minFinished?: number };
  deferral?: { retryMinutes?: number; giveUpMinutes?: number };
  upgrade?: { onFailure?: 'rollback' | 'pause'; maxUnavailable?: number; acknowledgeDowntime?: boolean; drainTimeoutSeconds?: number };
  maintenanceWindow?: { days?: Day[]; start: string; durationMinutes: number };
  tickSeconds?: number;
}

/** A list of cluster ids is kept as its count (the ids are stored apart, read while planning). */
export type RolloutTargets = { template: string } | { clusterList: { count: number } } | { site?: string; tags?: Record<string, string> }
  | { hostList: { count: number } } | { all: true };

export interface RolloutTargetRecord {
  clusterId: string;
  hostId?: string;
  position: number;
  wave: number;
  state: TargetStateName;
  operationId?: string;
  rollbackOperationId?: string;
  site?: string;
  reason?: string;
  retryAt?: string;
  deferredSince?: string;
  startedAt?: string;
  endedAt?: string;
}

export interface StoredRollout {
  id: string;
  project: string;
  name?: string;
  rolloutKind?: 'cluster-upgrade' | 'agent-update';
  targets: RolloutTargets;
  to: { name: string; version: string };
  requested: string;
  policy: RolloutPolicyData;
  status: RolloutStatusName;
  reason: string;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  endedAt?: string;
  total: number;
  waveSizes: number[];
  currentWave: number;
  promotedThrough?: number;
  execution: string;
  ticks: number;
  planCursor?: string;
  meanClusterMs?: number;
  finishedClusters?: number;
  supersededBy?: string;
  version: number;
}
