/**
 * The life of a command sent to a host: stored (queued) before it is published (sent), then
 * driven by the device's results: accepted → progress… → succeeded | failed, or timed-out when
 * its deadline passes first. Results are idempotent; a result for a finished command is ignored.
 */
export type CommandState = 'queued' | 'sent' | 'accepted' | 'progress' | 'succeeded' | 'failed' | 'timed-out' | 'superseded';
export type ResultPhase = 'accepted' | 'progress' | 'succeeded' | 'failed';

export const TERMINAL: ReadonlySet<CommandState> = new Set(['succeeded', 'failed', 'timed-out', 'superseded']);
/** States the device still has to see or finish (fetched again on reconnect). */
export const UNFINISHED: readonly CommandState[] = ['queued', 'sent', 'accepted', 'progress'];

export interface CommandRecord {
  readonly hostId: string;
  readonly commandId: string;
  readonly type: string;
  readonly params: Readonly<Record<string, string | number | boolean>>;
  /** ISO time after which the command is timed out. */
  readonly deadline: string;
  readonly state: CommandState;
  /** Optimistic-concurrency counter of the stored item. */
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly sentAt?: string;
  readonly endedAt?: string;
  readonly progress?: number;
  readonly detail?: string;
  /** Why it ended without the device saying so (e.g. `deadline-passed`). */
  readonly reason?: string;
  /** The operation (workflow) that sent it; its progress follows the command's results. */
  readonly operationId?: string;
  /** The workflow execution (run) of that operation that sent it: only that run may deliver it. */
  readonly execution?: string;
  /** The workflow step it carries out (e.g. `init`, `drain`) and the host that step is about. */
  readonly workflowStep?: string;
  readonly subjectHostId?: string;
  /** The workflow's task token: completed (success/failure) when the command finishes. */
  readonly taskToken?: string;
  /**
   * Placeholders in `params` string values → names in the secret store. The stored command
   * never holds the secret; it is filled in when the command is published.
   */
  readonly secrets?: Readonly<Record<string, string>>;
  /** `collect-diagnostics`: the uploaded bundle's size and sha256, from the succeeded result. */
  readonly bundle?: { readonly bytes: number; readonly sha256: string };
  /**
   * Set by the store when the parameters live in their own write-once item (large ones: a
   * rendered cloud-config), so the command's own writes stay small: `params` is then empty in
   * the record read, and `CommandStore.withParams` reads them (only publishing needs them).
   */
  readonly paramsRef?: string;
}

export interface CommandResult {
  readonly phase: ResultPhase;
  readonly detail?: string;
  readonly progress?: number;
  /** `collect-diagnostics`, succeeded: what was uploaded. */
  readonly bundle?: { readonly bytes: number; readonly sha256: string };
}

export type ResultOutcome =
  | { readonly kind: 'applied'; readonly next: CommandRecord }
  | { readonly kind: 'timed-out'; readonly next: CommandRecord }
  | { readonly kind: 'ignored'; readonly reason: 'unknown-command' | 'finished' | 'duplicate' | 'out-of-order' }
  /**
   * The result that finished the command, delivered again: Lambda retries an invocation that
   * failed or timed out after it stored the result but before its follow-ups (the workflow's task
   * token, the operation's host row) were done; the caller runs those again, idempotently.
   */
  | { readonly kind: 'redelivered'; readonly current: CommandRecord };

const RANK: Record<CommandState, number> = {
  queued: 0, sent: 1, accepted: 2, progress: 3, succeeded: 4, failed: 4, 'timed-out': 4, superseded: 4,
};

export const isFinished = (c: Pick<CommandRecord, 'state'>): boolean => TERMINAL.has(c.state);
export const isPastDeadline = (c: Pick<CommandRecord, 'deadline'>, now: Date): boolean => now.getTime() > Date.parse(c.deadline);

const bump = (c: CommandRecord, now: Date, changes: Partial<CommandRecord>): CommandRecord =>
  ({ ...c, ...changes, version: c.version + 1, updatedAt: now.toISOString() });

/** An unfinished command past its deadline becomes timed-out; anything else stays as it is. */
export function expire(c: CommandRecord, now: Date): CommandRecord | undefined {
  if (isFinished(c) || !isPastDeadline(c, now)) return undefined;
  return bump(c, now, { state: 'timed-out', endedAt: now.toISOString(), reason: 'deadline-passed' });
}

/**
 * A command the device has not acknowledged (queued, sent) whose workflow run ended (failed,
 * paused, cancelled, or replaced by a resumed run) is superseded: it is never delivered, also
 * not when the host reconnects. One the device already accepted is left to finish (an image
 * being written is not interrupted); its result is recorded.
 */
export function supersede(c: CommandRecord, now: Date, reason: string): CommandRecord | undefined {
  if (c.state !== 'queued' && c.state !== 'sent') return undefined;
  return bump(c, now, { state: 'superseded', endedAt: now.toISOString(), reason });
}

/** Queued → sent when published; an already-sent command is re-sent without a change. */
export function markSent(c: CommandRecord, now: Date): CommandRecord | undefined {
  if (c.state !== 'queued') return undefined;
  return bump(c, now, { state: 'sent', sentAt: now.toISOString() });
}

/**
 * A command about to be published is stored already marked sent (one write instead of a
 * queued write and a sent write). If the publish then fails it goes back to queued (and is
 * sent on the host's next reconnect): only a sent command that has not moved on goes back.
 */
export function unsend(c: CommandRecord, now: Date): CommandRecord | undefined {
  if (c.state !== 'sent') return undefined;
  const { sentAt: _sentAt, ...rest } = c;
  return { ...rest, state: 'queued', version: c.version + 1, updatedAt: now.toISOString() };
}

/** Applies a device result to a stored command (or to `undefined`: an unknown command). */
export function applyResult(c: CommandRecord | undefined, r: CommandResult, now: Date): ResultOutcome {
  if (!c) return { kind: 'ignored', reason: 'unknown-command' };
  if (isFinished(c)) return c.state === r.phase ? { kind: 'redelivered', current: c } : { kind: 'ignored', reason: 'finished' };
  const timedOut = expire(c, now);
  if (timedOut) return { kind: 'timed-out', next: timedOut };
  const target: CommandState = r.phase;
  if (RANK[target] < RANK[c.state]) return { kind: 'ignored', reason: 'out-of-order' };
  if (target === c.state) {
    const moved = target === 'progress' && r.progress !== undefined && r.progress > (c.progress ?? -1);
    if (!moved) return { kind: 'ignored', reason: 'duplicate' };
  }
  const terminal = TERMINAL.has(target);
  return {
    kind: 'applied',
    next: bump(c, now, {
      state: target,
      ...(r.progress !== undefined ? { progress: r.progress } : target === 'succeeded' ? { progress: 100 } : {}),
      ...(r.detail !== undefined ? { detail: r.detail } : {}),
      ...(r.bundle && target === 'succeeded' ? { bundle: r.bundle } : {}),
      ...(terminal ? { endedAt: now.toISOString() } : {}),
    }),
  };
}
