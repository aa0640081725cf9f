import type { RolloutView } from '../../lambdas/contracts/rollouts.js';
import { pollRollout } from '../../cli/commands/rollouts-watch.js';
import { ApiError, EXIT } from '../../cli/errors.js';
import { describeRolloutChange, diffRollout } from '../../cli/rollout-changes.js';
import { countsText, gateNote, renderRolloutFrame, renderRolloutOutcome, rolloutExitCode, waveBar } from '../../cli/rollout-progress.js';
import { T0, aborted, at, counts, rollout, target } from './cli-rollout-fixtures.js';

describe('wave bars', () => {
  it.each([
    [counts({ pending: 4 }), 4, '[░░░░░░░░░░░░░░░░░░░░]'],
    [counts({ succeeded: 4 }), 4, '[████████████████████]'],
    [counts({ succeeded: 2, failed: 1, running: 1 }), 4, '[██████████XXXXX▒▒▒▒▒]'],
    [counts({ succeeded: 1, deferred: 1, pending: 2 }), 4, '[█████~~~~~░░░░░░░░░░]'],
    [counts({ skipped: 2, waiting: 2 }), 4, '[----------░░░░░░░░░░]'],
    [counts(), 0, '[░░░░░░░░░░░░░░░░░░░░]'],
  ])('%j of %d → %s', (c, size, bar) => {
    expect(waveBar(c, size)).toBe(bar);
    expect(Array.from(waveBar(c, size))).toHaveLength(22);
  });

  it('always fills exactly the bar, whatever the rounding', () => {
    for (let s = 0; s <= 7; s++) for (let f = 0; f <= 7 - s; f++) {
      const c = counts({ succeeded: s, failed: f, running: 7 - s - f });
      expect(Array.from(waveBar(c, 7))).toHaveLength(22);
    }
  });
});

describe('rollout frame', () => {
  it('draws the headline, a live summary line, one bar per wave and the deferred clusters', () => {
    expect(renderRolloutFrame(rollout(), { now: T0 + 6 * 60_000, width: 140, live: true })).toEqual([
      'Rollout ro-1  edge-k3s@1.3.0 (asked 1.x) to the clusters of template shop  elapsed 6m00s',
      'running  3/20 done  ETA 10:20:00 UTC (in 14m00s)  3 ok, 3 running, 1 deferred, 13 waiting',
      '',
      'Wave 0 canary  [████████████████████]  1/1  ended: 1 ok',
      'Wave 1         [████████████████████]  2/2  ended: 2 ok',
      'Wave 2         [▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒~~~~~]  0/4  3 running, 1 deferred',
      'Wave 3         [░░░░░░░░░░░░░░░░░░░░]  0/8  not started: 8 waiting',
      'Wave 4         [░░░░░░░░░░░░░░░░░░░░]  0/5  not started: 5 waiting',
      '',
      'Deferred (1):',
      '  c-9 (shop-9): offline since 09:40, tried again at 10:10:00 UTC, deferred since 10:04:00 UTC',
      '(Ctrl-C stops watching; the rollout continues)',
    ]);
  });

  it('ends with a summary naming the failed clusters and what to do next, and no Ctrl-C footer', () => {
    const lines = renderRolloutFrame(aborted, { now: T0 + 60 * 60_000, width: 200, live: true });
    expect(lines[1]).toBe('aborted  20/20 done  3 ok, 2 failed, 15 skipped  — 2 of 5 finished clusters failed (40 % > 20 %)');
    expect(lines.at(-1)).toBe('Wave 4         [--------------------]  5/5  not started: 5 skipped');
    expect(lines.join('\n')).not.toContain('Ctrl-C');
    expect(renderRolloutOutcome(aborted, T0)).toEqual([
      'Rollout ro-1 aborted after 12m00s: 2 of 5 finished clusters failed (40 % > 20 %).',
      'No new cluster was started; upgrades already running finished; failed clusters were handled by their on-failure policy.',
      'Clusters: 3 succeeded, 2 failed, 15 skipped (of 20).',
      'Failed (2):',
      '  c-5 (shop-5): boot state passive after reboot; rollback op-77',
      '  c-6 (shop-6): node not Ready within 10m',
      'Next:',
      '  edgefleet rollouts clusters ro-1 --state failed     # why each one failed',
      '  edgefleet rollouts clusters ro-1 --state skipped    # which were never upgraded, and why',
      '  once the cause is fixed: edgefleet rollouts create … --to 1.3.0   # clusters already there have nothing to do',
    ]);
  });

  it('lists the first failed clusters in the live frame and points at the rest', () => {
    const failed = ['c-1', 'c-2', 'c-3', 'c-4'].map((id) => target(id, { reason: 'health gate timed out' }));
    const lines = renderRolloutFrame(rollout({ counts: counts({ succeeded: 3, failed: 7, running: 3, deferred: 1, pending: 6 }), failed, deferred: [] }), { now: T0, width: 120 });
    expect(lines.slice(lines.indexOf('Failed (7):'))).toEqual([
      'Failed (7):', '  c-1 (shop-1): health gate timed out', '  c-2 (shop-2): health gate timed out', '  c-3 (shop-3): health gate timed out',
      '  … 4 more: edgefleet rollouts clusters ro-1 --state failed',
    ]);
  });

  it('says a succeeded rollout passed every gate, and lists deferred-then-skipped clusters of an incomplete one', () => {
    const ok = rollout({ status: 'succeeded', endedAt: at(30), counts: counts({ succeeded: 20 }), deferred: [], eta: undefined });
    expect(renderRolloutOutcome(ok, T0)).toEqual(['Rollout ro-1 succeeded after 30m00s: all 20 cluster(s) passed their upgrade gate.', 'Clusters: 20 succeeded (of 20).']);
    const incomplete = rollout({
      status: 'incomplete', reason: '1 cluster was deferred longer than 1440 minutes', endedAt: at(90), counts: counts({ succeeded: 19, skipped: 1 }),
      deferred: [target('c-9', { state: 'skipped', reason: 'offline for 24h' })],
    });
    const out = renderRolloutOutcome(incomplete, T0);
    expect(out.slice(0, 3)).toEqual([
      'Rollout ro-1 ended incomplete after 1h30m: 1 cluster was deferred longer than 1440 minutes.',
      '19 of 20 cluster(s) upgraded; the others were skipped or failed.',
      'Clusters: 19 succeeded, 1 skipped (of 20).',
    ]);
    expect(out).toContain('  c-9 (shop-9): offline for 24h');
    expect(out).toContain('  edgefleet rollouts clusters ro-1 --state skipped    # which were never upgraded, and why');
  });

  it('names the rollout that superseded this one', () => {
    const v = rollout({ status: 'superseded', supersededBy: 'ro-2', reason: 'template shop moved to 1.4.0', endedAt: at(3) });
    expect(renderRolloutOutcome(v, T0)[0]).toBe('Rollout ro-1 superseded by rollout ro-2 after 3m00s: template shop moved to 1.4.0.');
  });

  it('says when it waits for a manual promotion or soaks after the canary wave', () => {
    const waves = rollout().waves.map((w) => (w.index === 0 ? w : { ...w, startedAt: undefined, endedAt: undefined, counts: counts({ pending: w.size }) }));
    const manual = rollout({ waves, policy: { waves: { promotion: 'manual' } } });
    expect(gateNote(manual, T0 + 3 * 60_000)).toBe('Waiting for promotion after the canary wave: edgefleet rollouts promote ro-1');
    expect(gateNote({ ...manual, promotedThrough: 1 }, T0 + 3 * 60_000)).toBeUndefined();
    const soak = rollout({ waves, policy: { waves: { soakMinutes: 30 } } });
    expect(gateNote(soak, T0 + 12 * 60_000)).toBe('Soaking after the canary wave until 10:32:00 UTC (in 20m00s)');
    expect(gateNote(soak, T0 + 40 * 60_000)).toBeUndefined();
    expect(renderRolloutFrame(manual, { now: T0, width: 120 })[2]).toContain('edgefleet rollouts promote ro-1');
  });

  it('shows planning before the waves exist', () => {
    const v = rollout({ status: 'planning', waves: [], waveSizes: [], total: 340, counts: counts({ pending: 340 }), deferred: [], eta: undefined });
    expect(renderRolloutFrame(v, { now: T0, width: 100 }).slice(1)).toEqual(['planning  0/340 done  340 waiting', '', 'Planning: 340 target cluster(s) found so far']);
  });

  it('sums up the waves that do not fit the terminal, keeping those in flight', () => {
    const waves = Array.from({ length: 200 }, (_, i) => ({
      index: i, size: 50,
      counts: i < 120 ? counts({ succeeded: 50 }) : i === 120 ? counts({ running: 50 }) : counts({ pending: 50 }),
      ...(i <= 120 ? { startedAt: at(i) } : {}), ...(i < 120 ? { endedAt: at(i + 1) } : {}),
    }));
    const v = rollout({ waves, total: 10_000, counts: counts({ succeeded: 6000, running: 50, pending: 3950 }), deferred: [] });
    const lines = renderRolloutFrame(v, { now: T0, width: 120, maxLines: 12, live: true });
    expect(lines.length).toBeLessThanOrEqual(12);
    expect(lines).toContain('Waves 0–118 above: 5950/5950 done');
    expect(lines.some((l) => l.startsWith('Wave 120') && l.includes('50 running'))).toBe(true);
    expect(lines.some((l) => /^Waves 12\d–199 below: 0\/\d+ done$/.test(l))).toBe(true);
  });

  it('neutralizes hostile strings and fits the width; colors only the summary line', () => {
    const v = rollout({ reason: 'evil\x1b[2J\nline', deferred: [target('c-9', { state: 'deferred', reason: 'x\x1b]0;title\x07y' })] });
    const lines = renderRolloutFrame(v, { now: T0, width: 40, color: true });
    for (const l of lines) {
      expect(l).not.toContain('\n');
      expect(l).not.toContain('\x1b[2J');
      expect(l).not.toContain('\x1b]0');
      expect(Array.from(l.replace(/\x1b\[\d+m/g, '')).length).toBeLessThanOrEqual(40);
    }
    expect(lines[1]!.startsWith('\x1b[32m')).toBe(true);
    expect(lines.filter((l) => l.includes('\x1b[')).length).toBe(1);
  });
});

describe('rollout exit codes', () => {
  it('exits 0 only for succeeded, with a distinct code per other ending', () => {
    expect(rolloutExitCode('succeeded')).toBe(EXIT.ok);
    const others = ['incomplete', 'aborted', 'cancelled', 'failed'].map(rolloutExitCode);
    expect(others).toEqual([EXIT.rolloutIncomplete, EXIT.rolloutAborted, EXIT.rolloutCancelled, EXIT.conflict]);
    expect(new Set(others).size).toBe(4);
    expect(others).not.toContain(EXIT.ok);
    expect(rolloutExitCode('superseded')).toBe(EXIT.rolloutCancelled);
  });
});

describe('rollout change lines', () => {
  it('reports the start, waves starting and ending, new failures and deferrals, and progress', () => {
    const before = rollout();
    const after = rollout({
      counts: counts({ succeeded: 5, failed: 1, running: 1, pending: 13 }),
      waves: before.waves.map((w) => (w.index === 2 ? { ...w, counts: counts({ succeeded: 2, failed: 1, running: 1 }) } : w.index === 3 ? { ...w, startedAt: at(6) } : w)),
      failed: [target('c-5', { reason: 'boot state passive' })],
      deferred: [],
      eta: at(25),
    });
    const t = new Date(T0 + 7 * 60_000);
    expect(diffRollout(undefined, before, t.getTime()).map((c) => describeRolloutChange(c, t))[0]).toBe('10:07:00  rollout of edge-k3s@1.3.0 to 20 cluster(s) in 5 wave(s): running');
    expect(diffRollout(before, after, t.getTime()).map((c) => describeRolloutChange(c, t))).toEqual([
      '10:07:00  wave 3 started: 8 cluster(s)',
      '10:07:00  cluster c-5 (shop-5) failed: boot state passive',
      '10:07:00  6/20 done: 5 succeeded, 1 failed, 1 running, 13 pending; ETA 10:25:00 UTC',
    ]);
    expect(diffRollout(after, after, t.getTime())).toEqual([]);
    const ended = diffRollout(after, aborted, t.getTime()).map((c) => describeRolloutChange(c, t));
    expect(ended[0]).toBe('10:07:00  status running → aborted: 2 of 5 finished clusters failed (40 % > 20 %)');
    expect(ended).toContain('10:07:00  wave 2 ended: 4/4 done (0 succeeded, 2 failed, 2 skipped)');
  });

  it('leaves zero counts out except succeeded', () => {
    expect(countsText(counts({ waiting: 2, pending: 1 }))).toBe('0 succeeded, 2 outside window, 1 pending');
  });
});

describe('pollRollout', () => {
  function deps(views: (RolloutView | Error)[], retryAfter: (string | null)[] = []) {
    const waits: number[] = [];
    let i = 0;
    let last: string | null = null;
    const ac = new AbortController();
    return {
      waits,
      ac,
      d: {
        get: async () => {
          last = retryAfter[i] ?? null;
          const v = views[Math.min(i++, views.length - 1)]!;
          if (v instanceof Error) throw v;
          return v;
        },
        retryAfter: () => last,
        sleep: async (ms: number) => void waits.push(ms),
        onUpdate: () => undefined,
        onRetry: () => undefined,
        intervalMs: 1000,
        signal: ac.signal,
        now: () => T0,
      },
    };
  }

  it('polls every second after a change and backs off by half up to 5 s while nothing changes', async () => {
    const same = rollout();
    const moved = rollout({ updatedAt: at(9), counts: counts({ succeeded: 4, running: 2, deferred: 1, pending: 13 }) });
    const done = rollout({ status: 'succeeded', endedAt: at(30), counts: counts({ succeeded: 20 }) });
    const { d, waits } = deps([same, same, same, same, same, same, moved, moved, done]);
    expect((await pollRollout(d))?.status).toBe('succeeded');
    expect(waits).toEqual([1000, 1500, 2250, 3375, 5000, 5000, 1000, 1500]);
  });

  it('honours Retry-After when the API sends it', async () => {
    const { d, waits } = deps([rollout(), rollout(), rollout({ status: 'cancelled', endedAt: at(3) })], ['7', null]);
    await pollRollout(d);
    expect(waits).toEqual([7000, 1500]);
  });

  it('retries throttling and 5xx with back-off up to 5 s, and throws other errors at once', async () => {
    const throttled = new ApiError('get rollout', 429, undefined, '');
    const { d, waits } = deps([rollout(), throttled, throttled, throttled, throttled, rollout({ status: 'failed', endedAt: at(3) })]);
    expect((await pollRollout(d))?.status).toBe('failed');
    expect(waits).toEqual([1000, 2000, 4000, 5000, 5000]);
    const notFound = deps([new ApiError('get rollout', 404, undefined, '')]);
    await expect(pollRollout(notFound.d)).rejects.toThrow(ApiError);
  });

  it('returns undefined when the signal is aborted (Ctrl-C)', async () => {
    const { d, ac } = deps([rollout()]);
    ac.abort();
    expect(await pollRollout(d)).toBeUndefined();
  });
});
