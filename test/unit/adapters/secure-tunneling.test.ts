import {
  CloseTunnelCommand, DescribeTunnelCommand, IoTSecureTunnelingClient, OpenTunnelCommand, ResourceNotFoundException,
} from '@aws-sdk/client-iotsecuretunneling';
import { AwsTunnelService } from '../../../lambdas/adapters/iot/secure-tunneling.js';

// A real client whose `send` answers from `reply` and records each command (aws-sdk-client-mock's
// types are built on a newer @smithy/types than the registry's newest client-iotsecuretunneling, 3.693).
const sent: unknown[] = [];
function service(reply: (command: unknown) => unknown): AwsTunnelService {
  const client = new IoTSecureTunnelingClient({ region: 'eu-west-1' });
  Object.assign(client, { send: async (command: unknown) => { sent.push(command); return reply(command); } });
  return new AwsTunnelService(client);
}
const notFound = () => new ResourceNotFoundException({ message: 'gone', $metadata: {} });
beforeEach(() => { sent.length = 0; });

describe('AwsTunnelService (AWS IoT Secure Tunneling)', () => {
  it('opens a tunnel to the thing for the services, with the lifetime, and returns the id and both tokens', async () => {
    const s = service(() => ({ tunnelId: 't-1', sourceAccessToken: 'src', destinationAccessToken: 'dst' }));
    await expect(s.open('h-1', ['SSH'], 90)).resolves.toEqual({ tunnelId: 't-1', sourceAccessToken: 'src', destinationAccessToken: 'dst' });
    expect(sent[0]).toBeInstanceOf(OpenTunnelCommand);
    expect((sent[0] as OpenTunnelCommand).input).toMatchObject({ destinationConfig: { thingName: 'h-1', services: ['SSH'] }, timeoutConfig: { maxLifetimeTimeoutMinutes: 90 } });
  });

  it('refuses an answer without tokens rather than a tunnel nobody can use', async () => {
    await expect(service(() => ({ tunnelId: 't-1' })).open('h-1', ['SSH'], 60)).rejects.toThrow(/without its id or access tokens/);
  });

  it('closes with delete; a tunnel the service no longer knows counts as closed', async () => {
    let calls = 0;
    const s = service(() => { calls += 1; if (calls > 1) throw notFound(); return {}; });
    await s.close('t-1');
    await s.close('t-1');
    expect(sent.every((c) => c instanceof CloseTunnelCommand)).toBe(true);
    expect(sent.map((c) => (c as CloseTunnelCommand).input)).toEqual([{ tunnelId: 't-1', delete: true }, { tunnelId: 't-1', delete: true }]);
  });

  it('describes the status and both connection states; unknown → undefined', async () => {
    const s = service((c) => {
      if ((c as DescribeTunnelCommand).input.tunnelId === 't-2') throw notFound();
      return { tunnel: { status: 'OPEN', sourceConnectionState: { status: 'CONNECTED' }, destinationConnectionState: { status: 'DISCONNECTED' } } };
    });
    await expect(s.describe('t-1')).resolves.toEqual({ status: 'OPEN', sourceConnected: true, destinationConnected: false });
    await expect(s.describe('t-2')).resolves.toBeUndefined();
    expect(sent[0]).toBeInstanceOf(DescribeTunnelCommand);
  });

  it('names the data endpoint of its region', async () => {
    await expect(service(() => ({})).endpoint()).resolves.toBe('wss://data.tunneling.iot.eu-west-1.amazonaws.com');
  });
});
