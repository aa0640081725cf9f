import type { Inventory } from '../../../lambdas/contracts/device.js';
import { TOPICS } from '../../../lambdas/contracts/mqtt.js';
import type { MqttTransport, TransportSettings } from '../../../device/transport.js';

/* Shared by the agent unit tests (not a test file itself). */

/** An in-memory MQTT link: records what the agent publishes, lets the test deliver commands. */
export class MemoryTransport implements MqttTransport {
  constructor(readonly settings: TransportSettings, private readonly hostId = 'host-1') {}
  readonly published: Array<{ topic: string; body: any }> = [];
  readonly subscriptions = new Set<string>();
  connects = 0;
  private messageHandlers: Array<(t: string, p: string) => void> = [];
  private connectedHandlers: Array<(i: { reconnect: boolean; sessionPresent: boolean }) => void | Promise<void>> = [];
  private disconnectedHandlers: Array<(r: string) => void> = [];
  async connect() {
    await this.reconnect();
  }
  async reconnect() {
    const reconnect = this.connects++ > 0;
    for (const h of this.connectedHandlers) await h({ reconnect, sessionPresent: reconnect });
  }
  drop() {
    for (const h of this.disconnectedHandlers) h('test');
  }
  async subscribe(t: string) {
    this.subscriptions.add(t);
  }
  async publish(topic: string, payload: string) {
    this.published.push({ topic, body: JSON.parse(payload) });
  }
  onMessage(h: (t: string, p: string) => void) {
    this.messageHandlers.push(h);
  }
  onConnected(h: (i: { reconnect: boolean; sessionPresent: boolean }) => void | Promise<void>) {
    this.connectedHandlers.push(h);
  }
  onDisconnected(h: (r: string) => void) {
    this.disconnectedHandlers.push(h);
  }
  async disconnect() {}
  deliver(body: unknown, topic = TOPICS.commands(this.hostId)) {
    for (const h of this.messageHandlers) h(topic, typeof body === 'string' ? body : JSON.stringify(body));
  }
  results(commandId?: string) {
    return this.published.filter((m) => m.topic === TOPICS.results(this.hostId) && (!commandId || m.body.commandId === commandId)).map((m) => m.body);
  }
  phases(commandId: string) {
    return this.results(commandId).map((r) => r.phase);
  }
  statuses() {
    return this.published.filter((m) => m.topic === TOPICS.status(this.hostId)).map((m) => m.body);
  }
}

export const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
export const approved = { status: 'approved', hostId: 'host-1', thingName: 'host-1', certificatePem: CERT, caPem: CERT, mqtt: { endpoint: 'localhost', port: 8883 } };
export const inventory: Inventory = { arch: 'amd64', cpus: 2, memoryMb: 4096, disks: [], nics: [], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' };

export async function waitFor(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const until = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
