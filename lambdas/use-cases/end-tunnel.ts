import type { TunnelCloseReason, TunnelRecord } from '../domain/tunnel.js';
import type { TunnelRepository } from '../ports/tunnels.js';
import { issueCommand } from './device-messages.js';
import type { TunnelDeps } from './tunnel-deps.js';

/** Minutes between two instants (rounded), for the audit trail. */
export const minutesBetween = (from: string, to: string) => Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 60_000));

/** What the audit trail says of a closed tunnel: host, user, why it was opened, how long, why it closed. */
export const closeDetail = (t: TunnelRecord) =>
  `host ${t.hostId}; user ${t.user}; opened by ${t.actor}; reason: ${t.reason}; open ${minutesBetween(t.createdAt, t.closedAt ?? t.expiresAt)} min; closed ${t.closeReason ?? 'open'}`;

/** Conditional writes one close tries (each lost one means another writer just changed the record). */
const CLOSE_ATTEMPTS = 5;

/** How writing a tunnel closed went. */
export type ClosedWrite =
  | { readonly kind: 'closed'; readonly closed: TunnelRecord; readonly was: TunnelRecord }
  /** The record as last read has nothing left to close (another writer closed it, or it expired). */
  | { readonly kind: 'nothing-to-close'; readonly current: TunnelRecord }
  | { readonly kind: 'gone' }
  /** Still changing after CLOSE_ATTEMPTS writes. */
  | { readonly kind: 'busy' };

/**
 * Writes the closed record `close` makes of the tunnel, conditional on its version. Other writers
 * change the record meanwhile (the host reports its user added, the service a side connected, the
 * tunnel is started): a lost write reads the record again and closes that, a bounded number of
 * times. (Answering the re-read record instead left a deleted tunnel recorded open; skipping it
 * left a revoked holder's tunnel recorded open.) `close` answers undefined when the record as read
 * has nothing left to close.
 */
export async function writeClosed(
  tunnels: TunnelRepository, stored: TunnelRecord, close: (current: TunnelRecord) => TunnelRecord | undefined,
): Promise<ClosedWrite> {
  let current = stored;
  for (let attempt = 0; attempt < CLOSE_ATTEMPTS; attempt++) {
    const closed = close(current);
    if (!closed) return { kind: 'nothing-to-close', current };
    if (await tunnels.update(closed)) return { kind: 'closed', closed, was: current };
    const again = await tunnels.get(current.id);
    if (!again) return { kind: 'gone' };
    current = again;
  }
  return { kind: 'busy' };
}

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
  const write = await writeClosed(deps.tunnels, stored, (current) => (current.state === 'closed' ? undefined : {
    ...current, state: 'closed', closeReason: reason, closedAt: now.toISOString(), closedBy: actor.subject,
    sourceConnected: false, destinationConnected: false, version: current.version + 1,
  }));
  // Closed by another writer first, gone, or still changing (its service side is closed already;
  // the sweep closes the record on its next run).
  if (write.kind !== 'closed') return undefined;
  const { closed, was } = write;
  // A request that never opened (pending approval, approved, not started) added no user.
  if (was.state === 'open' || was.state === 'requested') await issueCommand(deps, was.hostId, {
    commandId: `tunnel-${was.id}-remove`, type: 'troubleshoot-user', deadline: new Date(now.getTime() + 10 * 60_000).toISOString(),
    params: { action: 'remove', user: was.user, tunnelId: was.id },
  });
  await deps.audit.record({
    id: deps.ids.newId(), project: was.project, time: now.toISOString(), actor: actor.subject, action: 'tunnel.close',
    resource: `tunnel/${was.id}`, outcome: 'success', requestId: actor.requestId, detail: closeDetail(closed),
  });
  return closed;
}
