/**
 * The SDK transport (aws-iot-device-sdk-v2 MQTT 3.1.1, aws-crt) against the local TLS broker:
 * connect with the device's own key and a certificate from the local CA, subscribe, receive a
 * command, publish; then the broker goes away and comes back on the same port: the transport
 * reconnects by itself (our full-jitter loop) and tells the agent so, and nothing published
 * while offline is lost.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { jest } from '@jest/globals';
import { iot } from 'aws-iot-device-sdk-v2';
import { TOPICS } from '../../lambdas/contracts/mqtt.js';
import { createCsr, generateDeviceKey } from '../../device/identity.js';
import { SdkMqttTransport } from '../../device/transport-sdk.js';
import { loadOrCreateCa, type LocalCa } from '../../local/local-ca.js';
import { startBroker, type LocalBroker } from '../../local/mqtt-broker.js';

let dir: string;
let ca: LocalCa;
let broker: LocalBroker | undefined;
let transport: SdkMqttTransport | undefined;

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-transport-it-'));
  ca = await loadOrCreateCa(path.join(dir, 'ca'));
});
afterAll(async () => {
  await transport?.disconnect();
  await broker?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function eventually(what: string, cond: () => boolean, ms = 20_000) {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

it('connects over mTLS, exchanges messages, reconnects after the broker restarts, flushes the outbox', async () => {
  broker = await startBroker({ ca, port: 0 });
  const port = broker.port;
  const received: Array<{ topic: string; payload: string; clientId?: string }> = [];
  const listen = (b: LocalBroker) => b.onMessage((topic, payload, clientId) => { if (clientId) received.push({ topic, payload: payload.toString(), clientId }); });
  listen(broker);

  // Counts the TLS contexts made: one builder makes one, reused by every later attempt.
  const builders = jest.spyOn(iot.AwsIotMqttConnectionConfigBuilder, 'new_mtls_builder');
  const keyPem = generateDeviceKey();
  const { certificatePem } = await ca.signCsr(await createCsr(keyPem, 'uid-t1'), 'thing-t1');
  const logs: string[] = [];
  transport = new SdkMqttTransport({ endpoint: 'localhost', port, clientId: 'thing-t1', certificatePem, keyPem, caPem: ca.caPem, minReconnectMs: 100, maxReconnectMs: 500, log: (_l, m) => logs.push(m) });
  const connects: boolean[] = [];
  const disconnects: string[] = [];
  const messages: Array<{ topic: string; payload: string }> = [];
  transport.onConnected(({ reconnect }) => void connects.push(reconnect));
  transport.onDisconnected((r) => disconnects.push(r));
  transport.onMessage((topic, payload) => messages.push({ topic, payload }));
  await transport.subscribe(TOPICS.commands('thing-t1'));
  await transport.connect();
  expect(connects).toEqual([false]);

  await transport.publish(TOPICS.pendingCommands('thing-t1'), JSON.stringify({ at: new Date().toISOString() }));
  await eventually('device publish at the broker', () => received.some((m) => m.topic === TOPICS.pendingCommands('thing-t1')));
  expect(received[0]!.clientId).toBe('thing-t1');

  await broker.publish(TOPICS.commands('thing-t1'), JSON.stringify({ hello: 1 }), 1);
  await eventually('command at the device', () => messages.length > 0);
  expect(messages[0]).toEqual({ topic: TOPICS.commands('thing-t1'), payload: '{"hello":1}' });

  // The broker goes away; a publish meanwhile waits in the outbox.
  await broker.stop();
  await eventually('interrupt noticed', () => disconnects.length > 0);
  const late = transport.publish(TOPICS.results('thing-t1'), JSON.stringify({ late: true }));
  await new Promise((r) => setTimeout(r, 300));
  broker = await startBroker({ ca, port });
  listen(broker);
  await eventually('reconnected', () => connects.length === 2, 30_000);
  expect(connects).toEqual([false, true]);
  await late;
  await eventually('outbox flushed', () => received.some((m) => m.topic === TOPICS.results('thing-t1')));
  // Subscriptions are restored: a command after the restart arrives.
  await broker.publish(TOPICS.commands('thing-t1'), JSON.stringify({ hello: 2 }), 1);
  await eventually('command after reconnect', () => messages.length === 2);
  expect(logs.some((l) => l.includes('mqtt reconnected'))).toBe(true);
  // Every attempt while the broker was away and the reconnect used the first TLS context.
  const failed = logs.filter((l) => l.startsWith(`mqtt connect to localhost:${port} failed: `));
  expect(failed.length).toBeGreaterThan(0);
  // Each failed attempt is one line naming the SDK's reason (it rejects with a string, not an
  // Error): aws-c-io's while the port is closed, aws-c-mqtt's if a connection was dropped before
  // its CONNACK (the old broker stopping).
  for (const l of failed) expect(l).toMatch(/failed: Failed to connect: (lib)?aws-c-(io|mqtt): AWS_(IO|ERROR_MQTT)_\w+, .+; retrying in \d+ s$/);
  // No attempt waited for a CONNACK that never came (a stopping broker accepts nothing more).
  expect(failed.filter((l) => l.includes('AWS_ERROR_MQTT_TIMEOUT'))).toEqual([]);
  expect(logs.filter((l) => l.startsWith('mqtt error'))).toEqual([]);
  expect(builders).toHaveBeenCalledTimes(1);
  builders.mockRestore();
}, 60_000);
