/**
 * `npm run bench:fleet [-- --hosts 1000 --procs 4 --idle 60 --rate N]`: N simulated hosts (the
 * real agent code on a simulated Kairos) boot at once on ONE unlimited, auto-approving
 * registration token against the local runtime, split over `--procs` worker processes (1: in
 * this process). Records registrations per second sustained, p50/p99 start→online, duplicates
 * (registry provisions past one per host: must be 0), failures (hosts not online by the
 * timeout, agents that gave up: must be 0), 429s answered, memory per simulated host, and
 * database writes over an idle interval once all are online (must be 0).
 * `--rate` turns on registration admission at that many per second (default: off, as locally).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startProcessFleet, startSimulatedAgents, type ProcessFleet, type SimulatedFleet } from '../simulator/index.js';
import { startLocal } from '../local/runtime.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '200' }, procs: { type: 'string', default: '1' }, idle: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '900' }, rate: { type: 'string' }, 'log-level': { type: 'string', default: 'CRITICAL' },
  },
});
const count = Number(values.hosts);
const procs = Number(values.procs);
const idleSeconds = Number(values.idle);
const timeoutMs = Number(values.timeout) * 1000;
const rate = values.rate === undefined ? undefined : Number(values.rate);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-fleet-'));
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: values['log-level'], ...(rate ? { registerAdmissionPerSecond: rate } : {}) });
let writes = 0;
rt.dynamo.middlewareStack.add((next, context) => async (args) => {
  if (/Put|Update|Delete|Write/.test(context.commandName ?? '')) writes++;
  return next(args);
}, { step: 'initialize', name: 'benchWrites' });
const answers = new Map<number, number>();
rt.server.on('request', (req, res) => res.on('finish', () => {
  if (req.url?.startsWith('/v1/device/register')) answers.set(res.statusCode, (answers.get(res.statusCode) ?? 0) + 1);
}));
const provisions = new Map<string, number>();
const provision = rt.registry.provision.bind(rt.registry);
rt.registry.provision = (thing: string, csr: string) => {
  provisions.set(thing, (provisions.get(thing) ?? 0) + 1);
  return provision(thing, csr);
};

const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN; };
let inProcess: SimulatedFleet | undefined;
let split: ProcessFleet | undefined;
try {
  const res = await fetch(`${rt.url}/v1/registration-tokens`, { method: 'POST', headers: auth, body: JSON.stringify({ name: 'bench', autoApprove: true }) });
  const { token } = (await res.json()) as { token: string };
  global.gc?.();
  const rssBefore = process.memoryUsage().rss;
  const stateDir = path.join(dataDir, 'sim');
  const started = Date.now();
  if (procs > 1) split = await startProcessFleet({ apiUrl: rt.url, registrationToken: token, project: 'default', count, procs, stateDir, uidPrefix: 'sim' });
  else inProcess = startSimulatedAgents({ apiUrl: rt.url, registrationToken: token, project: 'default', count, stateDir, log: () => undefined });

  const onlineAt = new Map<string, number>();
  let approvedAt = 0;
  while (onlineAt.size < count && Date.now() - started < timeoutMs) {
    await new Promise((r) => setTimeout(r, 1000));
    let cursor: string | undefined;
    let approved = 0;
    do {
      // The observer's own requests compete with N registering agents: a refused poll is retried next round.
      const page = await fetch(`${rt.url}/v1/hosts?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { headers: auth })
        .then(async (r) => (r.ok ? r.json() as Promise<{ items: { id: string; presence: string; status: string }[]; nextCursor?: string }> : { items: [], nextCursor: undefined }))
        .catch(() => ({ items: [], nextCursor: undefined }));
      for (const h of page.items) {
        if (h.status === 'approved') approved++;
        if (h.presence === 'online' && !onlineAt.has(h.id)) onlineAt.set(h.id, Date.now() - started);
      }
      cursor = page.nextCursor;
    } while (cursor);
    if (approved >= count && !approvedAt) approvedAt = Date.now() - started;
  }
  const agentRss = split ? split.stats().agentRssBytes : process.memoryUsage().rss - rssBefore;
  const gaveUp = split ? split.stats().refused : inProcess!.hosts.filter((h) => h.agent.state.phase === 'refused' || h.agent.state.phase === 'failed').length;
  // Let the connect-time status reports land, then count writes over a quiet interval.
  await new Promise((r) => setTimeout(r, 5000));
  await rt.iot.whenIdle();
  const writesBefore = writes;
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleWrites = writes - writesBefore;
  const times = [...onlineAt.values()];
  const row = {
    hosts: count,
    procs,
    admissionPerSecond: rate ?? 'off',
    online: onlineAt.size,
    failures: count - onlineAt.size + gaveUp,
    duplicates: [...provisions.values()].reduce((s, n) => s + Math.max(0, n - 1), 0),
    answered429: answers.get(429) ?? 0,
    answered5xx: [...answers].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0),
    allApprovedSeconds: +(approvedAt / 1000).toFixed(1),
    registrationsPerSecond: approvedAt ? +(count / (approvedAt / 1000)).toFixed(1) : 0,
    startToOnlineP50s: +(pct(times, 50) / 1000).toFixed(1),
    startToOnlineP99s: +(pct(times, 99) / 1000).toFixed(1),
    rssPerHostKb: Math.round(agentRss / 1024 / count),
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
  await split?.stop();
  await inProcess?.stop();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
