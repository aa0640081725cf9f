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
  return `${to}${asked} to ${targetsText(v.targets)}`;
}

export function targetsText(t: RolloutView['targets']): string {
  if ('template' in t) return `the clusters of template ${terminalText(t.template)}`;
  if ('clusterIds' in t) return t.clusterIds.length <= 3 ? `clusters ${t.clusterIds.map(terminalText).join(', ')}` : `${t.clusterIds.length} listed clusters`;
  const parts = [t.site ? `site ${terminalText(t.site)}` : '', ...Object.entries(t.tags ?? {}).map(([k, val]) => `${terminalText(k)}=${terminalText(val)}`)].filter(Boolean);
  return `the clusters with ${parts.join(' and ')}`;
}

/** The summary line: status, counts, ETA and reason, e.g. `running  8/20 done: 7 succeeded, 1 failed, …  ETA 14:32:05 UTC (in 18m00s)`. */
export function summaryLine(v: RolloutView, now: number): string {
  const eta = etaText(v, now);
  const reason = terminalText(v.reason);
  return [
    `${terminalText(v.status)}`,
    `${finished(v.counts)}/${v.total} done: ${countsText(v.counts)}`,
    eta ? `ETA ${eta}` : '',
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

/** One wave: label, bar, done of size, then the non-zero states. */
export function waveLine(w: Wave, labelWidth: number, sizeWidth: number): string {
  const c = w.counts;
  const parts: string[] = [];
  if (c.succeeded) parts.push(`${c.succeeded} ok`);
  if (c.failed) parts.push(`${c.failed} failed`);
  if (c.skipped) parts.push(`${c.skipped} skipped`);
  if (c.running) parts.push(`${c.running} running`);
  if (c.deferred) parts.push(`${c.deferred} deferred`);
  if (waitingCount(c)) parts.push(`${waitingCount(c)} waiting`);
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
  const retry = t.retryAt ? `, tried again at ${clock(t.retryAt)}` : '';
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
  /** Failed and deferred clusters listed in the frame before "… N more". @default 5 */
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
 * wave, the failed and deferred clusters (the first few), the final summary once it ended, and
 * the notice. Colors (when asked) only paint the summary line.
 */
export function renderRolloutFrame(v: RolloutView, o: RolloutFrameOptions): string[] {
  const lines: { text: string; status?: string }[] = [];
  const name = v.name ? ` "${terminalText(v.name)}"` : '';
  lines.push({ text: `Rollout ${terminalText(v.id)}${name}  ${rolloutHeadline(v)}  elapsed ${elapsed(v, o.now)}` });
  lines.push({ text: summaryLine(v, o.now), status: v.status });
  const gate = gateNote(v, o.now);
  if (gate) lines.push({ text: gate });
  const listed = o.listed ?? 5;
  const ended = rolloutEnded(v.status);
  const tail: string[] = [];
  if (!ended) {
    if (v.failed.length) tail.push(`Failed (${v.counts.failed}): ${v.failed.slice(0, listed).map(targetText).join('; ')}${v.counts.failed > listed ? '; …' : ''}`);
    if (v.deferred.length) tail.push(`Deferred (${v.counts.deferred}): ${v.deferred.slice(0, listed).map(deferredText).join('; ')}${v.counts.deferred > listed ? '; …' : ''}`);
  }
  const outcome = ended ? renderRolloutOutcome(v, o.now, { listed }) : [];
  const footer = o.live && !ended ? ['(Ctrl-C stops watching; the rollout continues)'] : [];
  if (!v.waves.length) {
    lines.push({ text: '' });
    lines.push({ text: v.status === 'planning' ? `Planning: ${v.total} target cluster(s) found so far` : 'No waves planned.' });
  } else {
    const fixed = lines.length + 1 + (tail.length ? tail.length + 1 : 0) + (outcome.length ? outcome.length + 1 : 0) + footer.length + (o.notice ? 1 : 0);
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
  if (outcome.length) {
    lines.push({ text: '' });
    outcome.forEach((t, i) => lines.push({ text: t, status: i === 0 ? v.status : undefined }));
  }
  for (const f of footer) lines.push({ text: f });
  if (o.notice) lines.push({ text: `(${terminalText(o.notice)})` });
  return lines.map(({ text, status }) => {
    const fitted = fitWidth(text, o.width);
    const c = status && o.color ? statusColor(status === 'aborted' ? 'failed' : status) : undefined;
    return c ? `${c}${fitted}${RESET}` : fitted;
  });
}

/** How a rollout ended, as its first summary line. */
function outcomeLine(v: RolloutView, now: number): string {
  const id = terminalText(v.id);
  const took = elapsed(v, now);
  const reason = terminalText(v.reason).replace(/\.+$/, '');
  const because = reason ? `: ${reason}.` : '.';
  const c = v.counts;
  switch (v.status) {
    case 'succeeded':
      return `Rollout ${id} succeeded after ${took}: all ${c.succeeded} cluster(s) passed their upgrade gate.`;
    case 'incomplete':
      return `Rollout ${id} ended incomplete after ${took}: ${c.succeeded} of ${v.total} cluster(s) upgraded, ${c.skipped} skipped, ${c.failed} failed${because}`;
    case 'aborted':
      return `Rollout ${id} aborted after ${took}${because} No new cluster was started; clusters already running finished, failed ones were handled by their on-failure policy.`;
    case 'cancelled':
      return `Rollout ${id} cancelled after ${took}${because} ${c.succeeded} of ${v.total} cluster(s) had been upgraded.`;
    case 'superseded':
      return `Rollout ${id} superseded${v.supersededBy ? ` by rollout ${terminalText(v.supersededBy)}` : ''} after ${took}${because}`;
    default:
      return `Rollout ${id} failed after ${took}${because}`;
  }
}

/**
 * The final summary of an ended rollout: the outcome, the counts, the failed and deferred
 * clusters (the first `listed`), and what to do next. Pure.
 */
export function renderRolloutOutcome(v: RolloutView, now: number, o: { listed?: number } = {}): string[] {
  const id = terminalText(v.id);
  const listed = o.listed ?? 10;
  const out = [outcomeLine(v, now), `Clusters: ${countsText(v.counts)} (of ${v.total}).`];
  if (v.failed.length) {
    out.push(`Failed (${v.counts.failed}):`);
    for (const t of v.failed.slice(0, listed)) out.push(`  ${targetText(t)}`);
    if (v.counts.failed > Math.min(listed, v.failed.length)) out.push(`  … ${v.counts.failed - Math.min(listed, v.failed.length)} more`);
  }
  if (v.deferred.length) {
    out.push(`Deferred (${v.counts.deferred}), not upgraded by this rollout:`);
    for (const t of v.deferred.slice(0, listed)) out.push(`  ${deferredText(t)}`);
  }
  const next: string[] = [];
  if (v.counts.failed) next.push(`edgefleet rollouts clusters ${id} --state failed`);
  if (v.counts.skipped) next.push(`edgefleet rollouts clusters ${id} --state skipped`);
  if (v.counts.deferred) next.push(`edgefleet rollouts clusters ${id} --state deferred`);
  if (next.length) out.push(`Next: see why with ${next.join('  and  ')}`);
  if (v.status === 'aborted' || v.status === 'incomplete' || v.status === 'cancelled') {
    if (v.counts.succeeded < v.total) out.push(`Once the cause is fixed, start a new rollout for the clusters left behind (edgefleet rollouts create … --to ${terminalText(v.to.version)}); clusters already at the version have nothing to do.`);
  }
  return out;
}

// ---------- change events (logs, non-terminal output, JSON lines) ----------

export type RolloutChange =
  | { readonly what: 'started'; readonly status: string; readonly total: number; readonly to: string; readonly waves: number }
  | { readonly what: 'status'; readonly from: string; readonly to: string; readonly reason?: string }
  | { readonly what: 'reason'; readonly reason: string }
  | { readonly what: 'wave'; readonly wave: number; readonly size: number; readonly event: 'started' | 'ended'; readonly counts: TargetCounts }
  | { readonly what: 'progress'; readonly done: number; readonly total: number; readonly counts: TargetCounts; readonly eta?: string }
  | { readonly what: 'cluster'; readonly clusterId: string; readonly state: 'failed' | 'deferred'; readonly site?: string; readonly reason?: string; readonly retryAt?: string }
  | { readonly what: 'gate'; readonly note: string };

const sameCounts = (a: TargetCounts, b: TargetCounts): boolean => (Object.keys(b) as (keyof TargetCounts)[]).every((k) => a[k] === b[k]);

/** What changed since the previous poll (the start, when there was none). Pure. */
export function diffRollout(prev: RolloutView | undefined, next: RolloutView, now: number): RolloutChange[] {
  const out: RolloutChange[] = [];
  if (!prev) {
    out.push({ what: 'started', status: next.status, total: next.total, to: `${next.to.name}@${next.to.version}`, waves: next.waves.length });
  } else if (prev.status !== next.status) {
    out.push({ what: 'status', from: prev.status, to: next.status, ...(next.reason ? { reason: next.reason } : {}) });
  } else if (next.reason && next.reason !== prev.reason) {
    out.push({ what: 'reason', reason: next.reason });
  }
  for (const w of next.waves) {
    const before = prev?.waves.find((p) => p.index === w.index);
    if (w.startedAt && !before?.startedAt && !(prev === undefined && w.endedAt)) out.push({ what: 'wave', wave: w.index, size: w.size, event: 'started', counts: w.counts });
    if (w.endedAt && !before?.endedAt) out.push({ what: 'wave', wave: w.index, size: w.size, event: 'ended', counts: w.counts });
  }
  const seenFailed = new Set(prev?.failed.map((t) => t.clusterId));
  for (const t of next.failed) if (!seenFailed.has(t.clusterId)) out.push({ what: 'cluster', clusterId: t.clusterId, state: 'failed', site: t.site, reason: t.reason });
  const seenDeferred = new Map(prev?.deferred.map((t) => [t.clusterId, t.retryAt]));
  for (const t of next.deferred) {
    if (!seenDeferred.has(t.clusterId) || seenDeferred.get(t.clusterId) !== t.retryAt) out.push({ what: 'cluster', clusterId: t.clusterId, state: 'deferred', site: t.site, reason: t.reason, retryAt: t.retryAt });
  }
  if (prev && !sameCounts(prev.counts, next.counts)) {
    out.push({ what: 'progress', done: finished(next.counts), total: next.total, counts: next.counts, ...(next.eta ? { eta: next.eta } : {}) });
  }
  const gate = gateNote(next, now);
  if (gate && gate.split(' (in ')[0] !== (prev ? gateNote(prev, now)?.split(' (in ')[0] : undefined)) out.push({ what: 'gate', note: gate });
  return out;
}

/** A change as one log line, e.g. `14:03:07  wave 1 ended: 4/4 done (4 succeeded)`. */
export function describeRolloutChange(c: RolloutChange, at: Date): string {
  const t = at.toISOString().slice(11, 19);
  switch (c.what) {
    case 'started':
      return `${t}  rollout of ${terminalText(c.to)} to ${c.total} cluster(s) in ${c.waves} wave(s): ${terminalText(c.status)}`;
    case 'status':
      return `${t}  status ${terminalText(c.from)} → ${terminalText(c.to)}${c.reason ? `: ${terminalText(c.reason)}` : ''}`;
    case 'reason':
      return `${t}  reason: ${terminalText(c.reason)}`;
    case 'wave':
      return `${t}  wave ${c.wave}${c.wave === 0 ? ' (canary)' : ''} ${c.event}: ${c.event === 'started' ? `${c.size} cluster(s)` : `${finished(c.counts)}/${c.size} done (${countsText(c.counts)})`}`;
    case 'progress':
      return `${t}  ${c.done}/${c.total} done: ${countsText(c.counts)}${c.eta ? `; ETA ${clock(c.eta)}` : ''}`;
    case 'cluster': {
      const site = c.site ? ` (${terminalText(c.site)})` : '';
      const retry = c.retryAt ? `; tried again at ${clock(c.retryAt)}` : '';
      return `${t}  cluster ${terminalText(c.clusterId)}${site} ${c.state}: ${terminalText(c.reason) || (c.state === 'failed' ? 'no reason recorded' : 'offline or busy')}${retry}`;
    }
    case 'gate':
      return `${t}  ${terminalText(c.note)}`;
  }
}
