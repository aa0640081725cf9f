import { decideSweep, grantActive, type ConnectionChange } from '../domain/troubleshoot-grant.js';
import type { TunnelRecord } from '../domain/tunnel.js';
import { closeDetail, endTunnel, minutesBetween } from './end-tunnel.js';
import type { TunnelDeps } from './tunnel-deps.js';

/** How many unclosed tunnels one sweep run looks at (a host has at most one; soonest expiry first). */
export const TUNNEL_SWEEP_LIMIT = 500;
/** The audit actor of what the sweep does. */
export const SWEEP_ACTOR = 'edgefleet';

export interface TunnelSweepResult {
  readonly closed: { id: string; reason: string }[];
  readonly connectionChanges: number;
}

/**
 * The tunnel sweep (every minute on AWS, a timer locally): for every tunnel not recorded closed,
 * asks the service (DescribeTunnel) and the grant store, audits each side's connect and
 * disconnect (`tunnel.connect` / `tunnel.disconnect`, with the time since the tunnel opened),
 * and closes it (decideSweep) when it expired, its opener's grant was revoked or lapsed, or its
 * host's side left (idle). One failing tunnel does not stop the others.
 */
export async function sweepTunnels(deps: TunnelDeps, requestId: string): Promise<TunnelSweepResult> {
  const closed: { id: string; reason: string }[] = [];
  let connectionChanges = 0;
  for (const t of await deps.tunnels.listUnclosed(TUNNEL_SWEEP_LIMIT)) {
    try {
      const now = deps.clock.now();
      const [grant, service, host] = await Promise.all([
        deps.grants.get(t.project, t.actor),
        t.serviceTunnelId ? deps.tunnelService.describe(t.serviceTunnelId) : Promise.resolve(undefined),
        deps.hosts.get(t.hostId),
      ]);
      const d = decideSweep(t, { now, grant: grantActive(grant, now), hostOnline: host?.presence === 'online', service });
      let current = t;
      if (d.changes.length > 0) {
        await auditChanges(deps, t, d.changes, requestId);
        connectionChanges += d.changes.length;
        const next: TunnelRecord = {
          ...t, version: t.version + 1,
          ...Object.fromEntries(d.changes.map((c) => [c.side === 'source' ? 'sourceConnected' : 'destinationConnected', c.connected])),
        };
        if (!(await deps.tunnels.update(next))) continue;
        current = next;
      }
      if (d.close) {
        const ended = await endTunnel(deps, current, d.close, { subject: SWEEP_ACTOR, requestId });
        if (ended) closed.push({ id: t.id, reason: d.close });
      }
    } catch (e) {
      await deps.audit.record({
        id: deps.ids.newId(), project: t.project, time: deps.clock.now().toISOString(), actor: SWEEP_ACTOR, action: 'tunnel.sweep',
        resource: `tunnel/${t.id}`, outcome: 'failed', requestId, detail: `${closeDetail(t)}; the sweep failed on it: ${(e as Error).message}`,
      }).catch(() => undefined);
    }
  }
  return { closed, connectionChanges };
}

async function auditChanges(deps: TunnelDeps, t: TunnelRecord, changes: readonly ConnectionChange[], requestId: string): Promise<void> {
  const now = deps.clock.now().toISOString();
  for (const c of changes) {
    const who = c.side === 'source' ? `the operator's side (${t.actor})` : `the host's side (${t.hostId})`;
    await deps.audit.record({
      id: deps.ids.newId(), project: t.project, time: now, actor: c.side === 'source' ? t.actor : `device:${t.hostId}`,
      action: c.connected ? 'tunnel.connect' : 'tunnel.disconnect', resource: `tunnel/${t.id}`, outcome: 'success', requestId,
      detail: `${who} ${c.connected ? 'connected' : 'disconnected'}; host ${t.hostId}; user ${t.user}; reason: ${t.reason}; ${minutesBetween(t.createdAt, now)} min after the tunnel opened`,
    });
  }
}
