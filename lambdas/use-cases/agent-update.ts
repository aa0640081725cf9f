import { AGENT_COMMIT_SECONDS, AGENT_UPDATE, AGENT_UPDATE_DEADLINE_SECONDS, agentUpdateCommandId, decideAgentUpdate } from '../domain/agent-update.js';
import { ConflictError, UnavailableError, UnprocessableError } from '../domain/errors.js';
import type { AgentUpdateOperation } from '../domain/model.js';
import type { AgentManifestReader } from '../ports/agent-artifacts.js';
import type { HostWithPresence } from '../domain/model.js';
import { mutate, visible, type Deps, type RequestContext } from './context.js';
import { issueCommand, type IssueDeps } from './device-messages.js';
import { hostNotFound } from './hosts.js';
import { reportedAgentVersion } from './agent-update-progress.js';

export interface AgentUpdateDeps extends Pick<Deps, 'clock' | 'ids' | 'hosts' | 'audit' | 'operations'>, IssueDeps {
  readonly agentManifest?: AgentManifestReader;
}

const OPEN: readonly string[] = ['queued', 'running'];

/**
 * agent-update: checks the request (published version, host approved and online, not at the
 * version already, no update of it open), records the per-host operation, then stores and sends
 * the host its allow-listed `agent-update` command. The operation follows the command and the
 * version the host reports (followAgentUpdate, agentVersionReported).
 */
export async function startAgentUpdate(deps: AgentUpdateDeps, ctx: RequestContext, hostId: string, input: { version: string }): Promise<AgentUpdateOperation> {
  return mutate(deps, ctx, {
    action: 'hosts:update', audit: 'host.agent-update', resource: `host/${hostId}`,
    run: async () => beginAgentUpdate(deps, { project: ctx.project, requestedBy: ctx.principal.subject }, visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId)), input.version),
    describe: (op) => ({ resource: `host/${hostId}`, detail: `agent update to ${op.input.version}${op.input.from ? ` from ${op.input.from}` : ''} (operation ${op.id})` }),
  });
}

/**
 * The agent update of one host on behalf of `owner` (the API above, or a fleet rollout's tick,
 * which names the operation id so a retried tick never starts two: the second create is refused
 * with `operation-exists`).
 */
export async function beginAgentUpdate(deps: AgentUpdateDeps, owner: { readonly project: string; readonly requestedBy: string }, host: HostWithPresence, version: string, operationId?: string): Promise<AgentUpdateOperation> {
  const hostId = host.id;
  const recent = await deps.operations.list(owner.project, { type: 'host', id: hostId }, { limit: 10 });
  const open = recent.items.find((o) => o.type === AGENT_UPDATE && OPEN.includes(o.status));
  const from = reportedAgentVersion(host.reported?.content);
  const publishedVersion = await deps.agentManifest?.publishedVersion();
  const decision = decideAgentUpdate({
    hostId, hostStatus: host.status, presence: host.presence, requested: version,
    ...(from ? { reportedVersion: from } : {}), ...(publishedVersion ? { publishedVersion } : {}), ...(open ? { openOperationId: open.id } : {}),
  });
  if (!decision.ok) {
    if (decision.kind === 'unprocessable') throw new UnprocessableError(decision.code, decision.detail);
    if (decision.kind === 'unavailable') throw new UnavailableError(decision.code, decision.detail);
    throw new ConflictError(decision.code, decision.detail);
  }
  const now = deps.clock.now();
  const id = operationId ?? deps.ids.newId();
  const deadline = new Date(now.getTime() + AGENT_UPDATE_DEADLINE_SECONDS * 1000).toISOString();
  const commandId = agentUpdateCommandId(id);
  const op: AgentUpdateOperation = {
    id, project: owner.project, type: AGENT_UPDATE, target: { type: 'host', id: hostId }, status: 'running', step: 'sending',
    hosts: { [hostId]: { status: 'queued', commandId, at: now.toISOString() } }, startedAt: now.toISOString(), updatedAt: now.toISOString(),
    deadline, requestedBy: owner.requestedBy, input: { version, commandId, ...(from ? { from } : {}) },
  };
  if (!(await deps.operations.create(op))) throw new ConflictError('operation-exists', `operation ${id} exists already; retry`);
  const sent = await issueCommand(deps, hostId, {
    commandId, type: AGENT_UPDATE, deadline, operationId: id,
    params: { version, commitSeconds: AGENT_COMMIT_SECONDS },
  });
  if (!sent.created) throw new UnavailableError('agent-update-command-exists', `the command of agent update ${id} exists already; retry`);
  return op;
}
