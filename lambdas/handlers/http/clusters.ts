import { createClusterBody, createUpgradeBody, listClustersQuery, reconfigureClusterBody, scaleClusterBody } from '../../contracts/api.js';
import { previewUpgrade } from '../../use-cases/upgrade-preview.js';
import { cancelUpgrade, getUpgrade, pauseUpgrade, resumeUpgrade, startUpgrade } from '../../use-cases/upgrades.js';
import { deleteCluster, reconfigureCluster, scaleCluster, type ClusterWithOperation } from '../../use-cases/cluster-operations.js';
import { createCluster, getCluster, listClusters } from '../../use-cases/clusters.js';
import type { ClusterRecord } from '../../domain/model.js';
import { getKubeconfig } from '../../use-cases/get-kubeconfig.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';
import { templateRoutes } from './cluster-templates.js';
import { rolloutRoutes } from './rollouts.js';
import { detachClusterBody } from '../../contracts/templates.js';
import { detachCluster } from '../../use-cases/cluster-templates.js';

/** A secret variable's value as the API shows it (the value itself is only in the secret store). */
export const MASKED = '********';

/** The cluster as the API shows it: every variable it sets, secret ones masked. */
export function clusterView<C extends ClusterRecord>(c: C): Omit<C, 'health'> & { health: { state: string; reasons: readonly string[]; since?: string } } {
  // The stored derived health without its bookkeeping (rev, changedAt); never derived: unknown.
  const health = c.health
    ? { state: c.health.state, reasons: c.health.reasons, since: c.health.since }
    : { state: 'unknown', reasons: ['no node of it has reported its health yet'] };
  if (!c.secretVariables?.length) return { ...c, health };
  return { ...c, health, variables: { ...(c.variables ?? {}), ...Object.fromEntries(c.secretVariables.map((n) => [n, MASKED])) } };
}

/** 202 Accepted: the work is an operation; `location` is where to follow it. */
const accepted = (c: ClusterWithOperation) => ({ status: 202, body: clusterView(c), headers: { location: `/v1/operations/${c.operationId}` } });

export const routes: RouteTable = {
  'POST /v1/clusters': route({
    action: 'clusters:create',
    body: createClusterBody, idempotent: true,
    run: async (req, deps) => accepted(await createCluster(deps, req.ctx, req.body)),
  }),
  'GET /v1/clusters': route({
    query: listClustersQuery,
    run: async (req, deps) => {
      const page = await listClusters(deps, req.ctx, pageOf(req.query), req.query.health ? { health: req.query.health } : {});
      return { status: 200, body: { ...page, items: page.items.map(clusterView) } };
    },
  }),
  'GET /v1/clusters/{clusterId}': route({
    run: async (req, deps) => ({ status: 200, body: clusterView(await getCluster(deps, req.ctx, req.params.clusterId!)) }),
  }),
  'GET /v1/clusters/{clusterId}/kubeconfig': route({
    // Authorized (admin only) and audited by the use case, with the cluster as the resource.
    run: async (req, deps) => ({
      status: 200,
      text: { contentType: 'application/yaml; charset=utf-8', content: await getKubeconfig(deps, req.ctx, req.params.clusterId!) },
      // Credentials: no cache keeps a copy.
      headers: { 'cache-control': 'no-store' },
    }),
  }),
  'DELETE /v1/clusters/{clusterId}': route({
    action: 'clusters:delete',
    run: async (req, deps) => accepted(await deleteCluster(deps, req.ctx, req.params.clusterId!)),
  }),
  'POST /v1/clusters/{clusterId}/scale': route({
    action: 'clusters:update',
    body: scaleClusterBody, idempotent: true,
    run: async (req, deps) => accepted(await scaleCluster(deps, req.ctx, req.params.clusterId!, req.body)),
  }),
  'POST /v1/clusters/{clusterId}/reconfigure': route({
    action: 'clusters:update',
    body: reconfigureClusterBody, idempotent: true,
    run: async (req, deps) => accepted(await reconfigureCluster(deps, req.ctx, req.params.clusterId!, req.body)),
  }),
  'POST /v1/clusters/{clusterId}/upgrades': route({
    action: 'clusters:update',
    // A dry run writes nothing, not even an Idempotency-Key record.
    body: createUpgradeBody, idempotent: (body) => body.dryRun !== true,
    run: async (req, deps) => {
      if (req.body.dryRun) return { status: 200, body: await previewUpgrade(deps, req.ctx, req.params.clusterId!, req.body) };
      const op = await startUpgrade(deps, req.ctx, req.params.clusterId!, req.body);
      return { status: 202, body: op, headers: { location: `/v1/clusters/${op.target.id}/upgrades/${op.id}` } };
    },
  }),
  'GET /v1/clusters/{clusterId}/upgrades/{upgradeId}': route({
    run: async (req, deps) => ({ status: 200, body: await getUpgrade(deps, req.ctx, req.params.clusterId!, req.params.upgradeId!) }),
  }),
  'POST /v1/clusters/{clusterId}/upgrades/{upgradeId}/pause': route({
    action: 'clusters:update',
    run: async (req, deps) => ({ status: 200, body: await pauseUpgrade(deps, req.ctx, req.params.clusterId!, req.params.upgradeId!) }),
  }),
  'POST /v1/clusters/{clusterId}/upgrades/{upgradeId}/resume': route({
    action: 'clusters:update',
    run: async (req, deps) => ({ status: 202, body: await resumeUpgrade(deps, req.ctx, req.params.clusterId!, req.params.upgradeId!) }),
  }),
  'POST /v1/clusters/{clusterId}/upgrades/{upgradeId}/cancel': route({
    action: 'clusters:update',
    run: async (req, deps) => ({ status: 200, body: await cancelUpgrade(deps, req.ctx, req.params.clusterId!, req.params.upgradeId!) }),
  }),
  'POST /v1/clusters/{clusterId}/detach': route({
    action: 'clusters:update',
    body: detachClusterBody,
    run: async (req, deps) => ({ status: 200, body: clusterView(await detachCluster(deps, req.ctx, req.params.clusterId!, req.body)) }),
  }),
  ...templateRoutes,
  ...rolloutRoutes,
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('clusters', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('clusters')));
