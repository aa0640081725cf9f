/** The hosts grid's filters as they travel in the page address (`#/hosts?status=pending&site=…`) and to GET /v1/hosts. */
export const HOST_STATUSES = ['pre-registered', 'pending', 'approved', 'rejected', 'in-cluster', 'decommissioned'] as const;
export const HOST_HEALTHS = ['healthy', 'unhealthy', 'unknown'] as const;
export type HostStatus = (typeof HOST_STATUSES)[number];
export type HostHealth = (typeof HOST_HEALTHS)[number];

export interface HostFilters {
  readonly status?: HostStatus;
  readonly health?: HostHealth;
  readonly site?: string;
  /** `key=value` */
  readonly tag?: string;
  readonly clusterId?: string;
}

const oneOf = <T extends string>(values: readonly T[], v: string | null): T | undefined => (values as readonly string[]).includes(v ?? '') ? (v as T) : undefined;
const text = (v: string | null, max: number): string | undefined => {
  const t = v?.trim();
  return t && t.length <= max ? t : undefined;
};

/** Filters from address parameters; unknown values are dropped (the API would refuse them). */
export function hostFiltersFrom(params: URLSearchParams): HostFilters {
  const tag = text(params.get('tag'), 130);
  return {
    ...(oneOf(HOST_STATUSES, params.get('status')) ? { status: oneOf(HOST_STATUSES, params.get('status')) } : {}),
    ...(oneOf(HOST_HEALTHS, params.get('health')) ? { health: oneOf(HOST_HEALTHS, params.get('health')) } : {}),
    ...(text(params.get('site'), 64) ? { site: text(params.get('site'), 64) } : {}),
    ...(tag && /^[^=]+=[^=]*$/.test(tag) ? { tag } : {}),
    ...(text(params.get('clusterId'), 64) ? { clusterId: text(params.get('clusterId'), 64) } : {}),
  };
}

/** The address of the hosts grid with these filters (what the overview's numbers link to). */
export function hostsHref(filters: HostFilters): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(filters)) if (typeof v === 'string' && v) q.set(k, v);
  const s = q.toString();
  return `#/hosts${s ? `?${s}` : ''}`;
}

/**
 * Server-side paging: the cursors of the pages before this one (the API's cursors are opaque and
 * only go forward, so going back replays the previous cursor).
 */
export interface PageState {
  readonly cursor?: string;
  readonly previous: readonly (string | undefined)[];
}

export const firstPage: PageState = { previous: [] };
export const nextPage = (s: PageState, nextCursor: string): PageState => ({ cursor: nextCursor, previous: [...s.previous, s.cursor] });
export const previousPage = (s: PageState): PageState => s.previous.length === 0
  ? firstPage
  : { cursor: s.previous[s.previous.length - 1], previous: s.previous.slice(0, -1) };
