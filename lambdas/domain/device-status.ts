/** The status a host reports, as stored (one item per host; the latest report wins). */
export interface StoredStatus {
  /** Device time of the report, epoch milliseconds (the ordering key). */
  readonly at: number;
  readonly seq: number;
  /** Fingerprint of the meaningful content (everything but seq, at and kind). */
  readonly fingerprint: string;
  /** When the cloud last stored a report (epoch ms): drives the slow full refresh. */
  readonly storedAt: number;
  readonly content: Readonly<Record<string, unknown>>;
}

export interface IncomingStatus {
  readonly at: number;
  readonly seq: number;
  readonly kind: 'change' | 'full';
  readonly content: Readonly<Record<string, unknown>>;
}

export type StatusDecision =
  | { readonly store: true; readonly reason: 'first' | 'changed' | 'full-due' }
  | { readonly store: false; readonly reason: 'stale' | 'unchanged' };

/**
 * By default the cloud refreshes an unchanged status at most every 6 hours (the device's full
 * report, device/config.ts): each refresh is a message, a rule, an invocation and a write per
 * host, the largest idle cost after IoT connectivity (bench:cost prices both cadences).
 */
export const FULL_REPORT_INTERVAL_MS = 21_600_000;

/** Key-order independent JSON, so `{a,b}` and `{b,a}` have one fingerprint. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Store a status report only when it says something new: the first report, a change of the
 * meaningful content, or (for an unchanged one) when a full refresh is due. An older report
 * than the stored one (out of order, or a duplicate) is stale and never overwrites it.
 */
export function decideStatus(
  stored: StoredStatus | undefined, incoming: IncomingStatus, fingerprint: string, now: number,
  fullEveryMs = FULL_REPORT_INTERVAL_MS,
): StatusDecision {
  if (!stored) return { store: true, reason: 'first' };
  if (incoming.at < stored.at || (incoming.at === stored.at && incoming.seq <= stored.seq)) return { store: false, reason: 'stale' };
  if (fingerprint !== stored.fingerprint) return { store: true, reason: 'changed' };
  if (now - stored.storedAt >= fullEveryMs) return { store: true, reason: 'full-due' };
  return { store: false, reason: 'unchanged' };
}
