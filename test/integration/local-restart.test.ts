import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { keys } from '../../lambdas/adapters/dynamodb/keys.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { MQTT_PORT_FILE, startLocal } from '../../local/runtime.js';
import { CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';
import { ephemeralLow } from '../../local/stable-port.js';
import { eventually, seedApprovedHosts, startFleet, startHarness, type Harness } from './harness.js';

/**
 * Issue 8: `--port 0` restarts. The MQTT port is chosen once per data dir and reused, so a
 * running agent reconnects by itself; presence starts offline and comes back with the
 * reconnect. Real runtime on a persistent data dir (DynamoDB Local on disk), the real agent.
 */
let dataDir: string;
let stateDir: string;
let h: Harness | undefined;
let fleet: SimulatedFleet | undefined;
let blocker: Server | undefined;

beforeAll(() => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-restart-'));
  stateDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-restart-agents-'));
});
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  await new Promise<void>((r) => (blocker ? blocker.close(() => r()) : r()));
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(stateDir, { recursive: true, force: true });
});

it('with --port 0 the MQTT port survives a restart; the agent reconnects and presence goes offline → online', async () => {
  h = await startHarness({ dataDir, inMemory: false, port: 0 });
  const started = await startFleet(h, { count: 1, prefix: 'rs', stateDir });
  fleet = started.fleet;
  const hostId = started.ids[0]!;
  const firstPort = h.rt.iot.port;
  expect(JSON.parse(readFileSync(path.join(dataDir, MQTT_PORT_FILE), 'utf8'))).toEqual({ port: firstPort });
  // Chosen below the ephemeral range: no outgoing connection can take it while the runtime is down.
  expect(firstPort).toBeLessThan(ephemeralLow());
  // A host the last run believed online, with no session behind it (what a killed run leaves).
  await seedApprovedHosts(h, 'default', ['ghost-1']);
  await h.rt.iot.deps.presence.apply('ghost-1', { presence: 'online', at: Date.now() });
  expect((await h.rt.deps.hosts.get('ghost-1'))?.presence).toBe('online');

  // A graceful stop records the agent's disconnect: it is offline while the runtime is down.
  await h.stop({ keepData: true });
  const restartedAt = Date.now();
  h = await startHarness({ dataDir, inMemory: false, port: 0 });

  expect(h.rt.iot.port).toBe(firstPort);
  expect((await h.rt.deps.hosts.get('ghost-1'))?.presence).toBe('offline');
  // The agent was never told anything: it reconnects to the same port by itself.
  const back = await eventually(`${hostId} online again`, async () => {
    const host = await h!.rt.deps.hosts.get(hostId);
    return host?.presence === 'online' && host;
  }, 30_000);
  expect(back.presence).toBe('online');
  // Online again through a connect after the restart (the timestamp guard held), not a stale state.
  const presence = await h.rt.dynamo.send(new GetCommand({ TableName: h.rt.deps.config.stateTable, Key: keys.hostPresence(hostId), ConsistentRead: true }));
  expect(presence.Item?.at).toBeGreaterThan(restartedAt);
  const hosts = await h.call('GET', '/v1/hosts?limit=10');
  expect(hosts.body.items.find((x: { id: string }) => x.id === hostId)?.presence).toBe('online');
  expect(hosts.body.items.find((x: { id: string }) => x.id === 'ghost-1')?.presence).toBe('offline');
});

it('if the kept MQTT port is taken, the start fails at once and says what to do', async () => {
  const port = h!.rt.iot.port;
  await fleet?.stop();
  fleet = undefined;
  await h!.stop({ keepData: true });
  h = undefined;
  blocker = createServer();
  await new Promise<void>((r) => blocker!.listen(port, '127.0.0.1', () => r()));
  await expect(startLocal({ dataDir, port: 0, logLevel: 'CRITICAL', templateCache: CHECKOUT_TEMPLATE_CACHE }))
    .rejects.toThrow(new RegExp(`MQTT port ${port} is already in use.*${MQTT_PORT_FILE}.*stop what is using it`));
});
