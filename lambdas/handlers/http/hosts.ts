import { reportedState, agentUpdateBody, approveHostBody, batchHostsBody, createHostBody, decommissionHostBody, listHostsQuery, patchHostBody, rejectHostBody } from '../../contracts/api.js';
import type { HostWithPresence } from '../../domain/model.js';
import { deriveHostHealth } from '../../domain/host-health.js';
import { startAgentUpdate } from '../../use-cases/agent-update.js';
import { approveHost, createHost, decommissionHost, deleteHost, getHost, listHosts, rejectHost, updateHost } from '../../use-cases/hosts.js';
import { importHosts } from '../../use-cases/import-hosts.js';
import type { HttpDeps } from '../composition-root.js';
import { lazy } from '../kit.js';
import { awsHttpDeps, createHttpHandler, route, type RouteTable } from './framework.js';
import { pageOf } from './paging.js';

/** What the API shows of a host (internal fields such as the pairing code and the device key stay inside). */
export function hostView(h: HostWithPresence): Record<string, unknown> {
  const { pairingCode: _p, publicKeyPem: _k, certificatePem: _c, health: stored, reported: last, ...rest } = h;
  // The stored derived health without its bookkeeping; never derived yet: what the lifecycle alone says.
  const health = stored
    ? { state: stored.state, reasons: stored.reasons, since: stored.since }
    : deriveHostHealth({ status: h.status, ...(h.clusterId ? { clusterId: h.clusterId } : {}) });
  // What the host last reported, read through its wire schema (a report that no longer parses is left out).
  const reported = last ? reportedState.safeParse({ ...last.content, reportedAt: new Date(last.at).toISOString() }) : undefined;
  return { ...rest, health, ...(reported?.success ? { reported: reported.data } : {}) };
}

export const routes: RouteTable = {
  'POST /v1/hosts': route({
    action: 'hosts:create',
    body: createHostBody, idempotent: true,
    run: async (req, deps) => ({ status: 201, body: hostView(await createHost(deps, req.ctx, req.body)) }),
  }),
  'POST /v1/hosts/batch': route({
    action: 'hosts:create',
    body: batchHostsBody, idempotent: true,
    run: async (req, deps) => ({ status: 200, body: await importHosts(deps, req.ctx, req.body, { timeLeftMs: req.remainingMs }) }),
  }),
  'GET /v1/hosts': route({
    query: listHostsQuery,
    run: async (req, deps) => {
      const { status, site, tag, clusterId, health } = req.query;
      const [key, value] = tag ? tag.split('=', 2) as [string, string] : [];
      const page = await listHosts(deps, req.ctx, {
        ...(status ? { status } : {}), ...(site ? { site } : {}), ...(clusterId ? { clusterId } : {}), ...(health ? { health } : {}),
        ...(key !== undefined ? { tag: { key, value: value ?? '' } } : {}),
      }, pageOf(req.query));
      return { status: 200, body: { ...page, items: page.items.map(hostView) } };
    },
  }),
  'GET /v1/hosts/{hostId}': route({
    run: async (req, deps) => ({ status: 200, body: hostView(await getHost(deps, req.ctx, req.params.hostId!)) }),
  }),
  'PATCH /v1/hosts/{hostId}': route({
    action: 'hosts:update',
    body: patchHostBody,
    run: async (req, deps) => ({ status: 200, body: hostView(await updateHost(deps, req.ctx, req.params.hostId!, req.body)) }),
  }),
  'DELETE /v1/hosts/{hostId}': route({
    action: 'hosts:delete',
    run: async (req, deps) => {
      const out = await deleteHost(deps, req.ctx, req.params.hostId!);
      return out.host ? { status: 200, body: hostView(out.host) } : { status: 204 };
    },
  }),
  'POST /v1/hosts/{hostId}/approve': route({
    action: 'hosts:approve',
    body: approveHostBody,
    run: async (req, deps) => ({ status: 200, body: hostView(await approveHost(deps, req.ctx, req.params.hostId!, req.body)) }),
  }),
  'POST /v1/hosts/{hostId}/reject': route({
    action: 'hosts:approve',
    body: rejectHostBody,
    run: async (req, deps) => ({ status: 200, body: hostView(await rejectHost(deps, req.ctx, req.params.hostId!, req.body)) }),
  }),
  'POST /v1/hosts/{hostId}/agent-update': route({
    action: 'hosts:update',
    body: agentUpdateBody, idempotent: true,
    run: async (req, deps) => {
      const op = await startAgentUpdate(deps, req.ctx, req.params.hostId!, req.body);
      return { status: 202, body: op, headers: { location: `/v1/operations/${op.id}`, 'retry-after': '5' } };
    },
  }),
  'POST /v1/hosts/{hostId}/decommission': route({
    action: 'hosts:delete',
    body: decommissionHostBody,
    run: async (req, deps) => ({ status: 200, body: hostView(await decommissionHost(deps, req.ctx, req.params.hostId!, req.body)) }),
  }),
};

export const makeHandler = (deps: () => HttpDeps) => createHttpHandler('hosts', routes, deps);
export const handler = lazy(() => makeHandler(awsHttpDeps('hosts')));
