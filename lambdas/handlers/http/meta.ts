import { buildOpenApi } from '../../contracts/openapi.js';
import { createHttpHandler, lazyHandler, route, type RouteTable } from './framework.js';
import type { HttpDeps } from '../wiring.js';

let openapi: Record<string, unknown> | undefined;

export const routes: RouteTable = {
  'GET /healthz': route({ run: async () => ({ status: 200, body: { status: 'ok' } }) }),
  'GET /v1/openapi.json': route({ run: async () => ({ status: 200, body: (openapi ??= buildOpenApi('1')) }) }),
};

/** Health and the OpenAPI document need no table; the dependency factory is never called. */
const noDeps = (): HttpDeps => new Proxy({}, { get: (_t, p) => { throw new Error(`meta routes have no dependency ${String(p)}`); } }) as HttpDeps;
export const makeHandler = (deps: () => HttpDeps = noDeps) => createHttpHandler('meta', routes, deps);
export const handler = lazyHandler(() => makeHandler());
