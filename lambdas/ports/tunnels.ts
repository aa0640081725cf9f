import type { TroubleshootGrant } from '../domain/troubleshoot-grant.js';
import type { TunnelRecord } from '../domain/tunnel.js';
import type { Page, PageRequest } from './index.js';

/** AWS IoT Secure Tunneling (OpenTunnel, CloseTunnel, DescribeTunnel), or the local relay. */
export interface TunnelService {
  /** Opens a tunnel to `thingName` for `services`, closed by the service after `maxLifetimeMinutes`. */
  open(thingName: string, services: readonly string[], maxLifetimeMinutes: number): Promise<{ tunnelId: string; sourceAccessToken: string; destinationAccessToken: string }>;
  /** Closes it (both sides are disconnected); idempotent. */
  close(tunnelId: string): Promise<void>;
  /** `undefined` when the service does not know the tunnel. */
  describe(tunnelId: string): Promise<{ status: 'OPEN' | 'CLOSED'; sourceConnected: boolean; destinationConnected: boolean } | undefined>;
  /** Where the source side connects (`wss://data.tunneling.iot.<region>.amazonaws.com`). */
  endpoint(): Promise<string>;
}

export interface TunnelRepository {
  /** Conditional create; false if the id exists. */
  create(t: TunnelRecord): Promise<boolean>;
  get(id: string): Promise<TunnelRecord | undefined>;
  /** The host's tunnels, newest first (bounded). */
  listByHost(hostId: string, limit: number): Promise<TunnelRecord[]>;
  /** Replaces the record if the stored version is `next.version - 1`; false on a lost race. */
  update(next: TunnelRecord): Promise<boolean>;
  /** Tunnels not recorded closed, in every project, soonest expiry first (bounded; the sweep's read). */
  listUnclosed(limit: number): Promise<TunnelRecord[]>;
}

/** Stored troubleshoot grants: one per (project, subject). */
export interface TroubleshootGrantRepository {
  /** Conditional create; false when the subject already holds one in the project. */
  create(g: TroubleshootGrant): Promise<boolean>;
  get(project: string, subject: string): Promise<TroubleshootGrant | undefined>;
  list(project: string, page: PageRequest): Promise<Page<TroubleshootGrant>>;
  /** Removes it; false when there was none. */
  delete(project: string, subject: string): Promise<boolean>;
}
