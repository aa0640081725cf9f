import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Inventory } from '../../../lambdas/contracts/device.js';
import { resultMessage, TOPICS } from '../../../lambdas/contracts/mqtt.js';
import { startAgent, type AgentHandle } from '../../../device/agent.js';
import type { KairosExecutor } from '../../../device/kairos.js';
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

/**
 * An agent brought online against a fresh state dir per test (registration answered
 * `approved`, an in-memory MQTT link), with `run(commandId, type, params)` that delivers a
 * command and resolves with its result phases and final detail. Registers its own
 * beforeEach/afterEach; `dir()` is the current test's state dir.
 */
export function agentFixture(prefix: string, o: { readyTimeoutMs: number }) {
  let dir = '';
  let handles: AgentHandle[] = [];
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), prefix));
  });
  afterEach(async () => {
    for (const h of handles) await h.stop();
    handles = [];
    await rm(dir, { recursive: true, force: true });
  });
  const future = () => new Date(Date.now() + 60 * 60_000).toISOString();
  async function online(executor: KairosExecutor) {
    let transport: MemoryTransport | undefined;
    const h = startAgent({
      config: { apiUrl: 'http://127.0.0.1:1', registrationToken: 'tok', project: 'acme', site: 's1', tags: {}, stateDir: dir, uid: 'host-1', fullReportSeconds: 3600 },
      executor, transportFactory: (s) => (transport = new MemoryTransport(s)),
      fetch: (async () => new Response(JSON.stringify(approved), { status: 200, headers: { 'content-type': 'application/json' } })) as typeof fetch,
      inventory: async () => inventory, log: () => undefined, checkIntervalMs: 20, readyTimeoutMs: o.readyTimeoutMs, readyPollMs: 10,
    });
    handles.push(h);
    await waitFor(() => h.state.phase === 'online' && (transport?.statuses().length ?? 0) > 0, 'online');
    const t = transport!;
    const run = async (commandId: string, type: string, params: Record<string, unknown>) => {
      t.deliver({ commandId, type, params, deadline: future() });
      await waitFor(() => t.phases(commandId).some((p) => p === 'succeeded' || p === 'failed'), `${commandId} outcome`, 8000);
      for (const r of t.results(commandId)) expect(resultMessage.safeParse(r).success).toBe(true);
      return { phases: t.phases(commandId), detail: t.results(commandId).at(-1).detail as string };
    };
    return { h, t, run };
  }
  return { dir: () => dir, online, future };
}
