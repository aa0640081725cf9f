import type { AuthConfig } from '../../contracts/auth-config.js';
import { buildOpenApi } from '../../contracts/openapi.js';
import { NotFoundError } from '../../domain/errors.js';
import { createHttpHandler, route, type RouteTable } from './framework.js';
import { awsConfig, type HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';

let openapi: Record<string, unknown> | undefined;
let signIn: { config: AuthConfig | undefined } | undefined;

export const routes: RouteTable = {
  'GET /healthz': route({ run: async () => ({ status: 200, body: { status: 'ok' } }) }),
  'GET /v1/openapi.json': route({ run: async () => ({ status: 200, body: (openapi ??= buildOpenApi('1')) }) }),
  'GET /v1/auth/config': route({
    run: async () => {
      signIn ??= { config: awsConfig().signIn };
      if (!signIn.config) {
        throw new NotFoundError('sign-in-not-configured',
          'this control plane names no OIDC client for operators to sign in with; use a token instead (`edgefleet login --token <jwt>`; ' +
          'the local runtime writes its admin token to <data-dir>/local.json, read by a plain `edgefleet login`)');
      }
      return { status: 200, body: signIn.config, headers: { 'cache-control': 'public, max-age=300' } };
    },
  }),
};

/** Health, the OpenAPI document and the sign-in settings need no table; the dependency factory is never called. */
const noDeps = (): HttpDeps => new Proxy({}, { get: (_t, p) => { throw new Error(`meta routes have no dependency ${String(p)}`); } }) as HttpDeps;
export const makeHandler = (deps: () => HttpDeps = noDeps) => createHttpHandler('meta', routes, deps);
export const handler = lazy(() => makeHandler());
