/**
 * A fake EdgeFleet API on loopback for the CLI unit tests: a test file keeps its own routes and
 * the requests seen, runs the real CLI (runCli) against the server and reads what was sent.
 */
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../cli/program.js';

export interface FakeRequest<Q = URLSearchParams> { method: string; path: string; query: Q; headers: IncomingHttpHeaders; body: unknown }
export interface FakeReply { status: number; body?: unknown; headers?: Record<string, string> }
export type FakeRoute<Q = URLSearchParams> = (r: FakeRequest<Q>) => FakeReply | undefined;

export function problem(status: number, code: string, detail: string): FakeReply {
  return { status, body: { type: 'about:blank', title: 'Problem', status, code, detail, requestId: 'req-9' } };
}

export const on = <Q = URLSearchParams>(method: string, path: string, reply: FakeReply | ((r: FakeRequest<Q>) => FakeReply)): FakeRoute<Q> => (r) =>
  r.method === method && r.path === path ? (typeof reply === 'function' ? reply(r) : reply) : undefined;

/** Answers a GET with each body in turn, then keeps answering the last. */
export const sequence = <T>(path: string, ...bodies: T[]): FakeRoute => {
  let i = 0;
  return on('GET', path, () => ({ status: 200, body: bodies[Math.min(i++, bodies.length - 1)] }));
};

export interface CliTarget {
  readonly url: string;
  /** HOME and working directory of the CLI. */
  readonly dir: string;
  /** Terminal width (COLUMNS), when the test pins it. */
  readonly columns?: string;
}

/** Runs the CLI in-process against `t`, with a token and no config file. */
export async function runCliAt(t: CliTarget, args: string[], opts: { isTTY?: boolean } = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, {
    env: { HOME: t.dir, EDGEFLEET_CONFIG: join(t.dir, 'none.json'), EDGEFLEET_URL: t.url, EDGEFLEET_TOKEN: 't', ...(t.columns ? { COLUMNS: t.columns } : {}) },
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    cwd: t.dir,
    isTTY: opts.isTTY,
  });
  return { code, stdout: out.join(''), stderr: err.join('') };
}

export interface FakeApiOptions<Q> {
  /** Prefix of the temporary HOME. */
  readonly name: string;
  /** The test file's routes, asked in order; the first answer wins (else a 500 no-route problem). */
  readonly routes: () => readonly FakeRoute<Q>[];
  /** Receives every request. */
  readonly seen: FakeRequest<Q>[];
  /** The query as the file's tests read it. */
  readonly query: (p: URLSearchParams) => Q;
  readonly columns?: string;
}

/** Starts the server before the file's tests and stops it after; returns how to run the CLI on it. */
export function fakeApi<Q>(o: FakeApiOptions<Q>) {
  let server: Server;
  let target: CliTarget = { url: '', dir: '' };
  beforeAll(async () => {
    const home = mkdtempSync(join(tmpdir(), o.name));
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (c: Buffer) => (text += c.toString()));
      req.on('end', () => {
        const u = new URL(req.url ?? '/', 'http://x');
        const r: FakeRequest<Q> = { method: req.method ?? '', path: u.pathname, query: o.query(u.searchParams), headers: req.headers, body: text ? JSON.parse(text) : undefined };
        o.seen.push(r);
        const reply = o.routes().map((f) => f(r)).find(Boolean) ?? problem(500, 'no-route', `no fake route for ${r.method} ${r.path}`);
        res.writeHead(reply.status, { 'content-type': reply.status >= 400 ? 'application/problem+json' : 'application/json', ...reply.headers });
        res.end(reply.body === undefined ? '' : JSON.stringify(reply.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    target = { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, dir: home, columns: o.columns };
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(target.dir, { recursive: true, force: true });
  });
  return {
    run: (args: string[], opts: { isTTY?: boolean } = {}) => runCliAt(target, args, opts),
    /** How many GETs the CLI sent. */
    gets: () => o.seen.filter((r) => r.method === 'GET').length,
  };
}
