import { isFinished, type CommandResult } from '../domain/command.js';
import { recordResult, type DeviceDeps, type ResultHandling } from './device-messages.js';
import { reportSwallowed } from './swallowed-failure.js';
import { kubeconfigSecret } from './workflows/deps.js';

/**
 * A host's result, with the admin kubeconfig an `export-kubeconfig` command returns moved
 * straight into the secret store (`clusters/<id>/kubeconfig`) before the result is applied:
 * the command record, the operation and the logs only ever see "kubeconfig stored at <time>",
 * and the cluster records when (`kubeconfigStoredAt`). A kubeconfig on any other command's
 * result is dropped; an `export-kubeconfig` that reports success without one fails, saying so.
 */
export async function recordResultWithSecrets(
  deps: DeviceDeps, hostId: string, commandId: string, result: CommandResult, secret: { readonly kubeconfig?: string } = {},
): Promise<ResultHandling> {
  if (result.phase !== 'succeeded') return recordResult(deps, hostId, commandId, result);
  const command = await deps.commands.get(hostId, commandId);
  // A finished command stored its kubeconfig before it finished: a redelivery only re-runs the follow-ups.
  if (command?.type !== 'export-kubeconfig' || isFinished(command)) return recordResult(deps, hostId, commandId, result, command);
  const op = command.operationId ? await deps.operations?.get(command.operationId) : undefined;
  const clusterId = op?.target.type === 'cluster' ? op.target.id : undefined;
  if (!clusterId) return recordResult(deps, hostId, commandId, result, command);
  if (!secret.kubeconfig) {
    return recordResult(deps, hostId, commandId, {
      phase: 'failed',
      detail: `host ${hostId} reported the kubeconfig exported but did not send it (a repeated result after an agent restart?); run the create again or delete and re-create the cluster`,
    }, command);
  }
  if (!deps.secrets) throw new Error('this function has no secret store: the kubeconfig cannot be stored');
  const now = deps.clock.now().toISOString();
  await deps.secrets.put(kubeconfigSecret(clusterId), secret.kubeconfig);
  const updated = await deps.clusters?.updateForOperation(clusterId, op!.id, { kubeconfigStoredAt: now }, { endOperation: false, now });
  if (!updated) {
    // The create ended meanwhile (stopped, deleted): the secret is stored, the record is not: say so.
    reportSwallowed({
      metric: 'KubeconfigNotRecorded', error: new Error('cluster not updated'), hostId, commandId, operationId: op!.id,
      message: `the kubeconfig of cluster ${clusterId} was stored in the secret store but the cluster record was not updated (its operation ${op!.id} is no longer active)`,
      action: 'GET /v1/clusters/{id}/kubeconfig answers 409 until a create stores it again; delete the cluster to remove the secret',
    });
  }
  return recordResult(deps, hostId, commandId, { ...result, detail: `kubeconfig stored at ${now}${result.detail ? ` (${result.detail})` : ''}`.slice(0, 4096) }, command);
}
