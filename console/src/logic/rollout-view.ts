/** What the rollout pages show and allow, from the rollout's status, counts and policy. Pure. */
import { ROLLOUT_ENDED } from './list-query.js';

export type Counts = Readonly<Record<string, number>>;

/** Targets that will not change any more in this rollout (succeeded, failed, skipped). */
export function settled(c: Counts): number {
  return (c.succeeded ?? 0) + (c.failed ?? 0) + (c.skipped ?? 0);
}

/** `2 succeeded, 1 running, 3 pending`: the non-zero counts, in the states' order. */
export function countsText(c: Counts): string {
  const order = ['succeeded', 'running', 'failed', 'deferred', 'waiting', 'skipped', 'pending'];
  const parts = order.filter((s) => (c[s] ?? 0) > 0).map((s) => `${c[s]} ${s}`);
  return parts.join(', ') || 'no clusters';
}

export type RolloutAction = 'pause' | 'resume' | 'cancel' | 'promote';

/**
 * The actions the API takes in this state: pause a running (or planning) one, resume a paused
 * one, cancel any that has not ended, promote one with manual promotion that waits after its canary.
 */
export function rolloutActions(r: { status: string; policy: { waves?: { promotion?: string } }; promotedThrough?: number; waveSizes: readonly number[] }): RolloutAction[] {
  if (ROLLOUT_ENDED.has(r.status) || r.status === 'aborting' || r.status === 'cancelling') return [];
  const out: RolloutAction[] = [];
  if (r.status === 'running' || r.status === 'planning') out.push('pause');
  if (r.status === 'paused') out.push('resume');
  // Promotion lets every wave after the canary start (the API sets promotedThrough 1).
  const waiting = r.policy.waves?.promotion === 'manual' && r.waveSizes.length > 1 && (r.promotedThrough ?? 0) < 1;
  if (waiting) out.push('promote');
  out.push('cancel');
  return out;
}
