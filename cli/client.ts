/**
 * A small HTTP client for the EdgeFleet API (global fetch): bearer auth, project header,
 * idempotency keys, RFC 9457 problems turned into ApiError, network failures into
 * UnreachableError, and cursor pagination.
 */
import { problem as problemSchema } from '../lambdas/contracts/common.js';
import { ApiError, UnreachableError, networkReason } from './errors.js';

export type FetchFn = typeof fetch;
export type Query = Record<string, string | number | boolean | undefined>;

export const PROJECT_HEADER = 'x-edgefleet-project';

export interface ClientOptions {
  url: string;
  token: string;
  project: string;
  fetch?: FetchFn;
  /** Per request; the hosts batch handler may take up to 29 s. @default 60000 */
  timeoutMs?: number;
  userAgent?: string;
  /** Renews the access token of an OIDC sign-in (`edgefleet login --url`). */
  renewal?: TokenRenewal;
}

/**
 * How the client gets a new access token: before a request when the current one expires
 * within RENEW_EARLY_MS, and once after a 401 when it has expired (or expires within
 * RENEW_SKEW_MS: the API's clock may run ahead of ours, or its expiry is unknown).
 */
export interface TokenRenewal {
  /** When `token` stops working, ms since the epoch; undefined when unknown. */
  expiresAt(token: string): number | undefined;
  /** A fresh access token (saved for later commands); throws a CliError when none can be had. */
  renew(): Promise<string>;
  now?: () => number;
}

export const RENEW_EARLY_MS = 30_000;
export const RENEW_SKEW_MS = 60_000;

export interface RequestOptions {
  /** What the CLI is doing, for error messages: e.g. `get host "hw-1"`. */
  what: string;
  query?: Query;
  body?: unknown;
  idempotencyKey?: string;
  /** `text` returns the body as a string (user-data is text/cloud-config). */
  responseType?: 'json' | 'text';
  /** Advice by HTTP status that replaces the generic advice. */
  hints?: Partial<Record<number, string>>;
}

export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

export interface ListOptions {
  what: string;
  query?: Query;
  limit?: number;
  cursor?: string;
  /** Follow nextCursor until the end. */
  all?: boolean;
}

/** Encodes one path segment (ids come from operators and may hold anything). */
export const seg = (s: string): string => encodeURIComponent(s);

export function buildUrl(base: string, path: string, query?: Query): string {
  const url = new URL(base.replace(/\/+$/, '') + path);
  for (const [k, v] of Object.entries(query ?? {})) {
    if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  }
  return url.toString();
}

export class ApiClient {
  private readonly fetchFn: FetchFn;
  private token: string;

  constructor(readonly options: ClientOptions) {
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.token = options.token;
  }

  /** True when the renewal says the current token expires within `withinMs`. */
  private expiring(withinMs: number, unknown: boolean): boolean {
    const r = this.options.renewal;
    if (!r) return false;
    const at = r.expiresAt(this.token);
    if (at === undefined) return unknown;
    return at - withinMs <= (r.now ?? Date.now)();
  }

  get url(): string {
    return this.options.url;
  }

  async request<T>(method: string, path: string, opts: RequestOptions): Promise<T> {
    if (this.expiring(RENEW_EARLY_MS, false)) this.token = await this.options.renewal!.renew();
    const first = await this.send(method, path, opts);
    if (first.res.status === 401 && this.expiring(RENEW_SKEW_MS, true)) {
      this.token = await this.options.renewal!.renew();
      return this.finish<T>(await this.send(method, path, opts), opts);
    }
    return this.finish<T>(first, opts);
  }

  private async send(method: string, path: string, opts: RequestOptions): Promise<{ res: Response; text: string }> {
    const url = buildUrl(this.options.url, path, opts.query);
    const headers: Record<string, string> = {
      authorization: `Bearer ${this.token}`,
      [PROJECT_HEADER]: this.options.project,
      accept: opts.responseType === 'text' ? 'text/cloud-config, application/yaml, text/plain, application/problem+json' : 'application/json, application/problem+json',
      'user-agent': this.options.userAgent ?? 'edgefleet-cli',
    };
    let body: string | undefined;
    if (opts.body !== undefined) {
      body = JSON.stringify(opts.body);
      headers['content-type'] = 'application/json';
    }
    if (opts.idempotencyKey) headers['idempotency-key'] = opts.idempotencyKey;

    let res: Response;
    let text: string;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 60_000),
      });
      text = await res.text();
    } catch (err) {
      throw new UnreachableError(opts.what, this.options.url, networkReason(err));
    }
    return { res, text };
  }

  private finish<T>({ res, text }: { res: Response; text: string }, opts: RequestOptions): T {
    if (!res.ok) {
      throw new ApiError(opts.what, res.status, parseProblem(text), text, opts.hints ?? {}, res.headers.get('x-request-id') ?? res.headers.get('apigw-requestid') ?? undefined);
    }
    if (opts.responseType === 'text') return text as T;
    if (text.trim() === '') return undefined as T;
    try {
      return JSON.parse(text) as T;
    } catch {
      throw new ApiError(opts.what, res.status, undefined, `the API answered ${res.status} with a body that is not JSON: ${text}`);
    }
  }

  get<T>(path: string, opts: RequestOptions): Promise<T> {
    return this.request<T>('GET', path, opts);
  }
  post<T>(path: string, opts: RequestOptions): Promise<T> {
    return this.request<T>('POST', path, { ...opts, body: opts.body ?? {} });
  }
  patch<T>(path: string, opts: RequestOptions): Promise<T> {
    return this.request<T>('PATCH', path, opts);
  }
  delete<T>(path: string, opts: RequestOptions): Promise<T> {
    return this.request<T>('DELETE', path, opts);
  }

  /** One page, or every page with `all` (limit then sets the page size). */
  async list<T>(path: string, opts: ListOptions): Promise<Page<T>> {
    const items: T[] = [];
    let cursor = opts.cursor;
    const seen = new Set<string>();
    for (;;) {
      const page = await this.get<Page<T>>(path, {
        what: opts.what,
        query: { ...opts.query, limit: opts.limit ?? (opts.all ? 100 : undefined), cursor },
      });
      items.push(...(page?.items ?? []));
      const next = page?.nextCursor;
      if (!opts.all || !next || seen.has(next)) return { items, nextCursor: opts.all ? undefined : next };
      seen.add(next);
      cursor = next;
    }
  }
}

/** Parses a problem document; undefined when the body is not one. */
export function parseProblem(text: string): ApiError['problem'] {
  try {
    const parsed = problemSchema.safeParse(JSON.parse(text));
    if (parsed.success) return parsed.data;
    // Partial problem documents still carry useful fields.
    const o = JSON.parse(text) as Record<string, unknown>;
    if (o && typeof o === 'object' && (typeof o.detail === 'string' || typeof o.title === 'string' || typeof o.message === 'string')) {
      return {
        type: typeof o.type === 'string' ? o.type : 'about:blank',
        title: typeof o.title === 'string' ? o.title : '',
        status: typeof o.status === 'number' ? o.status : 0,
        code: typeof o.code === 'string' ? o.code : '',
        detail: String(o.detail ?? o.message ?? o.title),
        requestId: typeof o.requestId === 'string' ? o.requestId : undefined,
        errors: Array.isArray(o.errors) ? (o.errors as { path: string; message: string }[]) : undefined,
      };
    }
  } catch {
    /* not JSON */
  }
  return undefined;
}
