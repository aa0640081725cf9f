/**
 * The HTTP API's front door runs on its own thread (local/api-front-thread.ts): it accepts the
 * callers' connections while the main thread, where every function runs, is busy, and forwards
 * their requests over connections the main thread accepted once. Before, a registration storm's
 * connections waited in the main thread's accept queue (Node's libuv accepts one connection per
 * loop iteration) past the agents' 300 s header timeout.
 */
import { spawn } from 'node:child_process';
import http from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { startApiFront, type ApiFront } from '../../local/api-front.js';
import { GATEWAY_RECEIVED_HEADER } from '../../local/api-front-messages.js';

let upstream: http.Server;
let upstreamPort: number;
let front: ApiFront | undefined;
let held: { size: number; waiting: Array<() => void> } | undefined;
const hanging: Array<() => void> = [];
const seen: Array<{ method: string; url: string; headers: http.IncomingHttpHeaders; body: string }> = [];

beforeAll(async () => {
  upstream = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      seen.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      if (req.url!.startsWith('/teapot')) {
        res.writeHead(418, { 'content-type': 'application/problem+json', 'set-cookie': ['a=1', 'b=2'], 'x-amzn-requestid': 'r-1' });
        return res.end('{"title":"short and stout"}');
      }
      const answer = () => { res.writeHead(200, { 'content-type': 'text/plain' }); res.end(`ok ${req.url}`); };
      // Held until the test releases it.
      if (req.url!.startsWith('/hang')) return void hanging.push(answer);
      // Held until `held.size` of them are in flight at once (each on its own connection).
      if (held && req.url!.startsWith('/held')) {
        held.waiting.push(answer);
        if (held.waiting.length === held.size) for (const a of held.waiting.splice(0)) a();
        return;
      }
      answer();
    });
  });
  upstream.keepAliveTimeout = 0;
  await new Promise<void>((r) => upstream.listen(0, '127.0.0.1', () => r()));
  upstreamPort = (upstream.address() as AddressInfo).port;
  front = await startApiFront({ port: 0, host: '127.0.0.1', upstreamPort });
});
afterAll(async () => {
  await front?.stop();
  upstream.closeAllConnections();
  await new Promise<void>((r) => upstream.close(() => r()));
});

it('forwards the method, path, query, headers and body, and answers with the status, headers and body', async () => {
  const res = await fetch(`http://127.0.0.1:${front!.port}/teapot?x=1&x=2`, {
    method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t', 'x-custom': 'v' }, body: '{"a":1}',
  });
  expect(res.status).toBe(418);
  expect(res.headers.get('content-type')).toBe('application/problem+json');
  expect(res.headers.getSetCookie()).toEqual(['a=1', 'b=2']);
  expect(res.headers.get('x-amzn-requestid')).toBe('r-1');
  expect(await res.text()).toBe('{"title":"short and stout"}');
  const req = seen.at(-1)!;
  expect(req).toMatchObject({ method: 'POST', url: '/teapot?x=1&x=2', body: '{"a":1}' });
  expect(req.headers).toMatchObject({ 'content-type': 'application/json', authorization: 'Bearer t', 'x-custom': 'v', host: `127.0.0.1:${front!.port}` });
});

/** Callers in another process: on "go", open `n` new connections at once, one GET each, and print when all were answered 200. */
const CALLERS = `
const http = require('node:http');
const [port, n] = process.argv.slice(1).map(Number);
console.log('loaded');
process.stdin.once('data', () => {
  let left = n;
  for (let i = 0; i < n; i++) {
    http.get({ host: '127.0.0.1', port, path: '/c' + i, agent: false }, (res) => {
      res.resume();
      res.on('end', () => { if (res.statusCode !== 200) { console.log('status ' + res.statusCode); process.exit(1); } if (--left === 0) console.log('done'); });
    }).on('error', (e) => { console.log('error ' + e.message); process.exit(1); });
  }
});
`;

/**
 * How many iterations of a busy main thread (each blocked 50 ms, as by a function's work) `n` new
 * callers needed until all were answered.
 */
async function busyIterationsFor(port: number, n: number): Promise<number> {
  let iterations = 0;
  let busy = true;
  const spin = () => { if (!busy) return; Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50); iterations++; setImmediate(spin); };
  const child = spawn(process.execPath, ['-e', CALLERS, String(port), String(n)], { stdio: ['pipe', 'pipe', 'inherit'] });
  let out = '';
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        const loaded = !out.includes('loaded');
        out += d.toString();
        // The callers start once this thread is busy.
        if (loaded && out.includes('loaded')) { setImmediate(spin); child.stdin.write('go\n'); }
        if (out.includes('done')) resolve();
      });
      child.once('exit', (code) => { if (!out.includes('done')) reject(new Error(`callers exited ${code}: ${out}`)); });
    });
  } finally {
    busy = false;
    child.kill();
  }
  return iterations;
}

it('accepts new callers while the main thread is busy: their requests reach it over connections it already accepted', async () => {
  const n = 40;
  // The front's connections to the main thread, opened once: n requests in flight at once.
  held = { size: n, waiting: [] };
  await Promise.all(Array.from({ length: n }, (_, i) => fetch(`http://127.0.0.1:${front!.port}/held${i}`).then((r) => r.text())));
  held = undefined;
  expect(await new Promise((r) => upstream.getConnections((_e, c) => r(c)))).toBe(n);
  const throughFront = await busyIterationsFor(front!.port, n);
  // The same callers straight to a server on the busy thread: one accept per iteration.
  const direct = await busyIterationsFor(upstreamPort, n);
  expect(direct).toBeGreaterThanOrEqual(n);
  expect(throughFront).toBeLessThan(n / 4);
}, 30_000);

it('answers 503 as API Gateway does when the functions\' server is unreachable', async () => {
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', () => r()));
  const deadPort = (closed.address() as AddressInfo).port;
  await new Promise<void>((r) => closed.close(() => r()));
  const lonely = await startApiFront({ port: 0, host: '127.0.0.1', upstreamPort: deadPort });
  try {
    const res = await fetch(`http://127.0.0.1:${lonely.port}/v1/hosts`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ message: 'Service Unavailable' });
  } finally {
    await lonely.stop();
  }
});

it('a port in use is refused with the port named and what to do', async () => {
  await expect(startApiFront({ port: front!.port, host: '127.0.0.1', upstreamPort })).rejects
    .toThrow(`port ${front!.port} is already in use; stop what is using it or start with --port <another>`);
});

it('a caller that resets its connection mid-body cuts off its request, and the front keeps serving', async () => {
  const { connect } = await import('node:net');
  const before = seen.length;
  await new Promise<void>((resolve) => {
    const s = connect(front!.port, '127.0.0.1', () => {
      s.write('POST /half HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n{"a":');
      setTimeout(() => { s.resetAndDestroy(); resolve(); }, 100);
    });
    s.on('error', () => undefined);
  });
  const res = await fetch(`http://127.0.0.1:${front!.port}/after`);
  expect(await res.text()).toBe('ok /after');
  // The cut-off request never reached the functions as a whole request.
  expect(seen.slice(before).map((r) => r.url)).toEqual(['/after']);
});

it('stamps each forwarded request with when it arrived, replacing any value a caller sent', async () => {
  const before = Date.now();
  await (await fetch(`http://127.0.0.1:${front!.port}/stamped`, { headers: { [GATEWAY_RECEIVED_HEADER]: '1' } })).text();
  const stamp = Number(seen.at(-1)!.headers[GATEWAY_RECEIVED_HEADER]);
  expect(seen.at(-1)!.url).toBe('/stamped');
  expect(stamp).toBeGreaterThanOrEqual(before);
  expect(stamp).toBeLessThanOrEqual(Date.now());
});

it('a request still waiting for a connection to the functions at the longest integration timeout gets 503 and is never forwarded; the next one is', async () => {
  const narrow = await startApiFront({ port: 0, host: '127.0.0.1', upstreamPort, upstreamSockets: 1, queueLimitMs: 300 });
  const base = `http://127.0.0.1:${narrow.port}`;
  try {
    const first = fetch(`${base}/hang-first`);
    while (!seen.some((r) => r.url === '/hang-first')) await new Promise((r) => setTimeout(r, 10));
    // The one connection is taken: the second waits in the front, and is answered at 300 ms.
    const started = Date.now();
    const second = await fetch(`${base}/queued-second`);
    expect(second.status).toBe(503);
    expect(await second.json()).toEqual({ message: 'Service Unavailable' });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    // The first, forwarded in time, is the main thread's to answer (it applies the route's timeout).
    hanging.splice(0).forEach((a) => a());
    expect(await (await first).text()).toBe('ok /hang-first');
    expect(await (await fetch(`${base}/third`)).text()).toBe('ok /third');
    expect(seen.map((r) => r.url)).not.toContain('/queued-second');
  } finally {
    hanging.splice(0).forEach((a) => a());
    await narrow.stop();
  }
});

it.each([
  { order: 'in order while the oldest waited less than lifoAfterMs', lifoAfterMs: 60_000, forwarded: ['/q-1', '/q-2', '/q-3'] },
  { order: 'newest first once the oldest waited lifoAfterMs', lifoAfterMs: 0, forwarded: ['/q-3', '/q-2', '/q-1'] },
])('requests waiting for a connection to the functions are forwarded $order (local/wait-queue.ts); one whose caller left is never forwarded', async ({ lifoAfterMs, forwarded }) => {
  const narrow = await startApiFront({ port: 0, host: '127.0.0.1', upstreamPort, upstreamSockets: 1, lifoAfterMs });
  const base = `http://127.0.0.1:${narrow.port}`;
  try {
    const before = seen.length;
    const first = fetch(`${base}/hang-order-${lifoAfterMs}`);
    while (!seen.slice(before).some((r) => r.url.startsWith('/hang-order'))) await new Promise((r) => setTimeout(r, 10));
    const left = new AbortController();
    const queued: Array<Promise<string>> = [];
    for (const path of ['/q-1', '/q-left', '/q-2', '/q-3']) {
      const signal = path === '/q-left' ? left.signal : undefined;
      const answer = fetch(`${base}${path}`, signal ? { signal } : {});
      if (signal) answer.catch(() => undefined);
      else queued.push(answer.then((a) => a.text()));
      await new Promise((r) => setTimeout(r, 50)); // each arrives in the front before the next
    }
    left.abort();
    await new Promise((r) => setTimeout(r, 50));
    hanging.splice(0).forEach((a) => a());
    expect(await (await first).text()).toBe(`ok /hang-order-${lifoAfterMs}`);
    expect(await Promise.all(queued)).toEqual(['ok /q-1', 'ok /q-2', 'ok /q-3']);
    expect(seen.slice(before + 1).map((r) => r.url)).toEqual(forwarded);
  } finally {
    hanging.splice(0).forEach((a) => a());
    await narrow.stop();
  }
});

it('throttles each route as API Gateway\'s stage does: past its bucket, 429 {"message":"Too Many Requests"} at once and never forwarded; other routes go on', async () => {
  const throttled = await startApiFront({ port: 0, host: '127.0.0.1', upstreamPort, throttles: { routes: { 'GET /healthz': { rateLimit: 1, burstLimit: 2 } } } });
  const base = `http://127.0.0.1:${throttled.port}`;
  try {
    const before = seen.length;
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push(await fetch(`${base}/healthz?n=${i}`));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 429]);
    expect(await answers[2]!.json()).toEqual({ message: 'Too Many Requests' });
    // Another route, and a path no route has, have buckets of their own (or none).
    expect((await fetch(`${base}/v1/hosts`)).status).toBe(200);
    expect((await fetch(`${base}/teapot`)).status).toBe(418);
    expect(seen.slice(before).map((r) => r.url)).toEqual(['/healthz?n=0', '/healthz?n=1', '/v1/hosts', '/teapot']);
    // A second later the route has a token again.
    await new Promise((r) => setTimeout(r, 1_050));
    expect((await fetch(`${base}/healthz?n=3`)).status).toBe(200);
  } finally {
    await throttled.stop();
  }
});

it('takes every request\'s token from the account\'s bucket first, whatever its route: past it, 429 on every route', async () => {
  const throttled = await startApiFront({ port: 0, host: '127.0.0.1', upstreamPort, throttles: { routes: { 'GET /healthz': { rateLimit: 100, burstLimit: 100 } }, account: { rateLimit: 1, burstLimit: 3 } } });
  const base = `http://127.0.0.1:${throttled.port}`;
  try {
    const before = seen.length;
    const statuses = [];
    for (const path of ['/healthz', '/v1/hosts', '/teapot', '/healthz', '/v1/hosts']) statuses.push((await fetch(`${base}${path}`)).status);
    expect(statuses).toEqual([200, 200, 418, 429, 429]);
    expect(seen.slice(before).map((r) => r.url)).toEqual(['/healthz', '/v1/hosts', '/teapot']);
  } finally {
    await throttled.stop();
  }
});
