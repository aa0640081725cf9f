import { AUDIT_DAYS_PER_REQUEST, auditWindow, daysToRead } from '../../../lambdas/domain/audit-window.js';

const now = Date.parse('2026-06-15T12:00:00Z');

describe('auditWindow', () => {
  it.each<[string, string | undefined, number, boolean]>([
    ['no since: the default lookback', undefined, 365, true],
    ['within the retention', '2026-01-01T00:00:00Z', 365, true],
    ['on the earliest retained day', '2025-06-15T00:00:00Z', 365, true],
    ['the day before the earliest retained day', '2025-06-14T23:59:59Z', 365, false],
    ['the year 2000', '2000-01-01T00:00:00Z', 365, false],
    ['a short retention', '2026-06-01T00:00:00Z', 7, false],
    ['in the future', '2027-01-01T00:00:00Z', 365, true],
  ])('%s', (_n, since, retention, ok) => {
    const w = auditWindow(since, now, retention);
    expect(w.ok).toBe(ok);
    if (!w.ok) {
      expect(w.code).toBe('since-beyond-retention');
      expect(w.reason).toContain(`${retention} days`);
      expect(w.reason).toContain(w.earliest);
    }
  });
});

describe('daysToRead', () => {
  it.each<[string, string, string, number, string | undefined]>([
    ['today back to a since 3 days ago', '2026-06-15', '2026-06-12T10:00:00Z', 4, '2026-06-12'],
    ['a long range is capped per request', '2026-06-15', '2025-07-01T00:00:00Z', AUDIT_DAYS_PER_REQUEST, '2026-05-16'],
    ['a cursor day older than since reads nothing', '2026-01-01', '2026-06-01T00:00:00Z', 0, undefined],
  ])('%s', (_n, from, oldest, count, last) => {
    const days = daysToRead(from, Date.parse(oldest));
    expect(days.length).toBe(count);
    expect(days[0]).toBe(count ? from : undefined);
    expect(days.at(-1)).toBe(last);
  });
});
