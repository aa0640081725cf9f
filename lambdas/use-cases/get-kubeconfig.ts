import { ConflictError, NotFoundError } from '../domain/errors.js';
import type { SecretStore } from '../ports/workflow.js';
import { mutate, visible, type Deps, type RequestContext } from './context.js';
import { kubeconfigSecret } from './workflows/deps.js';

/**
 * GET /v1/clusters/{id}/kubeconfig: the cluster's admin kubeconfig, fetched from its init node
 * once after the create and kept only in the secret store. Admins only; every read (and every
 * refusal) is audited (`cluster.kubeconfig.read`); another project's cluster is "not found".
 */
export async function getKubeconfig(deps: Pick<Deps, 'clusters' | 'audit' | 'clock' | 'ids'> & { readonly secrets: Pick<SecretStore, 'get'> }, ctx: RequestContext, id: string): Promise<string> {
  return mutate(deps, ctx, {
    action: 'clusters:kubeconfig', audit: 'cluster.kubeconfig.read', resource: `cluster/${id}`,
    run: async () => {
      const cluster = visible(ctx, await deps.clusters.get(id), () => new NotFoundError('cluster-not-found', `cluster ${id} does not exist in this project`));
      const notYet = () => new ConflictError('kubeconfig-not-ready',
        `cluster ${cluster.name} has no kubeconfig yet (status ${cluster.status}): it is fetched from the init node once the create has joined every node; ` +
        `wait for the create operation${cluster.operationId ? ` ${cluster.operationId}` : ''} to succeed (edgefleet operations watch), then retry`);
      if (!cluster.kubeconfigStoredAt) throw notYet();
      const value = await deps.secrets.get(kubeconfigSecret(cluster.id));
      if (value === undefined) throw notYet();
      return value;
    },
    describe: () => ({ detail: 'kubeconfig read' }),
  });
}
