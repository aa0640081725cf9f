import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EXIT_INTERRUPTED, MAX_FAILED_POLLS, parseInterval, pollOperation } from '../../cli/commands/operations-watch.js';
import { ApiError, EXIT, UnreachableError } from '../../cli/errors.js';
import {
  describeOperationChange, diffOperation, fitWidth, formatDuration, outcomeExitCode, parseRetryAfter, redrawPrefix, renderOperationFrame,
  terminalText, type Operation,
} from '../../cli/progress.js';
import { runCliAt } from './cli-fake-api.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');

function op(over: Partial<Operation> = {}): Operation {
  return {
    id: 'op-1', project: 'default', type: 'cluster.create', target: { type: 'cluster', id: 'c-1' },
    status: 'queued', step: 'begin', hosts: {}, startedAt: new Date(T0).toISOString(), ...over,
  };
}

const running = op({
  status: 'running', step: 'join-control-plane', deadline: '2026-11-24T10:30:00Z',
  hosts: {
    'hw-2': { status: 'sent', step: 'join-worker' },
    'hw-1': { status: 'succeeded', step: 'init', detail: 'node Ready', at: '2026-11-24T10:01:00Z' },
  },
});
const failed = op({
  status: 'failed', step: 'join-workers', reason: 'host hw-2 did not report Ready within 10m', endedAt: '2026-11-24T10:12:30Z',
  hosts: { 'hw-1': { status: 'succeeded', step: 'init' }, 'hw-2': { status: 'timed-out', step: 'join-worker', detail: 'no answer' } },
});

describe('operation frames', () => {
  it('shows a queued operation: header only, elapsed, deadline none', () => {
    expect(renderOperationFrame(op(), { now: T0 + 5_000, width: 100 })).toEqual([
      'Operation op-1  cluster.create on cluster/c-1',
      'Status: queued  step: begin  elapsed: 5s',
    ]);
  });

  it('shows a running operation with one row per host in id order and the deadline', () => {
    expect(renderOperationFrame(running, { now: T0 + 65_000, width: 100 })).toEqual([
      'Operation op-1  cluster.create on cluster/c-1',
      'Status: running  step: join-control-plane  elapsed: 1m05s',
      'Deadline: 2026-11-24T10:30:00Z (in 28m55s)',
      '',
      '   HOST  STATUS     STEP         DETAIL',
      '✔  hw-1  succeeded  init         node Ready',
      '→  hw-2  sent       join-worker  -',
    ]);
  });

  it('ends a failed operation with the step and reason, and drops the deadline', () => {
    const lines = renderOperationFrame(failed, { now: T0 + 999_999, width: 100 });
    expect(lines.slice(-4)).toEqual(['✔  hw-1  succeeded  init         -', '✖  hw-2  timed-out  join-worker  no answer', '',
      'Failed after 12m30s at step join-workers: host hw-2 did not report Ready within 10m']);
    expect(lines.join('\n')).not.toContain('Deadline');
  });

  it('fits every line to the terminal width so a redraw knows how many rows to go back', () => {
    const wide = op({ status: 'running', hosts: { 'hw-1': { status: 'progress', step: 'init', detail: 'x'.repeat(300) } } });
    const lines = renderOperationFrame(wide, { now: T0, width: 40 });
    for (const l of lines) expect(Array.from(l).length).toBeLessThanOrEqual(40);
    expect(lines.at(-1)).toMatch(/x…$/);
  });

  it('keeps a frame within the terminal height: trouble and work in flight first, the rest summed up', () => {
    const hosts: Operation['hosts'] = {};
    for (let i = 1; i <= 20; i++) hosts[`hw-${String(i).padStart(2, '0')}`] = { status: 'succeeded' };
    hosts['hw-07'] = { status: 'failed', detail: 'join failed' };
    hosts['hw-15'] = { status: 'progress' };
    const lines = renderOperationFrame(op({ status: 'running', hosts }), { now: T0, width: 80, maxLines: 8 });
    expect(lines).toHaveLength(8);
    expect(lines.slice(3)).toEqual([
      '   HOST   STATUS     STEP  DETAIL',
      '✔  hw-01  succeeded  -     -',
      '✖  hw-07  failed     -     join failed',
      '▸  hw-15  progress   -     -',
      '… 17 more host(s): 17 succeeded',
    ]);
    expect(renderOperationFrame(op({ status: 'running', hosts }), { now: T0, width: 80 })).toHaveLength(24);
  });

  it('colors only the status mark and words, after fitting, and only when asked', () => {
    const plain = renderOperationFrame(running, { now: T0, width: 100 });
    expect(plain.join('\n')).not.toContain('\x1b');
    const colored = renderOperationFrame(running, { now: T0, width: 100, color: true });
    expect(colored[5]).toBe('\x1b[32m✔\x1b[0m  hw-1  succeeded  init         node Ready');
  });

  it.each([
    ['ANSI color and clear-screen', 'ok\x1b[31m red\x1b[2J\x1b[0m', 'ok red'],
    ['newlines and tabs', 'line1\nline2\r\n\tline3', 'line1 line2 line3'],
    ['OSC title / hyperlink', 'a\x1b]0;pwned\x07b\x1b]8;;http://x\x1b\\c', 'abc'],
    ['8-bit CSI and a lone ESC', 'a\x9b2Jb\x1bc', 'ab c'],
    ['bidi override', 'abc\u202edcba', 'abc dcba'],
  ])('neutralizes hostile text: %s', (_name, input, expected) => {
    expect(terminalText(input)).toBe(expected);
    const frame = renderOperationFrame(op({ status: 'running', hosts: { 'hw-1': { status: 'progress', detail: input } } }), { now: T0, width: 200 });
    expect(frame.join('')).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
  });

  it('neutralizes hostile host ids and reasons in log lines too', () => {
    const at = new Date(T0);
    expect(describeOperationChange({ what: 'host', host: 'hw-1\x1b[2J', status: 'failed', detail: 'boom\nFAKE: ok' }, at)).toBe('10:00:00  host hw-1  ✖ failed: boom FAKE: ok');
    expect(describeOperationChange({ what: 'reason', reason: 'x\x1b]0;t\x07y' }, at)).toBe('10:00:00  reason: xy');
  });

  it.each([
    [0, '0s'], [59_999, '59s'], [60_000, '1m00s'], [3_599_000, '59m59s'], [3_600_000, '1h00m'], [-5, '0s'],
  ])('formats %d ms as %s', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });

  it.each([
    ['short', 5, 'short'], ['longer line', 5, 'long…'], ['ab', 1, 'a'], ['✔✔✔✔', 3, '✔✔…'],
  ])('fits %j into %d columns', (line, width, expected) => {
    expect(fitWidth(line, width)).toBe(expected);
  });

  it('redraws by moving up the previous frame and clearing below', () => {
    expect(redrawPrefix(0)).toBe('');
    expect(redrawPrefix(3)).toBe('\x1b[3A\r\x1b[0J');
  });
});

describe('operation changes', () => {
  it('reports the start, then status, step, changed hosts and the reason', () => {
    expect(diffOperation(undefined, op())).toEqual([{ what: 'started', type: 'cluster.create', target: 'cluster/c-1', status: 'queued', step: 'begin' }]);
    expect(diffOperation(op(), running)).toEqual([
      { what: 'status', from: 'queued', to: 'running' },
      { what: 'step', from: 'begin', to: 'join-control-plane' },
      { what: 'host', host: 'hw-1', status: 'succeeded', step: 'init', detail: 'node Ready' },
      { what: 'host', host: 'hw-2', status: 'sent', step: 'join-worker' },
    ]);
    expect(diffOperation(running, running)).toEqual([]);
    expect(diffOperation(running, failed)).toEqual([
      { what: 'status', from: 'running', to: 'failed' },
      { what: 'step', from: 'join-control-plane', to: 'join-workers' },
      { what: 'host', host: 'hw-1', status: 'succeeded', step: 'init' },
      { what: 'host', host: 'hw-2', status: 'timed-out', step: 'join-worker', detail: 'no answer' },
      { what: 'reason', reason: 'host hw-2 did not report Ready within 10m' },
    ]);
  });

  it.each([
    ['succeeded', EXIT.ok], ['failed', EXIT.conflict], ['cancelled', EXIT.conflict],
  ])('exits for %s with %d', (status, code) => {
    expect(outcomeExitCode(status)).toBe(code);
  });

  it.each([
    [undefined, undefined], ['', undefined], ['3', 3000], ['Tue, 24 Nov 2026 10:00:10 GMT', 10_000], ['soon', undefined],
  ])('reads Retry-After %j as %j ms', (value, ms) => {
    expect(parseRetryAfter(value, T0)).toBe(ms);
  });

  it.each([
    ['250ms', 250], ['1s', 1000], ['2.5s', 2500], ['3', 3000], ['1m', 60_000],
  ])('parses --interval %s', (text, ms) => {
    expect(parseInterval(text)).toBe(ms);
  });

  it.each([['100ms'], ['0'], ['2m'], ['fast']])('refuses --interval %s', (text) => {
    expect(() => parseInterval(text)).toThrow(/interval|duration/);
  });
});

describe('the poll loop', () => {
  const base = { intervalMs: 250, now: () => T0, onUpdate: () => {}, onRetry: () => {} };

  it('backs off on 429/5xx using Retry-After, then ends on a terminal status', async () => {
    const answers: (Operation | ApiError)[] = [op(), new ApiError('get', 429, undefined, ''), new ApiError('get', 503, undefined, ''), running, failed];
    const waits: number[] = [];
    const retries: string[] = [];
    const headers = [null, '5', null, null, null];
    let i = 0;
    const final = await pollOperation({
      ...base,
      signal: new AbortController().signal,
      get: async () => {
        const a = answers[i++]!;
        if (a instanceof ApiError) throw a;
        return a;
      },
      retryAfter: () => headers[i - 1],
      sleep: async (ms) => void waits.push(ms),
      onRetry: (why) => retries.push(why),
    });
    expect(final?.status).toBe('failed');
    expect(retries).toEqual(['the control plane is throttling (HTTP 429)', 'the control plane answered HTTP 503']);
    expect(waits).toEqual([250, 5000, 1000, 250]); // interval, Retry-After 5s, back-off 250·2², interval
  });

  it.each([
    ['a 404', new ApiError('get', 404, undefined, '')],
    ['an unreachable control plane on the first poll', new UnreachableError('get', 'http://127.0.0.1:1', 'connection refused')],
  ])('gives up at once on %s', async (_name, err) => {
    await expect(pollOperation({ ...base, signal: new AbortController().signal, get: async () => { throw err; }, retryAfter: () => null, sleep: async () => {} })).rejects.toBe(err);
  });

  it(`gives up after ${MAX_FAILED_POLLS} failed polls in a row`, async () => {
    let calls = 0;
    const err = new ApiError('get', 500, undefined, '');
    await expect(pollOperation({ ...base, signal: new AbortController().signal, get: async () => { calls++; throw err; }, retryAfter: () => null, sleep: async () => {} })).rejects.toBe(err);
    expect(calls).toBe(MAX_FAILED_POLLS);
  });

  it('stops when aborted (Ctrl-C), even during a slow request, without another request', async () => {
    const ac = new AbortController();
    let calls = 0;
    const final = await pollOperation({
      ...base, signal: ac.signal, retryAfter: () => null, sleep: async () => {},
      get: () => {
        calls++;
        if (calls === 2) setTimeout(() => ac.abort(), 5);
        return calls === 1 ? Promise.resolve(running) : new Promise<Operation>(() => {});
      },
    });
    expect(final).toBeUndefined();
    expect(calls).toBe(2);
  });
});

describe('edgefleet operations watch against a fake API', () => {
  let server: Server;
  let url = '';
  let dir = '';
  let script: { status: number; body: unknown; headers?: Record<string, string> }[] = [];
  const seen: string[] = [];
  const sigintListeners = process.listenerCount('SIGINT');

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ef-cli-watch-'));
    server = createServer((req: IncomingMessage, res) => {
      seen.push(`${req.method} ${req.url}`);
      const next = script.length > 1 ? script.shift()! : script[0]!;
      const problem = next.status >= 400;
      res.writeHead(next.status, { 'content-type': problem ? 'application/problem+json' : 'application/json', ...next.headers });
      res.end(JSON.stringify(next.body));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
    rmSync(dir, { recursive: true, force: true });
  });
  beforeEach(() => {
    seen.length = 0;
  });

  const run = (args: string[], opts: { isTTY?: boolean } = {}) => runCliAt({ url, dir, columns: '80' }, args, opts);

  const ok = (body: Operation) => ({ status: 200, body });

  it('prints one line per change and exits 4 with the reason when the operation fails', async () => {
    script = [ok(op()), ok(running), ok(running), ok(failed)];
    const r = await run(['operations', 'watch', 'op-1', '--interval', '250ms']);
    expect(r.code).toBe(EXIT.conflict);
    const lines = r.stdout.trimEnd().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d {2}/, ''));
    expect(lines).toEqual([
      'cluster.create on cluster/c-1: queued, step begin',
      'status queued → running',
      'step begin → join-control-plane',
      'host hw-1  ✔ succeeded  init: node Ready',
      'host hw-2  → sent  join-worker',
      'status running → failed',
      'step join-control-plane → join-workers',
      'host hw-1  ✔ succeeded  init',
      'host hw-2  ✖ timed-out  join-worker: no answer',
      'reason: host hw-2 did not report Ready within 10m',
      'Failed after 12m30s at step join-workers: host hw-2 did not report Ready within 10m',
    ]);
    expect(r.stderr).toContain('Details: edgefleet operations get op-1');
    expect(seen).toEqual(Array(4).fill('GET /v1/operations/op-1'));
  });

  it('writes JSON lines with -o json, retries a 503 with Retry-After, and exits 0 on success', async () => {
    const done = op({ status: 'succeeded', step: 'finish', endedAt: '2026-11-24T10:03:00Z' });
    script = [ok(running), { status: 503, body: { type: 'about:blank', title: 'busy', status: 503, code: 'unavailable', detail: 'busy' }, headers: { 'retry-after': '0' } }, ok(done)];
    const r = await run(['operations', 'watch', 'op-1', '--interval', '250ms', '-o', 'json']);
    expect(r.code).toBe(EXIT.ok);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { what: string; operationId: string });
    expect(events.map((e) => e.what)).toEqual(['started', 'host', 'host', 'retry', 'status', 'step', 'outcome']);
    expect(events.at(-1)).toMatchObject({ what: 'outcome', status: 'succeeded', operationId: 'op-1' });
    expect(r.stderr).toBe('');
  });

  it('redraws a frame in place on a terminal and keeps hostile details out of it', async () => {
    const hostile = op({ status: 'running', hosts: { 'hw-1': { status: 'progress', detail: 'evil\x1b[2J\x1b]0;title\x07\ninjected' } } });
    script = [ok(hostile), ok(failed)];
    const r = await run(['operations', 'watch', 'op-1', '--interval', '250ms'], { isTTY: true });
    expect(r.code).toBe(EXIT.conflict);
    const firstFrameRows = renderOperationFrame(hostile, { now: Date.now(), width: 80 }).length;
    expect(r.stdout).toContain(`\x1b[${firstFrameRows}A\r\x1b[0J`);
    expect(r.stdout).toContain('evil injected');
    expect(r.stdout).not.toContain('\x1b[2J');
    expect(r.stdout).not.toContain('\x1b]0;');
    expect(r.stdout).toContain('Failed after 12m30s at step join-workers');
  });

  it('stops on Ctrl-C without touching the operation, says how to resume, and exits 130', async () => {
    script = [ok(running)];
    const watching = run(['operations', 'watch', 'op-1', '--interval', '250ms']);
    while (seen.length < 2) await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGINT');
    const r = await watching;
    expect(r.code).toBe(EXIT_INTERRUPTED);
    expect(r.stderr).toContain('Stopped watching operation op-1; it keeps running (nothing was cancelled)');
    expect(r.stderr).toContain('Resume with: edgefleet operations watch op-1');
    expect(new Set(seen)).toEqual(new Set(['GET /v1/operations/op-1']));
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
  });

  it('exits 3 with advice when the operation does not exist', async () => {
    script = [{ status: 404, body: { type: 'about:blank', title: 'Not Found', status: 404, code: 'not-found', detail: 'operation op-x not found' } }];
    const r = await run(['operations', 'watch', 'op-x']);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toContain('operation op-x not found');
    expect(r.stderr).toContain('edgefleet operations list');
  });

  it('documents the interrupt exit code and refuses a too-short interval', async () => {
    expect(EXIT_INTERRUPTED).toBe(130);
    const r = await run(['operations', 'watch', 'op-1', '--interval', '10ms']);
    expect(r.code).toBe(EXIT.usage);
    expect(seen).toEqual([]);
  });
});
