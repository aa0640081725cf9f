import { createClusterBody, listClustersQuery, reconfigureClusterBody, scaleClusterBody } from '../../contracts/api.js';
import { deleteCluster, reconfigureCluster, scaleCluster, type ClusterWithOperation } from '../../use-cases/cluster-operations.js';
import { createCluster, getCluster, listClusters } from '../../use-cases/clusters.js';
import { awsHttpDeps, type HttpDeps } from '../wiring.js';
import { createHttpHandler, lazyHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

/** 202 Accepted: the work is an operation; `location` is where to follow it. */
const accepted = (c: ClusterWithOperation) => ({ status: 202, body: c, headers: { location: `/v1/operations/${c.operationId}` } });

export const routes: RouteTable = {
  'POST /v1/clusters': route({
    action: 'clusters:create',
    body: createClusterBody, idempotent: true,
    run: async (req, deps) => accepted(await createCluster(deps, req.ctx, req.body)),
  }),
  'GET /v1/clusters': route({
    query: listClustersQuery,
    run: async (req, deps) => ({ status: 200, body: await listClusters(deps, req.ctx, pageOf(req.query)) }),
  }),
  'GET /v1/clusters/{clusterId}': route({
    run: async (req, deps) => ({ status: 200, body: await getCluster(deps, req.ctx, req.params.clusterId!) }),
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
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('clusters', routes, deps);
export const handler = lazyHandler(() => makeHandler(awsHttpDeps));
