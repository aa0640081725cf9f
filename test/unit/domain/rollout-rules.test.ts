import {
  estimateEnd, isTimeZone, judgeAbort, planWaves, waveOf, windowState,
  type AbortPolicy, type MaintenanceWindow, type RolloutCounts, type WavePolicy,
} from '../../../lambdas/domain/rollout-rules.js';

const fifties = (n: number) => Array.from({ length: n }, () => 50);

describe('planWaves', () => {
  it.each<[string, number, WavePolicy | undefined, number[]]>([
    ['no targets', 0, undefined, []],
    ['one target', 1, undefined, [1]],
    ['7 targets, defaults: doubling fits exactly', 7, undefined, [1, 2, 4]],
    ['20 targets, defaults: the last wave is the remainder', 20, undefined, [1, 2, 4, 8, 5]],
    ['1000 targets, defaults: doubling up to the cap of 50', 1000, undefined, [1, 2, 4, 8, 16, 32, ...fifties(18), 37]],
    ['10000 targets, defaults', 10000, undefined, [1, 2, 4, 8, 16, 32, ...fifties(198), 37]],
    ['20 targets, 10% canary', 20, { canary: { percent: 10 } }, [2, 4, 8, 6]],
    ['7 targets, 10% canary rounds up to 1', 7, { canary: { percent: 10 } }, [1, 2, 4]],
    ['1 target, 1% canary is still 1', 1, { canary: { percent: 1 } }, [1]],
    ['1000 targets, 5% canary, growth 3, cap 100', 1000, { canary: { percent: 5 }, growth: 3, maxConcurrent: 100 }, [50, ...Array<number>(9).fill(100), 50]],
    ['10000 targets, 1% canary, growth 4, cap 500', 10000, { canary: { percent: 1 }, growth: 4, maxConcurrent: 500 }, [100, 400, ...Array<number>(19).fill(500)]],
    ['canary larger than the targets is all of them', 10, { canary: { clusters: 20 } }, [10]],
    ['canary larger than the cap is the cap', 1000, { canary: { clusters: 80 }, maxConcurrent: 30 }, [...Array<number>(33).fill(30), 10]],
    ['100% canary capped at 50', 120, { canary: { percent: 100 } }, [50, 50, 20]],
    ['growth 1 keeps the canary size', 20, { canary: { clusters: 3 }, growth: 1 }, [3, 3, 3, 3, 3, 3, 2]],
    ['growth 1.5 rounds up', 20, { growth: 1.5 }, [1, 2, 3, 5, 8, 1]],
    ['growth 1.1 from 10', 100, { canary: { clusters: 10 }, growth: 1.1 }, [10, 11, 13, 15, 17, 19, 15]],
    ['growth 1.1 from 100: 100 x 1.1 is 110, not 111 (float noise)', 500, { canary: { clusters: 100 }, growth: 1.1, maxConcurrent: 200 }, [100, 110, 121, 134, 35]],
    ['cap 1: one cluster at a time', 4, { maxConcurrent: 1 }, [1, 1, 1, 1]],
  ])('%s', (_name, total, policy, expected) => {
    const waves = planWaves(total, policy);
    expect(waves).toEqual(expected);
    const cap = policy?.maxConcurrent ?? 50;
    expect(waves.reduce((a, b) => a + b, 0)).toBe(total);
    for (const size of waves) {
      expect(size).toBeGreaterThanOrEqual(1);
      expect(size).toBeLessThanOrEqual(cap);
    }
    // Non-decreasing until the cap; only the last (remainder) wave may be smaller.
    for (let i = 1; i < waves.length - 1; i++) expect(waves[i]).toBeGreaterThanOrEqual(waves[i - 1]);
    if (total > 0) {
      const canary = policy?.canary?.clusters ?? (policy?.canary?.percent ? Math.ceil((total * policy.canary.percent) / 100) : 1);
      expect(waves[0]).toBe(Math.min(canary, total, cap));
    }
  });

  it.each<[string, number, WavePolicy | undefined, RegExp]>([
    ['negative total', -1, undefined, /whole number of at least 0 \(got -1\)/],
    ['fractional total', 1.5, undefined, /got 1.5/],
    ['NaN total', NaN, undefined, /got NaN/],
    ['growth below 1', 10, { growth: 0.5 }, /growth must be a number of at least 1 \(got 0.5\)/],
    ['infinite growth', 10, { growth: Infinity }, /growth/],
    ['cap 0', 10, { maxConcurrent: 0 }, /maxConcurrent must be a whole number of at least 1 \(got 0\)/],
    ['fractional cap', 10, { maxConcurrent: 2.5 }, /maxConcurrent/],
    ['canary with neither field', 10, { canary: {} }, /exactly one of clusters or percent \(got neither\)/],
    ['canary with both fields', 10, { canary: { clusters: 1, percent: 5 } }, /exactly one of clusters or percent \(got both\)/],
    ['canary percent 0', 10, { canary: { percent: 0 } }, /canary.percent must be between 1 and 100 \(got 0\)/],
    ['canary percent 101', 10, { canary: { percent: 101 } }, /got 101/],
    ['canary of 0 clusters', 10, { canary: { clusters: 0 } }, /canary.clusters must be a whole number of at least 1/],
    ['bad policy with no targets still refused', 0, { growth: 0 }, /growth/],
  ])('refuses %s', (_name, total, policy, message) => {
    expect(() => planWaves(total, policy)).toThrow(message);
  });
});

describe('waveOf', () => {
  const sizes = [1, 2, 4, 8, 5];
  it.each<[number, number]>([
    [0, 0], [1, 1], [2, 1], [3, 2], [6, 2], [7, 3], [14, 3], [15, 4], [19, 4],
  ])('target %i is in wave %i of [1, 2, 4, 8, 5]', (position, wave) => {
    expect(waveOf(position, sizes)).toBe(wave);
  });

  it.each<[number, readonly number[], RegExp]>([
    [20, sizes, /position 20 is not among the 20 targets .*positions 0 to 19/],
    [-1, sizes, /position -1/],
    [1.5, sizes, /position 1.5/],
    [0, [], /hold no targets/],
  ])('refuses position %s', (position, waves, message) => {
    expect(() => waveOf(position, waves)).toThrow(message);
  });

  it('agrees with planWaves for every target of a 1000-cluster rollout', () => {
    const waves = planWaves(1000);
    const counts = new Array<number>(waves.length).fill(0);
    for (let p = 0; p < 1000; p++) counts[waveOf(p, waves)]++;
    expect(counts).toEqual(waves);
  });
});

describe('judgeAbort', () => {
  const c = (total: number, succeeded: number, failed: number): RolloutCounts => ({ total, succeeded, failed });
  it.each<[string, RolloutCounts, AbortPolicy | undefined, string | undefined]>([
    ['no failure', c(10, 5, 0), undefined, undefined],
    ['25% but only 4 finished (default minFinished 5)', c(10, 3, 1), undefined, undefined],
    ['exactly 20% is not above 20%', c(10, 4, 1), undefined, undefined],
    ['40% of 5 finished', c(10, 3, 2), undefined, '2 of 5 finished clusters failed (40%), above the 20% abort threshold'],
    ['30% of 10 finished', c(10, 7, 3), undefined, '3 of 10 finished clusters failed (30%), above the 20% abort threshold'],
    ['small rollout: minFinished is the total (3), 2 finished', c(3, 1, 1), undefined, undefined],
    ['small rollout: all 3 finished, 1 failed', c(3, 2, 1), undefined, '1 of 3 finished clusters failed (33.3%), above the 20% abort threshold'],
    ['just above the threshold shows the decimals that matter', c(10000, 3999, 1001), undefined, '1001 of 5000 finished clusters failed (20.02%), above the 20% abort threshold'],
    ['0%: any failure aborts', c(100, 10, 1), { failurePercent: 0 }, '1 of 11 finished clusters failed (9.1%), above the 0% abort threshold'],
    ['100%: never by percent', c(10, 0, 10), { failurePercent: 100 }, undefined],
    ['12.5% exactly is not above', c(100, 7, 1), { failurePercent: 12.5 }, undefined],
    ['14.3% is above 12.5%', c(100, 6, 1), { failurePercent: 12.5 }, '1 of 7 finished clusters failed (14.3%), above the 12.5% abort threshold'],
    ['count: below', c(100, 50, 2), { failurePercent: 100, failureCount: 3 }, undefined],
    ['count: at', c(100, 50, 3), { failurePercent: 100, failureCount: 3 }, '3 clusters failed (of 53 finished, 100 targeted), reaching the abort threshold of 3 failed clusters'],
    ['count: above', c(100, 50, 4), { failurePercent: 100, failureCount: 3 }, '4 clusters failed (of 54 finished, 100 targeted), reaching the abort threshold of 3 failed clusters'],
    ['count 1 on the first failure (percent still waits for 5)', c(100, 0, 1), { failureCount: 1 }, '1 cluster failed (of 1 finished, 100 targeted), reaching the abort threshold of 1 failed cluster'],
    ['explicit minFinished holds both thresholds back', c(100, 5, 2), { failureCount: 2, minFinished: 10 }, undefined],
    ['explicit minFinished reached: count crossed, percent at 20%', c(100, 8, 2), { failureCount: 2, minFinished: 10 }, '2 clusters failed (of 10 finished, 100 targeted), reaching the abort threshold of 2 failed clusters'],
    ['both crossed: the percent is reported', c(100, 3, 3), { failureCount: 2, minFinished: 1 }, '3 of 6 finished clusters failed (50%), above the 20% abort threshold'],
    ['minFinished above the total applies once all finished', c(4, 1, 3), { minFinished: 10 }, '3 of 4 finished clusters failed (75%), above the 20% abort threshold'],
    ['no targets', c(0, 0, 0), undefined, undefined],
  ])('%s', (_name, counts, policy, reason) => {
    const verdict = judgeAbort(counts, policy);
    expect(verdict).toEqual(reason === undefined ? { abort: false } : { abort: true, reason });
  });

  it.each<[string, RolloutCounts, AbortPolicy | undefined, RegExp]>([
    ['more finished than targeted', c(5, 4, 2), undefined, /4 succeeded and 2 failed of 5 targets/],
    ['negative count', c(5, -1, 0), undefined, /make no sense/],
    ['fractional count', c(5, 0.5, 0), undefined, /make no sense/],
    ['failurePercent above 100', c(5, 0, 0), { failurePercent: 101 }, /failurePercent must be between 0 and 100 \(got 101\)/],
    ['negative failurePercent', c(5, 0, 0), { failurePercent: -1 }, /failurePercent/],
    ['failureCount 0', c(5, 0, 0), { failureCount: 0 }, /failureCount must be a whole number of at least 1 \(got 0\)/],
    ['negative minFinished', c(5, 0, 0), { minFinished: -1 }, /minFinished must be a whole number of at least 0 \(got -1\)/],
  ])('refuses %s', (_name, counts, policy, message) => {
    expect(() => judgeAbort(counts, policy)).toThrow(message);
  });
});

describe('isTimeZone', () => {
  it.each<[string, boolean]>([
    ['UTC', true], ['Europe/Paris', true], ['America/New_York', true], ['Asia/Kolkata', true], ['Pacific/Auckland', true],
    ['Mars/Olympus', false], ['', false], ['+05:30', false], ['-04:00', false],
  ])('%j → %s', (tz, known) => {
    expect(isTimeZone(tz)).toBe(known);
  });
});

describe('windowState', () => {
  const w = (start: string, durationMinutes: number, days?: MaintenanceWindow['days']): MaintenanceWindow => ({ start, durationMinutes, days });
  type Expected = { open: true; closesAt: string } | { open: false; opensAt: string };
  const open = (closesAt: string): Expected => ({ open: true, closesAt });
  const shut = (opensAt: string): Expected => ({ open: false, opensAt });

  it.each<[string, MaintenanceWindow, string, string, Expected]>([
    // UTC: start inclusive, end exclusive
    ['UTC inside', w('02:00', 240), 'UTC', '2026-06-15T03:00:00Z', open('2026-06-15T06:00:00Z')],
    ['UTC at the start instant', w('02:00', 240), 'UTC', '2026-06-15T02:00:00Z', open('2026-06-15T06:00:00Z')],
    ['UTC a second before the start', w('02:00', 240), 'UTC', '2026-06-15T01:59:59Z', shut('2026-06-15T02:00:00Z')],
    ['UTC at the end instant: closed, next day', w('02:00', 240), 'UTC', '2026-06-15T06:00:00Z', shut('2026-06-16T02:00:00Z')],
    // Europe/Paris, summer (+02:00) and winter (+01:00), crossing midnight
    ['Paris 23:30 in a 22:00+6h window', w('22:00', 360), 'Europe/Paris', '2026-06-15T21:30:00Z', open('2026-06-16T02:00:00Z')],
    ['Paris 03:00 next day, still the previous evening\'s window', w('22:00', 360), 'Europe/Paris', '2026-06-16T01:00:00Z', open('2026-06-16T02:00:00Z')],
    ['Paris 04:00, just closed', w('22:00', 360), 'Europe/Paris', '2026-06-16T02:00:00Z', shut('2026-06-16T20:00:00Z')],
    ['Paris winter noon', w('22:00', 360), 'Europe/Paris', '2026-01-15T12:00:00Z', shut('2026-01-15T21:00:00Z')],
    // America/New_York, summer (-04:00)
    ['New York 00:59', w('01:00', 120), 'America/New_York', '2026-07-01T04:59:00Z', shut('2026-07-01T05:00:00Z')],
    ['New York 02:30', w('01:00', 120), 'America/New_York', '2026-07-01T06:30:00Z', open('2026-07-01T07:00:00Z')],
    // Asia/Kolkata (+05:30): local 02:00 on the 15th is 20:30Z on the 14th
    ['Kolkata 01:30', w('02:00', 60), 'Asia/Kolkata', '2026-06-14T20:00:00Z', shut('2026-06-14T20:30:00Z')],
    ['Kolkata 02:30', w('02:00', 60), 'Asia/Kolkata', '2026-06-14T21:00:00Z', open('2026-06-14T21:30:00Z')],
    ['Kolkata 23:30 the day before', w('02:00', 60), 'Asia/Kolkata', '2026-06-14T18:00:00Z', shut('2026-06-14T20:30:00Z')],
    // Pacific/Auckland: +12:00 in June, +13:00 in January
    ['Auckland Saturday 00:00, window Saturday 23:00', w('23:00', 120, ['sat']), 'Pacific/Auckland', '2026-06-12T12:00:00Z', shut('2026-06-13T11:00:00Z')],
    ['Auckland Sunday 00:00 inside Saturday\'s window', w('23:00', 120, ['sat']), 'Pacific/Auckland', '2026-06-13T12:00:00Z', open('2026-06-13T13:00:00Z')],
    ['Auckland summer 13:00, next 03:00 NZDT', w('03:00', 60), 'Pacific/Auckland', '2026-01-10T00:00:00Z', shut('2026-01-10T14:00:00Z')],
    // days filter (2026-06-14 is a Sunday)
    ['Sunday window still open Monday 01:00 (UTC)', w('22:00', 240, ['sun']), 'UTC', '2026-06-15T01:00:00Z', open('2026-06-15T02:00:00Z')],
    ['Sunday window still open Monday 01:00 (Paris)', w('22:00', 240, ['sun']), 'Europe/Paris', '2026-06-14T23:00:00Z', open('2026-06-15T00:00:00Z')],
    ['Monday 22:30 with a Sunday-only window: next Sunday', w('22:00', 240, ['sun']), 'UTC', '2026-06-15T22:30:00Z', shut('2026-06-21T22:00:00Z')],
    ['Tuesday with mon/wed/fri: Wednesday', w('09:00', 30, ['mon', 'wed', 'fri']), 'UTC', '2026-06-16T12:00:00Z', shut('2026-06-17T09:00:00Z')],
    ['Friday after the window with mon/wed/fri: Monday', w('09:00', 30, ['mon', 'wed', 'fri']), 'UTC', '2026-06-19T10:00:00Z', shut('2026-06-22T09:00:00Z')],
    // Europe/Paris spring forward, Sunday 2026-03-29 at 01:00Z: local 02:00-03:00 does not exist
    ['Paris spring-forward: 02:00 opens at 03:00 CEST', w('02:00', 60), 'Europe/Paris', '2026-03-29T00:30:00Z', shut('2026-03-29T01:00:00Z')],
    ['Paris spring-forward: open for its full hour', w('02:00', 60), 'Europe/Paris', '2026-03-29T01:30:00Z', open('2026-03-29T02:00:00Z')],
    ['Paris spring-forward: 02:30 also opens at the end of the gap', w('02:30', 60), 'Europe/Paris', '2026-03-29T00:00:00Z', shut('2026-03-29T01:00:00Z')],
    ['Paris spring-forward: the next day is 02:00 CEST', w('02:00', 60), 'Europe/Paris', '2026-03-29T02:30:00Z', shut('2026-03-30T00:00:00Z')],
    ['Paris spring-forward night: 22:00 CET + 6 h of real time', w('22:00', 360), 'Europe/Paris', '2026-03-29T02:30:00Z', open('2026-03-29T03:00:00Z')],
    // Europe/Paris fall back, Sunday 2026-10-25 at 01:00Z: local 02:00-03:00 happens twice
    ['Paris fall-back: 02:30 is the first (CEST) one', w('02:30', 60), 'Europe/Paris', '2026-10-25T00:00:00Z', shut('2026-10-25T00:30:00Z')],
    ['Paris fall-back: still open at the second 02:20', w('02:30', 60), 'Europe/Paris', '2026-10-25T01:20:00Z', open('2026-10-25T01:30:00Z')],
    ['Paris fall-back: not reopened at the second 02:45', w('02:30', 60), 'Europe/Paris', '2026-10-25T01:45:00Z', shut('2026-10-26T01:30:00Z')],
    ['Paris fall-back night: 22:00 CEST + 6 h of real time', w('22:00', 360), 'Europe/Paris', '2026-10-25T01:59:00Z', open('2026-10-25T02:00:00Z')],
    // America/New_York spring forward, Sunday 2026-03-08 at 07:00Z: local 02:00-03:00 does not exist
    ['New York spring-forward: 02:00 opens at 03:00 EDT', w('02:00', 120), 'America/New_York', '2026-03-08T06:00:00Z', shut('2026-03-08T07:00:00Z')],
    ['New York spring-forward: open', w('02:00', 120), 'America/New_York', '2026-03-08T08:00:00Z', open('2026-03-08T09:00:00Z')],
    ['New York spring-forward: 02:15 opens at 03:00 EDT', w('02:15', 30), 'America/New_York', '2026-03-08T06:00:00Z', shut('2026-03-08T07:00:00Z')],
    ['New York spring-forward: the next day is 02:00 EDT', w('02:00', 120), 'America/New_York', '2026-03-08T09:30:00Z', shut('2026-03-09T06:00:00Z')],
    // America/New_York fall back, Sunday 2026-11-01 at 06:00Z: local 01:00-02:00 happens twice
    ['New York fall-back: 01:30 is the first (EDT) one', w('01:30', 60), 'America/New_York', '2026-11-01T05:00:00Z', shut('2026-11-01T05:30:00Z')],
    ['New York fall-back: open at 01:15 EST', w('01:30', 60), 'America/New_York', '2026-11-01T06:15:00Z', open('2026-11-01T06:30:00Z')],
    ['New York fall-back: not reopened at 01:45 EST', w('01:30', 60), 'America/New_York', '2026-11-01T06:45:00Z', shut('2026-11-02T06:30:00Z')],
    // overlapping or touching occurrences are one open period
    ['a weekend-long window closes Monday 00:00', w('00:00', 1440, ['sat', 'sun']), 'UTC', '2026-06-20T10:00:00Z', open('2026-06-22T00:00:00Z')],
    ['a window that never closes reports the 8-day horizon', w('22:00', 1440), 'UTC', '2026-06-15T12:00:00Z', open('2026-06-24T22:00:00Z')],
  ])('%s', (_name, window, tz, now, expected) => {
    const state = windowState(window, tz, new Date(now));
    const iso = (d: Date) => d.toISOString().replace('.000Z', 'Z');
    expect(state.open ? open(iso(state.closesAt)) : shut(iso(state.opensAt))).toEqual(expected);
  });

  it.each<[string, MaintenanceWindow, string, RegExp]>([
    ['an unknown time zone', w('02:00', 60), 'Mars/Olympus', /Unknown time zone "Mars\/Olympus"/],
    ['an offset instead of a zone', w('02:00', 60), '+02:00', /Unknown time zone "\+02:00"/],
    ['hour 24', w('24:00', 60), 'UTC', /start "24:00" is not a local time HH:MM/],
    ['a one-digit hour', w('2:00', 60), 'UTC', /start "2:00"/],
    ['minute 60', w('02:60', 60), 'UTC', /start "02:60"/],
    ['a word', w('noon', 60), 'UTC', /start "noon"/],
    ['29 minutes', w('02:00', 29), 'UTC', /durationMinutes must be a whole number from 30 to 1440 \(got 29\)/],
    ['1441 minutes', w('02:00', 1441), 'UTC', /got 1441/],
    ['no days', w('02:00', 60, []), 'UTC', /days must list at least one/],
  ])('refuses %s', (_name, window, tz, message) => {
    expect(() => windowState(window, tz, new Date('2026-06-15T00:00:00Z'))).toThrow(message);
  });
});

describe('estimateEnd', () => {
  const now = new Date('2026-06-15T12:00:00Z');
  const min = 60_000;
  it.each<[string, { meanClusterMs?: number; remainingWaves: number; runningSinceMs?: number }, string | undefined]>([
    ['nothing finished yet', { remainingWaves: 5 }, undefined],
    ['3 waves of 10 minutes, none running', { meanClusterMs: 10 * min, remainingWaves: 3 }, '2026-06-15T12:30:00Z'],
    ['running wave 4 minutes in, then 2 more', { meanClusterMs: 10 * min, remainingWaves: 3, runningSinceMs: now.getTime() - 4 * min }, '2026-06-15T12:26:00Z'],
    ['running wave overdue: counted as ending now', { meanClusterMs: 10 * min, remainingWaves: 3, runningSinceMs: now.getTime() - 15 * min }, '2026-06-15T12:20:00Z'],
    ['no waves left', { meanClusterMs: 10 * min, remainingWaves: 0 }, '2026-06-15T12:00:00Z'],
  ])('%s', (_name, input, expected) => {
    expect(estimateEnd({ now, ...input })?.toISOString()).toBe(expected === undefined ? undefined : new Date(expected).toISOString());
  });

  it('refuses a negative number of waves', () => {
    expect(() => estimateEnd({ now, meanClusterMs: 1000, remainingWaves: -1 })).toThrow(/remainingWaves -1/);
  });
});
