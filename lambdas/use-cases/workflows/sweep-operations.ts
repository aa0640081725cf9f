import { WORKFLOW_ERRORS, workflowKind, type WorkflowKind } from '../../contracts/workflows.js';
import type { OperationRecord } from '../../domain/model.js';
import type { WorkflowDeps } from './deps.js';
import { failOperation } from './fail-operation.js';
import { stopRun } from '../cluster-operations.js';
import { sweepAgentUpdates } from '../agent-update-progress.js';

/** A queued operation whose workflow has not started after this long is started (again) by the sweep. */
export const START_GRACE_MS = 60_000;

export interface SweepOutcome {
  readonly started: string[];
  readonly expired: string[];
}

const kindOf = (op: OperationRecord): WorkflowKind | undefined => {
  const k = workflowKind.safeParse(op.type);
  return k.success ? k.data : undefined;
};

/** The maintenance window of an operation (upgrades may have one). */
const windowOf = (op: OperationRecord) => (op.type === 'upgrade-cluster' ? op.input.window : undefined);
/** The time before which a queued operation does not start (a maintenance window's start). */
const notBeforeOf = (op: OperationRecord) => (op.type === 'upgrade-cluster' ? op.input.notBefore : undefined);

/**
 * Scheduled (every minute on AWS, a timer locally). No operation stays open forever:
 * - past its deadline → failed (reason deadline-passed), its execution stopped;
 * - still queued after START_GRACE_MS (the request's StartExecution was lost) → started;
 *   the execution name is the operation id, so a start that did happen is not repeated.
 */
export async function sweepOperations(deps: WorkflowDeps, limit = 100): Promise<SweepOutcome> {
  const now = deps.clock.now();
  const started: string[] = [];
  const expired: string[] = [];
  for (const op of await deps.operations.listOpen(limit)) {
    // A host's agent update has no workflow: past its deadline it ends failed, saying why.
    if (op.type === 'agent-update') {
      expired.push(...(await sweepAgentUpdates(deps, [op])));
      continue;
    }
    const kind = kindOf(op);
    if (!kind) continue;
    // A paused operation waits for its operator (resume or cancel): its deadline starts again on resume.
    if (op.status !== 'paused' && op.deadline && now.getTime() > Date.parse(op.deadline)) {
      await failOperation(deps, op.id, { Error: WORKFLOW_ERRORS.hostTimedOut, Cause: `the operation did not finish by its deadline ${op.deadline}` });
      await stopRun(deps, op, `operation ${op.id} passed its deadline`);
      expired.push(op.id);
    } else if (op.status === 'queued' && windowMissed(op, now)) {
      // Never start outside the window it was given: it ends, and says why.
      await failOperation(deps, op.id, { Error: 'EdgeFleet.WindowMissed', Cause: `its maintenance window ended (${String(windowOf(op)?.end)}) before it could start; request it again with a new window` });
      expired.push(op.id);
    } else if (op.status === 'queued') {
      // A maintenance window holds it until its start; otherwise the request's start was lost.
      const start = notBeforeOf(op);
      const notBefore = typeof start === 'string' ? Date.parse(start) : undefined;
      const due = notBefore !== undefined ? now.getTime() >= notBefore : now.getTime() - Date.parse(op.updatedAt ?? op.startedAt) > START_GRACE_MS;
      if (due && (await deps.workflows.start(kind, op.execution ?? op.id, { operationId: op.id })).started) started.push(op.id);
    }
  }
  return { started, expired };
}

/** A queued operation whose maintenance window ended before it started. */
function windowMissed(op: OperationRecord, now: Date): boolean {
  const end = windowOf(op)?.end;
  return typeof end === 'string' && now.getTime() > Date.parse(end);
}

/**
 * After a restart of the local runtime (whose engine keeps executions in memory): every open
 * operation's workflow is started again; its steps are idempotent, so it picks up where the
 * stored state says it was.
 */
export async function resumeOperations(deps: WorkflowDeps, limit = 1000): Promise<string[]> {
  const resumed: string[] = [];
  for (const op of await deps.operations.listOpen(limit)) {
    const kind = kindOf(op);
    if (!kind || op.status === 'paused') continue;
    const notBefore = notBeforeOf(op);
    if (op.status === 'queued' && typeof notBefore === 'string' && Date.parse(notBefore) > deps.clock.now().getTime()) continue;
    if ((await deps.workflows.start(kind, op.execution ?? op.id, { operationId: op.id })).started) resumed.push(op.id);
  }
  return resumed;
}
