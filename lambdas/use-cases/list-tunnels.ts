import { decideSweep, grantActive } from '../domain/troubleshoot-grant.js';
import { effectiveTunnel, type TunnelRecord, type TunnelState } from '../domain/tunnel.js';
import { read, visible, type RequestContext } from './context.js';
import { hostNotFound } from './hosts.js';
import { TUNNEL_LIST_LIMIT, type TunnelDeps } from './tunnel-deps.js';

/**
 * list-tunnels: a host's tunnels, newest first, as of now. An open one past its expiry shows
 * closed (expired); so does an open one the Secure Tunneling service no longer has open, with the
 * reason the sweep records for it (decideSweep: `revoked` when its opener's grant lapsed or was
 * revoked — the sweep closes the service's tunnel first, then its record — else `expired`, its
 * lifetime ran out there). A host has at most one open tunnel, so that is one DescribeTunnel,
 * which also says whether each side is connected now (`sourceConnected`, `destinationConnected`).
 */
export async function listTunnels(deps: TunnelDeps, ctx: RequestContext, hostId: string, state?: TunnelState): Promise<TunnelRecord[]> {
  read(ctx, 'hosts:read');
  visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
  const all = await currentTunnels(deps, hostId);
  return state ? all.filter((t) => t.state === state) : all;
}

/** The host's tunnels as of now (expiry, and the service's own view of open ones). */
export async function currentTunnels(deps: TunnelDeps, hostId: string): Promise<TunnelRecord[]> {
  const now = deps.clock.now();
  return Promise.all((await deps.tunnels.listByHost(hostId, TUNNEL_LIST_LIMIT)).map(async (stored) => {
    const t = effectiveTunnel(stored, now);
    if (t.state !== 'open' || !t.serviceTunnelId) return t;
    const service = await deps.tunnelService.describe(t.serviceTunnelId);
    if (service?.status === 'OPEN') return { ...t, sourceConnected: service.sourceConnected, destinationConnected: service.destinationConnected };
    const grant = grantActive(await deps.grants.get(t.project, t.actor), now);
    const closeReason = decideSweep(t, { now, grant, hostOnline: true, service }).close ?? 'expired';
    return { ...t, state: 'closed' as const, closeReason, sourceConnected: false, destinationConnected: false };
  }));
}
