/**
 * How far back an audit query may look, and how much of it one request may read. Audit events
 * expire after the retention period, so a `since` older than that can only name deleted events:
 * it is refused (with the earliest valid value) instead of walking thousands of empty days.
 */
export const DAY_MS = 86_400_000;
/** One project-wide request reads at most this many daily partitions; the cursor continues. */
export const AUDIT_DAYS_PER_REQUEST = 31;
/** Without `since`, a project-wide listing looks back this many days. */
export const DEFAULT_AUDIT_LOOKBACK_DAYS = 7;

export type AuditWindow =
  | { readonly ok: true; /** Epoch ms of the oldest instant asked for. */ readonly oldest: number }
  | { readonly ok: false; readonly code: 'since-beyond-retention'; readonly reason: string; readonly earliest: string };

const dayOf = (ms: number) => new Date(ms).toISOString().slice(0, 10);

export function auditWindow(since: string | undefined, now: number, retentionDays: number): AuditWindow {
  if (since === undefined) return { ok: true, oldest: now - DEFAULT_AUDIT_LOOKBACK_DAYS * DAY_MS };
  const at = Date.parse(since);
  const earliestMs = now - retentionDays * DAY_MS;
  // Day granularity: events of the earliest retained day may still be there.
  if (!Number.isFinite(at) || dayOf(at) < dayOf(earliestMs)) {
    const earliest = `${dayOf(earliestMs)}T00:00:00Z`;
    return {
      ok: false, code: 'since-beyond-retention', earliest,
      reason: `since ${since} is older than the audit retention of ${retentionDays} days (older events are deleted); use a since on or after ${earliest}`,
    };
  }
  return { ok: true, oldest: at };
}

/** The day partitions (YYYY-MM-DD, newest first) one request reads, starting at `fromDay`. */
export function daysToRead(fromDay: string, oldest: number, max = AUDIT_DAYS_PER_REQUEST): string[] {
  const last = dayOf(oldest);
  const days: string[] = [];
  for (let d = Date.parse(`${fromDay}T00:00:00Z`); days.length < max && dayOf(d) >= last; d -= DAY_MS) days.push(dayOf(d));
  return days;
}
