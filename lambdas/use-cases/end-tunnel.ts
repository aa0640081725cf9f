import type { TunnelCloseReason, TunnelRecord } from '../domain/tunnel.js';
import { issueCommand } from './device-messages.js';
import type { TunnelDeps } from './tunnel-deps.js';

/** Minutes between two instants (rounded), for the audit trail. */
export const minutesBetween = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));

/** What the audit trail says of a closed tunnel: host, user, why it was opened, how long, why it closed. */
export const closeDetail = (t: TunnelRecord) =>
  `host ${t.hostId}; user ${t.user}; opened by ${t.actor}; reason: ${t.reason}; open ${minutesBetween(t.createdAt, t.closedAt ?? t.expiresAt)} min; closed ${t.closeReason ?? 'open'}`;

/**
 * Ends a tunnel the control plane decided to close (grant revoked, expiry, idleness, a
 * failure): CloseTunnel on the service (both sides drop at once), the record closed with
 * `reason`, the host told to remove the temporary user (in case its side never connected or
 * it missed the drop), and `tunnel.close` audited with `actor` (the revoking admin, or
 * `edgefleet` for the sweep). Returns the closed record, or undefined when another writer
 * closed it first (then nothing is audited twice).
 */
export async function endTunnel(
  deps: TunnelDeps, stored: TunnelRecord, reason: TunnelCloseReason, actor: { subject: string; requestId: string },
): Promise<TunnelRecord | undefined> {
  const now = deps.clock.now();
  if (stored.serviceTunnelId) await deps.tunnelService.close(stored.serviceTunnelId);
  if (stored.state === 'closed') return undefined;
  const closed: TunnelRecord = {
    ...stored, state: 'closed', closeReason: reason, closedAt: now.toISOString(), closedBy: actor.subject,
    sourceConnected: false, destinationConnected: false, version: stored.version + 1,
  };
  if (!(await deps.tunnels.update(closed))) return undefined;
  await issueCommand(deps, stored.hostId, {
    commandId: `tunnel-${stored.id}-remove`, type: 'troubleshoot-user', deadline: new Date(now.getTime() + 10 * 60_000).toISOString(),
    params: { action: 'remove', user: stored.user, tunnelId: stored.id },
  });
  await deps.audit.record({
    id: deps.ids.newId(), project: stored.project, time: now.toISOString(), actor: actor.subject, action: 'tunnel.close',
    resource: `tunnel/${stored.id}`, outcome: 'success', requestId: actor.requestId, detail: closeDetail(closed),
  });
  return closed;
}
