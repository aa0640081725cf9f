/**
 * A host's agent update (POST /v1/hosts/{hostId}/agent-update), as pure decisions: whether it
 * may start, and how its operation follows its one `agent-update` command and the agent
 * version the host reports. The operation succeeds only when the host *reports* the new
 * version (its status), never because a command said so; every other end is `failed` with
 * the reason.
 */
import type { CommandRecord } from './command.js';
import type { HostStatus } from './host-lifecycle.js';
import type { AgentUpdateOperation, OperationStatus } from './model.js';

export const AGENT_UPDATE = 'agent-update';
/** How long the whole update may take (download, verify, restart, commit). */
export const AGENT_UPDATE_DEADLINE_SECONDS = 15 * 60;
/** How long the new agent has to come online and commit before the guard puts the previous one back. */
export const AGENT_COMMIT_SECONDS = 120;
/** After the command's deadline, how long the operation waits for the version report before it fails. */
export const VERSION_REPORT_GRACE_SECONDS = 120;

export const agentUpdateCommandId = (operationId: string): string => `agentupd-${operationId}`.slice(0, 64);

export interface AgentUpdateFacts {
  readonly hostId: string;
  readonly hostStatus: HostStatus;
  readonly presence: 'online' | 'offline';
  /** The agent version the host last reported (status), if any. */
  readonly reportedVersion?: string;
  /** The version of the signed manifest the control plane serves; undefined: none is published. */
  readonly publishedVersion?: string;
  readonly requested: string;
  /** An agent update of this host still open. */
  readonly openOperationId?: string;
}

export type AgentUpdateDecision =
  | { readonly ok: true }
  | { readonly ok: false; readonly kind: 'conflict' | 'unprocessable' | 'unavailable'; readonly code: string; readonly detail: string };

const UPDATABLE: readonly HostStatus[] = ['approved', 'in-cluster'];

/** Whether an agent update may start, and if not, what to tell the operator (first failing rule). */
export function decideAgentUpdate(f: AgentUpdateFacts): AgentUpdateDecision {
  if (f.publishedVersion === undefined) {
    return { ok: false, kind: 'unavailable', code: 'agent-artifacts-missing', detail: 'this control plane publishes no agent manifest, so no host can be updated: build and publish the agent (npm run device:build; locally the runtime serves dist/device or --agent-artifacts <dir>)' };
  }
  if (f.requested !== f.publishedVersion) {
    return { ok: false, kind: 'unprocessable', code: 'agent-version-not-published', detail: `agent version ${f.requested} is not in the published manifest, which offers ${f.publishedVersion} (GET /v1/agent/manifest): ask for ${f.publishedVersion}, or build and publish ${f.requested} first` };
  }
  if (!UPDATABLE.includes(f.hostStatus)) {
    return { ok: false, kind: 'conflict', code: 'host-not-approved', detail: `host ${f.hostId} is ${f.hostStatus}: only an approved host (or one in a cluster) runs commands; approve it first` };
  }
  if (f.presence !== 'online') {
    return { ok: false, kind: 'conflict', code: 'host-offline', detail: `host ${f.hostId} is offline: an agent update needs the host online to come back on the new version and report it; bring it online and retry` };
  }
  if (f.openOperationId) {
    return { ok: false, kind: 'conflict', code: 'agent-update-running', detail: `host ${f.hostId} is already updating its agent (operation ${f.openOperationId}): wait for it (edgefleet operations get ${f.openOperationId})` };
  }
  if (f.reportedVersion === f.requested) {
    return { ok: false, kind: 'conflict', code: 'agent-already-at-version', detail: `host ${f.hostId} already reports agent ${f.requested}: nothing to do` };
  }
  return { ok: true };
}

/** What the operation becomes; undefined: no change. */
export interface OperationFollow {
  readonly status: OperationStatus;
  readonly step: string;
  readonly reason?: string;
}

const OPEN: readonly OperationStatus[] = ['queued', 'running'];

/**
 * The operation after its command changed. A succeeded command ends it `succeeded` only if the
 * host already reports the new version; otherwise it waits for that report (`versionReported`).
 */
export function followAgentUpdateCommand(op: Pick<AgentUpdateOperation, 'status' | 'step' | 'input' | 'target'>, c: Pick<CommandRecord, 'state' | 'detail' | 'deadline' | 'reason'>, reportedVersion: string | undefined): OperationFollow | undefined {
  if (!OPEN.includes(op.status)) return undefined;
  const v = op.input.version;
  const host = op.target.id;
  switch (c.state) {
    case 'queued': case 'sent':
      return op.step === 'sending' ? undefined : { status: 'running', step: 'sending' };
    case 'accepted': case 'progress':
      return op.step === 'updating' ? undefined : { status: 'running', step: 'updating' };
    case 'succeeded':
      if (reportedVersion === v) return { status: 'succeeded', step: 'done' };
      return op.step === 'awaiting-version-report' ? undefined : { status: 'running', step: 'awaiting-version-report' };
    case 'failed':
      return { status: 'failed', step: 'failed', reason: `host ${host} did not move to agent ${v}: ${c.detail ?? 'no detail reported'}` };
    case 'timed-out':
      return { status: 'failed', step: 'failed', reason: `host ${host} did not finish its agent update to ${v} before ${c.deadline} (deadline passed): it may be offline, or its new agent never came online and the guard has not reported yet; check edgefleet hosts get ${host}` };
    case 'superseded':
      return { status: 'failed', step: 'failed', reason: `the agent-update command to host ${host} was superseded (${c.reason ?? 'its run ended'})` };
  }
  return undefined;
}

/** The host reported an agent version: the operation waiting for it succeeds when it is the target. */
export function versionReported(op: Pick<AgentUpdateOperation, 'status' | 'step' | 'input'>, reportedVersion: string): OperationFollow | undefined {
  if (!OPEN.includes(op.status) || op.step !== 'awaiting-version-report') return undefined;
  return reportedVersion === op.input.version ? { status: 'succeeded', step: 'done' } : undefined;
}

/** The sweep: an open agent update past its deadline (plus the grace for the report) ends failed. */
export function overdueAgentUpdate(op: Pick<AgentUpdateOperation, 'status' | 'step' | 'input' | 'target' | 'deadline'>, now: Date): OperationFollow | undefined {
  if (!OPEN.includes(op.status) || !op.deadline) return undefined;
  if (now.getTime() <= Date.parse(op.deadline) + VERSION_REPORT_GRACE_SECONDS * 1000) return undefined;
  const what = op.step === 'awaiting-version-report'
    ? `the agent said it runs ${op.input.version} but the host never reported that version`
    : 'the host never finished the update';
  return { status: 'failed', step: 'failed', reason: `deadline passed: ${what} (host ${op.target.id}, deadline ${op.deadline}); check edgefleet hosts get ${op.target.id}` };
}
