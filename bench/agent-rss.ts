/**
 * `npm run bench:agent-rss`: the memory of ONE real agent process. Builds the single-file
 * agent (`npm run device:build`) and, next to it, the same bundle of the simulator's process
 * entry (simulator/agent-main.ts: the agent process on a simulated Kairos), starts the local
 * runtime, runs that bundle with plain `node` until its host is online, then samples its RSS
 * from /proc for a while. Linux only.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { bundleAgent } from '../device/build.js';
import { startLocal } from '../local/runtime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
execFileSync('npm', ['run', '--silent', 'device:build'], { cwd: root, stdio: 'ignore' });
// Next to the shipped bundle, so that the same banner finds the same aws-crt native addon.
const bundle = path.join(root, 'dist', 'device', 'edgefleet-agent-simulated.mjs');
await bundleAgent({ entry: path.join(root, 'simulator', 'agent-main.ts'), outfile: bundle });

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-rss-'));
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'CRITICAL' });
const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
let child: ReturnType<typeof spawn> | undefined;
try {
  const { token } = await (await fetch(`${rt.url}/v1/registration-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'rss', autoApprove: true }) })).json() as { token: string };
  const stateDir = path.join(dataDir, 'agent');
  mkdirSync(stateDir, { recursive: true });
  const configFile = path.join(dataDir, 'agent.json');
  writeFileSync(configFile, JSON.stringify({ apiUrl: rt.url, registrationToken: token, project: 'default', site: 'bench', tags: {} }));
  child = spawn(process.execPath, [bundle], {
    env: { PATH: process.env.PATH, EDGEFLEET_AGENT_CONFIG: configFile, EDGEFLEET_STATE_DIR: stateDir, EDGEFLEET_UID: 'RSS-PROBE-1' },
    stdio: 'ignore',
  });
  const started = Date.now();
  for (;;) {
    const h = await (await fetch(`${rt.url}/v1/hosts/rss-probe-1`, { headers: auth })).json() as { presence?: string };
    if (h.presence === 'online') break;
    if (Date.now() - started > 120_000) throw new Error('the agent did not come online within 120 s');
    await new Promise((r) => setTimeout(r, 500));
  }
  const onlineAfter = (Date.now() - started) / 1000;
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) { samples.push(rssKb(child.pid!)); await new Promise((r) => setTimeout(r, 500)); }
  const row = { onlineAfterSeconds: +onlineAfter.toFixed(1), rssMbMin: +(Math.min(...samples) / 1024).toFixed(1), rssMbMax: +(Math.max(...samples) / 1024).toFixed(1) };
  console.table([row]);
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `agent-rss-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, row }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
} finally {
  child?.kill('SIGTERM');
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
