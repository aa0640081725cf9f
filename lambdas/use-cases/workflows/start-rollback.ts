import type { ClusterRecord, OperationRecord, UpgradeOperation } from '../../domain/model.js';
import type { UpgradePlan } from '../../domain/upgrade-plan.js';
import { recordUpgrade } from '../upgrades.js';
import type { WorkflowDeps } from './deps.js';

/**
 * start-rollback: a failed upgrade's rollback, recorded as a new upgrade operation under the
 * id the failure already announced, on behalf of whoever requested the failed upgrade, and
 * started at once. It goes from the failed upgrade's target back to where it came from, with
 * the same drain timeout, and is not rolled back again if it fails (`onFailure: none`).
 */
export async function startRollback(deps: WorkflowDeps, failed: UpgradeOperation, cluster: ClusterRecord, plan: UpgradePlan, id: string): Promise<OperationRecord> {
  return recordUpgrade({ ...deps, workflowSettings: deps.settings }, { project: failed.project, requestedBy: failed.requestedBy ?? 'edgefleet' }, cluster, plan, {
    to: failed.input.from, from: failed.input.to, onFailure: 'none', rollbackOf: failed.id, drainTimeoutSeconds: failed.input.drainTimeoutSeconds ?? 600,
  }, id);
}
