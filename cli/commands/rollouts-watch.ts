/**
 * `edgefleet rollouts watch` and `rollouts create --watch`: polls GET /v1/rollouts/{id} until the
 * rollout ends (Retry-After when the API sends one, else every second, backing off to 5 s while
 * nothing changes and on 429/5xx), and shows it live: one bar per wave redrawn in place on a
 * terminal, one line per change otherwise, JSON lines with `-o json`. Ctrl-C stops watching only.
 */
import type { RolloutView } from '../../lambdas/contracts/rollouts.js';
import { seg } from '../client.js';
import type { Session } from '../context.js';
import { ApiError, EXIT, UnreachableError } from '../errors.js';
import { parseRetryAfter, redrawPrefix } from '../progress.js';
import { describeRolloutChange, diffRollout } from '../rollout-changes.js';
import { renderRolloutFrame, renderRolloutOutcome, rolloutEnded, rolloutExitCode } from '../rollout-progress.js';
import { MAX_FAILED_POLLS, MIN_INTERVAL_MS, abortableSleep, watchClient } from './operations-watch.js';

/** Polls back off to this while nothing changes or the API throttles. */
export const MAX_ROLLOUT_INTERVAL_MS = 5000;

export interface RolloutPollDeps {
  readonly get: () => Promise<RolloutView>;
  /** The Retry-After header of the last response, if any. */
  readonly retryAfter: () => string | null | undefined;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
  readonly onUpdate: (v: RolloutView) => void;
  /** A poll failed and will be retried after waitMs. */
  readonly onRetry: (why: string, waitMs: number) => void;
  /** The first interval (and the one after every change). @default 1000 */
  readonly intervalMs: number;
  readonly signal: AbortSignal;
  readonly now?: () => number;
}

function retryable(err: unknown, seenOnce: boolean): string | undefined {
  if (err instanceof ApiError && (err.status === 429 || err.status === 408 || err.status >= 500)) {
    return err.status === 429 ? 'the control plane is throttling (HTTP 429)' : `the control plane answered HTTP ${err.status}`;
  }
  if (err instanceof UnreachableError && seenOnce) return `cannot reach the control plane (${err.reason})`;
  return undefined;
}

/** What a poll compares to decide whether anything moved (the ETA alone does not count). */
const fingerprint = (v: RolloutView): string =>
  JSON.stringify([v.status, v.reason, v.counts, v.waves, v.updatedAt, v.failed.length, v.deferred.map((d) => d.retryAt)]);

/**
 * Polls until the rollout ended (returns it) or the signal is aborted (returns undefined). The
 * wait after a poll: the Retry-After the API sent; else `intervalMs` after a change, growing by
 * half each unchanged poll up to 5 s. Throttling, 5xx and (after the first answer) connection
 * failures are retried with Retry-After or a doubling back-off up to 5 s; anything else throws.
 */
export async function pollRollout(d: RolloutPollDeps): Promise<RolloutView | undefined> {
  const now = d.now ?? Date.now;
  const cap = Math.max(MAX_ROLLOUT_INTERVAL_MS, d.intervalMs);
  let failures = 0;
  let seen: string | undefined;
  let quiet = d.intervalMs;
  const aborted = new Promise<undefined>((resolve) => {
    if (d.signal.aborted) resolve(undefined);
    d.signal.addEventListener('abort', () => resolve(undefined), { once: true });
  });
  while (!d.signal.aborted) {
    let wait: number;
    try {
      const v = await Promise.race([d.get(), aborted]);
      if (!v || d.signal.aborted) return undefined;
      failures = 0;
      const print = fingerprint(v);
      quiet = seen === undefined || print !== seen ? d.intervalMs : Math.min(cap, Math.round(quiet * 1.5));
      seen = print;
      d.onUpdate(v);
      if (rolloutEnded(v.status)) return v;
      wait = parseRetryAfter(d.retryAfter(), now()) ?? quiet;
    } catch (err) {
      const why = retryable(err, seen !== undefined);
      if (!why || ++failures >= MAX_FAILED_POLLS) throw err;
      wait = Math.max(MIN_INTERVAL_MS, parseRetryAfter(d.retryAfter(), now()) ?? Math.min(cap, d.intervalMs * 2 ** failures));
      d.onRetry(why, wait);
    }
    await d.sleep(Math.max(MIN_INTERVAL_MS, wait), d.signal);
  }
  return undefined;
}

function terminalWidth(s: Session): number {
  const fromEnv = Number(s.io.env.COLUMNS);
  if (Number.isInteger(fromEnv) && fromEnv > 0) return fromEnv;
  const cols = s.io.isTTY ? process.stdout.columns : undefined;
  return cols && cols > 0 ? cols : 100;
}

export const rolloutPath = (id: string, verb = ''): string => `/v1/rollouts/${seg(id)}${verb ? `/${verb}` : ''}`;
export const ROLLOUT_NOT_FOUND = 'list rollouts with `edgefleet rollouts list` (and check --project)';

/**
 * Follows a rollout to its end and sets the exit code: 0 succeeded; 8 incomplete, 9 aborted,
 * 10 cancelled or superseded, 4 failed; 130 when Ctrl-C stopped the watch (the rollout continues).
 */
export async function followRollout(s: Session, id: string, o: { intervalMs?: number } = {}): Promise<void> {
  const { client, retryAfter } = watchClient(s);
  const live = s.io.isTTY === true && !s.out.isJson;
  const width = terminalWidth(s);
  const height = live && process.stdout.rows ? process.stdout.rows - 1 : undefined;
  let prev: RolloutView | undefined;
  let drawn = 0;
  let notice: string | undefined;
  const draw = (v: RolloutView): void => {
    const lines = renderRolloutFrame(v, { now: Date.now(), width, color: s.out.color, notice, maxLines: height, live: true });
    s.io.stdout(redrawPrefix(drawn) + lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const jsonLine = (v: object): void => s.io.stdout(JSON.stringify({ at: new Date().toISOString(), rolloutId: id, ...v }) + '\n');

  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.on('SIGINT', onSigint);
  if (!live && !s.out.isJson) s.out.note(`Watching rollout ${id} (Ctrl-C stops watching; the rollout continues).`);
  let final: RolloutView | undefined;
  try {
    final = await pollRollout({
      get: () => client.get<RolloutView>(rolloutPath(id), { what: `get rollout "${id}"`, hints: { 404: ROLLOUT_NOT_FOUND } }),
      retryAfter,
      sleep: abortableSleep,
      intervalMs: o.intervalMs ?? 1000,
      signal: ac.signal,
      onRetry: (why, waitMs) => {
        notice = `${why}; retrying in ${Math.ceil(waitMs / 1000)}s`;
        if (live && prev) draw(prev);
        else if (s.out.isJson) jsonLine({ what: 'retry', why, waitMs });
        else s.out.note(`note: ${notice}`);
      },
      onUpdate: (v) => {
        notice = undefined;
        const at = new Date();
        if (live) draw(v);
        else for (const c of diffRollout(prev, v, at.getTime())) {
          if (s.out.isJson) jsonLine(c);
          else s.out.line(describeRolloutChange(c, at));
        }
        prev = v;
      },
    });
  } finally {
    process.off('SIGINT', onSigint);
  }
  if (!final) {
    s.out.note(`\nStopped watching rollout ${id}; it keeps running (nothing was paused or cancelled).`);
    s.out.note(`Resume watching: edgefleet rollouts watch ${id}    pause it: edgefleet rollouts pause ${id}`);
    s.fail(EXIT.interrupted);
    return;
  }
  const code = rolloutExitCode(final.status);
  if (s.out.isJson) {
    const { status, reason, counts, endedAt } = final;
    jsonLine({
      what: 'outcome', status, reason, counts, endedAt, exitCode: code,
      failed: final.failed.map((t) => ({ clusterId: t.clusterId, reason: t.reason })),
      deferred: final.deferred.map((t) => ({ clusterId: t.clusterId, reason: t.reason })),
    });
  } else {
    s.out.line('');
    for (const l of renderRolloutOutcome(final, Date.now())) s.out.line(l);
  }
  if (final.status !== 'succeeded') s.out.note(`Details: edgefleet rollouts get ${id}`);
  s.fail(code);
}
