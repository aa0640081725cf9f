import { addDays, canonicalTimeZone, localDateOf, weekdayOf, zonedInstant, type LocalDate, type Weekday } from '../../../lambdas/domain/zoned-time.js';

const d = (year: number, month: number, day: number): LocalDate => ({ year, month, day });

describe('zonedInstant', () => {
  it.each<[string, string, LocalDate, number, string]>([
    ['UTC midnight', 'UTC', d(2026, 6, 15), 0, '2026-06-15T00:00:00.000Z'],
    ['Kolkata is +05:30', 'Asia/Kolkata', d(2026, 6, 15), 120, '2026-06-14T20:30:00.000Z'],
    ['Auckland winter +12', 'Pacific/Auckland', d(2026, 6, 13), 23 * 60, '2026-06-13T11:00:00.000Z'],
    ['Auckland summer +13', 'Pacific/Auckland', d(2026, 1, 11), 180, '2026-01-10T14:00:00.000Z'],
    ['Paris gap 02:00 → 03:00 CEST', 'Europe/Paris', d(2026, 3, 29), 120, '2026-03-29T01:00:00.000Z'],
    ['Paris gap 02:59 → 03:00 CEST', 'Europe/Paris', d(2026, 3, 29), 179, '2026-03-29T01:00:00.000Z'],
    ['Paris 03:00 right after the gap', 'Europe/Paris', d(2026, 3, 29), 180, '2026-03-29T01:00:00.000Z'],
    ['Paris 01:59 right before the gap', 'Europe/Paris', d(2026, 3, 29), 119, '2026-03-29T00:59:00.000Z'],
    ['Paris fall-back 02:30: first (CEST) occurrence', 'Europe/Paris', d(2026, 10, 25), 150, '2026-10-25T00:30:00.000Z'],
    ['Paris fall-back 03:00: once, CET', 'Europe/Paris', d(2026, 10, 25), 180, '2026-10-25T02:00:00.000Z'],
    ['New York gap 02:30 → 03:00 EDT', 'America/New_York', d(2026, 3, 8), 150, '2026-03-08T07:00:00.000Z'],
    ['New York fall-back 01:00: first (EDT) occurrence', 'America/New_York', d(2026, 11, 1), 60, '2026-11-01T05:00:00.000Z'],
    ['Auckland gap 02:30 → 03:00 NZDT', 'Pacific/Auckland', d(2026, 9, 27), 150, '2026-09-26T14:00:00.000Z'],
    ['Auckland fall-back 02:30: first (NZDT) occurrence', 'Pacific/Auckland', d(2026, 4, 5), 150, '2026-04-04T13:30:00.000Z'],
  ])('%s', (_name, tz, date, minute, expected) => {
    expect(new Date(zonedInstant(tz, date, minute)).toISOString()).toBe(expected);
  });

  it('refuses an unknown zone with what to use instead', () => {
    expect(() => zonedInstant('Europe/Atlantis', d(2026, 1, 1), 0)).toThrow(/Unknown time zone "Europe\/Atlantis": use an IANA name/);
  });
});

describe('calendar helpers', () => {
  it.each<[LocalDate, number, LocalDate, Weekday]>([
    [d(2026, 6, 14), 0, d(2026, 6, 14), 'sun'],
    [d(2026, 6, 14), 1, d(2026, 6, 15), 'mon'],
    [d(2026, 12, 31), 1, d(2027, 1, 1), 'fri'],
    [d(2026, 3, 1), -1, d(2026, 2, 28), 'sat'],
    [d(2028, 2, 28), 1, d(2028, 2, 29), 'tue'],
  ])('%j + %i days = %j, a %s', (date, days, expected, weekday) => {
    expect(addDays(date, days)).toEqual(expected);
    expect(weekdayOf(expected)).toBe(weekday);
  });

  it.each<[string, string, LocalDate]>([
    ['Asia/Kolkata', '2026-06-14T18:30:00Z', d(2026, 6, 15)],
    ['America/New_York', '2026-06-15T03:59:00Z', d(2026, 6, 14)],
    ['Pacific/Auckland', '2026-06-14T12:00:00Z', d(2026, 6, 15)],
  ])('local date in %s at %s', (tz, at, expected) => {
    expect(localDateOf(tz, Date.parse(at))).toEqual(expected);
  });

  it.each<[string, string | undefined]>([
    ['europe/paris', 'Europe/Paris'], ['UTC', 'UTC'], ['Nowhere/Else', undefined], ['+01:00', undefined],
  ])('canonicalTimeZone(%j) = %j', (tz, expected) => {
    expect(canonicalTimeZone(tz)).toBe(expected);
  });
});
