/**
 * Pure rendering of an operation's progress for `edgefleet operations watch` (and `--watch`):
 * a full frame for a terminal that is redrawn in place, change events for logs and JSON lines,
 * and the final outcome. No I/O here; every value from the API goes through `terminalText`.
 */
import type { z } from 'zod';
import type { operation } from '../lambdas/contracts/api.js';
import { EXIT, type ExitCode } from './errors.js';
import { statusColor } from './output.js';

export type Operation = z.infer<typeof operation>;
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
  succeeded: '✔', released: '✔', failed: '✖', 'timed-out': '✖', skipped: '-',
  claimed: '·', pending: '·', sent: '→', accepted: '▸', progress: '▸',
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
