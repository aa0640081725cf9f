/** Rollout views for the CLI rollout tests, checked against the contract. */
import { rolloutView, type RolloutTarget, type RolloutView, type TargetCounts } from '../../lambdas/contracts/rollouts.js';

export const T0 = Date.parse('2026-11-24T10:00:00Z');
export const at = (min: number): string => new Date(T0 + min * 60_000).toISOString();

export function counts(c: Partial<TargetCounts> = {}): TargetCounts {
  return { pending: 0, waiting: 0, deferred: 0, running: 0, succeeded: 0, failed: 0, skipped: 0, ...c };
}
export function target(clusterId: string, over: Partial<RolloutTarget> = {}): RolloutTarget {
  return { clusterId, position: 0, wave: 1, state: 'failed', site: clusterId.replace('c-', 'shop-'), ...over };
}
/** A rollout of edge-k3s 1.3.0 over 20 clusters of template shop in waves 1, 2, 4, 8, 5; checked against the contract. */
export function rollout(over: Partial<RolloutView> = {}): RolloutView {
  const v: RolloutView = {
    id: 'ro-1', project: 'default', kind: 'cluster-upgrade', targets: { template: 'shop' }, to: { name: 'edge-k3s', version: '1.3.0' }, requested: '1.x',
    policy: { waves: { canary: { clusters: 1 } } }, status: 'running', reason: '', createdBy: 'ops', createdAt: at(0), updatedAt: at(5),
    total: 20, waveSizes: [1, 2, 4, 8, 5], currentWave: 2, version: 3,
    counts: counts({ succeeded: 3, running: 3, deferred: 1, pending: 13 }),
    waves: [
      { index: 0, size: 1, counts: counts({ succeeded: 1 }), startedAt: at(0), endedAt: at(2) },
      { index: 1, size: 2, counts: counts({ succeeded: 2 }), startedAt: at(2), endedAt: at(4) },
      { index: 2, size: 4, counts: counts({ running: 3, deferred: 1 }), startedAt: at(4) },
      { index: 3, size: 8, counts: counts({ pending: 8 }) },
      { index: 4, size: 5, counts: counts({ pending: 5 }) },
    ],
    eta: at(20),
    failed: [],
    deferred: [target('c-9', { state: 'deferred', wave: 2, reason: 'offline since 09:40', retryAt: at(10), deferredSince: at(4) })],
    ...over,
  };
  return rolloutView.parse(v);
}

/** Aborted in wave 2: two failed (one rolled back), the rest skipped. */
export const aborted = rollout({
  status: 'aborted', reason: '2 of 5 finished clusters failed (40 % > 20 %)', endedAt: at(12),
  counts: counts({ succeeded: 3, failed: 2, skipped: 15 }),
  waves: [
    { index: 0, size: 1, counts: counts({ succeeded: 1 }), startedAt: at(0), endedAt: at(2) },
    { index: 1, size: 2, counts: counts({ succeeded: 2 }), startedAt: at(2), endedAt: at(4) },
    { index: 2, size: 4, counts: counts({ failed: 2, skipped: 2 }), startedAt: at(4), endedAt: at(12) },
    { index: 3, size: 8, counts: counts({ skipped: 8 }) },
    { index: 4, size: 5, counts: counts({ skipped: 5 }) },
  ],
  failed: [target('c-5', { reason: 'boot state passive after reboot', rollbackOperationId: 'op-77' }), target('c-6', { reason: 'node not Ready within 10m' })],
  deferred: [],
});
