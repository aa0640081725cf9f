/**
 * `edgefleet rollouts watch` and `rollouts create --watch`: polls GET /v1/rollouts/{id} until the
 * rollout ends (Retry-After when the API sends one, else every second, backing off to 5 s while
 * nothing changes and on 429/5xx), and shows it live: one bar per wave redrawn in place on a
 * terminal, one line per change otherwise, JSON lines with `-o json`. Ctrl-C stops watching only.
 */
import type { RolloutView } from '../../lambdas/contracts/rollouts.js';
import { seg } from '../client.js';
import type { Session } from '../context.js';
import { EXIT } from '../errors.js';
import { pollUntil, type PollOptions } from '../poll.js';
import { describeRolloutChange, diffRollout } from '../rollout-changes.js';
import { renderRolloutFrame, renderRolloutOutcome, rolloutEnded, rolloutExitCode } from '../rollout-progress.js';
import { untilInterrupted, watchView } from '../watch-view.js';
import { MIN_INTERVAL_MS } from './operations-watch.js';

/** Polls back off to this while nothing changes or the API throttles. */
export const MAX_ROLLOUT_INTERVAL_MS = 5000;

/** The rollout poll loop's dependencies: pollUntil's, its pace set by pollRollout. */
export type RolloutPollDeps = Omit<PollOptions<RolloutView>, 'ended' | 'minWaitMs' | 'maxWaitMs' | 'changed'>;

/** What a poll compares to decide whether anything moved (the ETA alone does not count). */
const fingerprint = (v: RolloutView): string =>
  JSON.stringify([v.status, v.reason, v.counts, v.waves, v.updatedAt, v.failed.length, v.deferred.map((d) => d.retryAt)]);

/**
 * Polls until the rollout ended (returns it) or the signal is aborted (returns undefined). The
 * wait after a poll: the Retry-After the API sent; else `intervalMs` after a change, growing by
 * half each unchanged poll up to 5 s. Throttling, 5xx and (after the first answer) connection
 * failures are retried with Retry-After or a doubling back-off up to 5 s; anything else throws.
 */
export function pollRollout(d: RolloutPollDeps): Promise<RolloutView | undefined> {
  return pollUntil({
    ...d,
    ended: (v) => rolloutEnded(v.status),
    changed: (a, b) => fingerprint(a) !== fingerprint(b),
    minWaitMs: MIN_INTERVAL_MS,
    maxWaitMs: Math.max(MAX_ROLLOUT_INTERVAL_MS, d.intervalMs),
  });
}

export const rolloutPath = (id: string, verb = ''): string => `/v1/rollouts/${seg(id)}${verb ? `/${verb}` : ''}`;
export const ROLLOUT_NOT_FOUND = 'list rollouts with `edgefleet rollouts list` (and check --project)';

/**
 * Follows a rollout to its end and sets the exit code: 0 succeeded; 8 incomplete, 9 aborted,
 * 10 cancelled or superseded, 4 failed; 130 when Ctrl-C stopped the watch (the rollout continues).
 */
export async function followRollout(s: Session, id: string, o: { intervalMs?: number } = {}): Promise<void> {
  const jsonLine = (v: object): void => s.io.stdout(JSON.stringify({ at: new Date().toISOString(), rolloutId: id, ...v }) + '\n');
  const view = watchView<RolloutView>(s, {
    frame: (v, f) => renderRolloutFrame(v, { ...f, live: true }),
    jsonLine,
    changes: (prev, v, at) => {
      for (const c of diffRollout(prev, v, at.getTime())) {
        if (s.out.isJson) jsonLine(c);
        else s.out.line(describeRolloutChange(c, at));
      }
    },
  });
  if (!view.live && !s.out.isJson) s.out.note(`Watching rollout ${id} (Ctrl-C stops watching; the rollout continues).`);
  const final = await untilInterrupted((ac) => pollRollout({
    ...view.deps(ac.signal, o.intervalMs),
    get: () => view.client.get<RolloutView>(rolloutPath(id), { what: `get rollout "${id}"`, hints: { 404: ROLLOUT_NOT_FOUND } }),
  }));
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
