import type { Context } from 'aws-lambda';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { createHmac } from 'node:crypto';
import { z } from 'zod';
import { projectName } from '../../contracts/common.js';
import { API_GROUPS, API_ROUTES, routeKey, type ApiGroup } from '../../contracts/routes.js';
import { principalFromClaims } from '../../domain/authz.js';
import {
  ConflictError, NotFoundError, PayloadTooLargeError, UnauthenticatedError, UnsupportedMediaTypeError, ValidationError,
} from '../../domain/errors.js';
import { authorizeAudited, type RequestContext } from '../../use-cases/context.js';
import type { Action } from '../../domain/authz.js';
import { awsRoot, type HttpDeps } from '../composition-root.js';
import type { RequiredSetting } from '../config.js';
import { correlationIds, entryPoint } from '../kit.js';
import { problemResponse } from './problem.js';

export type ApiEvent = APIGatewayProxyEventV2WithJWTAuthorizer;
export type ApiResponse = APIGatewayProxyStructuredResultV2;

export interface ApiRequest<B = unknown, Q = Record<string, unknown>> {
  readonly ctx: RequestContext;
  readonly params: Readonly<Record<string, string>>;
  readonly query: Q;
  readonly body: B;
  readonly headers: Readonly<Record<string, string | undefined>>;
  /** Milliseconds left before the function's timeout (Lambda's `getRemainingTimeInMillis`). */
  readonly remainingMs: () => number;
}

export interface ApiResult {
  readonly status: number;
  readonly body?: unknown;
  /** Non-JSON bodies (e.g. text/cloud-config). */
  readonly text?: { readonly contentType: string; readonly content: string };
  readonly headers?: Record<string, string>;
}

export interface RouteSpec<B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType> {
  readonly body?: B;
  readonly query?: Q;
  /** Honours the Idempotency-Key header (creating POSTs); a function decides from the parsed body (a dry run keeps no record). */
  readonly idempotent?: boolean | ((body: z.infer<B>) => boolean);
  /**
   * A top-level response field holding a secret shown only once (e.g. a registration token).
   * It is never written to the Idempotency-Key record: a replay returns the same resource
   * without it, with an `edgefleet-secret-omitted` header saying so.
   */
  readonly oneTimeSecret?: string;
  /**
   * For mutations: checked before the body is even parsed, so a caller without the permission
   * learns nothing about valid input. The use case checks again (and audits success).
   */
  readonly action?: Action;
  readonly run: (req: ApiRequest<z.infer<B>, z.infer<Q>>, deps: HttpDeps) => Promise<ApiResult>;
}

/** Keeps each route's body and query types attached to its `run` function. */
export const route = <B extends z.ZodType = z.ZodType, Q extends z.ZodType = z.ZodType>(spec: RouteSpec<B, Q>): RouteSpec => spec as unknown as RouteSpec;

export type RouteTable = Readonly<Record<string, RouteSpec>>;

const noBody = z.strictObject({});
const emptyQuery = z.strictObject({});
const idempotencyKey = z.string().min(8).max(128).regex(/^[\x21-\x7e]+$/);
/** Stored responses above this are not kept (DynamoDB items hold 400 KB); a retry re-runs. */
const MAX_STORED_RESPONSE = 300 * 1024;

export function validationError(error: z.ZodError, where: string): ValidationError {
  const errors = error.issues.map((i) => ({
    path: [where, ...i.path.map(String)].filter(Boolean).join('.'),
    message: i.code === 'unrecognized_keys' ? `unknown field(s): ${(i as { keys: string[] }).keys.join(', ')}` : i.message,
  }));
  return new ValidationError('validation-failed', `the request ${where} is not valid: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`, { errors });
}

function parseBody(event: ApiEvent, group: ApiGroup): unknown {
  if (event.body === undefined || event.body === null || event.body === '') return {};
  const raw = event.isBase64Encoded ? Buffer.from(event.body, 'base64').toString('utf8') : event.body;
  const limit = API_GROUPS[group].maxBodyBytes;
  const size = Buffer.byteLength(raw, 'utf8');
  if (size > limit) throw new PayloadTooLargeError('body-too-large', `the request body is ${size} bytes; this endpoint accepts at most ${limit} bytes`);
  const type = event.headers?.['content-type'] ?? '';
  if (!/^application\/(merge-patch\+)?json\b/i.test(type)) {
    throw new UnsupportedMediaTypeError('unsupported-media-type', `send the body as application/json (got "${type || 'no content-type'}")`);
  }
  try {
    return JSON.parse(raw);
  } catch (e) {
    throw new ValidationError('malformed-json', `the request body is not valid JSON: ${(e as Error).message}`, { cause: e });
  }
}

function requestContext(event: ApiEvent): RequestContext {
  const claims = event.requestContext.authorizer?.jwt?.claims;
  if (!claims) throw new UnauthenticatedError('unauthenticated', 'this endpoint needs a bearer token; run `edgefleet login` or set EDGEFLEET_TOKEN');
  const project = projectName.safeParse(event.headers?.['x-edgefleet-project'] ?? 'default');
  if (!project.success) throw new ValidationError('invalid-project', 'the x-edgefleet-project header must be a project name (lowercase letters, digits and "-")');
  return { principal: principalFromClaims(claims), project: project.data, requestId: event.requestContext.requestId };
}

function toResponse(result: ApiResult, requestId: string): ApiResponse {
  const headers = { 'x-request-id': requestId, ...(result.headers ?? {}) };
  if (result.text) return { statusCode: result.status, headers: { ...headers, 'content-type': result.text.contentType }, body: result.text.content };
  if (result.body === undefined) return { statusCode: result.status, headers };
  return { statusCode: result.status, headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(result.body) };
}

/** What the Idempotency-Key record keeps of a response: never a one-time secret. */
function storable(response: ApiResponse, body: string, secretField: string | undefined): { status: number; body: string; headers: Record<string, string> } | undefined {
  const headers = (response.headers ?? {}) as Record<string, string>;
  const status = response.statusCode!;
  if (!secretField) return { status, body, headers };
  let parsed: unknown;
  try { parsed = body ? JSON.parse(body) : undefined; } catch { return undefined; /* cannot tell where the secret is: keep nothing */ }
  if (parsed === null || typeof parsed !== 'object' || !(secretField in parsed)) return { status, body, headers };
  const { [secretField]: _secret, ...rest } = parsed as Record<string, unknown>;
  return {
    status, body: JSON.stringify(rest),
    headers: { ...headers, 'edgefleet-secret-omitted': `${secretField}; it is shown only once, in the response that created the resource; if it was lost, revoke the resource and create another` },
  };
}

async function withIdempotency(event: ApiEvent, ctx: RequestContext, deps: HttpDeps, run: () => Promise<ApiResponse>, secretField?: string): Promise<ApiResponse> {
  const header = event.headers?.['idempotency-key'];
  if (header === undefined) return run();
  const key = idempotencyKey.safeParse(header);
  if (!key.success) throw new ValidationError('invalid-idempotency-key', 'Idempotency-Key must be 8–128 printable characters, e.g. a UUID');
  const scoped = `${ctx.project}#${ctx.principal.subject}#${key.data}`;
  // Keyed: the body may hold secret values, and a plain hash would let a table reader confirm guesses.
  const fingerprint = createHmac('sha256', await deps.fingerprintKey()).update(`${event.routeKey}\n${JSON.stringify(event.pathParameters ?? {})}\n${event.body ?? ''}`).digest('hex');
  const now = deps.clock.now();
  const begun = await deps.idempotency.begin(scoped, fingerprint, now);
  if (begun.state === 'replay') return { statusCode: begun.status, headers: { ...begun.headers, 'idempotent-replayed': 'true' }, body: begun.body };
  if (begun.state === 'mismatch') throw new ConflictError('idempotency-key-reused', 'this Idempotency-Key was already used for a different request; use a new key for a new request');
  if (begun.state === 'in-progress') throw new ConflictError('idempotency-in-progress', 'a request with this Idempotency-Key is still being processed; retry in a few seconds');
  try {
    const response = await run();
    const body = typeof response.body === 'string' ? response.body : '';
    const kept = response.statusCode! < 500 && body.length <= MAX_STORED_RESPONSE ? storable(response, body, secretField) : undefined;
    if (kept) {
      await deps.idempotency.complete(scoped, kept, deps.clock.now());
    } else {
      await deps.idempotency.release(scoped);
    }
    return response;
  } catch (e) {
    await deps.idempotency.release(scoped);
    throw e;
  }
}

/**
 * Builds the Lambda handler for one route group: match the route, authenticate, parse and
 * validate, call the use case, map the result; every error becomes problem+json.
 */
export function createHttpHandler(group: ApiGroup, routes: RouteTable, getDeps: () => HttpDeps) {
  const known = new Map(API_ROUTES.filter((r) => r.group === group).map((r) => [routeKey(r), r]));
  for (const key of Object.keys(routes)) {
    if (!known.has(key)) throw new Error(`route ${key} of group ${group} is not in the route table`);
  }
  const core = async (event: ApiEvent, context: Context): Promise<ApiResponse> => {
    const requestId = event.requestContext.requestId;
    const def = known.get(event.routeKey);
    const spec = routes[event.routeKey];
    if (!def || !spec) throw new NotFoundError('route-not-found', `no route ${event.routeKey}`);
    const deps = getDeps();
    const ctx = def.auth === 'jwt' ? requestContext(event) : { principal: { subject: 'anonymous', roles: {} }, project: 'default', requestId };
    if (spec.action && def.auth === 'jwt') {
      await authorizeAudited(deps, ctx, spec.action, `${def.method} ${def.path}`, event.rawPath);
    }
    const rawBody = def.method === 'POST' || def.method === 'PATCH' ? parseBody(event, group) : undefined;
    const body = (spec.body ?? noBody).safeParse(rawBody ?? {});
    if (rawBody !== undefined && !body.success) throw validationError(body.error, 'body');
    const query = (spec.query ?? emptyQuery).safeParse(event.queryStringParameters ?? {});
    if (!query.success) throw validationError(query.error, 'query');
    const exec = async () => toResponse(await spec.run({
      ctx, params: (event.pathParameters ?? {}) as Record<string, string>, query: query.data, body: body.success ? body.data : undefined, headers: event.headers ?? {},
      remainingMs: () => context.getRemainingTimeInMillis(),
    }, deps), requestId);
    const idempotent = typeof spec.idempotent === 'function' ? spec.idempotent(body.success ? body.data : undefined) : spec.idempotent;
    return idempotent && def.auth === 'jwt' ? withIdempotency(event, ctx, deps, exec, spec.oneTimeSecret) : exec();
  };
  return entryPoint<ApiEvent, ApiResponse>({
    kind: 'http',
    name: `edgefleet-api-${group}`,
    // API Gateway's request id (the one in x-request-id, problem bodies and audit events) and the path's ids.
    correlate: (event) => ({
      ...(event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}), ...correlationIds(event.pathParameters),
    }),
    middlewares: [{
      onError: async (request) => {
        request.response = problemResponse(request.error, request.event.requestContext?.requestId ?? 'unknown', request.event.rawPath);
      },
    }],
  }, core);
}

/** What a route group cannot run without: the tables lib/ binds to it (API_GROUPS) and the API's URL. */
export function httpRequirements(group: ApiGroup): RequiredSetting[] {
  const spec = API_GROUPS[group];
  return [
    ...(spec.stateTable !== 'none' ? ['stateTable' as const] : []),
    ...(spec.auditTable !== 'none' ? ['auditTable' as const] : []),
    'apiUrl',
  ];
}

/** The AWS dependencies of a route group, from the composition root (built at cold start). */
export const awsHttpDeps = (group: ApiGroup) => (): HttpDeps => awsRoot(httpRequirements(group)).http;
