import { ConflictError, NotFoundError } from '../domain/errors.js';
import { canClose, effectiveTunnel, type TunnelRecord } from '../domain/tunnel.js';
import { mutate, visible, type RequestContext } from './context.js';
import { hostNotFound } from './hosts.js';
import { issueCommand } from './device-messages.js';
import { writeClosed } from './end-tunnel.js';
import type { TunnelDeps } from './tunnel-deps.js';

const tunnelNotFound = (hostId: string, id: string) => new NotFoundError('tunnel-not-found', `tunnel ${id} does not exist on host ${hostId} in this project`);

/**
 * close-tunnel (DELETE): closes the tunnel on the service (both sides are disconnected at once;
 * the agent removes the temporary user when its side drops), tells the host to remove the user
 * in case it never connected, and records it closed (deleted). Closing a closed tunnel answers
 * its record unchanged. Needs `hosts:troubleshoot`, like opening; audited either way.
 */
export async function closeTunnel(deps: TunnelDeps, ctx: RequestContext, hostId: string, id: string): Promise<TunnelRecord> {
  return mutate(deps, ctx, {
    action: 'hosts:troubleshoot', audit: 'tunnel.close', resource: `tunnel/${id}`,
    run: async () => {
      visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
      const stored = await deps.tunnels.get(id);
      if (!stored || stored.project !== ctx.project || stored.hostId !== hostId) throw tunnelNotFound(hostId, id);
      const now = deps.clock.now();
      if (stored.serviceTunnelId) await deps.tunnelService.close(stored.serviceTunnelId);
      const write = await writeClosed(deps.tunnels, stored, (current) => (canClose(effectiveTunnel(current, now)) ? {
        ...current, state: 'closed', closeReason: 'deleted', closedAt: now.toISOString(), closedBy: ctx.principal.subject, version: current.version + 1,
      } : undefined));
      if (write.kind === 'nothing-to-close') return effectiveTunnel(write.current, now);
      if (write.kind === 'gone') throw tunnelNotFound(hostId, id);
      if (write.kind === 'closed') {
        await issueCommand(deps, hostId, {
          commandId: `tunnel-${id}-remove`, type: 'troubleshoot-user', deadline: new Date(now.getTime() + 10 * 60_000).toISOString(),
          params: { action: 'remove', user: stored.user, tunnelId: id },
        });
        return write.closed;
      }
      throw new ConflictError('tunnel-busy', `tunnel ${id} on host ${hostId} kept changing while it was being closed (its service side is closed); send the DELETE again`);
    },
    describe: (t) => ({ detail: `host ${hostId}; user ${t.user}; reason: ${t.reason}; open ${Math.round((Date.parse(t.closedAt ?? t.expiresAt) - Date.parse(t.createdAt)) / 60_000)} min; closed ${t.closeReason ?? 'open'}` }),
  });
}
