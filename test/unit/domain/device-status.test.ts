import { canonicalJson, decideStatus, FULL_REPORT_INTERVAL_MS, type StoredStatus } from '../../../lambdas/domain/device-status.js';

const HOUR = FULL_REPORT_INTERVAL_MS;
const stored: StoredStatus = { at: 1000, seq: 5, fingerprint: 'A', storedAt: 1000, content: {} };
const msg = (at: number, seq: number, kind: 'change' | 'full' = 'change') => ({ at, seq, kind, content: {} });

describe('decideStatus', () => {
  it.each<[string, StoredStatus | undefined, ReturnType<typeof msg>, string, number, string]>([
    ['first report', undefined, msg(1, 0), 'A', 1, 'store:first'],
    ['content changed', stored, msg(2000, 6), 'B', 2000, 'store:changed'],
    ['unchanged change report', stored, msg(2000, 6), 'A', 2000, 'skip:unchanged'],
    ['unchanged full report, refresh not yet due', stored, msg(2000, 6, 'full'), 'A', 1000 + HOUR - 1, 'skip:unchanged'],
    ['unchanged full report, refresh due', stored, msg(2000, 6, 'full'), 'A', 1000 + HOUR, 'store:full-due'],
    ['older report (out of order), even if different', stored, msg(999, 9), 'B', 5000, 'skip:stale'],
    ['duplicate (same at and seq)', stored, msg(1000, 5), 'B', 5000, 'skip:stale'],
    ['same at, lower seq', stored, msg(1000, 4), 'B', 5000, 'skip:stale'],
    ['same at, higher seq', stored, msg(1000, 6), 'B', 5000, 'store:changed'],
  ])('%s', (_n, s, m, fp, now, expected) => {
    const d = decideStatus(s, m, fp, now);
    expect(`${d.store ? 'store' : 'skip'}:${d.reason}`).toBe(expected);
  });

  it('honours a custom full-report interval', () => {
    expect(decideStatus(stored, msg(2000, 6), 'A', 1060, 60).store).toBe(true);
  });
});

describe('canonicalJson', () => {
  it('ignores key order and undefined values, keeps array order', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, 1], c: undefined } })).toBe(canonicalJson({ a: { d: [2, 1] }, b: 1 }));
    expect(canonicalJson({ a: [1, 2] })).not.toBe(canonicalJson({ a: [2, 1] }));
  });
});
