import type { Counts, RolloutStatusName as RolloutStatus, RolloutTargetRecord as RolloutTarget, StoredRollout as RolloutRecord, TargetStateName as TargetState } from '../domain/rollout.js';
import type { Page, PageRequest } from './index.js';

/** One wave's bookkeeping: its positions and how many of its targets are in each state. */
export interface RolloutWaveRecord {
  readonly index: number;
  /** First target position of the wave; the wave is [start, start + size). */
  readonly start: number;
  readonly size: number;
  readonly counts: Counts;
  readonly startedAt?: string;
  readonly endedAt?: string;
}

export type RolloutChange = Partial<Pick<RolloutRecord,
  'status' | 'reason' | 'total' | 'waveSizes' | 'currentWave' | 'promotedThrough' | 'execution' | 'ticks' | 'planCursor'
  | 'meanClusterMs' | 'finishedClusters' | 'endedAt' | 'supersededBy'>>;

/** A target's move from one state to another (the wave's counts move with it, atomically). */
export interface TargetMove {
  readonly from: TargetState;
  readonly to: TargetState;
  readonly set?: Partial<Omit<RolloutTarget, 'clusterId' | 'position' | 'wave' | 'state'>>;
  /** Fields to remove (e.g. retryAt once started). */
  readonly remove?: readonly ('retryAt' | 'deferredSince' | 'reason' | 'operationId')[];
  /** Only while the rollout is in one of these states (a start is refused once it is paused, aborting or cancelled). */
  readonly whileRollout?: readonly RolloutStatus[];
}

/**
 * Rollouts: the rollout item (constant size: a list of cluster ids is kept in an item of its own, written once), one item per wave (counts), one per target
 * cluster (state, operation, reason). Every write is conditional: a retried tick changes nothing twice.
 */
export interface RolloutStore {
  /** false: the id exists. `clusterIds`: the listed targets (`targets.clusterList`), kept apart from the rollout item. */
  create(r: RolloutRecord, clusterIds?: readonly string[]): Promise<boolean>;
  /** The cluster ids a rollout was created with (`targets.clusterList`), in order; [] for other targets. */
  clusterIds(id: string): Promise<string[]>;
  get(id: string): Promise<RolloutRecord | undefined>;
  list(project: string, page: PageRequest, status?: RolloutStatus): Promise<Page<RolloutRecord>>;
  /** Rollouts not ended yet, of every project, oldest first (at most `limit`): what a local restart resumes. */
  listOpen(limit: number): Promise<RolloutRecord[]>;
  /** Applies `change` when the status is one of `statusIn` (and the execution matches when given); undefined when not. */
  update(id: string, change: RolloutChange, cond: { readonly statusIn: readonly RolloutStatus[]; readonly execution?: string }, now: string): Promise<RolloutRecord | undefined>;
  /** Planning: writes targets (idempotent: a position is written once) and advances the plan (total, cursor) if still at `expectedTotal`. */
  addTargets(id: string, targets: readonly RolloutTarget[], plan: { readonly expectedTotal: number; readonly planCursor?: string }, now: string): Promise<boolean>;
  /** The wave items (written once, when planning ends). */
  putWaves(id: string, waves: readonly RolloutWaveRecord[]): Promise<void>;
  waves(id: string): Promise<RolloutWaveRecord[]>;
  /** The targets at positions [from, to). */
  targetsBetween(id: string, from: number, to: number): Promise<RolloutTarget[]>;
  /** Moves a target if it is still in `move.from`; false when it is not (or the rollout's state forbids it). */
  moveTarget(id: string, target: { readonly position: number; readonly wave: number }, move: TargetMove, now: string): Promise<boolean>;
  /** Marks a wave started or ended (once). */
  markWave(id: string, index: number, field: 'startedAt' | 'endedAt', at: string): Promise<void>;
  listTargets(id: string, filter: { readonly state?: TargetState; readonly range?: { readonly from: number; readonly to: number } }, page: PageRequest): Promise<Page<RolloutTarget>>;
}

/** A site's settings (PATCH /v1/sites/{site}): its time zone. */
export interface SiteSettingsRecord {
  readonly project: string;
  readonly site: string;
  readonly timezone: string;
  readonly updatedAt: string;
}
export interface SiteSettingsStore {
  put(s: SiteSettingsRecord): Promise<void>;
  get(project: string, site: string): Promise<SiteSettingsRecord | undefined>;
}
