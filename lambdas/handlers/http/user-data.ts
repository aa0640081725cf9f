import { userDataBody } from '../../contracts/api.js';
import { createUserData } from '../../use-cases/render-user-data.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';

export const routes: RouteTable = {
  'POST /v1/user-data': route({
    action: 'user-data:create',
    body: userDataBody,
    run: async (req, deps) => ({
      status: 200,
      text: { contentType: 'text/cloud-config; charset=utf-8', content: await createUserData(deps, req.ctx, deps.config.apiUrl, req.body) },
    }),
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('user-data', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('user-data')));
