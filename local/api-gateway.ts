import http from 'node:http';
import { randomUUID } from 'node:crypto';
import type { Context } from 'aws-lambda';
import { API_ROUTES, routeKey, type ApiGroup } from '../lib/api-routes.js';
import type { ApiEvent, ApiResponse } from '../lambdas/handlers/http/framework.js';
import type { LocalIssuer } from './local-issuer.js';
import { syntheticContext } from '../lambdas/handlers/kit.js';
import { CallerGoneError, FunctionTimedOutError } from './lambda-invocation.js';
import { HTTP_API_INTEGRATION_TIMEOUT_MS } from './function-timeouts.js';
import { GATEWAY_RECEIVED_HEADER } from './api-front-messages.js';
import { compileRoutes, matchRoute } from './route-match.js';
import { gatewayError } from './gateway-answer.js';

/** API Gateway's payload limit. */
const MAX_REQUEST_BYTES = 10 * 1024 * 1024;

export type GroupHandler = (event: ApiEvent, context: Context) => Promise<ApiResponse>;

/** API Gateway HTTP APIs hand claims to Lambda as strings; arrays become "[a b]". */
function flattenClaims(claims: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(claims)) out[k] = Array.isArray(v) ? `[${v.join(' ')}]` : typeof v === 'string' ? v : JSON.stringify(v);
  return out;
}

/** Calls a route group's function as one Lambda invocation (local/lambda-invocation.ts: its timeout, its freeze). */
export type GroupInvoker = (
  group: ApiGroup, requestId: string, call: (context: Context) => Promise<ApiResponse>,
  /** True once nobody waits for the answer: the caller closed its connection, or the integration timeout passed (the invocation may then not run at all). */
  callerGone: () => boolean,
) => Promise<ApiResponse>;

const plainCall: GroupInvoker = (group, requestId, call) => call(syntheticContext(`edgefleet-api-${group}`, requestId));

/**
 * A node:http server that behaves like the deployed HTTP API: the same route table, the JWT
 * authorizer's checks (signature, issuer, audience, expiry), payload-2.0 events, and the same
 * handler exports.
 */
export function createApiGateway(
  handlers: Readonly<Record<ApiGroup, GroupHandler>>, issuer: LocalIssuer,
  /** Other services on the same port (e.g. the local bundle bucket); true when it took the request. */
  intercept?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean,
  invoke: GroupInvoker = plainCall,
  /** How long the API waits for a route group's function (its integration's timeout), in ms. */
  integrationTimeoutMs: (group: ApiGroup) => number = () => HTTP_API_INTEGRATION_TIMEOUT_MS,
): http.Server {
  const compiled = compileRoutes(API_ROUTES);
  return http.createServer((req, res) => {
    if (intercept?.(req, res)) return;
    const chunks: Buffer[] = [];
    let size = 0;
    let refused = false;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES && !refused) {
        refused = true;
        gatewayError(res, 413, 'Request Entity Too Large');
        req.destroy();
      } else if (!refused) chunks.push(c);
    });
    req.on('end', () => {
      if (refused) return;
      handle(req, Buffer.concat(chunks).toString('utf8'), res).catch((e: unknown) => {
        if (e instanceof CallerGoneError) return; // nobody to answer, nothing ran
        // What an HTTP API answers when its Lambda integration fails, a timeout included.
        if (!res.headersSent) gatewayError(res, 500, 'Internal Server Error');
        const timedOut = e instanceof FunctionTimedOutError;
        process.stderr.write(`${JSON.stringify({
          level: 'ERROR', message: timedOut ? 'the route\'s function timed out: the caller got 500 {"message":"Internal Server Error"}, as from API Gateway' : 'local gateway failure',
          error: timedOut ? (e as Error).message : String((e as Error)?.stack ?? e),
        })}\n`);
      });
    });
    req.on('error', () => undefined);
  });

  async function handle(req: http.IncomingMessage, body: string, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://local');
    const method = (req.method ?? 'GET').toUpperCase();
    const match = matchRoute(compiled, method, url.pathname);
    if (!match) return gatewayError(res, 404, 'Not Found');
    const { route } = match.c;
    const pathParameters: Record<string, string> = {};
    try {
      match.c.params.forEach((name, i) => { pathParameters[name] = decodeURIComponent(match!.values[i]!); });
    } catch {
      return gatewayError(res, 400, 'Bad Request');
    }
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k.toLowerCase()] = Array.isArray(v) ? v.join(',') : v;
    // When the front door received the request (it waited there for a connection); not the function's to see.
    const receivedAt = Number(headers[GATEWAY_RECEIVED_HEADER]);
    delete headers[GATEWAY_RECEIVED_HEADER];

    let claims: Record<string, string> | undefined;
    if (route.auth === 'jwt') {
      const auth = headers.authorization ?? '';
      const token = /^Bearer\s+(.+)$/i.exec(auth)?.[1];
      if (!token) return gatewayError(res, 401, 'Unauthorized');
      try {
        claims = flattenClaims(await issuer.verify(token.trim()) as Record<string, unknown>);
      } catch {
        return gatewayError(res, 401, 'Unauthorized');
      }
    }
    const query: Record<string, string> = {};
    for (const [k, v] of url.searchParams) query[k] = query[k] === undefined ? v : `${query[k]},${v}`;
    const requestId = randomUUID();
    const now = new Date();
    const event = {
      version: '2.0',
      routeKey: routeKey(route),
      rawPath: url.pathname,
      rawQueryString: url.search.slice(1),
      headers,
      ...(Object.keys(query).length ? { queryStringParameters: query } : {}),
      ...(Object.keys(pathParameters).length ? { pathParameters } : {}),
      ...(body.length ? { body } : {}),
      isBase64Encoded: false,
      requestContext: {
        accountId: '000000000000', apiId: 'local', domainName: headers.host ?? 'localhost', domainPrefix: 'local',
        http: { method, path: url.pathname, protocol: 'HTTP/1.1', sourceIp: req.socket.remoteAddress ?? '127.0.0.1', userAgent: headers['user-agent'] ?? '' },
        requestId, routeKey: routeKey(route), stage: '$default', time: now.toUTCString(), timeEpoch: now.getTime(),
        ...(claims ? { authorizer: { jwt: { claims, scopes: null } } } : {}),
      },
    } as unknown as ApiEvent;
    // API Gateway waits for its integration at most its timeout, then answers 503 whatever the
    // function is doing (Lambda lets a running invocation go on; its answer goes nowhere). Here
    // the wait includes this machine's wait for a concurrency slot, and an invocation still
    // waiting for one when the API gave up does not run.
    // The timeout counts from the front door's receipt: its wait for a connection here counts too.
    let gaveUp = false;
    const limitMs = integrationTimeoutMs(route.group);
    const waitedMs = Number.isFinite(receivedAt) ? Math.max(0, Date.now() - receivedAt) : 0;
    const unavailable = () => {
      process.stderr.write(`${JSON.stringify({
        level: 'WARN', requestId, routeKey: routeKey(route),
        message: `the route's function did not answer within the HTTP API's integration timeout (${limitMs / 1000} s): the caller got 503 {"message":"Service Unavailable"}, as from API Gateway; on this machine the wait includes the request's wait in the API's front door and the function's queue for a local concurrency slot`,
      })}\n`);
      gatewayError(res, 503, 'Service Unavailable');
    };
    if (waitedMs >= limitMs) return unavailable(); // never run: nobody waits for its answer
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => { timer = setTimeout(() => resolve('timeout'), limitMs - waitedMs); });
    const running = invoke(route.group, requestId, (context) => handlers[route.group](event, context), () => gaveUp || req.socket.destroyed);
    const out = await Promise.race([running, deadline]).finally(() => clearTimeout(timer));
    if (out === 'timeout') {
      gaveUp = true;
      running.catch(() => undefined); // its outcome has nobody to go to
      return unavailable();
    }
    res.writeHead(out.statusCode ?? 200, { 'x-amzn-requestid': requestId, ...(out.headers as Record<string, string> | undefined) });
    res.end(out.body ?? '');
  }
}
