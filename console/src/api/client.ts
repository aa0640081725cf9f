/**
 * The console's only way to the control plane: a typed client generated from the API's OpenAPI
 * document (schema.d.ts, `npm run console:client`), with the operator's token on every call, an
 * Idempotency-Key on every creating POST, and failures turned into the problem's `detail`.
 */
import createClient, { type Middleware } from 'openapi-fetch';
import type { paths } from './schema.js';
import { problemMessage } from '../logic/problem.js';
import { needsIdempotencyKey } from '../logic/idempotency.js';

export type { paths };
type Json<P extends keyof paths, M extends 'get' | 'post', S extends number> =
  paths[P][M] extends { responses: { [K in S]: { content: { 'application/json': infer T } } } } ? T : never;

export type Host = Json<'/v1/hosts/{hostId}', 'get', 200>;
export type HostPage = Json<'/v1/hosts', 'get', 200>;
export type Cluster = Json<'/v1/clusters/{clusterId}', 'get', 200>;
export type Operation = Json<'/v1/operations/{operationId}', 'get', 200>;
export type AuditEvent = Json<'/v1/audit-events', 'get', 200>['items'][number];
export type Site = Json<'/v1/sites', 'get', 200>['items'][number];
export type Rollout = Json<'/v1/rollouts', 'get', 200>['items'][number];
export type RolloutTarget = Json<'/v1/rollouts/{rolloutId}/clusters', 'get', 200>['items'][number];
export type Diagnostics = Json<'/v1/hosts/{hostId}/diagnostics/{diagnosticsId}', 'get', 200>;
export type Tunnel = Json<'/v1/hosts/{hostId}/tunnels', 'get', 200>['items'][number];
export type UpgradePreview = Json<'/v1/clusters/{clusterId}/upgrades', 'post', 200>;
export type HostQuery = NonNullable<paths['/v1/hosts']['get']['parameters']['query']>;

/** A failed call, with what the operator should read. */
export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly code?: string) {
    super(message);
  }
}

let token: string | undefined;
/** Called with the status when the API refuses the token (the app signs out). */
let onUnauthorized: (() => void) | undefined;

export function useToken(t: string | undefined, unauthorized?: () => void): void {
  token = t;
  onUnauthorized = unauthorized;
}

export const newKey = (): string => crypto.randomUUID();

/** The API's origin when it is not the console's own (AWS: config.json); set once at start. */
let apiBase: string | undefined;
export function setApiBase(url: string | undefined): void {
  apiBase = url;
}
export const apiBaseUrl = (): string => apiBase ?? '';

const auth: Middleware = {
  onRequest({ request, schemaPath }) {
    if (apiBase) {
      const u = new URL(request.url);
      request = new Request(`${apiBase}${u.pathname}${u.search}`, request);
    }
    if (token) request.headers.set('authorization', `Bearer ${token}`);
    // A form that keeps one key per intent sends it (a double click then creates once); else a key per call.
    if (needsIdempotencyKey(request.method, schemaPath) && !request.headers.has('idempotency-key')) request.headers.set('idempotency-key', newKey());
    return request;
  },
};

export const api = createClient<paths>({ baseUrl: '' });
api.use(auth);

/** The data of a call with its Retry-After header (the API's pace for polling), or an ApiError. */
export async function mustWithRetry<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<{ data: T; retryAfter: string | null }> {
  let retryAfter: string | null = null;
  const data = await must(call.then((r) => { retryAfter = r.response.headers.get('retry-after'); return r; }));
  return { data, retryAfter };
}

/** The data of a call, or an ApiError carrying the problem's detail. */
export async function must<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  let r: { data?: T; error?: unknown; response: Response };
  try {
    r = await call;
  } catch {
    throw new ApiError(0, problemMessage(0, undefined));
  }
  if (r.response.ok && r.data !== undefined) return r.data;
  if (r.response.status === 401) onUnauthorized?.();
  const code = typeof r.error === 'object' && r.error !== null && typeof (r.error as { code?: unknown }).code === 'string' ? (r.error as { code: string }).code : undefined;
  throw new ApiError(r.response.status, problemMessage(r.response.status, r.error), code);
}
