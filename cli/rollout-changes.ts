/**
 * A rollout's changes between two polls, for logs, non-terminal output and JSON lines
 * (`edgefleet rollouts watch` when stdout is not a terminal). Pure.
 */
import type { RolloutView, TargetCounts } from '../lambdas/contracts/rollouts.js';
import { terminalText } from './progress.js';
import { clock, countsText, finished, gateNote } from './rollout-progress.js';

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
