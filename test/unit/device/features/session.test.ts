import { pendingCommandsRequest, TOPICS } from '../../../../lambdas/contracts/mqtt.js';
import type { AgentPhase } from '../../../../device/features/feature.js';
import { SessionFeature } from '../../../../device/features/session.js';
import { CERT, MemoryTransport } from '../agent-harness.js';
import { agentState } from './feature-harness.js';

class RecordingTransport extends MemoryTransport {
  disconnects = 0;
  failPublish = false;
  override async disconnect() {
    this.disconnects += 1;
  }
  override async publish(topic: string, payload: string) {
    if (this.failPublish) throw new Error('outbox full');
    await super.publish(topic, payload);
  }
}

function session(o: { connectedPhase?: () => AgentPhase } = {}) {
  let transport: RecordingTransport | undefined;
  const commands: string[] = [];
  const connects: boolean[] = [];
  const logs: string[] = [];
  const state = agentState();
  state.phase = 'connecting';
  const s = new SessionFeature({
    identity: { registration: { hostId: 'host-1', thingName: 'host-1', mqtt: { endpoint: 'localhost', port: 8883 } }, credentials: { certificatePem: CERT, caPem: CERT }, keyPem: 'KEY' },
    transportFactory: (settings) => (transport = new RecordingTransport(settings)),
    state, log: (_l, m) => logs.push(m), now: () => new Date(),
    connectedPhase: o.connectedPhase ?? (() => 'online'),
    onCommand: (p) => commands.push(p),
    onConnected: ({ reconnect }) => connects.push(reconnect),
  });
  const pending = () => transport!.published.filter((m) => m.topic === TOPICS.pendingCommands('host-1'));
  return { s, t: () => transport!, commands, connects, logs, state, pending };
}

describe('session feature', () => {
  test('connects as its thing with the device credentials, subscribes to its commands and asks for pending ones', async () => {
    const x = session();
    // Built with the session: results published before start() wait in its outbox.
    expect(x.t().settings).toMatchObject({ endpoint: 'localhost', port: 8883, clientId: 'host-1', certificatePem: CERT, caPem: CERT, keyPem: 'KEY' });
    expect(x.t().connects).toBe(0);
    await x.s.start();
    expect(x.t().connects).toBe(1);
    expect([...x.t().subscriptions]).toEqual([TOPICS.commands('host-1')]);
    expect(x.pending()).toHaveLength(1);
    expect(pendingCommandsRequest.safeParse(x.pending()[0]!.body).success).toBe(true);
    expect(x.state.phase).toBe('online');
    expect(x.connects).toEqual([false]);
  });

  test('its step follows the transport: connecting, backing off with the failed attempts, connected', async () => {
    const x = session();
    x.t().settings.onProgress?.({ step: 'connecting', retries: 0 });
    expect(x.state).toMatchObject({ step: 'mqtt-connecting', mqttRetries: 0 });
    x.t().settings.onProgress?.({ step: 'backoff', retries: 1, reason: 'Failed to connect: aws-c-io: AWS_IO_TLS_NEGOTIATION_TIMEOUT, Channel shutdown due to tls negotiation timeout' });
    expect(x.state).toMatchObject({ phase: 'connecting', step: 'mqtt-backoff', mqttRetries: 1, retryReasons: { 'mqtt: AWS_IO_TLS_NEGOTIATION_TIMEOUT': 1 } });
    await x.s.start();
    expect(x.state).toMatchObject({ phase: 'online', step: 'connected', mqttRetries: 1 });
  });

  test('on every reconnect it asks for pending commands again and tells the others it is a reconnect', async () => {
    const x = session();
    await x.s.start();
    x.t().drop();
    expect(x.state.phase).toBe('offline');
    await x.t().reconnect();
    expect(x.state.phase).toBe('online');
    expect(x.pending()).toHaveLength(2);
    expect(x.connects).toEqual([false, true]);
  });

  test('while a reboot is under way a (re)connect leaves the phase at rebooting', async () => {
    const x = session({ connectedPhase: () => 'rebooting' });
    await x.s.start();
    expect(x.state.phase).toBe('rebooting');
    x.t().drop();
    expect(x.state.phase).toBe('rebooting');
  });

  test('hands over messages on its own commands topic only', async () => {
    const x = session();
    await x.s.start();
    x.t().deliver({ commandId: 'c-1' });
    x.t().deliver({ commandId: 'c-2' }, TOPICS.commands('other-host'));
    x.t().deliver({ commandId: 'c-3' }, TOPICS.status('host-1'));
    expect(x.commands).toEqual([JSON.stringify({ commandId: 'c-1' })]);
  });

  test('a failed publish is logged, not thrown', async () => {
    const x = session();
    await x.s.start();
    x.t().failPublish = true;
    await expect(x.s.publish(TOPICS.results('host-1'), { a: 1 })).resolves.toBeUndefined();
    expect(x.logs).toEqual([`publish to ${TOPICS.results('host-1')} failed: outbox full`]);
  });

  test('stop() disconnects the transport (which ends its reconnect timers)', async () => {
    const x = session();
    await x.s.start();
    await x.s.stop();
    expect(x.t().disconnects).toBe(1);
  });
});
