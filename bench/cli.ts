/**
 * `npm run bench:cli [-- --runs 15]`: how long the `edgefleet` command takes, end to end as an
 * operator runs it (a fresh process each time): `--help`, and `hosts list` against the local
 * runtime started here (50 hosts). Compares the compiled CLI (`dist/edgefleet.js`, the `bin`
 * entry, rebuilt first) with running the TypeScript source through tsx, and `node -e 0` as the
 * floor no Node CLI can beat.
 */
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { promisify } from 'node:util';
import { startLocal } from '../local/runtime.js';

const run = promisify(execFile);
const { values } = parseArgs({ options: { runs: { type: 'string', default: '15' }, 'tsx-runs': { type: 'string', default: '5' } } });
const runs = Number(values.runs);
const tsxRuns = Number(values['tsx-runs']);
const root = fileURLToPath(new URL('..', import.meta.url));
const bundle = path.join(root, 'dist', 'edgefleet.js');
const tsx = path.join(root, 'node_modules', '.bin', 'tsx');

// Always measure the current source: rebuild the bundle first.
await run(tsx, [path.join(root, 'bin', 'build-cli.ts')], { cwd: root });

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-cli-'));
const work = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-cli-home-'));
const rt = await startLocal({ port: 0, dataDir, inMemory: true, logLevel: 'CRITICAL' });
try {
  const hosts = Array.from({ length: 50 }, (_, i) => ({ uid: `bench-cli-${i}`, site: `site-${i % 5}` }));
  const seeded = await fetch(`${rt.url}/v1/hosts/batch`, {
    method: 'POST',
    headers: { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify({ hosts }),
  });
  if (!seeded.ok) throw new Error(`seeding 50 hosts failed: ${seeded.status} ${await seeded.text()}`);
  // No saved login, no local.json: only the environment configures the CLI.
  const env = { PATH: process.env.PATH, HOME: work, EDGEFLEET_CONFIG: path.join(work, 'config.json'), EDGEFLEET_URL: rt.url, EDGEFLEET_TOKEN: rt.adminToken };

  /** Wall time of one fresh process, in ms; the command must succeed. */
  const once = async (file: string, args: string[], check: (stdout: string) => boolean): Promise<number> => {
    const t0 = performance.now();
    const { stdout } = await run(file, args, { cwd: work, env });
    const ms = performance.now() - t0;
    if (!check(stdout)) throw new Error(`${file} ${args.join(' ')} printed something unexpected:\n${stdout}`);
    return ms;
  };
  const listed = (s: string) => s.includes('bench-cli-0');
  const helped = (s: string) => s.includes('Usage: edgefleet');
  const cases: { name: string; file: string; args: string[]; check: (s: string) => boolean; n: number }[] = [
    { name: 'node -e 0 (floor)', file: process.execPath, args: ['-e', '0'], check: () => true, n: runs },
    { name: 'edgefleet --help (dist)', file: bundle, args: ['--help'], check: helped, n: runs },
    { name: 'edgefleet hosts list (dist)', file: bundle, args: ['hosts', 'list'], check: listed, n: runs },
    { name: 'edgefleet --help (tsx source)', file: tsx, args: [path.join(root, 'bin', 'edgefleet.ts'), '--help'], check: helped, n: tsxRuns },
    { name: 'edgefleet hosts list (tsx source)', file: tsx, args: [path.join(root, 'bin', 'edgefleet.ts'), 'hosts', 'list'], check: listed, n: tsxRuns },
  ];
  const rows: Record<string, string | number>[] = [];
  // What the API itself takes for the same request (no process start): the CLI's share is the rest.
  {
    const ms: number[] = [];
    for (let i = 0; i <= runs; i++) {
      const t0 = performance.now();
      const r = await fetch(`${rt.url}/v1/hosts`, { headers: { authorization: `Bearer ${rt.adminToken}` } });
      await r.text();
      if (i > 0) ms.push(performance.now() - t0);
    }
    ms.sort((a, b) => a - b);
    rows.push({ command: 'GET /v1/hosts in-process (no CLI)', runs, minMs: Math.round(ms[0]), p50Ms: Math.round(ms[Math.floor(ms.length / 2)]), p90Ms: Math.round(ms[Math.min(ms.length - 1, Math.floor(0.9 * ms.length))]), maxMs: Math.round(ms[ms.length - 1]) });
  }
  for (const c of cases) {
    await once(c.file, c.args, c.check); // warm the file cache
    const ms: number[] = [];
    for (let i = 0; i < c.n; i++) ms.push(await once(c.file, c.args, c.check));
    ms.sort((a, b) => a - b);
    const q = (p: number) => Math.round(ms[Math.min(ms.length - 1, Math.floor(p * ms.length))]);
    rows.push({ command: c.name, runs: c.n, minMs: Math.round(ms[0]), p50Ms: q(0.5), p90Ms: q(0.9), maxMs: Math.round(ms[ms.length - 1]) });
  }
  console.table(rows);
  const outDir = path.join(root, 'bench', 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `cli-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  const load = os.loadavg().map((l) => +l.toFixed(2));
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: os.cpus().length, loadavg: load, runs, tsxRuns, rows }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)} (load average ${load.join(' ')})`);
} finally {
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
