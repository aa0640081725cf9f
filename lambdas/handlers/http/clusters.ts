import { createClusterBody, listClustersQuery } from '../../contracts/api.js';
import { createCluster, deleteCluster, getCluster, listClusters } from '../../use-cases/clusters.js';
import { awsHttpDeps, type HttpDeps } from '../wiring.js';
import { createHttpHandler, lazyHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

export const routes: RouteTable = {
  'POST /v1/clusters': route({
    action: 'clusters:create',
    body: createClusterBody, idempotent: true,
    run: async (req, deps) => {
      const c = await createCluster(deps, req.ctx, req.body);
      return { status: 202, body: c, headers: { location: `/v1/operations/${c.operationId}` } };
    },
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
    run: async (req, deps) => {
      await deleteCluster(deps, req.ctx, req.params.clusterId!);
      return { status: 204 };
    },
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('clusters', routes, deps);
export const handler = lazyHandler(() => makeHandler(awsHttpDeps));
