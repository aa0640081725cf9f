/**
 * `edgefleet operations watch <id>` and the `--watch` of the cluster commands: polls
 * GET /v1/operations/{id} until the operation ends, backing off on 429/5xx (Retry-After),
 * and shows it live: a frame redrawn in place on a terminal, one line per change otherwise,
 * JSON lines with `-o json`. Ctrl-C stops watching; the operation itself is not touched.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { ApiClient } from '../client.js';
import { requireConnection } from '../config.js';
import { action, addCommonOptions, examples, type CliRuntime, type Session } from '../context.js';
import { ApiError, EXIT, UnreachableError, type ExitCode } from '../errors.js';
import {
  describeOperationChange, diffOperation, isTerminal, outcomeExitCode, parseRetryAfter, redrawPrefix, renderOperationFrame, renderOutcome,
  type Operation,
} from '../progress.js';

export const MIN_INTERVAL_MS = 250;
const MAX_INTERVAL_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
/** Consecutive failed polls (throttled, 5xx, unreachable) before the watch gives up. */
export const MAX_FAILED_POLLS = 12;
/** Exit code when Ctrl-C stops the watch (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED: ExitCode = EXIT.interrupted;

/** `500ms`, `1s`, `2.5s`, `1m`, or a bare number of seconds; at least 250 ms, at most 60 s. */
export function parseInterval(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (!m) throw new InvalidArgumentError('expected a duration such as 500ms, 1s or 2.5s');
  const ms = Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 'm' ? 60_000 : 1000);
  if (ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS) throw new InvalidArgumentError('expected an interval from 250ms to 60s');
  return Math.round(ms);
}

export const INTERVAL_HELP = 'time between polls, e.g. 500ms, 2s (default 1s, at least 250ms)';

export interface PollDeps {
  /** One GET of the operation; throws ApiError / UnreachableError. */
  readonly get: () => Promise<Operation>;
  /** The Retry-After header of the last response, if any. */
  readonly retryAfter: () => string | null | undefined;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly onUpdate: (op: Operation) => void;
  /** A poll failed and will be retried after waitMs. */
  readonly onRetry: (why: string, waitMs: number) => void;
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

function retryable(err: unknown, seenOnce: boolean): string | undefined {
  if (err instanceof ApiError && (err.status === 429 || err.status === 408 || err.status >= 500)) {
    return err.status === 429 ? 'the control plane is throttling (HTTP 429)' : `the control plane answered HTTP ${err.status}`;
  }
  // A first poll that cannot connect is a wrong URL; later, the control plane is restarting.
  if (err instanceof UnreachableError && seenOnce) return `cannot reach the control plane (${err.reason})`;
  return undefined;
}

/**
 * Polls until the operation reaches succeeded/failed/cancelled (returns it) or the signal is
 * aborted (returns undefined). Throttling, 5xx and (after the first answer) connection
 * failures are retried with Retry-After or an exponential back-off; anything else is thrown.
 */
export async function pollOperation(d: PollDeps): Promise<Operation | undefined> {
  const now = d.now ?? Date.now;
  let failures = 0;
  let seen = false;
  // Ctrl-C must not wait for a slow request to finish.
  const aborted = new Promise<undefined>((resolve) => {
    if (d.signal.aborted) resolve(undefined);
    d.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  while (!d.signal.aborted) {
    let wait = d.intervalMs;
    try {
      const op = await Promise.race([d.get(), aborted]);
      if (!op || d.signal.aborted) return undefined;
      seen = true;
      failures = 0;
      d.onUpdate(op);
      if (isTerminal(op.status)) return op;
    } catch (err) {
      const why = retryable(err, seen);
      if (!why || ++failures >= MAX_FAILED_POLLS) throw err;
      const backoff = Math.min(MAX_BACKOFF_MS, d.intervalMs * 2 ** failures);
      wait = Math.max(d.intervalMs, parseRetryAfter(d.retryAfter(), now()) ?? backoff);
      d.onRetry(why, wait);
    }
    await d.sleep(wait, d.signal);
  }
  return undefined;
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

function terminalWidth(s: Session): number {
  const fromEnv = Number(s.io.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const cols = s.io.isTTY ? process.stdout.columns : undefined;
  return cols && cols > 0 ? cols : 100;
}

/** An API client for a watch loop that remembers the last Retry-After header (for back-off). */
export function watchClient(s: Session): { client: ApiClient; retryAfter: () => string | null } {
  const { url, token } = requireConnection(s.config);
  const baseFetch = s.io.fetch ?? globalThis.fetch;
  let last: string | null = null;
  const client = new ApiClient({
    url, token, project: s.config.project,
    fetch: async (input, init) => {
      const res = await baseFetch(input, init);
      last = res.headers.get('retry-after');
      return res;
    },
  });
  return { client, retryAfter: () => last };
}

/**
 * Follows an operation to its end and sets the exit code: 0 succeeded, EXIT.conflict (4)
 * failed or cancelled, 130 when Ctrl-C stopped the watch (the operation keeps running).
 */
export async function followOperation(s: Session, id: string, o: { intervalMs?: number } = {}): Promise<void> {
  const { client, retryAfter } = watchClient(s);
  const live = s.io.isTTY === true && !s.out.isJson;
  const width = terminalWidth(s);
  // Keep a frame shorter than the screen: the cursor cannot go back above its top row.
  const height = live && process.stdout.rows ? process.stdout.rows - 1 : undefined;
  let prev: Operation | undefined;
  let drawn = 0;
  let notice: string | undefined;
  const draw = (op: Operation): void => {
    const lines = renderOperationFrame(op, { now: Date.now(), width, color: s.out.color, notice, maxLines: height });
    s.io.stdout(redrawPrefix(drawn) + lines.join('\n') + '\n');
    drawn = lines.length;
  };

  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.on('SIGINT', onSigint);
  let final: Operation | undefined;
  try {
    final = await pollOperation({
      get: () => client.get<Operation>(`/v1/operations/${encodeURIComponent(id)}`, {
        what: `get operation "${id}"`,
        hints: { 404: 'list operations with `edgefleet operations list` (and check --project)' },
      }),
      retryAfter,
      sleep: abortableSleep,
      intervalMs: o.intervalMs ?? 1000,
      signal: ac.signal,
      onRetry: (why, waitMs) => {
        notice = `${why}; retrying in ${Math.ceil(waitMs / 1000)}s`;
        if (live && prev) draw(prev);
        else if (s.out.isJson) s.io.stdout(JSON.stringify({ at: new Date().toISOString(), operationId: id, what: 'retry', why, waitMs }) + '\n');
        else s.out.note(`note: ${notice}`);
      },
      onUpdate: (op) => {
        notice = undefined;
        const changes = diffOperation(prev, op);
        const at = new Date();
        if (live) draw(op);
        else if (s.out.isJson) for (const c of changes) s.io.stdout(JSON.stringify({ at: at.toISOString(), operationId: op.id, ...c }) + '\n');
        else for (const c of changes) s.out.line(describeOperationChange(c, at));
        prev = op;
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }

  if (!final) {
    s.out.note(`\nStopped watching operation ${id}; it keeps running (nothing was cancelled).`);
    s.out.note(`Resume with: edgefleet operations watch ${id}`);
    s.fail(EXIT_INTERRUPTED);
    return;
  }
  if (s.out.isJson) {
    const { status, step, reason, endedAt } = final;
    s.io.stdout(JSON.stringify({ at: new Date().toISOString(), operationId: final.id, what: 'outcome', status, step, reason, endedAt }) + '\n');
  } else if (!live) {
    s.out.line(renderOutcome(final, Date.now()));
  }
  if (final.status !== 'succeeded') s.out.note(`Details: edgefleet operations get ${final.id}`);
  s.fail(outcomeExitCode(final.status));
}

export function registerOperationsWatch(ops: Command, rt: CliRuntime): void {
  addCommonOptions(
    ops
      .command('watch')
      .description('follow an operation live until it ends (Ctrl-C stops watching; the operation continues)')
      .argument('<id>', 'operation id')
      .option('--interval <duration>', INTERVAL_HELP, parseInterval),
  )
    .addHelpText(
      'after',
      `
On a terminal the view is redrawn in place; otherwise (or with -o json) one line per change is
printed (JSON lines with -o json), then the outcome.
Exit codes: 0 the operation succeeded; 4 it failed or was cancelled (the reason is printed);
130 Ctrl-C stopped watching (run the same command again to resume).
${examples('edgefleet operations watch op-123', 'edgefleet operations watch op-123 --interval 5s -o json > op-123.jsonl')}`,
    )
    .action(
      action<{ interval?: number }, [string]>(rt, async (s, o, id) => {
        await followOperation(s, id, { intervalMs: o.interval });
      }),
    );
}
