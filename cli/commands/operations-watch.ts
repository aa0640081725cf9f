/**
 * `edgefleet operations watch <id>` and the `--watch` of the cluster commands: polls
 * GET /v1/operations/{id} until the operation ends, backing off on 429/5xx (Retry-After),
 * and shows it live: a frame redrawn in place on a terminal, one line per change otherwise,
 * JSON lines with `-o json`. Ctrl-C stops watching; the operation itself is not touched.
 */
import { InvalidArgumentError, type Command } from 'commander';
import { action, addCommonOptions, examples, type CliRuntime, type Session } from '../context.js';
import { EXIT, type ExitCode } from '../errors.js';
import { pollUntil, type PollOptions } from '../poll.js';
import { describeOperationChange, diffOperation, isTerminal, outcomeExitCode, renderOperationFrame, renderOutcome, type Operation } from '../progress.js';
import { untilInterrupted, watchView } from '../watch-view.js';

export { MAX_FAILED_POLLS } from '../poll.js';

export const MIN_INTERVAL_MS = 250;
const MAX_INTERVAL_MS = 60_000;
const MAX_BACKOFF_MS = 30_000;
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

/** The operation poll loop's dependencies: pollUntil's, its pace fixed by pollOperation. */
export type PollDeps = Omit<PollOptions<Operation>, 'ended' | 'minWaitMs' | 'maxWaitMs' | 'changed'>;

/**
 * Polls every intervalMs until the operation reaches succeeded/failed/cancelled (returns it) or
 * the signal is aborted (returns undefined). Throttling, 5xx and (after the first answer)
 * connection failures are retried with Retry-After or a back-off up to 30 s (never under
 * intervalMs); anything else is thrown.
 */
export function pollOperation(d: PollDeps): Promise<Operation | undefined> {
  return pollUntil({ ...d, ended: (op) => isTerminal(op.status), minWaitMs: d.intervalMs, maxWaitMs: MAX_BACKOFF_MS });
}

/**
 * Follows an operation to its end and sets the exit code: 0 succeeded, EXIT.conflict (4)
 * failed or cancelled, 130 when Ctrl-C stopped the watch (the operation keeps running).
 */
export async function followOperation(s: Session, id: string, o: { intervalMs?: number } = {}): Promise<void> {
  const view = watchView<Operation>(s, {
    frame: renderOperationFrame,
    jsonLine: (v) => s.io.stdout(JSON.stringify({ at: new Date().toISOString(), operationId: id, ...v }) + '\n'),
    changes: (prev, op, at) => {
      const changes = diffOperation(prev, op);
      if (s.out.isJson) for (const c of changes) s.io.stdout(JSON.stringify({ at: at.toISOString(), operationId: op.id, ...c }) + '\n');
      else for (const c of changes) s.out.line(describeOperationChange(c, at));
    },
  });
  const final = await untilInterrupted((ac) => pollOperation({
    ...view.deps(ac.signal, o.intervalMs),
    get: () => view.client.get<Operation>(`/v1/operations/${encodeURIComponent(id)}`, {
      what: `get operation "${id}"`,
      hints: { 404: 'list operations with `edgefleet operations list` (and check --project)' },
    }),
  }));

  if (!final) {
    s.out.note(`\nStopped watching operation ${id}; it keeps running (nothing was cancelled).`);
    s.out.note(`Resume with: edgefleet operations watch ${id}`);
    s.fail(EXIT_INTERRUPTED);
    return;
  }
  if (s.out.isJson) {
    const { status, step, reason, endedAt } = final;
    s.io.stdout(JSON.stringify({ at: new Date().toISOString(), operationId: final.id, what: 'outcome', status, step, reason, endedAt }) + '\n');
  } else if (!view.live) {
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
