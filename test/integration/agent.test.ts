/**
 * The edge agent against the real local runtime: registration over HTTP (POST
 * /v1/device/register), the certificate from the local CA, MQTT 3.1.1 over mutual TLS with the
 * device SDK (aws-crt) to the policy-enforcing broker, commands stored and delivered by the
 * command channel, results and status through the topic rules into DynamoDB Local.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Inventory } from '../../lambdas/contracts/device.js';
import { startAgent, type AgentHandle } from '../../device/agent.js';
import type { AgentConfig } from '../../device/config.js';
import { SimulatedKairos, startSimulatedAgents } from '../../simulator/index.js';
import type { TransportFactory } from '../../device/transport.js';
import { sdkTransportFactory } from '../../device/transport-sdk.js';
import { eventually, startHarness, type Harness } from './harness.js';

/**
 * The real SDK transport, recording what each agent publishes. Results are asserted as the
 * device sent them (each acknowledged by the broker, QoS 1): how the cloud folds concurrent
 * results into the stored command is the results handler's own test.
 */
const published: Array<{ clientId: string; topic: string; body: any }> = [];
const recording: TransportFactory = (settings) => {
  const t = sdkTransportFactory(settings);
  const publish = t.publish.bind(t);
  t.publish = async (topic, payload) => {
    await publish(topic, payload);
    published.push({ clientId: settings.clientId, topic, body: JSON.parse(payload) });
  };
  return t;
};
const results = (hostId: string, commandId: string) =>
  published.filter((m) => m.topic === `edgefleet/hosts/${hostId}/results` && m.body.commandId === commandId).map((m) => m.body);
const finalResult = (hostId: string, commandId: string) => results(hostId, commandId).find((r) => r.phase === 'succeeded' || r.phase === 'failed');

let h: Harness;
let dir: string;
const agents: AgentHandle[] = [];
const INVENTORY: Inventory = { arch: 'amd64', cpus: 2, memoryMb: 4096, disks: [{ name: 'vda', sizeGb: 64 }], nics: [{ name: 'eth0', mac: '52:54:00:aa:bb:01' }], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' };
const V2 = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.33.1-k3s1';

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-agent-it-'));
}, 120_000);
afterAll(async () => {
  for (const a of agents) await a.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function token(body: Record<string, unknown>): Promise<string> {
  const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'agent-it', ...body } });
  expect(t.status).toBe(201);
  return t.body.token;
}

function agent(uid: string, registrationToken: string, executor: SimulatedKairos, extra: { showPairing?: (p: { hostId: string; pairingCode: string }) => void } = {}) {
  const config: AgentConfig = { apiUrl: h.rt.url, registrationToken, project: 'default', site: 'shop-1', tags: {}, stateDir: path.join(dir, uid), uid, fullReportSeconds: 3600 };
  const a = startAgent({
    config, executor, inventory: async () => INVENTORY, log: () => undefined, checkIntervalMs: 100, transportFactory: recording,
    showPairing: extra.showPairing ?? (() => undefined),
    // Poll a pending registration quickly; real sleeps otherwise.
    sleep: (ms, signal) => new Promise((r) => { const t = setTimeout(r, Math.min(ms, 100)); signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); }),
  });
  agents.push(a);
  return a;
}

const command = async (hostId: string, commandId: string) => (await h.rt.iot.deps.commands.get(hostId, commandId));

describe('edge agent ↔ local runtime', () => {
  it('auto-approved: registers, connects over mTLS with the SDK, goes online, reports status, runs an upgrade once', async () => {
    const k = new SimulatedKairos({ version: 'v3.4.2', k8sRole: 'worker' });
    const a = agent('agent-it-1', await token({ autoApprove: true }), k);
    await eventually('online', async () => a.state.phase === 'online');
    const hostId = a.state.hostId!;
    expect(hostId).toBe('agent-it-1');

    const host = await eventually('presence online', async () => {
      const r = await h.call('GET', `/v1/hosts/${hostId}`);
      return r.body?.presence === 'online' && r.body;
    });
    expect(host).toMatchObject({ status: 'approved', inventory: INVENTORY });
    const status = await eventually('status stored', async () => h.rt.iot.deps.status.get(hostId));
    expect(status.content).toMatchObject({ boot: { state: 'active', kairosVersion: 'v3.4.2' } });

    const deadline = new Date(Date.now() + 5 * 60_000).toISOString();
    const sent = await h.rt.iot.sendCommand(hostId, { commandId: 'up-it-1', type: 'upgrade', params: { image: V2 }, deadline });
    expect(sent).toEqual({ created: true, published: true });
    const done = await eventually('upgrade finished', async () => finalResult(hostId, 'up-it-1'));
    expect(results(hostId, 'up-it-1').map((r) => r.phase)).toEqual(['accepted', 'progress', 'progress', 'succeeded']);
    expect(done).toMatchObject({ phase: 'succeeded' });
    // The cloud saw the device take the command.
    await eventually('command acknowledged in the store', async () => {
      const c = await command(hostId, 'up-it-1');
      return c && !['queued', 'sent'].includes(c.state);
    });
    expect(done.detail).toContain('booted active at v3.5.0');
    await eventually('new version reported', async () => (await h.rt.iot.deps.status.get(hostId))?.content.boot && ((await h.rt.iot.deps.status.get(hostId))!.content as any).boot.kairosVersion === 'v3.5.0');

    // The same command delivered again (e.g. a redelivery after reconnect) does not run twice.
    await h.rt.iot.publishCommand(hostId, { commandId: 'up-it-1', type: 'upgrade', params: { image: V2 }, deadline });
    await new Promise((r) => setTimeout(r, 500));
    expect(k.calls.filter((c) => c.startsWith('upgrade'))).toHaveLength(1);
  }, 90_000);

  it('pending: shows the pairing code, waits, and connects once an operator approves', async () => {
    const shown: string[] = [];
    const a = agent('agent-it-2', await token({}), new SimulatedKairos(), { showPairing: (p) => shown.push(p.pairingCode) });
    await eventually('pairing code shown', async () => shown.length > 0);
    expect(a.state.phase).toBe('registering');
    // The operator types the code the host shows on its console.
    const approve = await h.call('POST', '/v1/hosts/agent-it-2/approve', { body: { pairingCode: shown[0] } });
    expect(approve.status).toBe(200);
    await eventually('online after approval', async () => a.state.phase === 'online');
    expect(shown).toHaveLength(1);
  }, 90_000);

  it('commands sent while the agent was offline are fetched on connect (commands/pending)', async () => {
    const tok = await token({ autoApprove: true });
    const k = new SimulatedKairos();
    const a = agent('agent-it-3', tok, k);
    await eventually('online', async () => a.state.phase === 'online');
    await a.stop();
    await eventually('presence offline', async () => (await h.call('GET', '/v1/hosts/agent-it-3')).body?.presence === 'offline');
    await h.rt.iot.sendCommand('agent-it-3', { commandId: 'cfg-it-3', type: 'apply-cloud-config', params: { cloudConfig: 'stages: {}' }, deadline: new Date(Date.now() + 60_000).toISOString() });
    const b = agent('agent-it-3', tok, k);
    await eventually('online again', async () => b.state.phase === 'online');
    const c = await eventually('command done', async () => finalResult('agent-it-3', 'cfg-it-3'));
    expect(c).toMatchObject({ phase: 'succeeded', detail: expect.stringContaining('90_edgefleet.yaml') });
    expect(k.calls).toEqual(['apply-cloud-config']);
  }, 90_000);

  it('a simulated fleet of N agents in one process registers and goes online (npm start -- --simulate N)', async () => {
    const fleet = startSimulatedAgents({ apiUrl: h.rt.url, registrationToken: await token({ autoApprove: true }), project: 'default', count: 4, stateDir: path.join(dir, 'fleet'), uidPrefix: 'fleet', transportFactory: recording });
    try {
      await eventually('all online', async () => fleet.hosts.every((x) => x.agent.state.phase === 'online'), 30_000);
      expect(fleet.hosts.map((x) => x.agent.state.hostId).sort()).toEqual(['fleet-1', 'fleet-2', 'fleet-3', 'fleet-4']);
      for (const id of ['fleet-1', 'fleet-4']) {
        await eventually(`${id} online in the API`, async () => (await h.call('GET', `/v1/hosts/${id}`)).body?.presence === 'online');
      }
      // A failure injected into one simulated host shows up as a named failure of its command.
      fleet.hosts[1]!.kairos.failures.bootFallback = true;
      await h.rt.iot.sendCommand('fleet-2', { commandId: 'up-fleet-2', type: 'upgrade', params: { image: V2 }, deadline: new Date(Date.now() + 60_000).toISOString() });
        const c = await eventually('upgrade failed', async () => finalResult('fleet-2', 'up-fleet-2'));
      expect(c).toMatchObject({ phase: 'failed', detail: expect.stringMatching(/^booted passive at .*Kairos fell back/) });
    } finally {
      await fleet.stop();
    }
  }, 90_000);
});
