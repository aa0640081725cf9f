/**
 * API Gateway's front door on its own thread: it accepts the callers' connections and reads their
 * requests on its own event loop, and forwards them over at most `upstreamSockets` kept-open
 * loopback connections to the main thread's server (api-gateway.ts: routes, authorizer, the
 * functions); more requests than that wait here, in local/wait-queue.ts's order. Node 20's libuv accepts one connection per listening socket per loop iteration; on
 * the main thread, whose iterations carry every function's work, a registration storm's
 * connections waited in the accept queue past the agents' 300 s header timeout. Here the loop only
 * moves bytes. Started by startApiFront (api-front.ts).
 */
import http from 'node:http';
import { parentPort, workerData } from 'node:worker_threads';
import { LISTEN_BACKLOG } from './listen-backlog.js';
import { GATEWAY_RECEIVED_HEADER, type ApiFrontStart, type FromApiFront, type ToApiFront } from './api-front-messages.js';
import { API_ROUTES, routeKey } from '../lib/api-routes.js';
import { TokenBucket } from './api-throttle.js';
import { compileRoutes, matchRoute } from './route-match.js';
import { BoundedSlots } from './wait-queue.js';
import { gatewayError } from './gateway-answer.js';

const main = parentPort!;
const start = workerData as ApiFrontStart;
const send = (m: FromApiFront) => main.postMessage(m);

/** Each connection's own headers (RFC 9110 §7.6.1), never forwarded; `expect` is answered here. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'proxy-authenticate', 'proxy-authorization', 'expect']);

const upstream = new http.Agent({ keepAlive: true, maxSockets: start.upstreamSockets, maxFreeSockets: start.upstreamSockets, scheduling: 'fifo' });

/** Each route's token bucket, as the stage says (api-throttle.ts); a route with no limit has none. */
const routes = compileRoutes(API_ROUTES);
const buckets = new Map<string, TokenBucket>();
for (const { route } of routes) {
  const key = routeKey(route);
  const limit = start.throttles.routes[key] ?? start.throttles.default;
  if (limit) buckets.set(key, new TokenBucket(limit, Date.now()));
}

/** The account's bucket, shared by every route: each request takes its token here first. */
const account = start.throttles.account ? new TokenBucket(start.throttles.account, Date.now()) : undefined;

/** False when the account's or the request's route's bucket is out of tokens: API Gateway answers it 429 before anything runs. */
function admitted(req: http.IncomingMessage): boolean {
  if (account && !account.take(Date.now())) return false;
  let pathname: string;
  try {
    pathname = new URL(req.url ?? '/', 'http://front').pathname;
  } catch {
    return true; // the functions' server answers what it cannot parse
  }
  const match = matchRoute(routes, (req.method ?? 'GET').toUpperCase(), pathname);
  return !match || (buckets.get(routeKey(match.c.route))?.take(Date.now()) ?? true);
}

/** What API Gateway answers when it cannot reach its integration. */
const unavailable = (res: http.ServerResponse) => gatewayError(res, 503, 'Service Unavailable');

/**
 * At most `upstreamSockets` requests are forwarded at a time; the others wait here, in the
 * order of local/wait-queue.ts (in order, newest first once the oldest has waited `lifoAfterMs`).
 */
const slots = new BoundedSlots('the API front door\'s connections to the functions', start.upstreamSockets, start.lifoAfterMs);

/** Sends one request to the main thread's server and its answer back to the caller. */
function forward(req: http.IncomingMessage, res: http.ServerResponse, received: number): void {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
  headers[GATEWAY_RECEIVED_HEADER] = String(received);
  const upstreamRequest = http.request({ host: '127.0.0.1', port: start.upstreamPort, method: req.method, path: req.url, headers, agent: upstream }, (answer) => {
    const out: string[] = [];
    for (let i = 0; i + 1 < answer.rawHeaders.length; i += 2) {
      if (!HOP_BY_HOP.has(answer.rawHeaders[i]!.toLowerCase())) out.push(answer.rawHeaders[i]!, answer.rawHeaders[i + 1]!);
    }
    // Answered before the whole body arrived (413): this connection cannot carry another request.
    if (!req.complete) out.push('connection', 'close');
    res.writeHead(answer.statusCode ?? 502, answer.statusMessage, out);
    answer.pipe(res);
    answer.on('error', () => res.destroy());
    answer.once('close', () => { if (!answer.complete) res.destroy(); });
  });
  // Done, failed or cut off: its place goes to the next waiting request.
  upstreamRequest.once('close', () => slots.release());
  upstreamRequest.once('error', () => {
    req.unpipe(upstreamRequest);
    req.resume();
    // Before any answer: the main thread's server is unreachable (stopping). After one began, the answer's own end decides.
    if (!res.headersSent) unavailable(res);
  });
  // The caller reset its connection mid-body: the forwarded request is cut off too.
  req.on('error', () => upstreamRequest.destroy());
  req.pipe(upstreamRequest);
  // The caller went away: so does its request (the function sees an aborted request, as before).
  res.once('close', () => { if (!res.writableFinished) upstreamRequest.destroy(); });
}

const server = http.createServer((req, res) => {
  if (!admitted(req)) {
    req.resume();
    gatewayError(res, 429, 'Too Many Requests');
    return;
  }
  const received = Date.now();
  /** Its caller left, or it was answered 503 here: never forwarded. */
  let gone = false;
  // Still waiting for a connection to the main thread at the HTTP API's longest integration
  // timeout: API Gateway would have answered 503 by now whatever the route, so do, and never
  // forward it. Once forwarded, the main thread applies the route's own timeout, counted from
  // `received` (api-gateway.ts).
  const queueTimer = setTimeout(() => {
    gone = true;
    process.stderr.write(`${JSON.stringify({
      level: 'WARN', method: req.method, path: req.url?.split('?')[0],
      message: `the request waited ${start.queueLimitMs / 1000} s in the local API's front door for a connection to the functions, the HTTP API's longest integration timeout: the caller got 503 {"message":"Service Unavailable"}, as from API Gateway, and the request was not run; the machine has more requests than its functions can take (see --function-concurrency)`,
    })}\n`);
    unavailable(res);
    req.resume();
  }, start.queueLimitMs);
  // The caller left before its turn: it is never forwarded.
  res.once('close', () => { clearTimeout(queueTimer); gone = true; });
  req.once('error', () => { gone = true; });
  void slots.acquire(() => gone).then((held) => {
    if (!held) return;
    // Its caller left in the moment between the slot's hand-over and now: the slot goes on.
    if (gone) { slots.release(); return; }
    clearTimeout(queueTimer);
    forward(req, res, received);
  });
});

main.on('message', (m: ToApiFront) => {
  if (m.type !== 'stop') return;
  server.close(() => send({ type: 'stopped' }));
  server.closeAllConnections();
  upstream.destroy();
});

server.once('error', (e: NodeJS.ErrnoException) => send({
  type: 'failed',
  message: e.code === 'EADDRINUSE' ? `port ${start.port} is already in use; stop what is using it or start with --port <another>` : e.message,
}));
server.listen({ port: start.port, host: start.host, backlog: LISTEN_BACKLOG }, () => {
  const address = server.address();
  send({ type: 'ready', port: typeof address === 'object' && address ? address.port : start.port });
});
