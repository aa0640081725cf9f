import { createDiagnosticsBody, windowSeconds } from '../../contracts/diagnostics.js';
import { getDiagnostics, listDiagnostics, type DiagnosticsWithDownload } from '../../use-cases/get-diagnostics.js';
import { requestDiagnostics } from '../../use-cases/request-diagnostics.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';

/** What the API shows of a request (where the bundle lies and the command id stay inside). */
export function diagnosticsView(r: DiagnosticsWithDownload): Record<string, unknown> {
  const { objectKey: _k, commandId: _c, project: _p, version: _v, ...rest } = r;
  return rest;
}

export const routes: RouteTable = {
  'POST /v1/hosts/{hostId}/diagnostics': route({
    action: 'hosts:diagnose',
    body: createDiagnosticsBody, idempotent: true,
    run: async (req, deps) => {
      const hostId = req.params.hostId!;
      const r = await requestDiagnostics(deps, req.ctx, hostId, {
        window: req.body.since, windowSeconds: windowSeconds(req.body.since), ...(req.body.reason ? { reason: req.body.reason } : {}),
      });
      return {
        status: 202, body: diagnosticsView(r),
        headers: { location: `/v1/hosts/${hostId}/diagnostics/${r.id}`, 'retry-after': '5' },
      };
    },
  }),
  'GET /v1/hosts/{hostId}/diagnostics': route({
    run: async (req, deps) => {
      const r = await listDiagnostics(deps, req.ctx, req.params.hostId!);
      return { status: 200, body: { items: r.items.map(diagnosticsView), more: r.more } };
    },
  }),
  'GET /v1/hosts/{hostId}/diagnostics/{diagnosticsId}': route({
    run: async (req, deps) => {
      const r = await getDiagnostics(deps, req.ctx, req.params.hostId!, req.params.diagnosticsId!);
      const open = r.status === 'requested' || r.status === 'collecting';
      return { status: 200, body: diagnosticsView(r), ...(open ? { headers: { 'retry-after': '5' } } : {}) };
    },
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('diagnostics', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('diagnostics')));
