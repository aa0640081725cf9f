/**
 * Pure rendering of a fleet rollout for `edgefleet rollouts watch|get` (issue 13): one progress
 * bar per wave and a summary line for a terminal that is redrawn in place, change events for
 * logs and JSON lines, and the final summary with the exit code. No I/O here; every value from
 * the API goes through `terminalText`.
 */
import { ROLLOUT_ENDED, type RolloutStatus, type RolloutTarget, type RolloutView, type TargetCounts } from '../lambdas/contracts/rollouts.js';
import { EXIT, type ExitCode } from './errors.js';
import { statusColor } from './output.js';
import { fitWidth, formatDuration, terminalText } from './progress.js';

type Wave = RolloutView['waves'][number];
const RESET = '\x1b[0m';

export function rolloutEnded(status: string): boolean {
  return (ROLLOUT_ENDED as readonly string[]).includes(status);
}

/** The exit code a watch ends with: 0 only when every target passed its upgrade gate. */
export function rolloutExitCode(status: RolloutStatus | string): ExitCode {
  switch (status) {
    case 'succeeded': return EXIT.ok;
    case 'incomplete': return EXIT.rolloutIncomplete;
    case 'aborted': return EXIT.rolloutAborted;
    case 'cancelled':
    case 'superseded': return EXIT.rolloutCancelled;
    default: return EXIT.conflict; // failed (the rollout itself could not go on)
  }
}

/** Targets that are done with (succeeded, failed or skipped). */
export const finished = (c: TargetCounts): number => c.succeeded + c.failed + c.skipped;
/** Not started yet: pending, or waiting for its maintenance window. */
const waitingCount = (c: TargetCounts): number => c.pending + c.waiting;

/** `8 succeeded, 1 failed, 3 running, 2 deferred, 6 waiting` (zero counts left out, except succeeded). */
export function countsText(c: TargetCounts): string {
  const parts: [number, string][] = [
    [c.succeeded, 'succeeded'], [c.failed, 'failed'], [c.skipped, 'skipped'], [c.running, 'running'],
    [c.deferred, 'deferred'], [c.waiting, 'outside window'], [c.pending, 'pending'],
  ];
  return parts.filter(([n], i) => n > 0 || i === 0).map(([n, w]) => `${n} ${w}`).join(', ');
}

// Bar cells, in this order from the left: done first, then in flight, then not started.
const SEGMENTS: readonly [keyof TargetCounts | 'notStarted', string][] = [
  ['succeeded', '█'], ['failed', 'X'], ['skipped', '-'], ['running', '▒'], ['deferred', '~'], ['notStarted', '░'],
];

/**
 * `[██████X▒▒▒~~░░░░░░░░]`: each state gets cells in proportion to its count (cumulative
 * rounding, so the cells always add up). █ succeeded, X failed, - skipped, ▒ running,
 * ~ deferred, ░ pending or outside its window.
 */
export function waveBar(c: TargetCounts, size: number, cells = 20): string {
  const total = Math.max(size, finished(c) + c.running + c.deferred + waitingCount(c));
  if (total <= 0) return `[${'░'.repeat(cells)}]`;
  let cum = 0;
  let prevEnd = 0;
  let out = '';
  for (const [key, ch] of SEGMENTS) {
    cum += key === 'notStarted' ? total - cum : c[key];
    const end = Math.round((cum / total) * cells);
    out += ch.repeat(Math.max(0, end - prevEnd));
    prevEnd = Math.max(prevEnd, end);
  }
  return `[${out}]`;
}

/** `14:32:05 UTC`: a time the operator can compare with `date -u`. */
export function clock(iso: string | undefined): string {
  const t = iso ? Date.parse(iso) : NaN;
  return Number.isNaN(t) ? '-' : `${new Date(t).toISOString().slice(11, 19)} UTC`;
}

/** `14:32:05 UTC (in 18m00s)`, or `overdue` when the ETA has passed. */
export function etaText(v: RolloutView, now: number): string | undefined {
  if (rolloutEnded(v.status) || !v.eta) return undefined;
  const at = Date.parse(v.eta);
  if (Number.isNaN(at)) return undefined;
  return at >= now ? `${clock(v.eta)} (in ${formatDuration(at - now)})` : `${clock(v.eta)} (overdue by ${formatDuration(now - at)})`;
}

function elapsed(v: RolloutView, now: number): string {
  const start = Date.parse(v.createdAt);
  const end = v.endedAt ? Date.parse(v.endedAt) : now;
  return Number.isNaN(start) ? '-' : formatDuration(end - start);
}

/** What is rolled out where: `edge-k3s@1.2.0 (asked 1.x) to template shop`. */
export function rolloutHeadline(v: RolloutView): string {
  const to = `${terminalText(v.to.name)}@${terminalText(v.to.version)}`;
  const asked = v.requested && v.requested !== v.to.version ? ` (asked ${terminalText(v.requested)})` : '';
  if (v.kind === 'agent-update') return `agent ${terminalText(v.to.version)} to ${targetsText(v.targets).replace('the clusters with', 'the hosts with')}`;
  return `${to}${asked} to ${targetsText(v.targets)}`;
}

export function targetsText(t: RolloutView['targets']): string {
  if ('template' in t) return `the clusters of template ${terminalText(t.template)}`;
  if ('clusterList' in t) return t.clusterList.count === 1 ? '1 listed cluster' : `${t.clusterList.count} listed clusters`;
  if ('hostList' in t) return t.hostList.count === 1 ? '1 listed host' : `${t.hostList.count} listed hosts`;
  if ('all' in t) return 'every approved host';
  const parts = [t.site ? `site ${terminalText(t.site)}` : '', ...Object.entries(t.tags ?? {}).map(([k, val]) => `${terminalText(k)}=${terminalText(val)}`)].filter(Boolean);
  return `the clusters with ${parts.join(' and ')}`;
}

/** The summary line: status, done, ETA, counts and reason, e.g. `running  8/20 done  ETA 14:32:05 UTC (in 18m00s)  7 ok, 1 failed, 3 running, 9 waiting`. */
export function summaryLine(v: RolloutView, now: number): string {
  const eta = etaText(v, now);
  const reason = terminalText(v.reason);
  return [
    `${terminalText(v.status)}`,
    `${finished(v.counts)}/${v.total} done`,
    eta ? `ETA ${eta}` : '',
    shortCounts(v.counts).join(', '),
    reason ? `— ${reason}` : '',
  ].filter(Boolean).join('  ');
}

/** After the canary wave: waiting for `rollouts promote`, or soaking until a time. Undefined otherwise. */
export function gateNote(v: RolloutView, now: number): string | undefined {
  if (rolloutEnded(v.status)) return undefined;
  const canary = v.waves[0];
  const next = v.waves[1];
  if (!canary?.endedAt || !next || next.startedAt) return undefined;
  if (v.policy.waves?.promotion === 'manual' && (v.promotedThrough ?? 0) < 1) {
    return `Waiting for promotion after the canary wave: edgefleet rollouts promote ${terminalText(v.id)}`;
  }
  const soak = v.policy.waves?.soakMinutes ?? 0;
  const until = Date.parse(canary.endedAt) + soak * 60_000;
  if (soak > 0 && until > now) return `Soaking after the canary wave until ${clock(new Date(until).toISOString())} (in ${formatDuration(until - now)})`;
  return undefined;
}

function waveLabel(w: Wave): string {
  return w.index === 0 ? `Wave 0 canary` : `Wave ${w.index}`;
}

/** `39 ok, 1 failed, 17 running, 2 deferred, 281 waiting`: the non-zero states, short (waiting = pending or outside its window). */
export function shortCounts(c: TargetCounts): string[] {
  const parts: string[] = [];
  if (c.succeeded) parts.push(`${c.succeeded} ok`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.deferred) parts.push(`${c.deferred} deferred`);
  if (waitingCount(c)) parts.push(`${waitingCount(c)} waiting`);
  return parts;
}

/** One wave: label, bar, done of size, then the non-zero states. */
export function waveLine(w: Wave, labelWidth: number, sizeWidth: number): string {
  const c = w.counts;
  const parts = shortCounts(c);
  const state = w.endedAt ? 'ended' : w.startedAt ? '' : 'not started';
  const done = `${String(finished(c)).padStart(sizeWidth)}/${String(w.size).padEnd(sizeWidth)}`;
  return [waveLabel(w).padEnd(labelWidth), waveBar(c, w.size), done, [state, parts.join(', ')].filter(Boolean).join(': ')].join('  ').trimEnd();
}

/** `c-7 (shop-7): boot state passive, rolled back (op-9)`. */
export function targetText(t: RolloutTarget): string {
  const site = t.site ? ` (${terminalText(t.site)})` : '';
  const reason = terminalText(t.reason) || 'no reason recorded';
  const rollback = t.rollbackOperationId ? `; rollback ${terminalText(t.rollbackOperationId)}` : '';
  return `${terminalText(t.clusterId)}${site}: ${reason}${rollback}`;
}

/** `c-3 (shop-3): offline, tried again at 14:05:00 UTC, deferred since 13:55:00 UTC`. */
export function deferredText(t: RolloutTarget): string {
  const site = t.site ? ` (${terminalText(t.site)})` : '';
  const retry = t.retryAt && (t.state === 'deferred' || t.state === 'waiting') ? `, tried again at ${clock(t.retryAt)}` : '';
  const since = t.deferredSince ? `, deferred since ${clock(t.deferredSince)}` : '';
  return `${terminalText(t.clusterId)}${site}: ${terminalText(t.reason) || 'offline or busy'}${retry}${since}`;
}

export interface RolloutFrameOptions {
  readonly now: number;
  readonly width: number;
  readonly color?: boolean;
  /** A passing remark under the frame, e.g. "control plane busy; retrying in 4s". */
  readonly notice?: string;
  /** Terminal height: when the waves do not fit, ended and unstarted waves are summed up. */
  readonly maxLines?: number;
  /** Failed and deferred clusters listed in the frame before "… N more". @default 3 */
  readonly listed?: number;
  /** The live view's footer: Ctrl-C stops watching only. */
  readonly live?: boolean;
}

/** Which waves get a bar when not all fit: a window around the first unfinished wave; the others summed up. */
function waveRows(waves: readonly Wave[], room: number): { shown: Wave[]; before?: string; after?: string } {
  if (waves.length <= room) return { shown: [...waves] };
  const keep = Math.max(1, room - 2);
  const first = waves.findIndex((w) => !w.endedAt);
  const centre = first < 0 ? waves.length - 1 : first;
  const start = Math.max(0, Math.min(centre - 1, waves.length - keep));
  const shown = waves.slice(start, start + keep);
  const sum = (ws: readonly Wave[], what: string): string | undefined => {
    if (!ws.length) return undefined;
    const c = ws.reduce((a, w) => ({ size: a.size + w.size, done: a.done + finished(w.counts), failed: a.failed + w.counts.failed }), { size: 0, done: 0, failed: 0 });
    const range = ws.length === 1 ? `Wave ${ws[0]!.index}` : `Waves ${ws[0]!.index}–${ws.at(-1)!.index}`;
    return `${range} ${what}: ${c.done}/${c.size} done${c.failed ? `, ${c.failed} failed` : ''}`;
  };
  return { shown, before: sum(waves.slice(0, start), 'above'), after: sum(waves.slice(start + keep), 'below') };
}

/**
 * The rollout as lines, none longer than `width` and none containing a newline: the headline,
 * the summary line (status, counts, ETA, reason), a gate note (promotion, soak), one bar per
 * wave, the failed and deferred clusters while it runs (the first few), and the notice. Once it
 * ended the summary line says how; renderRolloutOutcome (printed below, unwrapped) says the rest.
 * Colors (when asked) only paint the summary line.
 */
export function renderRolloutFrame(v: RolloutView, o: RolloutFrameOptions): string[] {
  const lines: { text: string; status?: string }[] = [];
  const name = v.name ? ` "${terminalText(v.name)}"` : '';
  lines.push({ text: `Rollout ${terminalText(v.id)}${name}  ${rolloutHeadline(v)}  elapsed ${elapsed(v, o.now)}` });
  lines.push({ text: summaryLine(v, o.now), status: v.status });
  const gate = gateNote(v, o.now);
  if (gate) lines.push({ text: gate });
  const listed = o.listed ?? 3;
  const ended = rolloutEnded(v.status);
  const tail: string[] = [];
  if (!ended) {
    const list = (title: string, total: number, items: readonly RolloutTarget[], text: (t: RolloutTarget) => string, state: string): void => {
      if (!items.length) return;
      tail.push(`${title} (${total}):`);
      for (const t of items.slice(0, listed)) tail.push(`  ${text(t)}`);
      if (total > Math.min(listed, items.length)) tail.push(`  … ${total - Math.min(listed, items.length)} more: edgefleet rollouts clusters ${terminalText(v.id)} --state ${state}`);
    };
    list('Failed', v.counts.failed, v.failed, targetText, 'failed');
    list('Deferred', v.counts.deferred, v.deferred, deferredText, 'deferred');
  }
  const footer = o.live && !ended ? ['(Ctrl-C stops watching; the rollout continues)'] : [];
  if (!v.waves.length) {
    lines.push({ text: '' });
    lines.push({ text: v.status === 'planning' ? `Planning: ${v.total} target cluster(s) found so far` : 'No waves planned.' });
  } else {
    const fixed = lines.length + 1 + (tail.length ? tail.length + 1 : 0) + footer.length + (o.notice ? 1 : 0);
    const { shown, before, after } = waveRows(v.waves, o.maxLines ? Math.max(3, o.maxLines - fixed) : Number.POSITIVE_INFINITY);
    const labelWidth = Math.max(...shown.map((w) => waveLabel(w).length));
    const sizeWidth = Math.max(...shown.map((w) => String(w.size).length));
    lines.push({ text: '' });
    if (before) lines.push({ text: before });
    for (const w of shown) lines.push({ text: waveLine(w, labelWidth, sizeWidth) });
    if (after) lines.push({ text: after });
  }
  if (tail.length) {
    lines.push({ text: '' });
    for (const t of tail) lines.push({ text: t });
  }
  for (const f of footer) lines.push({ text: f });
  if (o.notice) lines.push({ text: `(${terminalText(o.notice)})` });
  return lines.map(({ text, status }) => {
    const fitted = fitWidth(text, o.width);
    const c = status && o.color ? statusColor(status === 'aborted' ? 'failed' : status) : undefined;
    return c ? `${c}${fitted}${RESET}` : fitted;
  });
}

/** How a rollout ended: the outcome line, and for an abort what that means. */
function outcomeLines(v: RolloutView, now: number): string[] {
  const id = terminalText(v.id);
  const took = elapsed(v, now);
  const reason = terminalText(v.reason).replace(/\.+$/, '');
  const because = reason ? `: ${reason}.` : '.';
  const c = v.counts;
  switch (v.status) {
    case 'succeeded':
      return [`Rollout ${id} succeeded after ${took}: all ${c.succeeded} cluster(s) passed their upgrade gate.`];
    case 'incomplete':
      return [`Rollout ${id} ended incomplete after ${took}${because}`, `${c.succeeded} of ${v.total} cluster(s) upgraded; the others were skipped or failed.`];
    case 'aborted':
      return [`Rollout ${id} aborted after ${took}${because}`, 'No new cluster was started; upgrades already running finished; failed clusters were handled by their on-failure policy.'];
    case 'cancelled':
      return [`Rollout ${id} cancelled after ${took}${because}`, `${c.succeeded} of ${v.total} cluster(s) had been upgraded.`];
    case 'superseded':
      return [`Rollout ${id} superseded${v.supersededBy ? ` by rollout ${terminalText(v.supersededBy)}` : ''} after ${took}${because}`];
    default:
      return [`Rollout ${id} failed after ${took}${because}`];
  }
}

/**
 * The final summary of an ended rollout: the outcome, the counts, the failed and deferred
 * clusters (the first `listed`), and what to do next. Pure.
 */
export function renderRolloutOutcome(v: RolloutView, now: number, o: { listed?: number } = {}): string[] {
  const id = terminalText(v.id);
  const listed = o.listed ?? 10;
  const out = [...outcomeLines(v, now), `Clusters: ${countsText(v.counts)} (of ${v.total}).`];
  if (v.failed.length) {
    out.push(`Failed (${v.counts.failed}):`);
    for (const t of v.failed.slice(0, listed)) out.push(`  ${targetText(t)}`);
    if (v.counts.failed > Math.min(listed, v.failed.length)) out.push(`  … ${v.counts.failed - Math.min(listed, v.failed.length)} more`);
  }
  if (v.deferred.length) {
    out.push(`Deferred (${v.deferred.length}), not upgraded by this rollout:`);
    for (const t of v.deferred.slice(0, listed)) out.push(`  ${deferredText(t)}`);
  }
  const next: string[] = [];
  if (v.counts.failed) next.push(`  edgefleet rollouts clusters ${id} --state failed     # why each one failed`);
  if (v.counts.skipped) next.push(`  edgefleet rollouts clusters ${id} --state skipped    # which were never upgraded, and why`);
  if (v.counts.deferred) next.push(`  edgefleet rollouts clusters ${id} --state deferred   # offline or busy ones`);
  if (v.status !== 'succeeded' && v.status !== 'superseded' && v.counts.succeeded < v.total) {
    next.push(`  once the cause is fixed: edgefleet rollouts create … --to ${terminalText(v.to.version)}   # clusters already there have nothing to do`);
  }
  if (next.length) out.push('Next:', ...next);
  return out;
}
