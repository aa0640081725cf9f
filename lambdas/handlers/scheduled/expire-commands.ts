import { expireOverdueCommands, type DeviceDeps } from '../../use-cases/device-messages.js';
import type { WorkflowDeps } from '../../use-cases/workflows/deps.js';
import { sweepOperations } from '../../use-cases/workflows/sweep-operations.js';
import { awsRoot } from '../composition-root.js';
import { entryPoint, lazy } from '../kit.js';
import { getLogger } from '../observability.js';

export interface SweepResult {
  readonly timedOut: string[];
  readonly operationsStarted: string[];
  readonly operationsExpired: string[];
}

/**
 * Scheduled (every minute on AWS, a timer locally): commands past their deadline end as timed
 * out (completing their workflow tasks); operations past their deadline end as failed; queued
 * operations whose workflow never started are started.
 */
export const makeHandler = (deps: () => DeviceDeps, workflowDeps?: () => WorkflowDeps) => entryPoint<unknown, SweepResult>({
  kind: 'schedule', name: 'edgefleet-command-sweeper',
}, async () => {
  const out = await expireOverdueCommands(deps());
  if (out.timedOut.length > 0) getLogger().warn('commands timed out: their hosts did not finish them before the deadline', { count: out.timedOut.length, commands: out.timedOut.slice(0, 50) });
  const ops = workflowDeps ? await sweepOperations(workflowDeps()) : { started: [], expired: [] };
  if (ops.expired.length > 0) getLogger().warn('operations failed: they passed their deadline', { operations: ops.expired });
  if (ops.started.length > 0) getLogger().info('queued operations started by the sweep', { operations: ops.started });
  return { timedOut: out.timedOut, operationsStarted: ops.started, operationsExpired: ops.expired };
});

const sweeperRoot = () => awsRoot(['stateTable']);
export const handler = lazy(() => makeHandler(() => sweeperRoot().device, () => sweeperRoot().workflow));
