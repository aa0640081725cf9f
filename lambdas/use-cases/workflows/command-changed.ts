import { WORKFLOW_ERRORS } from '../../contracts/workflows.js';
import { isFinished, type CommandRecord } from '../../domain/command.js';
import type { DeviceDeps } from '../device-deps.js';
import { recordDiagnosticsProgress } from '../record-diagnostics-progress.js';
import { followAgentUpdate } from '../agent-update-progress.js';

/** The host an operation's progress row is about: the drained node for kube-node, else the command's host. */
export const progressHost = (c: Pick<CommandRecord, 'hostId' | 'subjectHostId'>): string => c.subjectHostId ?? c.hostId;

/**
 * A workflow's command changed state: its operation's per-host progress follows, and when it
 * finished, the waiting task token is completed — success, or a failure whose cause says what
 * happened to which host and what to do.
 *
 * `hostRow: false` is for a result that finished the command coming again (Lambda retrying an
 * invocation that timed out after storing it): what follows from the stored command runs again —
 * the diagnostics request, the agent update, the task token (a closed token is ignored) — but the
 * operation's host row is left alone: by now the host may be on its next command, and a row still
 * pointing at this one already reads its final state from it.
 */
export async function commandChanged(deps: DeviceDeps, c: CommandRecord, { hostRow = true }: { readonly hostRow?: boolean } = {}): Promise<void> {
  await recordDiagnosticsProgress(deps, c);
  if (!c.operationId) return;
  await followAgentUpdate({ clock: deps.clock, operations: deps.agentUpdates, status: deps.status }, c);
  if (hostRow) {
    const detail = c.detail ?? (c.reason === 'deadline-passed' ? `did not finish before ${c.deadline}` : c.reason);
    await deps.operations?.setHost(c.operationId, progressHost(c), {
      status: c.state, commandId: c.commandId, at: c.updatedAt,
      ...(c.workflowStep ? { step: c.workflowStep } : {}), ...(detail ? { detail } : {}),
    }, c.hostId);
  }
  if (isFinished(c)) await completeToken(deps, c);
}

/** Completes the task token of a finished command (also used when a resumed workflow finds it done). */
export async function completeToken(deps: DeviceDeps, c: CommandRecord): Promise<void> {
  if (!c.taskToken || !deps.workflows) return;
  const what = `${c.workflowStep ?? c.type}${c.subjectHostId ? ` of ${c.subjectHostId}` : ''}`;
  if (c.state === 'succeeded') {
    await deps.workflows.sendTaskSuccess(c.taskToken, { hostId: c.hostId, commandId: c.commandId, detail: c.detail ?? '' });
  } else if (c.state === 'failed') {
    await deps.workflows.sendTaskFailure(c.taskToken, WORKFLOW_ERRORS.hostFailed, `host ${c.hostId} failed ${what}: ${c.detail ?? 'no detail reported'}`);
  } else if (c.state === 'timed-out') {
    await deps.workflows.sendTaskFailure(c.taskToken, WORKFLOW_ERRORS.hostTimedOut,
      `host ${c.hostId} did not finish ${what} before ${c.deadline} (command ${c.commandId}); it may be offline or stuck: check \`edgefleet hosts get ${c.hostId}\` and its network, then retry`);
  }
}
