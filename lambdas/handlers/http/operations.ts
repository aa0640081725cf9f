import { listOperationsQuery } from '../../contracts/api.js';
import { ValidationError } from '../../domain/errors.js';
import { getOperation, listOperations } from '../../use-cases/queries.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

export const routes: RouteTable = {
  'GET /v1/operations': route({
    query: listOperationsQuery,
    run: async (req, deps) => {
      const { targetType, targetId, status, type } = req.query;
      if ((targetType === undefined) !== (targetId === undefined)) {
        throw new ValidationError('validation-failed', 'targetType and targetId go together', { errors: [{ path: 'query.targetId', message: 'give both or neither' }] });
      }
      const target = targetType && targetId ? { type: targetType, id: targetId } : undefined;
      return { status: 200, body: await listOperations(deps, req.ctx, target, pageOf(req.query), { ...(status ? { status } : {}), ...(type ? { type } : {}) }) };
    },
  }),
  'GET /v1/operations/{operationId}': route({
    run: async (req, deps) => ({ status: 200, body: await getOperation(deps, req.ctx, req.params.operationId!) }),
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('operations', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('operations')));
