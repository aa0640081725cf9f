/**
 * The whole plug-and-play path with nothing typed at the site: token → user-data (the file
 * Kairos writes to /oem) → the agent loads that file → registers → (operator approves with the
 * pairing code) → online over MQTT/mTLS. Both modes: pre-provisioned and on-site.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { startAgent, type AgentHandle } from '../../device/agent.js';
import { loadConfig } from '../../device/config.js';
import { SimulatedKairos } from '../../simulator/index.js';
import { AGENT_CONFIG_PATH } from '../../lambdas/domain/user-data.js';
import { eventually as poll, startHarness, type Harness } from './harness.js';

/** Registration and MQTT connect take longer here than elsewhere: allow 30 s, poll every 100 ms. */
const eventually = <T>(what: string, probe: () => Promise<T | undefined | false>) => poll(what, probe, 30_000, 100);

let h: Harness;
let dir: string;
const agents: AgentHandle[] = [];
const kairos: SimulatedKairos[] = [];

beforeAll(async () => {
  h = await startHarness();
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-install-it-'));
}, 120_000);
afterAll(async () => {
  for (const k of kairos) k.stop();
  for (const a of agents) await a.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** What Kairos would do with the user-data: write the agent's file into /oem (here: a temp dir). */
async function installFromUserData(uid: string, site: string, token: string): Promise<AgentHandle> {
  const ud = await h.call('POST', '/v1/user-data', { body: { token, site } });
  expect(ud.status).toBe(200);
  const files = (parse(ud.text).stages.boot as { files?: { path: string; content: string }[] }[]).flatMap((s) => s.files ?? []);
  const agentFile = files.find((f) => f.path === AGENT_CONFIG_PATH)!;
  const file = path.join(dir, `${uid}-agent.json`);
  writeFileSync(file, agentFile.content);
  const config = await loadConfig({ env: { EDGEFLEET_AGENT_CONFIG: file, EDGEFLEET_STATE_DIR: path.join(dir, uid), EDGEFLEET_UID: uid } });
  const k = new SimulatedKairos({ rebootDelayMs: 100 });
  kairos.push(k);
  const pairing: { code?: string } = {};
  const a = startAgent({
    config, executor: k, log: () => undefined, checkIntervalMs: 100,
    showPairing: (p) => { pairing.code = p.pairingCode; },
    sleep: (ms, signal) => new Promise((r) => { const t = setTimeout(r, Math.min(ms, 200)); signal?.addEventListener('abort', () => { clearTimeout(t); r(); }, { once: true }); }),
  });
  agents.push(a);
  (a as AgentHandle & { pairing?: typeof pairing }).pairing = pairing;
  return a;
}

const hostOnline = (id: string) => async () => {
  const r = await h.call('GET', `/v1/hosts/${id}`);
  return r.status === 200 && r.body.presence === 'online' && r.body.status === 'approved' ? r.body : undefined;
};

describe('install → register → online', () => {
  it('pre-provisioned: a host imported in advance is approved at once and comes online with its site and tags', async () => {
    await h.call('POST', '/v1/hosts', { body: { uid: 'PRE-0001', site: 'shop-9', tags: { lane: '2' } } });
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'shop-9' } });
    await installFromUserData('PRE-0001', 'shop-9', t.body.token);
    const host = await eventually('pre-0001 online', hostOnline('pre-0001'));
    expect(host).toMatchObject({ site: 'shop-9', tags: { lane: '2' }, status: 'approved' });
  });

  it('on-site: an unknown host waits for an operator, who approves it with the pairing code from the console', async () => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'walk-in' } });
    const a = await installFromUserData('WALKIN-7', 'shop-3', t.body.token) as AgentHandle & { pairing: { code?: string } };
    await eventually('pending host', async () => (await h.call('GET', '/v1/hosts/walkin-7')).body?.status === 'pending');
    const code = await eventually('pairing code shown', async () => a.pairing.code);
    expect((await h.call('POST', '/v1/hosts/walkin-7/approve', { body: { pairingCode: 'WRONG1' } })).status).toBe(409);
    expect((await h.call('POST', '/v1/hosts/walkin-7/approve', { body: { pairingCode: code } })).status).toBe(200);
    const host = await eventually('walkin-7 online', hostOnline('walkin-7'));
    expect(host.site).toBe('shop-3');
  });
});
