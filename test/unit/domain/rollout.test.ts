import {
  ROLLBACK_START_GRACE_MS, rolloutEnd, settle, startVerdict, sumCounts, waveSettled, zero,
  type ClusterFacts, type Counts, type RolloutEnd, type RolloutPhase, type Settlement, type StartVerdict, type UpgradeFacts,
} from '../../../lambdas/domain/rollout.js';

const NOW = new Date('2026-06-01T12:00:00.000Z');
const counts = (c: Partial<Record<keyof Counts, number>>): Counts => ({ ...zero(), ...c });
const ready: ClusterFacts = { exists: true, name: 'shop-1', inScope: true, status: 'running', profileVersion: '1.0.0', offlineHosts: [] };
const OPENS = new Date('2026-06-01T22:00:00.000Z');

describe('startVerdict', () => {
  it.each<[string, ClusterFacts, StartVerdict]>([
    ['deleted cluster: skipped', { exists: false, inScope: false, offlineHosts: [] }, { kind: 'skipped', reason: 'the cluster was deleted' }],
    ['detached from the template: skipped', { ...ready, inScope: false }, { kind: 'skipped', reason: 'the cluster was detached from the template' }],
    ['deleted wins over detached and busy', { exists: false, inScope: false, activeOperationId: 'op-1', offlineHosts: ['h1'] }, { kind: 'skipped', reason: 'the cluster was deleted' }],
    ['already at the version and idle: succeeded', { ...ready, profileVersion: '2.0.0' }, { kind: 'succeeded', reason: 'already at 2.0.0' }],
    ['already at the version but offline and outside the window: still succeeded (nothing to do)', { ...ready, profileVersion: '2.0.0', offlineHosts: ['h1'], windowOpensAt: OPENS }, { kind: 'succeeded', reason: 'already at 2.0.0' }],
    ['at the version but an operation runs: deferred as busy', { ...ready, profileVersion: '2.0.0', activeOperationId: 'op-9' }, { kind: 'deferred', reason: 'busy: operation op-9 is running on it' }],
    ['busy: deferred naming the operation', { ...ready, activeOperationId: 'op-7' }, { kind: 'deferred', reason: 'busy: operation op-7 is running on it' }],
    ['provisioning: deferred (not running)', { ...ready, status: 'provisioning' }, { kind: 'deferred', reason: 'the cluster is provisioning' }],
    ['failed: deferred (not running)', { ...ready, status: 'failed' }, { kind: 'deferred', reason: 'the cluster is failed' }],
    ['degraded is startable', { ...ready, status: 'degraded' }, { kind: 'start' }],
    ['no status recorded is startable', { exists: true, inScope: true, profileVersion: '1.0.0', offlineHosts: [] }, { kind: 'start' }],
    ['one host offline', { ...ready, offlineHosts: ['h1'] }, { kind: 'deferred', reason: 'offline: h1' }],
    ['three hosts offline: all named', { ...ready, offlineHosts: ['h1', 'h2', 'h3'] }, { kind: 'deferred', reason: 'offline: h1, h2, h3' }],
    ['five hosts offline: three named and 2 more', { ...ready, offlineHosts: ['h1', 'h2', 'h3', 'h4', 'h5'] }, { kind: 'deferred', reason: 'offline: h1, h2, h3 and 2 more' }],
    ['offline wins over the window', { ...ready, offlineHosts: ['h1'], windowOpensAt: OPENS }, { kind: 'deferred', reason: 'offline: h1' }],
    ['outside its window: waiting until it opens', { ...ready, windowOpensAt: OPENS }, { kind: 'waiting', reason: 'outside its maintenance window (opens 2026-06-01T22:00:00.000Z)', until: OPENS }],
    ['ready: start', ready, { kind: 'start' }],
  ])('%s', (_name, facts, expected) => {
    expect(startVerdict(facts, '2.0.0')).toEqual(expected);
  });
});

describe('settle', () => {
  const at = (msAgo: number) => new Date(NOW.getTime() - msAgo).toISOString();
  const failed = (over: Partial<UpgradeFacts> = {}): UpgradeFacts => ({ status: 'failed', reason: 'node h1 booted passive', updatedAt: at(60_000), ...over });
  it.each<[string, UpgradeFacts | undefined, Settlement]>([
    ['missing operation: failed', undefined, { kind: 'failed', reason: 'its upgrade operation is gone' }],
    ['queued: running', { status: 'queued', updatedAt: at(0) }, { kind: 'running' }],
    ['running: running', { status: 'running', updatedAt: at(0) }, { kind: 'running' }],
    ['succeeded', { status: 'succeeded', updatedAt: at(0) }, { kind: 'succeeded' }],
    ['succeeded ignores a stale rollback link', { status: 'succeeded', updatedAt: at(0), rolledBackBy: 'op-rb' }, { kind: 'succeeded' }],
    ['paused by its policy: failed, with the reason', { status: 'paused', reason: 'h1 failed its health gate', updatedAt: at(0) }, { kind: 'failed', reason: 'its upgrade paused on failure (policy pause): h1 failed its health gate' }],
    ['paused without a reason', { status: 'paused', updatedAt: at(0) }, { kind: 'failed', reason: 'its upgrade paused on failure (policy pause)' }],
    ['cancelled', { status: 'cancelled', reason: 'by bob', updatedAt: at(0) }, { kind: 'failed', reason: 'its upgrade was cancelled: by bob' }],
    ['cancelled without a reason', { status: 'cancelled', updatedAt: at(0) }, { kind: 'failed', reason: 'its upgrade was cancelled' }],
    ['failed without rollback', failed(), { kind: 'failed', reason: 'its upgrade failed: node h1 booted passive' }],
    ['failed without rollback nor reason', failed({ reason: undefined }), { kind: 'failed', reason: 'its upgrade failed' }],
    ['rollback announced, not recorded, within the grace: still running', failed({ rolledBackBy: 'op-rb', updatedAt: at(ROLLBACK_START_GRACE_MS - 1) }), { kind: 'running' }],
    ['rollback announced, not recorded, grace over: failed naming the rollback', failed({ rolledBackBy: 'op-rb', updatedAt: at(ROLLBACK_START_GRACE_MS) }),
      { kind: 'failed', reason: 'its upgrade failed and the rollback op-rb never started: node h1 booted passive' }],
    ['rollback queued: running', failed({ rolledBackBy: 'op-rb', rollback: { id: 'op-rb', status: 'queued' } }), { kind: 'running' }],
    ['rollback running: running (even long after)', failed({ rolledBackBy: 'op-rb', updatedAt: at(3_600_000), rollback: { id: 'op-rb', status: 'running' } }), { kind: 'running' }],
    ['rollback succeeded: failed, rolled back and verified', failed({ rolledBackBy: 'op-rb', rollback: { id: 'op-rb', status: 'succeeded' } }),
      { kind: 'failed', reason: 'upgrade failed (node h1 booted passive); rolled back and verified in op-rb' }],
    ['rollback failed: failed, look at the cluster', failed({ rolledBackBy: 'op-rb', rollback: { id: 'op-rb', status: 'failed', reason: 'h1 offline' } }),
      { kind: 'failed', reason: 'upgrade failed (node h1 booted passive); its rollback op-rb ended failed (h1 offline): look at the cluster' }],
    ['rollback paused, no reasons anywhere', failed({ reason: undefined, rolledBackBy: 'op-rb', rollback: { id: 'op-rb', status: 'paused' } }),
      { kind: 'failed', reason: 'upgrade failed (no reason recorded); its rollback op-rb ended paused: look at the cluster' }],
  ])('%s', (_name, facts, expected) => {
    expect(settle(facts, NOW)).toEqual(expected);
  });
});

describe('rolloutEnd', () => {
  const WHY = 'aborted: 3 of 5 failed';
  it.each<[string, RolloutPhase, Counts, boolean, RolloutEnd]>([
    ['aborting with clusters running: not yet', 'aborting', counts({ running: 1, failed: 3, pending: 4 }), false, { end: false }],
    ['aborting, nothing running: aborted, untouched ones counted', 'aborting', counts({ succeeded: 2, failed: 3, pending: 4, deferred: 1, waiting: 1 }), false,
      { end: true, status: 'aborted', reason: `${WHY}; 2 of 11 clusters upgraded, 3 failed, 0 skipped, 6 not started` }],
    ['cancelling with clusters running: not yet', 'cancelling', counts({ running: 2, pending: 5 }), true, { end: false }],
    ['cancelling, nothing running: cancelled', 'cancelling', counts({ succeeded: 1, skipped: 1, pending: 5 }), false,
      { end: true, status: 'cancelled', reason: `${WHY}; 1 of 7 clusters upgraded, 0 failed, 1 skipped, 5 not started` }],
    ['paused with nothing left still does not end', 'paused', counts({ succeeded: 4 }), true, { end: false }],
    ['running, not every wave started', 'running', counts({ succeeded: 3 }), false, { end: false }],
    ['running, all started, one pending', 'running', counts({ succeeded: 3, pending: 1 }), true, { end: false }],
    ['running, all started, one running', 'running', counts({ succeeded: 3, running: 1 }), true, { end: false }],
    ['running, all started, one waiting for its window', 'running', counts({ succeeded: 3, waiting: 1 }), true, { end: false }],
    ['running, all started, one deferred left', 'running', counts({ succeeded: 3, deferred: 1 }), true, { end: false }],
    ['all succeeded', 'running', counts({ succeeded: 4 }), true, { end: true, status: 'succeeded', reason: 'all 4 clusters upgraded and verified' }],
    ['some failed: incomplete', 'running', counts({ succeeded: 3, failed: 1 }), true,
      { end: true, status: 'incomplete', reason: '3 of 4 clusters upgraded, 1 failed, 0 skipped: see edgefleet rollouts clusters <id> --state failed (and --state skipped)' }],
    ['some skipped: incomplete, never succeeded', 'running', counts({ succeeded: 3, skipped: 1 }), true,
      { end: true, status: 'incomplete', reason: '3 of 4 clusters upgraded, 0 failed, 1 skipped: see edgefleet rollouts clusters <id> --state failed (and --state skipped)' }],
  ])('%s', (_name, phase, c, allStarted, expected) => {
    expect(rolloutEnd(phase, c, allStarted, WHY)).toEqual(expected);
  });
});

describe('waveSettled', () => {
  it.each<[string, Counts, boolean]>([
    ['empty', counts({}), true],
    ['pending', counts({ pending: 1, succeeded: 3 }), false],
    ['running', counts({ running: 1 }), false],
    ['deferred and waiting never block a wave', counts({ deferred: 2, waiting: 1, succeeded: 1 }), true],
    ['all finished', counts({ succeeded: 2, failed: 1, skipped: 1 }), true],
  ])('%s', (_name, c, expected) => {
    expect(waveSettled(c)).toBe(expected);
  });
});

describe('sumCounts', () => {
  it('adds every state over the waves; no waves is zero', () => {
    expect(sumCounts([])).toEqual(zero());
    expect(sumCounts([counts({ pending: 1, running: 2 }), counts({ running: 1, failed: 4, skipped: 1 })]))
      .toEqual(counts({ pending: 1, running: 3, failed: 4, skipped: 1 }));
  });
});
