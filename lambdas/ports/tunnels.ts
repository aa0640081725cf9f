import type { TunnelRecord } from '../domain/tunnel.js';

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
}
