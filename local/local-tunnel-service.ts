import { tunnelNotifyTopic, type TunnelNotify } from '../lambdas/contracts/tunnels.js';
import type { TunnelService } from '../lambdas/ports/tunnels.js';
import type { TunnelRelay } from './tunnel-relay.js';

/** The region the local notifications name (agents of the local runtime are configured with the relay's endpoint). */
export const LOCAL_TUNNEL_REGION = 'local';

/**
 * The TunnelService port on one machine: the local relay stands in for the Secure Tunneling
 * service, and, as IoT Core does when OpenTunnel names a thing, the destination token goes to
 * the device on `$aws/things/<thing>/tunnels/notify` (QoS 1) in the documented shape
 * ({clientAccessToken, clientMode, region, services}: AWS IoT developer guide, "Secure
 * tunneling", the IoT agent snippet).
 */
export function localTunnelService(relay: TunnelRelay, publish: (topic: string, payload: string) => Promise<void>): TunnelService {
  return {
    async open(thingName, services, maxLifetimeMinutes) {
      const t = relay.open(thingName, services, maxLifetimeMinutes);
      const notify: TunnelNotify = { clientAccessToken: t.destinationAccessToken, clientMode: 'destination', region: LOCAL_TUNNEL_REGION, services: [...services] };
      await publish(tunnelNotifyTopic(thingName), JSON.stringify(notify));
      return t;
    },
    async close(tunnelId) {
      relay.close(tunnelId);
    },
    async describe(tunnelId) {
      const t = relay.describe(tunnelId);
      return t ? { status: t.status, sourceConnected: t.connected.source, destinationConnected: t.connected.destination } : undefined;
    },
    endpoint: async () => relay.endpoint,
  };
}
