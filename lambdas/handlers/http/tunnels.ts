import { listQuery } from '../../contracts/common.js';
import { createGrantBody } from '../../contracts/troubleshoot-grants.js';
import { listTunnelsQuery, openTunnelBody } from '../../contracts/tunnels.js';
import type { TunnelRecord } from '../../domain/tunnel.js';
import { closeTunnel } from '../../use-cases/close-tunnel.js';
import { listTunnels } from '../../use-cases/list-tunnels.js';
import { openTunnel } from '../../use-cases/open-tunnel.js';
import { createTroubleshootGrant, listTroubleshootGrants, revokeTroubleshootGrant } from '../../use-cases/troubleshoot-grants.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

/** What the API shows of a tunnel (the service's own tunnel id stays inside). */
export function tunnelView(t: TunnelRecord): Record<string, unknown> {
  const { serviceTunnelId: _s, version: _v, ...rest } = t;
  return rest;
}

export const routes: RouteTable = {
  'POST /v1/hosts/{hostId}/tunnels': route({
    action: 'hosts:troubleshoot',
    // Not idempotent by key: the source token cannot be shown twice, and a retry finds the
    // host's tunnel already open (409 tunnel-already-open) instead of opening a second one.
    body: openTunnelBody,
    run: async (req, deps) => {
      const out = await openTunnel(deps.tunnels, req.ctx, req.params.hostId!, req.body);
      return { status: 201, body: { ...tunnelView(out.tunnel), endpoint: out.endpoint, sourceAccessToken: out.sourceAccessToken } };
    },
  }),
  'GET /v1/hosts/{hostId}/tunnels': route({
    query: listTunnelsQuery,
    run: async (req, deps) => ({ status: 200, body: { items: (await listTunnels(deps.tunnels, req.ctx, req.params.hostId!, req.query.state)).map(tunnelView) } }),
  }),
  'DELETE /v1/hosts/{hostId}/tunnels/{tunnelId}': route({
    action: 'hosts:troubleshoot',
    run: async (req, deps) => ({ status: 200, body: tunnelView(await closeTunnel(deps.tunnels, req.ctx, req.params.hostId!, req.params.tunnelId!)) }),
  }),
  // Troubleshoot grants live with the tunnels: revoking one closes its holder's tunnels (CloseTunnel).
  'POST /v1/troubleshoot-grants': route({
    action: 'grants:manage',
    body: createGrantBody,
    run: async (req, deps) => ({ status: 201, body: await createTroubleshootGrant(deps.tunnels, req.ctx, req.body) }),
  }),
  'GET /v1/troubleshoot-grants': route({
    query: listQuery,
    run: async (req, deps) => ({ status: 200, body: await listTroubleshootGrants(deps.tunnels, req.ctx, pageOf(req.query)) }),
  }),
  'DELETE /v1/troubleshoot-grants/{grantId}': route({
    action: 'grants:manage',
    run: async (req, deps) => ({ status: 200, body: await revokeTroubleshootGrant(deps.tunnels, req.ctx, req.params.grantId!) }),
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('tunnels', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('tunnels')));
