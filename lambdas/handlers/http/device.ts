import { deviceRegisterBody } from '../../contracts/device.js';
import { registerDevice } from '../../use-cases/register-device.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';

/**
 * Device-facing routes (no JWT: the registration token in the body authenticates). Kept cheap:
 * a token read, a CSR check and one host read before any write; rate limits are API Gateway's.
 */
export const routes: RouteTable = {
  'POST /v1/device/register': route({
    body: deviceRegisterBody,
    run: async (req, deps) => {
      const out = await registerDevice(deps, req.ctx.requestId, req.body);
      return { status: out.status === 'approved' ? 200 : 202, body: out };
    },
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('device', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('device')));
