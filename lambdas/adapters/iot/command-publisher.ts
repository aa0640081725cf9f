import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { TOPICS } from '../../contracts/mqtt.js';
import { ThrottledError, UnavailableError } from '../../domain/errors.js';
import type { CommandEnvelope, CommandPublisher } from '../../ports/device-plane.js';

/**
 * Publishes commands through the IoT data plane (QoS 1, to edgefleet/hosts/<id>/commands).
 * The ATS data endpoint is looked up once (iot:DescribeEndpoint) unless given.
 */
export class IotCommandPublisher implements CommandPublisher {
  private client: Promise<IoTDataPlaneClient> | undefined;

  constructor(private readonly options: { endpoint?: string; iot?: IoTClient; makeClient?: (endpoint: string) => IoTDataPlaneClient } = {}) {}

  private dataPlane(): Promise<IoTDataPlaneClient> {
    this.client ??= (async () => {
      let endpoint = this.options.endpoint;
      if (!endpoint) {
        const out = await (this.options.iot ?? new IoTClient({})).send(new DescribeEndpointCommand({ endpointType: 'iot:Data-ATS' }));
        endpoint = out.endpointAddress;
      }
      if (!endpoint) throw new UnavailableError('iot-endpoint-unknown', 'IoT Core did not return a data endpoint; check the account and region');
      return (this.options.makeClient ?? ((e) => new IoTDataPlaneClient({ endpoint: `https://${e}` })))(endpoint);
    })();
    this.client.catch(() => { this.client = undefined; });
    return this.client;
  }

  async publish(hostId: string, command: CommandEnvelope): Promise<void> {
    const client = await this.dataPlane();
    try {
      await client.send(new PublishCommand({ topic: TOPICS.commands(hostId), qos: 1, payload: new TextEncoder().encode(JSON.stringify(command)) }));
    } catch (e) {
      const name = (e as { name?: string }).name ?? '';
      if (name === 'ThrottlingException') throw new ThrottledError('throttled', `IoT Core is throttling command publishes to ${hostId}; the command stays stored and is fetched on reconnect`, { cause: e });
      throw new UnavailableError('command-publish-failed', `could not publish command ${command.commandId} to ${hostId} (${name || 'error'}); it stays stored and the host fetches it on reconnect`, { cause: e });
    }
  }
}
