/**
 * `npm run bench:agent-rss`: ONE real agent process. Builds the shipped agent's single
 * executable for this machine (device/build.ts, into a temp dir) and, for comparison, the same
 * agent as the ESM bundle run by `node`; starts the local runtime; runs each (the executable
 * with no Node.js on its PATH) with an auto-approving token until its host is online, then
 * samples its RSS from /proc. Prints size, start → online and RSS per form (the executable's
 * first start writes the aws-crt addon out of itself; a later start finds it). Linux only.
 * The real agent runs here on a host that is no Kairos (it reports boot state "unknown").
 */
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildAgent, bundleAgent } from '../device/build.js';
import { NATIVE_ASSET, executableName, type AgentArch } from '../device/build-executable.js';
import { startLocal } from '../local/runtime.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const work = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-rss-'));
const arch = process.arch as AgentArch;
const buildStarted = Date.now();
await buildAgent({ arches: [arch], outDir: path.join(work, 'dist') });
const buildSeconds = (Date.now() - buildStarted) / 1000;
const executable = path.join(work, 'dist', executableName(arch));
// The same agent as a bundle for `node`, with the addon where its banner looks (native/<platform>/).
const bundle = path.join(work, 'bundle', 'edgefleet-agent.mjs');
await bundleAgent({ outfile: bundle });
mkdirSync(path.join(work, 'bundle', 'native', `linux-${arch}-glibc`), { recursive: true });
copyFileSync(path.join(root, 'node_modules', 'aws-crt', 'dist', 'bin', `linux-${arch}-glibc`, NATIVE_ASSET), path.join(work, 'bundle', 'native', `linux-${arch}-glibc`, NATIVE_ASSET));
const emptyPath = path.join(work, 'empty-path');
mkdirSync(emptyPath);

const dataDir = path.join(work, 'data');
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'CRITICAL' });
const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
const rssKb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? NaN);
const children: ReturnType<typeof spawn>[] = [];

async function measure(form: string, command: string, args: string[], pathEnv: string, sizeBytes: number, n: number, nativeDir = path.join(work, `native-${n}`)) {
  const { token } = await (await fetch(`${rt.url}/v1/registration-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: `rss-${n}`, autoApprove: true }) })).json() as { token: string };
  const stateDir = path.join(work, `agent-${n}`);
  mkdirSync(stateDir, { recursive: true });
  const configFile = path.join(stateDir, 'agent.json');
  writeFileSync(configFile, JSON.stringify({ apiUrl: rt.url, registrationToken: token, project: 'default', site: 'bench', tags: {} }));
  const uid = `RSS-PROBE-${n}`;
  const child = spawn(command, args, {
    env: { PATH: pathEnv, EDGEFLEET_AGENT_CONFIG: configFile, EDGEFLEET_STATE_DIR: path.join(stateDir, 'state'), EDGEFLEET_UID: uid, EDGEFLEET_NATIVE_DIR: nativeDir },
    stdio: 'ignore',
  });
  children.push(child);
  const started = Date.now();
  for (;;) {
    const h = await (await fetch(`${rt.url}/v1/hosts/${uid.toLowerCase()}`, { headers: auth })).json() as { presence?: string };
    if (h.presence === 'online') break;
    if (child.exitCode !== null) throw new Error(`${form}: the agent exited ${child.exitCode} before its host was online`);
    if (Date.now() - started > 120_000) throw new Error(`${form}: the agent did not come online within 120 s`);
    await new Promise((r) => setTimeout(r, 250));
  }
  const onlineAfter = (Date.now() - started) / 1000;
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) { samples.push(rssKb(child.pid!)); await new Promise((r) => setTimeout(r, 500)); }
  child.kill('SIGTERM');
  return { form, sizeMiB: +(sizeBytes / 1048576).toFixed(1), onlineAfterSeconds: +onlineAfter.toFixed(1), rssMbMin: +(Math.min(...samples) / 1024).toFixed(1), rssMbMax: +(Math.max(...samples) / 1024).toFixed(1) };
}

try {
  const rows = [
    await measure('executable (Node SEA), no node on PATH, first start', executable, [], emptyPath, statSync(executable).size, 1),
    // A later start (every boot): the addon is already in its cache dir.
    await measure('executable (Node SEA), no node on PATH, later start', executable, [], emptyPath, statSync(executable).size, 3, path.join(work, 'native-1')),
    await measure('node + ESM bundle', process.execPath, [bundle], process.env.PATH ?? '', statSync(bundle).size + statSync(process.execPath).size, 2),
  ];
  console.table(rows);
  console.log(`executable built in ${buildSeconds.toFixed(1)} s`);
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `agent-rss-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, arch, buildSeconds, rows }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
} finally {
  for (const c of children) c.kill('SIGTERM');
  await rt.stop();
  rmSync(work, { recursive: true, force: true });
}
