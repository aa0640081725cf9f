import { NotFoundError } from '../../domain/errors.js';
import type { OperationRecord } from '../../domain/model.js';
import type { SecretStore, WorkflowEngine } from '../../ports/workflow.js';
import type { Deps } from '../context.js';
import type { DeviceDeps } from '../device-deps.js';

export interface WorkflowSettings {
  /** How long one host may take for one step (join, drain, reset…) before it fails the step. */
  readonly hostTimeoutSeconds: number;
}

export const DEFAULT_WORKFLOW_SETTINGS: WorkflowSettings = { hostTimeoutSeconds: 30 * 60 };

/** What the workflow steps need: the control plane's repositories plus the command channel. */
export interface WorkflowDeps extends Deps, Omit<DeviceDeps, 'operations' | 'workflows' | 'secrets' | 'clusters'> {
  readonly secrets: SecretStore;
  readonly workflows: WorkflowEngine;
  readonly settings: WorkflowSettings;
}

/** The join token of a cluster, in the secret store; a placeholder stands in for it everywhere else. */
export const joinTokenSecret = (clusterId: string) => `clusters/${clusterId}/join-token`;
export const JOIN_TOKEN_PLACEHOLDER = '@@EDGEFLEET_SECRET_JOIN_TOKEN@@';

export const OPEN_STATUSES = ['queued', 'running', 'paused'] as const;

/** The operation a workflow step works on (its kind is one of the workflow kinds: the repository parses what it reads). */
export async function loadOperation(deps: Pick<Deps, 'operations'>, id: string): Promise<OperationRecord> {
  const op = await deps.operations.get(id);
  if (!op) throw new NotFoundError('operation-not-found', `operation ${id} does not exist; the workflow has nothing to work on`);
  return op;
}

/** The deadline of a whole operation: every sequential host step may take the host timeout. */
export function operationDeadline(now: Date, sequentialSteps: number, settings: WorkflowSettings): string {
  return new Date(now.getTime() + (sequentialSteps + 2) * settings.hostTimeoutSeconds * 1000).toISOString();
}
