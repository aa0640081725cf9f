import { AGENT_UPDATE, followAgentUpdateCommand, overdueAgentUpdate, versionReported, type OperationFollow } from '../domain/agent-update.js';
import type { CommandRecord } from '../domain/command.js';
import type { OperationRecord } from '../domain/model.js';
import type { StatusStore } from '../ports/device-plane.js';
import type { Clock, OperationRepository } from '../ports/index.js';

/**
 * How a host's agent-update operation follows its command and the host's reports
 * (domain/agent-update.ts decides; this reads and writes). Conditional on the operation being open.
 */

export const reportedAgentVersion = (content: Readonly<Record<string, unknown>> | undefined): string | undefined =>
  typeof content?.agentVersion === 'string' ? content.agentVersion : undefined;

const OPEN = ['queued', 'running'] as const;

export interface AgentUpdateFollowDeps {
  readonly clock: Clock;
  readonly operations?: Pick<OperationRepository, 'get' | 'update'>;
  readonly status: Pick<StatusStore, 'get'>;
}

async function apply(deps: { readonly clock: Clock; readonly operations?: Pick<OperationRepository, 'update'> }, op: OperationRecord, next: OperationFollow | undefined): Promise<void> {
  if (!next || !deps.operations) return;
  await deps.operations.update(op.id, { status: next.status, step: next.step, ...(next.reason ? { reason: next.reason } : {}) }, OPEN, deps.clock.now().toISOString());
}

/** An `agent-update` command changed: its operation follows (failed with the reason, or waits for / has the version report). */
export async function followAgentUpdate(deps: AgentUpdateFollowDeps, c: CommandRecord): Promise<void> {
  if (c.type !== AGENT_UPDATE || !c.operationId || !deps.operations) return;
  const op = await deps.operations.get(c.operationId);
  if (op?.type !== AGENT_UPDATE) return;
  const reported = reportedAgentVersion((await deps.status.get(c.hostId))?.content);
  await apply(deps, op, followAgentUpdateCommand(op, c, reported));
}

/** A host's stored status names its agent version: an update of it waiting for that report succeeds. */
export async function agentVersionReported(deps: { readonly clock: Clock; readonly operations?: Pick<OperationRepository, 'update' | 'listForTarget'> }, hostId: string, version: string): Promise<void> {
  if (!deps.operations) return;
  for (const op of await deps.operations.listForTarget({ type: 'host', id: hostId }, 5)) {
    if (op.type === AGENT_UPDATE) await apply(deps, op, versionReported(op, version));
  }
}

/** The sweep: open agent updates past their deadline end failed, saying why. */
export async function sweepAgentUpdates(deps: { readonly clock: Clock; readonly operations: Pick<OperationRepository, 'update'> }, open: readonly OperationRecord[]): Promise<string[]> {
  const ended: string[] = [];
  for (const op of open) {
    if (op.type !== AGENT_UPDATE) continue;
    const next = overdueAgentUpdate(op, deps.clock.now());
    if (next) {
      await apply(deps, op, next);
      ended.push(op.id);
    }
  }
  return ended;
}
