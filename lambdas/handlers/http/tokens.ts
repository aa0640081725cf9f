import { createTokenBody } from '../../contracts/api.js';
import { listQuery } from '../../contracts/common.js';
import { createRegistrationToken, getRegistrationToken, listRegistrationTokens, revokeRegistrationToken } from '../../use-cases/registration-tokens.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

export const routes: RouteTable = {
  'POST /v1/registration-tokens': route({
    action: 'tokens:create',
    body: createTokenBody, idempotent: true, oneTimeSecret: 'token',
    run: async (req, deps) => ({ status: 201, body: await createRegistrationToken(deps, req.ctx, req.body) }),
  }),
  'GET /v1/registration-tokens': route({
    query: listQuery,
    run: async (req, deps) => ({ status: 200, body: await listRegistrationTokens(deps, req.ctx, pageOf(req.query)) }),
  }),
  'GET /v1/registration-tokens/{id}': route({
    run: async (req, deps) => ({ status: 200, body: await getRegistrationToken(deps, req.ctx, req.params.id!) }),
  }),
  'DELETE /v1/registration-tokens/{id}': route({
    action: 'tokens:revoke',
    run: async (req, deps) => ({ status: 200, body: await revokeRegistrationToken(deps, req.ctx, req.params.id!) }),
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('tokens', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('tokens')));
