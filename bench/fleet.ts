/**
 * `npm run bench:fleet [-- --hosts 1000 --procs 4 --idle 60 --rate N]`: N simulated hosts (the
 * real agent code on a simulated Kairos) boot at once on ONE unlimited, auto-approving
 * registration token against the local runtime, split over `--procs` worker processes (1: in
 * this process). Records registrations per second sustained, p50/p99 start→online, duplicates
 * (hosts left with more than one valid certificate: must be 0; provisions past one per host, a
 * retry racing its own first call, are counted apart and must each have been revoked), failures (hosts not online by the
 * timeout, agents that gave up: must be 0), 429s answered, memory per simulated host, and
 * database writes over an idle interval once all are online (must be 0). Start→registered and
 * start→online are the agents' own view, read four times a second without touching the control
 * plane (a poll of 10,000 hosts would be a load of its own); the control plane's view (every host
 * approved with its certificate, and online) is checked once they all are, and decides the
 * failures. The DynamoDB calls per host during the storm are listed by command. When the storm
 * ends (or times out), every agent's own phase is counted (simulator/agent-census.ts: not started,
 * registering, backing off with its retries, awaiting approval, MQTT connecting or backing off,
 * connected but not online in the control plane, online, gave up) and written as `agentPhasesAtEnd`.
 * The control plane's main thread (where every function runs) is measured during the storm: its
 * event-loop delay, and its busy time per host (event-loop utilization). So is every process's CPU
 * per host (the control plane, DynamoDB Local, the simulator workers: `cpuMsPerHost`) and the
 * rate the machine's cores could carry at that cost, the bound on the rate here.
 * `--rate` turns on registration admission at that many per second (default: off, as locally).
 * `--function-concurrency` sets the local bound on each function's concurrent invocations
 * (default 16; the runtime's own default is unbounded).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startProcessFleet, startSimulatedAgents, type ProcessFleet, type SimulatedFleet } from '../simulator/index.js';
import { STORM_FUNCTION_CONCURRENCY, startLocal } from '../local/runtime.js';
import { firstSeenTracker } from '../simulator/first-seen.js';
import { census, CENSUS_PLACES, snapshotOf } from '../simulator/agent-census.js';
import { kindOf } from './capacity.js';
import { processCpuMs } from './process-cpu.js';

const { values } = parseArgs({
  options: {
    hosts: { type: 'string', default: '200' }, procs: { type: 'string', default: '1' }, idle: { type: 'string', default: '60' },
    timeout: { type: 'string', default: '900' }, rate: { type: 'string' }, 'function-concurrency': { type: 'string' }, 'log-level': { type: 'string', default: 'CRITICAL' },
  },
});
const count = Number(values.hosts);
const procs = Number(values.procs);
const idleSeconds = Number(values.idle);
const timeoutMs = Number(values.timeout) * 1000;
const rate = values.rate === undefined ? undefined : Number(values.rate);
const cores = os.cpus().length;
const functionConcurrency = values['function-concurrency'] === undefined ? STORM_FUNCTION_CONCURRENCY : Number(values['function-concurrency']);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-fleet-'));
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: values['log-level'], ...(rate ? { registerAdmissionPerSecond: rate } : {}), ...(functionConcurrency ? { functionConcurrency } : {}) });
let writes = 0;
// Every DynamoDB call during the storm, by command (the observer's own listing excluded): the control plane's work per registration.
const calls = new Map<string, number>();
// The same calls by what they are about (key prefixes, index): where the per-host calls go.
const callsByKind = new Map<string, number>();
const observer = new AsyncLocalStorage<true>();
rt.dynamo.middlewareStack.add((next, context) => async (args) => {
  if (/Put|Update|Delete|Write/.test(context.commandName ?? '')) writes++;
  if (observer.getStore() !== true) {
    calls.set(context.commandName ?? '?', (calls.get(context.commandName ?? '?') ?? 0) + 1);
    const kind = kindOf(context.commandName ?? '?', args.input as Record<string, unknown>);
    callsByKind.set(kind, (callsByKind.get(kind) ?? 0) + 1);
  }
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
  // The agents' own view, four times a second (no load on the control plane while they register):
  // when each was first registered (certificate in hand) and online (MQTT session up).
  const seen = { registeredAt: [] as number[], onlineAt: [] as number[], tracker: firstSeenTracker() };
  // The control plane's event-loop delay during the storm: every function runs on this loop (the
  // broker and the API's front door accept connections on their own threads).
  const loopDelay = monitorEventLoopDelay({ resolution: 20 });
  loopDelay.enable();
  // How busy that loop was (its utilization, as busy ms), and this process's CPU on all its threads
  // (the functions, the broker, the front door; with --procs > 1 the agents are elsewhere).
  const eluAtStart = performance.eventLoopUtilization();
  const cpuAtStart = process.cpuUsage();
  // DynamoDB Local's JVM, a process of its own (Linux: read from /proc).
  const dynamoCpuAtStart = processCpuMs(rt.dynamoPid);
  let started = Date.now();
  if (procs > 1) {
    split = await startProcessFleet({ apiUrl: rt.url, registrationToken: token, project: 'default', count, procs, stateDir, uidPrefix: 'sim' });
    started = split.startedAt;
  } else {
    started = Date.now();
    inProcess = startSimulatedAgents({ apiUrl: rt.url, registrationToken: token, project: 'default', count, stateDir, log: () => undefined });
  }
  const progress = () => {
    if (split) {
      const st = split.stats();
      return { registeredAt: st.registeredAt, onlineAt: st.onlineAt };
    }
    const { newlyRegisteredAt, newlyOnlineAt } = seen.tracker.look(inProcess!.hosts);
    seen.registeredAt.push(...newlyRegisteredAt);
    seen.onlineAt.push(...newlyOnlineAt);
    return seen;
  };
  while (progress().onlineAt.length < count && Date.now() - started < timeoutMs) await new Promise((r) => setTimeout(r, 250));
  const { registeredAt, onlineAt } = progress();
  loopDelay.disable();
  const elu = performance.eventLoopUtilization(eluAtStart);
  const cpu = process.cpuUsage(cpuAtStart);
  const processMs = (cpu.user + cpu.system) / 1000;
  const perHostMs = (v: number) => +(v / count).toFixed(1);
  const controlPlaneMsPerHost = {
    mainThreadBusy: perHostMs(elu.active), mainThreadUtilization: +elu.utilization.toFixed(3),
    ...(procs > 1 ? { processCpu: perHostMs(processMs) } : {}),
  };
  // Every process of the benchmark weighed against the machine's cores: at this CPU per host, the
  // machine cannot register faster than cores × 1000 / all, however the work is scheduled.
  const dynamoCpuAtEnd = processCpuMs(rt.dynamoPid);
  const dynamoCpu = dynamoCpuAtStart === undefined || dynamoCpuAtEnd === undefined ? undefined : dynamoCpuAtEnd - dynamoCpuAtStart;
  const workersMs = split?.stats().agentCpuMs;
  const allMs = processMs + (dynamoCpu ?? 0) + (workersMs ?? 0);
  const cpuShares = {
    // With --procs 1 the agents run in the control plane's process, and are counted there.
    [split ? 'controlPlane' : 'controlPlaneWithAgents']: perHostMs(processMs),
    ...(dynamoCpu === undefined ? {} : { dynamoDbLocal: perHostMs(dynamoCpu) }),
    ...(workersMs === undefined ? {} : { simulatedHosts: perHostMs(workersMs) }),
    all: perHostMs(allMs),
  };
  const cpuMsPerHost = {
    ...cpuShares,
    cores,
    machineCeilingPerSecond: +((cores * 1000 * count) / allMs).toFixed(1),
  };
  const ms = (ns: number) => +(ns / 1e6).toFixed(0);
  const eventLoopDelayMs = { p50: ms(loopDelay.percentile(50)), p99: ms(loopDelay.percentile(99)), max: ms(loopDelay.max) };
  const timedOut = onlineAt.length < count;
  // Every agent's own phase now (the end of the storm, or its timeout), before the control plane's view is read.
  const snapshots = split ? await split.census() : inProcess!.hosts.map((h) => snapshotOf(h.uid, h.agent.state));
  const lastRegistered = registeredAt.length ? Math.max(...registeredAt) - started : NaN;
  const perHost = (m: Map<string, number>) => Object.fromEntries([...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +(v / count).toFixed(2)]));
  const stormCalls = perHost(calls);
  const stormCallsByKind = perHost(callsByKind);
  // Then the control plane's view (the truth): every host approved, with its certificate, and online.
  const controlPlane = async () => observer.run(true, async () => {
    let approved = 0;
    let online = 0;
    const onlineIds = new Set<string>();
    let cursor: string | undefined;
    do {
      const page = await rt.deps.hosts.list('default', {}, { limit: 100, ...(cursor ? { cursor } : {}) });
      for (const h of page.items) {
        if (h.status === 'approved' && h.certificateId) approved++;
        if (h.presence === 'online') { online++; onlineIds.add(h.id); }
      }
      cursor = page.nextCursor;
    } while (cursor);
    return { approved, online, onlineIds };
  });
  let view = await controlPlane();
  // Where each agent was when the storm ended, crossed with the hosts the control plane reported online just after.
  const phases = census(snapshots, view.onlineIds);
  for (let i = 0; i < 30 && (view.approved < count || view.online < count); i++) {
    await new Promise((r) => setTimeout(r, 2000));
    view = await controlPlane();
  }
  const agentRss = split ? split.stats().agentRssBytes : process.memoryUsage().rss - rssBefore;
  const gaveUp = split ? split.stats().refused : inProcess!.hosts.filter((h) => h.agent.state.phase === 'refused' || h.agent.state.phase === 'failed').length;
  // Let the connect-time status reports land, then count writes over a quiet interval.
  await new Promise((r) => setTimeout(r, 5000));
  await rt.iot.whenIdle();
  const writesBefore = writes;
  await new Promise((r) => setTimeout(r, idleSeconds * 1000));
  const idleWrites = writes - writesBefore;
  const times = onlineAt.map((t) => t - started);
  const row = {
    hosts: count,
    procs,
    admissionPerSecond: rate ?? 'off',
    functionConcurrency,
    online: view.online,
    approved: view.approved,
    failures: count - Math.min(view.online, view.approved) + gaveUp,
    // Hosts left with more than one valid certificate: must be 0.
    duplicates: [...provisions.keys()].filter((thing) => rt.registry.certificatesOf(thing).filter((id) => !rt.ca.isRevoked(id)).length > 1).length,
    // Certificates past one per host (a retry raced its own first call, e.g. after a 503): each must be revoked.
    extraProvisions: [...provisions.values()].reduce((s, n) => s + Math.max(0, n - 1), 0),
    answered429: answers.get(429) ?? 0,
    answered5xx: [...answers].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0),
    // Of those, the API's integration timeout (30 s, as API Gateway's) on the functions' thread. The
    // front door's own 503s (requests that waited 30 s there and were never forwarded) are not seen
    // here: the agents' retry reasons count every answered 503.
    answered503: answers.get(503) ?? 0,
    allRegisteredSeconds: +(lastRegistered / 1000).toFixed(1),
    registrationsPerSecond: registeredAt.length === count ? +(count / (lastRegistered / 1000)).toFixed(1) : 0,
    startToRegisteredP50s: +(pct(registeredAt.map((t) => t - started), 50) / 1000).toFixed(1),
    startToOnlineP50s: +(pct(times, 50) / 1000).toFixed(1),
    startToOnlineP99s: +(pct(times, 99) / 1000).toFixed(1),
    rssPerHostKb: Math.round(agentRss / 1024 / count),
    idleSeconds,
    idleWrites,
    writesPerHostPerIdleHour: +((idleWrites / count) * (3600 / idleSeconds)).toFixed(3),
  };
  console.table([row]);
  console.log(`Agents by phase when the storm ${timedOut ? `timed out (${values.timeout} s)` : 'ended (all online in their own view)'}, crossed with the control plane's online hosts:`);
  console.table([Object.fromEntries(CENSUS_PLACES.map((p) => [p, phases.places[p]]))]);
  console.log('failed attempts by reason:', phases.retryReasons);
  console.log(`retries: registration ${phases.registrationRetries.total} by ${phases.registrationRetries.agents} agents (max ${phases.registrationRetries.max}), MQTT connect ${phases.mqttRetries.total} by ${phases.mqttRetries.agents} agents (max ${phases.mqttRetries.max})`);
  const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `fleet-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  console.log(`control plane event-loop delay during the storm: p50 ${eventLoopDelayMs.p50} ms, p99 ${eventLoopDelayMs.p99} ms, max ${eventLoopDelayMs.max} ms`);
  console.log(`control plane per host during the storm: main thread busy ${controlPlaneMsPerHost.mainThreadBusy} ms (utilization ${controlPlaneMsPerHost.mainThreadUtilization})${'processCpu' in controlPlaneMsPerHost ? `, process CPU (all its threads) ${controlPlaneMsPerHost.processCpu} ms` : ''}`);
  console.log(`CPU per host during the storm, every process: ${Object.entries(cpuShares).map(([k, v]) => `${k} ${v} ms`).join(', ')}`
    + ` — on ${cores} cores this machine cannot register more than ${cpuMsPerHost.machineCeilingPerSecond}/s at that cost${dynamoCpu === undefined ? ' (DynamoDB Local\'s CPU not read: Linux only)' : ''}`);
  console.log('DynamoDB calls per host while they registered and came online:', stormCalls, stormCallsByKind);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: cores, row, agentPhasesAtEnd: { timedOut, ...phases }, eventLoopDelayMs, controlPlaneMsPerHost, cpuMsPerHost, dynamoCallsPerHost: stormCalls, dynamoCallsPerHostByKind: stormCallsByKind }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
} finally {
  await split?.stop();
  await inProcess?.stop();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
