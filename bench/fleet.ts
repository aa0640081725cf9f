/**
 * `npm run bench:fleet [-- --hosts 1000 --idle 60]`: registers and connects N simulated hosts
 * (the real agent code with a simulated Kairos, in this process) against the local runtime,
 * then measures an idle interval. Records registrations per second, p50/p99 time from agent
 * start to online, memory per connected host, and database writes per host per idle hour.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulatedAgents } from '../simulator/index.js';
import { startLocal } from '../local/runtime.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '200' }, idle: { type: 'string', default: '60' }, timeout: { type: 'string', default: '600' } } });
const count = Number(values.hosts);
const idleSeconds = Number(values.idle);
const timeoutMs = Number(values.timeout) * 1000;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-fleet-'));
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'CRITICAL' });
let writes = 0;
rt.dynamo.middlewareStack.add((next, context) => async (args) => {
  if (/Put|Update|Delete|Write/.test(context.commandName ?? '')) writes++;
  return next(args);
}, { step: 'initialize', name: 'benchWrites' });

const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN; };
let fleet: ReturnType<typeof startSimulatedAgents> | undefined;
try {
  const res = await fetch(`${rt.url}/v1/registration-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench', autoApprove: true, maxUses: count }) });
  const { token } = (await res.json()) as { token: string };
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const started = Date.now();
  fleet = startSimulatedAgents({ apiUrl: rt.url, registrationToken: token, project: 'default', count, stateDir: path.join(dataDir, 'sim'), log: () => undefined });

  const onlineAt = new Map<string, number>();
  let approvedAt = 0;
  while (onlineAt.size < count && Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 1000));
    let cursor: string | undefined;
    let approved = 0;
    do {
      // The observer's own requests compete with N registering agents: a refused poll is retried next round.
      const page = await fetch(`${rt.url}/v1/hosts?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth })
        .then((r) => r.json() as Promise<{ items: { id: string; presence: string; status: string }[]; nextCursor?: string }>)
        .catch(() => ({ items: [], nextCursor: undefined }));
      for (const h of page.items) {
        if (h.status === 'approved') approved++;
        if (h.presence === 'online' && !onlineAt.has(h.id)) onlineAt.set(h.id, Date.now() - started);
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (approved >= count && !approvedAt) approvedAt = Date.now() - started;
  }
  const rssOnline = process.memoryUsage().rss;
  // Let the connect-time status reports land, then count writes over a quiet interval.
  await new Promise((r) => setTimeout(r, 5000));
  await rt.iot.whenIdle();
  const writesBefore = writes;
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleWrites = writes - writesBefore;
  const times = [...onlineAt.values()];
  const row = {
    hosts: count,
    online: onlineAt.size,
    allApprovedSeconds: +(approvedAt / 1000).toFixed(1),
    registrationsPerSecond: approvedAt ? +(count / (approvedAt / 1000)).toFixed(1) : 0,
    startToOnlineP50s: +(pct(times, 50) / 1000).toFixed(1),
    startToOnlineP99s: +(pct(times, 99) / 1000).toFixed(1),
    rssPerHostKb: Math.round((rssOnline - rssBefore) / 1024 / count),
    idleSeconds,
    idleWrites,
    writesPerHostPerIdleHour: +((idleWrites / count) * (3600 / idleSeconds)).toFixed(3),
  };
  console.table([row]);
  const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `fleet-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: os.cpus().length, row }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
} finally {
  await fleet?.stop();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
