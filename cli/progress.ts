/**
 * Pure rendering of an operation's progress for `edgefleet operations watch` (and `--watch`):
 * a full frame for a terminal that is redrawn in place, change events for logs and JSON lines,
 * and the final outcome. No I/O here; every value from the API goes through `terminalText`.
 */
import { nodePlanView, plannedStepView, upgradeInputView, type OperationView } from '../lambdas/contracts/operations.js';
import { EXIT, type ExitCode } from './errors.js';
import { statusColor } from './output.js';

/** An operation as the API serves it (any server version: kind-specific parts are read with the contract's views). */
export type Operation = OperationView;
type HostProgress = Operation['hosts'][string];

const RESET = '\x1b[0m';
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export function isTerminal(status: string): boolean {
  return TERMINAL.has(status);
}

/** The exit code a watch ends with: 0 when the operation succeeded, EXIT.conflict when it failed or was cancelled. */
export function outcomeExitCode(status: string): ExitCode {
  return status === 'succeeded' ? EXIT.ok : EXIT.conflict;
}

// CSI (ESC [ … final), OSC (ESC ] … BEL or ST), other two-byte ESC sequences, and the 8-bit CSI.
const ANSI_SEQUENCE = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?|\x1b[@-Z\\-_]|\x9b[0-?]*[ -/]*[@-~]/g;
// C0/C1 controls (newlines, tabs, a lone ESC) and the bidi overrides that can reorder what is shown.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]+/g;

/** Makes an API value safe and single-line: escape sequences removed, other control characters become a space. */
export function terminalText(v: string | undefined | null): string {
  if (v === undefined || v === null) return '';
  return v.replace(ANSI_SEQUENCE, '').replace(CONTROL, ' ').replace(/ {2,}/g, ' ').trim();
}

/** Cuts a line to `width` characters (code points), ending it with "…" when cut. */
export function fitWidth(line: string, width: number): string {
  const chars = Array.from(line);
  if (chars.length <= width) return line;
  if (width <= 1) return chars.slice(0, Math.max(0, width)).join('');
  return chars.slice(0, width - 1).join('').trimEnd() + '…';
}

/** 45s, 3m05s, 2h04m. */
export function formatDuration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

const SYMBOLS: Record<string, string> = {
  succeeded: '✔', released: '✔', failed: '✖', 'timed-out': '✖', skipped: '-', superseded: '-',
  claimed: '·', pending: '·', queued: '·', sent: '→', accepted: '▸', progress: '▸',
};

/** A one-character mark for a per-host status (claimed · sent → accepted/progress ▸ succeeded ✔ failed ✖). */
export function hostSymbol(status: string): string {
  return SYMBOLS[status] ?? '•';
}

export interface FrameOptions {
  /** Current time, ms since the epoch. */
  readonly now: number;
  /** Terminal width: no line is longer, so a redraw knows how many rows to go back. */
  readonly width: number;
  readonly color?: boolean;
  /** A passing remark shown under the frame, e.g. "control plane busy; retrying in 4s". */
  readonly notice?: string;
  /** Terminal height: when the hosts do not fit, the busiest ones are shown and the rest summed up. */
  readonly maxLines?: number;
}

function elapsed(op: Operation, now: number): string {
  const end = op.endedAt ? Date.parse(op.endedAt) : now;
  const start = Date.parse(op.startedAt);
  return Number.isNaN(start) ? '-' : formatDuration(end - start);
}

function deadlineText(op: Operation, now: number): string | undefined {
  if (!op.deadline || isTerminal(op.status)) return undefined;
  const at = Date.parse(op.deadline);
  if (Number.isNaN(at)) return undefined;
  const when = terminalText(op.deadline);
  return at >= now ? `${when} (in ${formatDuration(at - now)})` : `${when} (passed ${formatDuration(now - at)} ago)`;
}

/** The last line of a finished operation: outcome, time taken, step and reason. */
export function renderOutcome(op: Operation, now: number): string {
  const took = elapsed(op, now);
  const step = terminalText(op.step);
  const reason = terminalText(op.reason);
  switch (op.status) {
    case 'succeeded':
      return `Succeeded after ${took}.`;
    case 'cancelled':
      return `Cancelled after ${took} at step ${step || '-'}${reason ? `: ${reason}` : '.'}`;
    case 'failed':
      return `Failed after ${took} at step ${step || '-'}: ${reason || 'no reason was recorded'}`;
    default:
      return `Still ${terminalText(op.status)} after ${took} (step ${step || '-'}).`;
  }
}

// Which hosts to keep when they do not all fit: trouble first, then work in flight, then the rest.
const RANK: Record<string, number> = { failed: 0, 'timed-out': 0, progress: 1, accepted: 1, sent: 1, claimed: 2, pending: 2 };

function hostRows(op: Operation, room: number): { rows: string[][]; hidden: string | undefined } {
  const ids = Object.keys(op.hosts).sort();
  let shown = ids;
  let hidden: string | undefined;
  if (ids.length > room) {
    const keep = Math.max(0, room - 1);
    const byRank = [...ids].sort((a, b) => (RANK[op.hosts[a]!.status] ?? 3) - (RANK[op.hosts[b]!.status] ?? 3));
    const kept = new Set(byRank.slice(0, keep));
    shown = ids.filter((id) => kept.has(id));
    const counts = new Map<string, number>();
    for (const id of ids) if (!kept.has(id)) counts.set(op.hosts[id]!.status, (counts.get(op.hosts[id]!.status) ?? 0) + 1);
    const summary = [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([st, n]) => `${n} ${terminalText(st)}`).join(', ');
    hidden = `… ${ids.length - keep} more host(s): ${summary}`;
  }
  const rows = shown.map((id) => {
    const h = op.hosts[id]!;
    return [hostSymbol(h.status), terminalText(id), terminalText(h.status), terminalText(h.step) || '-', terminalText(h.detail) || '-'];
  });
  return { rows, hidden };
}

/**
 * The whole view as lines, none longer than `width` and none containing a newline:
 * header (type, target, status, step, elapsed, deadline), one row per host, the outcome when
 * the operation has ended, and the notice if any. Colors (when asked) only paint the status
 * symbol and the status word, after the width is fitted.
 */
export function renderOperationFrame(op: Operation, o: FrameOptions): string[] {
  const paint = (text: string, status: string): string => {
    const c = o.color ? statusColor(status) : undefined;
    return c ? `${c}${text}${RESET}` : text;
  };
  const status = terminalText(op.status);
  const lines: { text: string; status?: string; mark?: number }[] = [];
  lines.push({ text: `Operation ${terminalText(op.id)}  ${terminalText(op.type)} on ${terminalText(op.target.type)}/${terminalText(op.target.id)}` });
  lines.push({ text: `Status: ${status}  step: ${terminalText(op.step) || '-'}  elapsed: ${elapsed(op, o.now)}`, status });
  const deadline = deadlineText(op, o.now);
  if (deadline) lines.push({ text: `Deadline: ${deadline}` });
  // Rows left for hosts: the header lines so far, a blank and the table header, the outcome (2) and the notice.
  const fixed = lines.length + 2 + (isTerminal(op.status) ? 2 : 0) + (o.notice ? 1 : 0);
  const { rows, hidden } = hostRows(op, o.maxLines ? Math.max(1, o.maxLines - fixed) : Number.POSITIVE_INFINITY);
  if (rows.length || hidden) {
    const header = ['', 'HOST', 'STATUS', 'STEP', 'DETAIL'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => Array.from(r[i]!).length)));
    const join = (cells: string[]): string =>
      cells.map((c, i) => (i === cells.length - 1 ? c : c + ' '.repeat(widths[i]! - Array.from(c).length))).join('  ').trimEnd();
    lines.push({ text: '' });
    lines.push({ text: join(header) });
    for (const r of rows) lines.push({ text: join(r), status: r[2], mark: 1 });
    if (hidden) lines.push({ text: hidden });
  }
  if (isTerminal(op.status)) {
    lines.push({ text: '' });
    lines.push({ text: renderOutcome(op, o.now), status: op.status });
  }
  if (o.notice) lines.push({ text: `(${terminalText(o.notice)})` });

  return lines.map(({ text, status: st, mark }) => {
    const fitted = fitWidth(text, o.width);
    if (!st || !o.color) return fitted;
    if (mark) return fitted ? paint(Array.from(fitted)[0]!, st) + Array.from(fitted).slice(1).join('') : fitted;
    return paint(fitted, st);
  });
}

/** One change between two polls of an operation, as printed to logs and JSON lines. */
export type OperationChange =
  | { readonly what: 'started'; readonly type: string; readonly target: string; readonly status: string; readonly step: string }
  | { readonly what: 'status' | 'step'; readonly from: string; readonly to: string }
  | { readonly what: 'host'; readonly host: string; readonly status: string; readonly step?: string; readonly detail?: string }
  | { readonly what: 'reason'; readonly reason: string };

const sameHost = (a: HostProgress | undefined, b: HostProgress): boolean =>
  !!a && a.status === b.status && a.step === b.step && a.detail === b.detail;

/** What changed since the previous poll (everything, when there was none). Hosts in id order. Pure. */
export function diffOperation(prev: Operation | undefined, next: Operation): OperationChange[] {
  const out: OperationChange[] = [];
  if (!prev) {
    out.push({ what: 'started', type: next.type, target: `${next.target.type}/${next.target.id}`, status: next.status, step: next.step });
  } else {
    if (prev.status !== next.status) out.push({ what: 'status', from: prev.status, to: next.status });
    if (prev.step !== next.step) out.push({ what: 'step', from: prev.step, to: next.step });
  }
  for (const host of Object.keys(next.hosts).sort()) {
    const h = next.hosts[host]!;
    if (!sameHost(prev?.hosts[host], h)) {
      out.push({ what: 'host', host, status: h.status, ...(h.step ? { step: h.step } : {}), ...(h.detail ? { detail: h.detail } : {}) });
    }
  }
  if (next.reason && next.reason !== prev?.reason) out.push({ what: 'reason', reason: next.reason });
  return out;
}

/** A change as one log line, e.g. `17:30:03  hw-2  progress  join-worker: waiting for Ready`. */
export function describeOperationChange(c: OperationChange, at: Date): string {
  const t = at.toISOString().slice(11, 19);
  switch (c.what) {
    case 'started':
      return `${t}  ${terminalText(c.type)} on ${terminalText(c.target)}: ${terminalText(c.status)}, step ${terminalText(c.step) || '-'}`;
    case 'status':
    case 'step':
      return `${t}  ${c.what} ${terminalText(c.from) || '-'} → ${terminalText(c.to) || '-'}`;
    case 'host': {
      const step = terminalText(c.step);
      const detail = terminalText(c.detail);
      return `${t}  host ${terminalText(c.host)}  ${hostSymbol(c.status)} ${terminalText(c.status)}${step ? `  ${step}` : ''}${detail ? `: ${detail}` : ''}`;
    }
    case 'reason':
      return `${t}  reason: ${terminalText(c.reason)}`;
  }
}

/** ANSI: move the cursor up `lines` rows to column 1 and clear to the end of the screen. */
export function redrawPrefix(lines: number): string {
  return lines > 0 ? `\x1b[${lines}A\r\x1b[0J` : '';
}

/** Retry-After (seconds or an HTTP date) in ms from now; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number): number | undefined {
  const v = value?.trim();
  if (!v) return undefined;
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

// ---------- rolling upgrades (operation type `upgrade-cluster`) ----------

export interface UpgradeNodePlan {
  readonly hostId: string;
  readonly role: string;
  readonly pool: string;
  readonly behaviour: string;
  readonly steps: readonly { readonly step: string; readonly on?: string }[];
}

/** The parts of an upgrade operation's `input` the CLI shows; anything malformed is left out. */
export interface UpgradeView {
  readonly behaviour?: string;
  readonly changes: readonly { readonly layer: string; readonly change: string; readonly behaviour: string; readonly reason?: string }[];
  readonly controlPlane: readonly UpgradeNodePlan[];
  readonly workers: readonly UpgradeNodePlan[];
  readonly maxUnavailable?: number;
  readonly downtime?: { readonly expected: boolean; readonly reason?: string; readonly estimatedSeconds?: number };
  /** Workers left at the current version (`--skip-workers`): the plan's flag, or their ids. */
  readonly skippedWorkers: boolean | readonly string[];
  readonly from?: string;
  readonly to?: string;
  readonly onFailure?: string;
  readonly rollbackOf?: string;
  readonly rolledBackBy?: string;
}

const ref = (r: { name?: string; version: string } | undefined): string | undefined => (r ? `${r.name ? `${r.name}@` : ''}${r.version}` : undefined);
/** Plan nodes through the contract's view: nodes without a host id and steps without a name are left out. */
const nodes = (items: readonly unknown[]): UpgradeNodePlan[] => items.flatMap((item) => {
  const n = nodePlanView.safeParse(item);
  if (!n.success) return [];
  const steps = n.data.steps.flatMap((s) => {
    const p = plannedStepView.safeParse(s);
    return p.success ? [{ step: p.data.step, on: p.data.on }] : [];
  });
  return [{ hostId: n.data.hostId, role: n.data.role, pool: n.data.pool, behaviour: n.data.behaviour, steps }];
});
const workerId = (w: unknown): string | undefined => {
  const p = nodePlanView.pick({ hostId: true }).safeParse(w);
  return typeof w === 'string' ? w : p.success ? p.data.hostId : undefined;
};

/** Reads the plan out of an upgrade operation's `input` with the contract's tolerant view (parts that do not fit are left out). Pure. */
export function upgradeView(op: Operation): UpgradeView {
  return upgradeInputOf(op.input);
}

/** The same view of an upgrade's input (an operation's, or a dry run's from/to/plan). Pure. */
export function upgradeInputOf(raw: unknown): UpgradeView {
  const input = upgradeInputView.parse(raw);
  const plan = input.plan;
  const skipped = plan?.skippedWorkers ?? false;
  return {
    behaviour: plan?.behaviour,
    changes: plan?.changes ?? [],
    controlPlane: nodes(plan?.controlPlane ?? []),
    workers: nodes(plan?.workers ?? []),
    maxUnavailable: plan?.maxUnavailable,
    downtime: plan?.downtime,
    skippedWorkers: skipped === true || (Array.isArray(skipped) ? skipped.map(workerId).filter((w): w is string => !!w) : []),
    from: ref(input.from), to: ref(input.to), onFailure: input.onFailure,
    rollbackOf: input.rollbackOf,
    rolledBackBy: input.rolledBackBy,
  };
}

const DONE_HOST = new Set(['succeeded', 'skipped']);

/** Steps done out of the node's planned steps: all when it succeeded, those before the current step otherwise. */
export function nodeStepsDone(node: UpgradeNodePlan, h: HostProgress | undefined): { done: number; total: number } {
  const total = node.steps.length;
  if (!h) return { done: 0, total };
  if (DONE_HOST.has(h.status)) return { done: total, total };
  const at = h.step ? node.steps.findIndex((s) => s.step === h.step) : -1;
  return { done: Math.max(0, at), total };
}

/** `[████░░░░░░]` for done/total (an empty plan counts as done). */
export function progressBar(done: number, total: number, cells = 10): string {
  const full = total <= 0 ? cells : Math.min(cells, Math.floor((done / total) * cells));
  return `[${'█'.repeat(full)}${'░'.repeat(cells - full)}]`;
}

/** Ended, or paused because a node failed (the `onFailure: pause` policy): nothing more happens without the operator. */
export function upgradeStopped(op: Operation): boolean {
  if (isTerminal(op.status)) return true;
  if (op.status !== 'paused') return false;
  if (Object.values(op.hosts).some((h) => h.status === 'failed' || h.status === 'timed-out')) return true;
  // The failure policy paused it (an operator's pause reads "paused by <who>").
  return upgradeView(op).onFailure === 'pause' && !!op.reason && !/^paused by /.test(op.reason);
}

/** What happened to the upgrade beyond its outcome: rollbacks and how to continue, as lines. */
export function upgradeFollowUp(op: Operation, clusterId: string): string[] {
  const v = upgradeView(op);
  const c = terminalText(clusterId);
  const out: string[] = [];
  if (v.rolledBackBy) {
    out.push(`Rolled back by upgrade ${terminalText(v.rolledBackBy)}: edgefleet upgrades get ${c} ${terminalText(v.rolledBackBy)}`);
  }
  if (op.status === 'paused') {
    out.push(`Paused${op.reason ? `: ${terminalText(op.reason)}` : '.'}`);
    out.push(`Continue from each node's state: edgefleet upgrades resume ${c} ${terminalText(op.id)}   or stop: edgefleet upgrades cancel ${c} ${terminalText(op.id)}`);
  }
  return out;
}

function skippedNote(v: UpgradeView): string | undefined {
  if (v.skippedWorkers === true) return 'Workers stay at the current version (--skip-workers): control plane only';
  return v.skippedWorkers === false || !v.skippedWorkers.length ? undefined : `Workers staying at the current version (--skip-workers): ${v.skippedWorkers.map(terminalText).join(', ')}`;
}

function downtimeNote(v: UpgradeView): string | undefined {
  if (!v.downtime?.expected) return undefined;
  const est = v.downtime.estimatedSeconds !== undefined ? ` (about ${formatDuration(v.downtime.estimatedSeconds * 1000)})` : '';
  return `Downtime expected${est}: ${terminalText(v.downtime.reason) || 'the cluster cannot stay available during this upgrade'}`;
}

/**
 * The live upgrade view as lines, none longer than `width`: a header (from → to, behaviour,
 * maxUnavailable, status, elapsed, downtime note), then one progress bar per node, control
 * plane first then workers in plan order, and the outcome with rollback/resume pointers.
 */
export function renderUpgradeFrame(op: Operation, o: FrameOptions): string[] {
  const v = upgradeView(op);
  const status = terminalText(op.status);
  const lines: { text: string; status?: string; mark?: boolean }[] = [];
  const cluster = terminalText(op.target.id);
  lines.push({ text: `Upgrade ${terminalText(op.id)}  cluster ${cluster}  ${terminalText(v.from) || '?'} → ${terminalText(v.to) || '?'}` });
  const head = [`Status: ${status}`, `behaviour: ${terminalText(v.behaviour) || '-'}`, `maxUnavailable: ${v.maxUnavailable ?? '-'}`];
  if (v.onFailure) head.push(`on failure: ${terminalText(v.onFailure)}`);
  head.push(`elapsed: ${elapsed(op, o.now)}`);
  lines.push({ text: head.join('  '), status });
  if (v.rollbackOf) lines.push({ text: `Rolls back upgrade ${terminalText(v.rollbackOf)} (edgefleet upgrades get ${cluster} ${terminalText(v.rollbackOf)})` });
  const downtime = downtimeNote(v);
  if (downtime) lines.push({ text: downtime });
  const groups: [string, readonly UpgradeNodePlan[]][] = [['Control plane', v.controlPlane], ['Workers', v.workers]];
  const planned = new Set([...v.controlPlane, ...v.workers].map((n) => n.hostId));
  // Hosts in the operation but not in the plan (an old or malformed plan) still show, without steps.
  const extra = Object.keys(op.hosts).filter((h) => !planned.has(h)).sort().map((hostId) => ({ hostId, role: '', pool: '', behaviour: '', steps: [] }));
  if (extra.length) groups.push(['Other hosts', extra]);
  const all = [...v.controlPlane, ...v.workers, ...extra];
  const idWidth = Math.max(0, ...all.map((n) => Array.from(terminalText(n.hostId)).length));
  const countWidth = Math.max(0, ...all.map((n) => 2 * String(n.steps.length).length + 1));
  for (const [title, group] of groups) {
    if (!group.length) continue;
    lines.push({ text: '' });
    lines.push({ text: title === 'Workers' && v.maxUnavailable ? `${title} (${v.maxUnavailable} at a time)` : title });
    for (const n of group) {
      const h = op.hosts[n.hostId];
      const st = h?.status ?? 'queued';
      const { done, total } = nodeStepsDone(n, h);
      const id = terminalText(n.hostId);
      const cells = [
        hostSymbol(st), id + ' '.repeat(idWidth - Array.from(id).length), progressBar(done, total), `${done}/${total}`.padStart(countWidth),
        terminalText(st).padEnd(9), (terminalText(h?.step) || '-').padEnd(9), terminalText(n.behaviour) || '-',
      ];
      const detail = terminalText(h?.detail);
      lines.push({ text: cells.join('  ') + (detail ? `  ${detail}` : ''), status: st, mark: true });
    }
  }
  const skipped = skippedNote(v);
  if (skipped) lines.push({ text: skipped });
  if (isTerminal(op.status) || op.status === 'paused') {
    lines.push({ text: '' });
    if (isTerminal(op.status)) lines.push({ text: renderOutcome(op, o.now), status: op.status });
    for (const l of upgradeFollowUp(op, op.target.id)) lines.push({ text: l, status: op.status === 'paused' && l.startsWith('Paused') ? 'paused' : undefined });
  }
  if (o.notice) lines.push({ text: `(${terminalText(o.notice)})` });
  return lines.map(({ text, status: st, mark }) => {
    const fitted = fitWidth(text, o.width);
    if (!st || !o.color) return fitted;
    const c = statusColor(st);
    if (!c) return fitted;
    if (mark) return fitted ? `${c}${Array.from(fitted)[0]!}${RESET}${Array.from(fitted).slice(1).join('')}` : fitted;
    return `${c}${fitted}${RESET}`;
  });
}

/** The plan as printed when an upgrade starts: behaviour and steps per node, in the order they run. */
export function describeUpgradePlan(op: Operation): string[] {
  return describePlanView(upgradeView(op));
}

/** The plan's lines from its view (an upgrade's, or a dry run's). Pure. */
export function describePlanView(v: UpgradeView): string[] {
  const out: string[] = [];
  const mu = v.maxUnavailable ? `, workers ${v.maxUnavailable} at a time` : '';
  out.push(`Plan: ${terminalText(v.from) || '?'} → ${terminalText(v.to) || '?'}, behaviour ${terminalText(v.behaviour) || '-'}${mu}${v.onFailure ? `, on failure ${terminalText(v.onFailure)}` : ''}`);
  for (const c of v.changes) {
    out.push(`  change  ${terminalText(c.layer) || '-'}: ${terminalText(c.change) || '-'} → ${terminalText(c.behaviour) || '-'}${c.reason ? ` (${terminalText(c.reason)})` : ''}`);
  }
  const all = [...v.controlPlane, ...v.workers];
  all.forEach((n, i) => {
    const role = n.role === 'control-plane' || v.controlPlane.includes(n) ? 'control plane' : `worker ${terminalText(n.pool)}`;
    const steps = n.steps.map((s) => terminalText(s.step) + (s.on === 'peer' ? '@peer' : '')).join(' → ') || 'nothing to do';
    out.push(`  ${i + 1}. ${terminalText(n.hostId)}  ${role}  ${terminalText(n.behaviour) || '-'}: ${steps}`);
  });
  const skipped = skippedNote(v);
  if (skipped) out.push(`  ${skipped}`);
  const downtime = downtimeNote(v);
  if (downtime) out.push(downtime);
  return out;
}
