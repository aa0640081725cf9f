import { effectiveTunnel, type TunnelRecord, type TunnelState } from '../domain/tunnel.js';
import { read, visible, type RequestContext } from './context.js';
import { hostNotFound } from './hosts.js';
import { TUNNEL_LIST_LIMIT, type TunnelDeps } from './tunnel-deps.js';

/**
 * list-tunnels: a host's tunnels, newest first, as of now. An open one past its expiry shows
 * closed (expired); so does an open one the Secure Tunneling service no longer has open (its
 * lifetime ran out there): a host has at most one open tunnel, so that is one DescribeTunnel,
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
    return service?.status === 'OPEN'
      ? { ...t, sourceConnected: service.sourceConnected, destinationConnected: service.destinationConnected }
      : { ...t, state: 'closed' as const, closeReason: 'expired' as const, sourceConnected: false, destinationConnected: false };
  }));
}
