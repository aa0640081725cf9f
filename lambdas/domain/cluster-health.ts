import { capReasons, type HostHealthState } from './host-health.js';
import type { PackStatus } from './packs.js';

/**
 * A cluster's health, derived from its members' stored health and the packs its init node
 * reported. Pure. It does not read the cluster's lifecycle status: a provisioning cluster whose
 * nodes are not Ready yet is degraded for that reason, and nothing has to re-derive it when a
 * workflow ends (the members' and the packs' reports do).
 */

export type ClusterHealthState = 'healthy' | 'degraded' | 'unreachable' | 'unknown';

export interface ClusterHealth {
  readonly state: ClusterHealthState;
  readonly reasons: readonly string[];
}

/** A cluster's health as stored on the cluster (written only when it changes). */
export interface StoredClusterHealth extends ClusterHealth {
  readonly since: string;
  readonly changedAt: string;
  readonly rev: number;
}

/** One member as its stored host health says (absent: never evaluated). */
export interface MemberHealth {
  readonly hostId: string;
  readonly controlPlane: boolean;
  readonly health?: { readonly state: HostHealthState; readonly reasons: readonly string[]; readonly online: boolean };
}

export function deriveClusterHealth(members: readonly MemberHealth[], packs: readonly PackStatus[] = []): ClusterHealth {
  if (members.length === 0) return { state: 'unknown', reasons: ['the cluster has no hosts'] };
  const cp = members.filter((m) => m.controlPlane);
  if (cp.length > 0 && cp.every((m) => m.health && !m.health.online && m.health.state !== 'unknown')) {
    return { state: 'unreachable', reasons: capReasons(cp.map((m) => `control-plane node ${m.hostId}: ${m.health!.reasons.join('; ')}`)) };
  }
  if (members.every((m) => !m.health || m.health.state === 'unknown')) {
    return { state: 'unknown', reasons: ['no node has reported its health yet'] };
  }
  const reasons: string[] = [];
  for (const m of members) {
    if (m.health?.state === 'unhealthy') reasons.push(`node ${m.hostId}: ${m.health.reasons.join('; ')}`);
    else if (!m.health || m.health.state === 'unknown') reasons.push(`node ${m.hostId}: health unknown${m.health?.reasons.length ? ` (${m.health.reasons.join('; ')})` : ''}`);
  }
  for (const p of packs) {
    const reason = `pack ${p.name} error${p.reason ? `: ${p.reason}` : ''}`;
    // The init node names its packs' errors in its own health already: said once.
    if (p.state === 'error' && !reasons.some((r) => r.includes(reason))) reasons.push(reason);
  }
  return reasons.length ? { state: 'degraded', reasons: capReasons(reasons) } : { state: 'healthy', reasons: [] };
}
