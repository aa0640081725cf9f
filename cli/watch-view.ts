/**
 * What every `watch` of the CLI shows while it polls (operations, upgrades, rollouts): on a
 * terminal one frame redrawn in place, with a retry notice under it while the control plane is
 * throttling or restarting; otherwise one line (or JSON line with `-o json`) per change.
 */
import { ApiClient } from './client.js';
import { requireConnection } from './config.js';
import type { Session } from './context.js';
import { abortableSleep, type PollOptions } from './poll.js';
import { redrawPrefix, type FrameOptions } from './progress.js';

export function terminalWidth(s: Session): number {
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

/** Runs `watch` with a signal that Ctrl-C aborts (the SIGINT listener is removed afterwards). */
export async function untilInterrupted<R>(watch: (ac: AbortController) => Promise<R>): Promise<R> {
  const ac = new AbortController();
  const onSigint = (): void => ac.abort();
  process.on('SIGINT', onSigint);
  try {
    return await watch(ac);
  } finally {
    process.off('SIGINT', onSigint);
  }
}

export interface WatchViewOptions<T> {
  /** The frame drawn on a terminal; `f.notice` is the retry notice, if any. */
  readonly frame: (t: T, f: FrameOptions) => string[];
  /** Writes one JSON line (with -o json) of the watch: here, a retry. */
  readonly jsonLine: (v: object) => void;
  /** Off a terminal: writes what changed from `prev` to `next` (lines, or JSON lines with -o json). */
  readonly changes: (prev: T | undefined, next: T, at: Date) => void;
}

/** What a watch's poll loop takes besides `get` and its pace. */
export type WatchDeps<T> = Pick<PollOptions<T>, 'retryAfter' | 'sleep' | 'intervalMs' | 'signal' | 'onRetry' | 'onUpdate'>;

export interface WatchView<T> {
  /** The API client of the watch; it remembers the last Retry-After. */
  readonly client: ApiClient;
  /** True on a terminal without -o json: the frame is redrawn in place. */
  readonly live: boolean;
  /** The poll loop's dependencies: this view, abortable sleeps, the Retry-After of the client. */
  readonly deps: (signal: AbortSignal, intervalMs?: number) => WatchDeps<T>;
  /** For pollUntil: a poll failed and is retried after waitMs. */
  readonly onRetry: (why: string, waitMs: number) => void;
  /** For pollUntil: shows an answer (redraws the frame, or writes the changes). */
  readonly onUpdate: (t: T) => void;
}

export function watchView<T>(s: Session, o: WatchViewOptions<T>): WatchView<T> {
  const { client, retryAfter } = watchClient(s);
  const live = s.io.isTTY === true && !s.out.isJson;
  const width = terminalWidth(s);
  // Keep a frame shorter than the screen: the cursor cannot go back above its top row.
  const maxLines = live && process.stdout.rows ? process.stdout.rows - 1 : undefined;
  let prev: T | undefined;
  let drawn = 0;
  let notice: string | undefined;
  const draw = (t: T): void => {
    const lines = o.frame(t, { now: Date.now(), width, color: s.out.color, notice, maxLines });
    s.io.stdout(redrawPrefix(drawn) + lines.join('\n') + '\n');
    drawn = lines.length;
  };
  const view: WatchView<T> = {
    client,
    live,
    deps: (signal, intervalMs = 1000) => ({ retryAfter, sleep: abortableSleep, intervalMs, signal, onRetry: view.onRetry, onUpdate: view.onUpdate }),
    onRetry: (why, waitMs) => {
      notice = `${why}; retrying in ${Math.ceil(waitMs / 1000)}s`;
      if (live && prev) draw(prev);
      else if (s.out.isJson) o.jsonLine({ what: 'retry', why, waitMs });
      else s.out.note(`note: ${notice}`);
    },
    onUpdate: (t) => {
      notice = undefined;
      const at = new Date();
      if (live) draw(t);
      else o.changes(prev, t, at);
      prev = t;
    },
  };
  return view;
}
