import type { TunnelCloseReason, TunnelRecord } from '../domain/tunnel.js';
import { issueCommand } from './device-messages.js';
import type { TunnelDeps } from './tunnel-deps.js';

/** Minutes between two instants (rounded), for the audit trail. */
export const minutesBetween = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));

/** What the audit trail says of a closed tunnel: host, user, why it was opened, how long, why it closed. */
export const closeDetail = (t: TunnelRecord) =>
  `host ${t.hostId}; user ${t.user}; opened by ${t.actor}; reason: ${t.reason}; open ${minutesBetween(t.createdAt, t.closedAt ?? t.expiresAt)} min; closed ${t.closeReason ?? 'open'}`;

const END_ATTEMPTS = 5;

/**
 * Ends a tunnel the control plane decided to close (grant revoked, expiry, idleness, a
 * failure): CloseTunnel on the service (both sides drop at once), the record closed with
 * `reason`, the host told to remove the temporary user (in case its side never connected or
 * it missed the drop), and `tunnel.close` audited with `actor` (the revoking admin, or
 * `edgefleet` for the sweep). A concurrent change of the record is read again and closed.
 * Returns the closed record, or undefined when another writer closed it first (then nothing is
 * audited twice).
 */
export async function endTunnel(
  deps: TunnelDeps, stored: TunnelRecord, reason: TunnelCloseReason, actor: { subject: string; requestId: string },
): Promise<TunnelRecord | undefined> {
  const now = deps.clock.now();
  if (stored.serviceTunnelId) await deps.tunnelService.close(stored.serviceTunnelId);
  // Other writers change the record meanwhile (the host reports its user added, the service a side
  // connected): a lost conditional write reads it again and closes that, a bounded number of times.
  // Skipping it instead left a revoked holder's tunnel recorded open (a full test run saw it).
  let current: TunnelRecord | undefined = stored;
  for (let attempt = 0; current && current.state !== 'closed' && attempt < END_ATTEMPTS; attempt++) {
    const closed: TunnelRecord = {
      ...current, state: 'closed', closeReason: reason, closedAt: now.toISOString(), closedBy: actor.subject,
      sourceConnected: false, destinationConnected: false, version: current.version + 1,
    };
    if (!(await deps.tunnels.update(closed))) {
      current = await deps.tunnels.get(current.id);
      continue;
    }
    // A request that never opened (pending approval, approved, not started) added no user.
    if (current.state === 'open' || current.state === 'requested') await issueCommand(deps, current.hostId, {
      commandId: `tunnel-${current.id}-remove`, type: 'troubleshoot-user', deadline: new Date(now.getTime() + 10 * 60_000).toISOString(),
      params: { action: 'remove', user: current.user, tunnelId: current.id },
    });
    await deps.audit.record({
      id: deps.ids.newId(), project: current.project, time: now.toISOString(), actor: actor.subject, action: 'tunnel.close',
      resource: `tunnel/${current.id}`, outcome: 'success', requestId: actor.requestId, detail: closeDetail(closed),
    });
    return closed;
  }
  // Closed by another writer first, gone, or still changing after END_ATTEMPTS writes (its service
  // side is closed already; the sweep closes the record on its next run).
  return undefined;
}
