import type { ApiRoute } from '../lib/api-routes.js';

export interface CompiledRoute {
  readonly route: ApiRoute;
  readonly pattern: RegExp;
  readonly params: string[];
}

/** Literal segments win over `{param}` segments, as in API Gateway. */
export function compileRoutes(routes: readonly ApiRoute[]): CompiledRoute[] {
  return routes
    .map((route) => {
      const params: string[] = [];
      const pattern = new RegExp(`^${route.path.replace(/\{(\w+)\}/g, (_m, name: string) => { params.push(name); return '([^/]+)'; })}$`);
      return { route, pattern, params };
    })
    .sort((a, b) => a.params.length - b.params.length);
}

/** The route a request is for, with its path segments' raw values; undefined: no route (404). */
export function matchRoute(compiled: readonly CompiledRoute[], method: string, pathname: string): { c: CompiledRoute; values: string[] } | undefined {
  for (const c of compiled) {
    if (c.route.method !== method) continue;
    const m = c.pattern.exec(pathname);
    if (m) return { c, values: m.slice(1) };
  }
  return undefined;
}
