/**
 * Wall-clock time in an IANA time zone, computed with `Intl.DateTimeFormat#formatToParts` only
 * (no time-zone library). Pure: the only state is a cache of formatters, one per zone.
 *
 * Instants are epoch milliseconds; a local calendar date is `{ year, month (1-12), day }`.
 */

export type Weekday = 'mon' | 'tue' | 'wed' | 'thu' | 'fri' | 'sat' | 'sun';
export const WEEKDAYS: readonly Weekday[] = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];

export interface LocalDate { readonly year: number; readonly month: number; readonly day: number }

const DAY_MS = 86_400_000;
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(tz: string): Intl.DateTimeFormat | undefined {
  // Offsets such as "+05:30" are not IANA zones (newer runtimes accept them): a site's zone
  // must follow its DST rules, which a fixed offset cannot.
  if (typeof tz !== 'string' || tz.trim() === '' || /^[+-]/.test(tz)) return undefined;
  const cached = formats.get(tz);
  if (cached) return cached;
  try {
    const format = new Intl.DateTimeFormat('en-US', {
      timeZone: tz, hourCycle: 'h23',
      year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric',
    });
    formats.set(tz, format);
    return format;
  } catch {
    return undefined;
  }
}

/** True when `tz` is an IANA time zone this runtime knows (Intl), e.g. 'Europe/Paris', 'UTC'. */
export function isTimeZone(tz: string): boolean {
  return formatFor(tz) !== undefined;
}

/** The runtime's canonical spelling of `tz` ('europe/paris' → 'Europe/Paris'), or undefined when unknown. */
export function canonicalTimeZone(tz: string): string | undefined {
  return formatFor(tz)?.resolvedOptions().timeZone;
}

function formatOrThrow(tz: string): Intl.DateTimeFormat {
  const format = formatFor(tz);
  if (!format) {
    throw new Error(`Unknown time zone ${JSON.stringify(tz)}: use an IANA name such as "Europe/Paris", "America/New_York" or "UTC" (not an offset like "+02:00")`);
  }
  return format;
}

interface LocalDateTime extends LocalDate { readonly hour: number; readonly minute: number; readonly second: number }

function localDateTime(format: Intl.DateTimeFormat, ms: number): LocalDateTime {
  const parts = format.formatToParts(new Date(ms));
  const get = (type: Intl.DateTimeFormatPartTypes) => Number(parts.find((p) => p.type === type)?.value);
  // Some ICU versions print midnight as 24 despite h23.
  return { year: get('year'), month: get('month'), day: get('day'), hour: get('hour') % 24, minute: get('minute'), second: get('second') };
}

/** Local minus UTC, in ms, at instant `ms` (whole seconds). */
function offsetAt(format: Intl.DateTimeFormat, ms: number): number {
  const l = localDateTime(format, ms);
  return Date.UTC(l.year, l.month - 1, l.day, l.hour, l.minute, l.second) - Math.floor(ms / 1000) * 1000;
}

/** The local calendar date of instant `ms` in `tz`. */
export function localDateOf(tz: string, ms: number): LocalDate {
  const { year, month, day } = localDateTime(formatOrThrow(tz), ms);
  return { year, month, day };
}

export function addDays(date: LocalDate, days: number): LocalDate {
  const d = new Date(Date.UTC(date.year, date.month - 1, date.day + days));
  return { year: d.getUTCFullYear(), month: d.getUTCMonth() + 1, day: d.getUTCDate() };
}

export function weekdayOf(date: LocalDate): Weekday {
  const sundayFirst = new Date(Date.UTC(date.year, date.month - 1, date.day)).getUTCDay();
  return WEEKDAYS[(sundayFirst + 6) % 7];
}

/**
 * The instant (epoch ms) at which the local wall clock in `tz` reads `minuteOfDay` minutes after
 * midnight on `date`. A wall time that does not exist (inside a spring-forward gap) gives the first
 * valid instant after the gap (the transition itself); a wall time that happens twice (fall-back)
 * gives the first occurrence.
 */
export function zonedInstant(tz: string, date: LocalDate, minuteOfDay: number): number {
  const format = formatOrThrow(tz);
  const wall = Date.UTC(date.year, date.month - 1, date.day, 0, minuteOfDay);
  // Zones change offset at most once around a given day in practice: the offsets a day before,
  // at and a day after the wall time are the candidates.
  const offsets = [...new Set([offsetAt(format, wall - DAY_MS), offsetAt(format, wall), offsetAt(format, wall + DAY_MS)])];
  const valid = offsets.map((o) => wall - o).filter((t) => wall - t === offsetAt(format, t));
  if (valid.length > 0) return Math.min(...valid);
  // In a gap: the transition lies between the earliest and the latest candidate instant.
  const candidates = offsets.map((o) => wall - o);
  let lo = Math.floor(Math.min(...candidates) / 1000);
  let hi = Math.ceil(Math.max(...candidates) / 1000);
  const after = offsetAt(format, hi * 1000);
  while (hi - lo > 1) {
    const mid = Math.floor((lo + hi) / 2);
    if (offsetAt(format, mid * 1000) === after) hi = mid;
    else lo = mid;
  }
  return hi * 1000;
}
