import { IoTDataPlaneClient, PublishCommand } from '@aws-sdk/client-iot-data-plane';
import { DescribeEndpointCommand, IoTClient } from '@aws-sdk/client-iot';
import { mockClient } from 'aws-sdk-client-mock';
import { IotCommandPublisher } from '../../../lambdas/adapters/iot/command-publisher.js';
import { ThrottledError, UnavailableError } from '../../../lambdas/domain/errors.js';

const command = { commandId: 'cmd-1', type: 'reboot', params: {}, deadline: '2030-01-01T00:00:00.000Z' };

describe('IotCommandPublisher', () => {
  const data = mockClient(IoTDataPlaneClient);
  const iot = mockClient(IoTClient);
  beforeEach(() => { data.reset(); iot.reset(); });

  it('publishes QoS 1 to the host command topic, looking the ATS endpoint up once', async () => {
    iot.on(DescribeEndpointCommand).resolves({ endpointAddress: 'abc-ats.iot.eu-west-1.amazonaws.com' });
    data.on(PublishCommand).resolves({});
    const endpoints: string[] = [];
    const p = new IotCommandPublisher({ iot: new IoTClient({}), makeClient: (e) => { endpoints.push(e); return new IoTDataPlaneClient({}); } });
    await p.publish('till-1', command);
    await p.publish('till-2', command);
    expect(endpoints).toEqual(['abc-ats.iot.eu-west-1.amazonaws.com']);
    const calls = data.commandCalls(PublishCommand);
    expect(calls.map((c) => [c.args[0].input.topic, c.args[0].input.qos])).toEqual([['edgefleet/hosts/till-1/commands', 1], ['edgefleet/hosts/till-2/commands', 1]]);
    expect(JSON.parse(new TextDecoder().decode(calls[0]!.args[0].input.payload as Uint8Array))).toEqual(command);
  });

  it('maps throttling and other failures to named errors that keep the command stored', async () => {
    data.on(PublishCommand).rejectsOnce(Object.assign(new Error('slow down'), { name: 'ThrottlingException' })).rejectsOnce(Object.assign(new Error('boom'), { name: 'InternalFailureException' }));
    const p = new IotCommandPublisher({ endpoint: 'x-ats.iot.local', makeClient: () => new IoTDataPlaneClient({}) });
    await expect(p.publish('till-1', command)).rejects.toBeInstanceOf(ThrottledError);
    await expect(p.publish('till-1', command)).rejects.toMatchObject({ code: 'command-publish-failed' });
  });

  it('retries the endpoint lookup after a failure instead of caching it', async () => {
    iot.on(DescribeEndpointCommand).resolvesOnce({}).resolves({ endpointAddress: 'ok-ats.iot.local' });
    data.on(PublishCommand).resolves({});
    const p = new IotCommandPublisher({ iot: new IoTClient({}), makeClient: () => new IoTDataPlaneClient({}) });
    await expect(p.publish('till-1', command)).rejects.toBeInstanceOf(UnavailableError);
    await expect(p.publish('till-1', command)).resolves.toBeUndefined();
  });
});
