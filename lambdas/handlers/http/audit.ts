import { listAuditQuery } from '../../contracts/api.js';
import { listAuditEvents } from '../../use-cases/queries.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

export const routes: RouteTable = {
  'GET /v1/audit-events': route({
    query: listAuditQuery,
    run: async (req, deps) => {
      const { resource, actor, since } = req.query;
      return { status: 200, body: await listAuditEvents(deps, req.ctx, { ...(resource ? { resource } : {}), ...(actor ? { actor } : {}), ...(since ? { since } : {}) }, pageOf(req.query)) };
    },
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('audit', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('audit')));
