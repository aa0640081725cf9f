import {
  CloseTunnelCommand, DescribeTunnelCommand, IoTSecureTunnelingClient, OpenTunnelCommand, ResourceNotFoundException,
} from '@aws-sdk/client-iotsecuretunneling';
import { UnavailableError } from '../../domain/errors.js';
import type { TunnelService } from '../../ports/tunnels.js';

/**
 * AWS IoT Secure Tunneling (API reference: OpenTunnel with destinationConfig {thingName,
 * services} and timeoutConfig.maxLifetimeTimeoutMinutes; CloseTunnel with delete; DescribeTunnel).
 * IoT Core itself tells the device on `$aws/things/<thing>/tunnels/notify`.
 */
export class AwsTunnelService implements TunnelService {
  constructor(private readonly client: IoTSecureTunnelingClient) {}

  async open(thingName: string, services: readonly string[], maxLifetimeMinutes: number) {
    const out = await this.client.send(new OpenTunnelCommand({
      description: `EdgeFleet remote shell to ${thingName}`,
      destinationConfig: { thingName, services: [...services] },
      timeoutConfig: { maxLifetimeTimeoutMinutes: maxLifetimeMinutes },
    }));
    if (!out.tunnelId || !out.sourceAccessToken || !out.destinationAccessToken) {
      throw new UnavailableError('tunnel-service-incomplete', 'AWS IoT Secure Tunneling opened a tunnel without its id or access tokens; try again');
    }
    return { tunnelId: out.tunnelId, sourceAccessToken: out.sourceAccessToken, destinationAccessToken: out.destinationAccessToken };
  }

  async close(tunnelId: string): Promise<void> {
    try {
      await this.client.send(new CloseTunnelCommand({ tunnelId, delete: true }));
    } catch (e) {
      if (!(e instanceof ResourceNotFoundException)) throw e;
    }
  }

  async describe(tunnelId: string) {
    try {
      const { tunnel } = await this.client.send(new DescribeTunnelCommand({ tunnelId }));
      if (!tunnel) return undefined;
      return {
        status: tunnel.status === 'OPEN' ? 'OPEN' as const : 'CLOSED' as const,
        sourceConnected: tunnel.sourceConnectionState?.status === 'CONNECTED',
        destinationConnected: tunnel.destinationConnectionState?.status === 'CONNECTED',
      };
    } catch (e) {
      if (e instanceof ResourceNotFoundException) return undefined;
      throw e;
    }
  }

  /** The data endpoint of the region the tunnel was opened in (the function's region). */
  async endpoint(): Promise<string> {
    return `wss://data.tunneling.iot.${await this.client.config.region()}.amazonaws.com`;
  }
}
