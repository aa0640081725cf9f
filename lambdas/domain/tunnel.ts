/**
 * Remote shell tunnels: the record and the decisions about it, pure.
 *
 * requested (stored before the Secure Tunneling service is asked) → open (the service opened
 * it and the host was told to add the temporary user) → closed (deleted | expired | revoked |
 * idle | failed). Expiry is decided on read as well: a record whose `expiresAt` passed is closed
 * (expired) whatever the table still says (DynamoDB TTL is late, and absent locally).
 */
import type { HostStatus } from './host-lifecycle.js';

export type TunnelState = 'requested' | 'open' | 'closed';
export type TunnelCloseReason = 'deleted' | 'expired' | 'revoked' | 'idle' | 'failed';

export interface TunnelRecord {
  readonly id: string;
  readonly project: string;
  readonly hostId: string;
  readonly state: TunnelState;
  readonly reason: string;
  /** Who opened it (JWT subject). */
  readonly actor: string;
  readonly durationMinutes: number;
  readonly idleTimeoutMinutes: number;
  /** The temporary user on the host. */
  readonly user: string;
  /** The Secure Tunneling service's id of the tunnel (set once open). */
  readonly serviceTunnelId?: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly closedAt?: string;
  readonly closeReason?: TunnelCloseReason;
  readonly closedBy?: string;
  /** Whether each side was connected when the control plane last looked (connect/disconnect are audited on change). */
  readonly sourceConnected?: boolean;
  readonly destinationConnected?: boolean;
  readonly version: number;
}

/** The temporary user of a tunnel: `ef-` and the first 8 hex digits of the tunnel id's hash-free form. */
export function tempUserFor(tunnelId: string): string {
  const hex = tunnelId.toLowerCase().replace(/[^0-9a-f]/g, '');
  return `ef-${(hex + '00000000').slice(0, 8)}`;
}

/** The state as of `now`: an open or requested tunnel past its expiry is closed (expired). */
export function effectiveTunnel(t: TunnelRecord, now: Date): TunnelRecord {
  if (t.state === 'closed' || Date.parse(t.expiresAt) > now.getTime()) return t;
  return { ...t, state: 'closed', closeReason: 'expired', closedAt: t.expiresAt };
}

export interface TunnelTarget {
  readonly status: HostStatus;
  readonly presence: 'online' | 'offline';
  /** What the host last reported about its install configuration's switch (undefined: never said). */
  readonly remoteAccess?: boolean;
}

export type OpenRefusal = { readonly code: string; readonly message: string };

const REGISTERED: ReadonlySet<HostStatus> = new Set(['approved', 'in-cluster']);

/**
 * May a tunnel be opened to this host now? Refused (409) when the host is not an approved
 * member of the fleet, is offline (it would never learn of the tunnel), or its install
 * configuration switched remote access off, or another tunnel to it is already open.
 */
export function decideOpen(hostId: string, target: TunnelTarget, openTunnels: number): OpenRefusal | undefined {
  if (target.remoteAccess === false) {
    return { code: 'remote-access-disabled', message: `host ${hostId} has remote access disabled by its install configuration (remoteAccess: false in POST /v1/user-data); use diagnostics instead, or re-install the host with remote access allowed` };
  }
  if (!REGISTERED.has(target.status)) {
    return { code: 'host-not-registered', message: `host ${hostId} is ${target.status}: only an approved host (or one in a cluster) can be reached; approve it first` };
  }
  if (target.presence !== 'online') {
    return { code: 'host-offline', message: `host ${hostId} is offline: it would not learn of the tunnel; check its power and network, then try again` };
  }
  if (openTunnels > 0) {
    return { code: 'tunnel-already-open', message: `host ${hostId} already has an open tunnel; close it (DELETE /v1/hosts/${hostId}/tunnels/<id>) or use it` };
  }
  return undefined;
}

/** Which reasons may close a tunnel in which state: a closed tunnel stays closed with its first reason. */
export function canClose(t: TunnelRecord): boolean {
  return t.state !== 'closed';
}
