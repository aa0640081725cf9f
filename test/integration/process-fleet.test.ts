/**
 * A simulated fleet split over worker processes (issue 14: `--simulate-procs`): the agents of
 * each process register and connect through the real HTTP and MQTT paths; the parent sees them
 * online and their memory; stop() closes every agent cleanly (each host goes offline) and no
 * worker process is left.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startProcessFleet, type ProcessFleet } from '../../simulator/index.js';
import { eventually, startHarness, type Harness } from './harness.js';

let h: Harness;
let dir: string;
let fleet: ProcessFleet | undefined;

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-process-fleet-it-'));
}, 120_000);
afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const IDS = ['pf-1', 'pf-2', 'pf-3', 'pf-4', 'pf-5'];
const presence = async () => Promise.all(IDS.map(async (id) => (await h.rt.deps.hosts.get(id))?.presence));

it('5 hosts in 2 worker processes: all registered once and online, memory and CPU reported; stop takes every one offline', async () => {
  const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'procs', autoApprove: true } });
  fleet = await startProcessFleet({ apiUrl: h.rt.url, registrationToken: t.body.token, project: 'default', count: 5, procs: 2, stateDir: dir, uidPrefix: 'pf', checkIntervalMs: 1000 });
  await eventually('every host online', async () => (await presence()).every((p) => p === 'online'), 90_000, 250);
  await eventually('the workers report them online', async () => fleet!.stats().online === 5, 10_000);
  const s = fleet.stats();
  expect(s.refused).toBe(0);
  expect(s.rssBytes).toBeGreaterThan(s.agentRssBytes);
  expect(s.agentRssBytes).toBeGreaterThan(0);
  // 5 registrations (key, CSR, TLS handshakes) cannot take less than a millisecond of the workers' CPU.
  expect(s.agentCpuMs).toBeGreaterThan(1);
  expect((await h.call('GET', `/v1/registration-tokens/${t.body.id}`)).body.uses).toBe(5);
  const listed = await h.call('GET', '/v1/hosts?limit=100');
  expect(listed.body.items.map((x: { id: string }) => x.id).filter((id: string) => id.startsWith('pf-')).sort()).toEqual(IDS);
  const pids = fleet.pids;
  expect(pids).toHaveLength(2);
  // Each worker's simulated hosts have an empty OS trust store (aws-crt would load the system's CA
  // bundle for every TLS context), and they still connected above: they trust the CA they were given.
  for (const pid of pids) {
    const env = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0');
    const trustStore = env.find((e) => e.startsWith('SSL_CERT_FILE='))?.slice('SSL_CERT_FILE='.length);
    expect(trustStore).toBe(path.join(dir, 'simulated-os-trust-store.pem'));
    expect(statSync(trustStore!).size).toBe(0);
  }
  await fleet.stop();
  fleet = undefined;
  const alive = (pid: number) => { try { process.kill(pid, 0); return true; } catch { return false; } };
  expect(pids.filter(alive)).toEqual([]);
  await eventually('every host offline after stop', async () => (await presence()).every((p) => p === 'offline'), 30_000, 250);
}, 150_000);
