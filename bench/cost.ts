/**
 * `npm run bench:cost [-- --hosts 100 --clusters 10 --idle 130]`: prices EdgeFleet on AWS from
 * what the local runtime actually does. Three measured phases on the real local runtime with
 * simulated hosts (the real agent):
 *   1. registration: N hosts register and connect on one token;
 *   2. idle: the connected fleet for `--idle` seconds with the agents' full report every 60 s
 *      (the shortest the agent allows), scaled to the shipped cadence (one full report an hour);
 *   3. an upgrade wave: `--clusters` single-node clusters upgraded to a new OS + Kubernetes.
 * Every billable operation is counted: IoT Core connectivity minutes, messages in and out in
 * 5 KB units (CONNECT, SUBSCRIBE, PUBLISH both ways, device PUBACKs), rules triggered and
 * actions applied, registry operations, Lambda requests and GB-seconds at the configured
 * memory (durations measured in-process), API Gateway requests, DynamoDB read and write
 * request units (ReturnConsumedCapacity), Step Functions state transitions, Secrets Manager
 * calls, CloudWatch Logs bytes (the handlers' JSON lines at the stack's level, INFO). Priced with
 * bench/prices-us-east-1.json. Prints cost per 1,000 hosts per month idle, per upgraded node
 * and per registration; writes JSON under bench/results/.
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_FULL_REPORT_SECONDS } from '../device/config.js';
import { startLocal } from '../local/runtime.js';
import { startSimulatedAgents, type SimulatedFleet } from '../simulator/index.js';
import { trackCapacity } from './capacity.js';

const { values } = parseArgs({ options: { hosts: { type: 'string', default: '100' }, clusters: { type: 'string', default: '10' }, idle: { type: 'string', default: '130' } } });
const hosts = Number(values.hosts);
const clusters = Math.min(Number(values.clusters), hosts);
const idleSeconds = Number(values.idle);
const BENCH_FULL_REPORT_SECONDS = 60;
const MEMORY_MB = 512; // every EdgeFleet function's memory unless lib/ says otherwise (the hosts API group: 1024)
const prices = JSON.parse(readFileSync(new URL('./prices-us-east-1.json', import.meta.url), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// CloudWatch Logs: the handlers' JSON lines at INFO, counted and kept off the terminal.
process.env.POWERTOOLS_LOG_LEVEL = 'INFO';
let logBytes = 0;
const write = process.stdout.write.bind(process.stdout);
process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
  const text = typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
  if (text.startsWith('{')) { logBytes += Buffer.byteLength(text); return true; }
  return (write as (c: string | Uint8Array, ...r: unknown[]) => boolean)(chunk, ...rest);
}) as typeof process.stdout.write;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-cost-'));
// The cloud refreshes an unchanged status once per full report, as it does at the shipped cadence (hourly both sides).
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'INFO', hostTimeoutSeconds: 600, fullReportIntervalMs: (BENCH_FULL_REPORT_SECONDS - 5) * 1000 });
const capacity = trackCapacity(rt.dynamo);
let apiRequests = 0;
let apiMs = 0;
rt.server.on('request', (_req, res) => {
  const began = performance.now();
  apiRequests++;
  res.on('finish', () => { apiMs += performance.now() - began; });
});
let registryOps = 0;
const provision = rt.registry.provision.bind(rt.registry);
rt.registry.provision = (thing: string, csr: string) => { registryOps += 2; return provision(thing, csr); }; // CreateThing + AttachThingPrincipal
let secretCalls = 0;
const secrets = rt.deps.secrets as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
for (const m of ['get', 'put', 'delete'] as const) {
  const original = secrets[m]!.bind(secrets);
  secrets[m] = (...a: unknown[]) => { secretCalls++; return original(...a); };
}

interface Counters {
  apiRequests: number; apiMs: number; rules: number; ruleMs: number; tasks: number; taskMs: number; transitions: number;
  rcu: number; wcu: number; publishesIn: number; publishesOut: number; pubacksIn: number; connects: number; subscribes: number;
  registryOps: number; secretCalls: number; logBytes: number;
}
function snapshot(): Counters {
  const rules = Object.values(rt.iot.ruleStats);
  const m = rt.iot.brokerStats.metered;
  const wf = rt.workflows.stats;
  return {
    apiRequests, apiMs, rules: rules.reduce((n, s) => n + s.accepted + s.rejected + s.failed, 0), ruleMs: rules.reduce((n, s) => n + s.durationMs, 0),
    tasks: wf.lambdaInvocations, taskMs: wf.lambdaMs, transitions: wf.stateTransitions, rcu: capacity.read - ownReads, wcu: capacity.write,
    publishesIn: m.publishesIn, publishesOut: m.publishesOut, pubacksIn: m.pubacksIn, connects: m.connects, subscribes: m.subscribes,
    registryOps, secretCalls, logBytes,
  };
}
const minus = (a: Counters, b: Counters): Counters => Object.fromEntries(Object.keys(a).map((k) => [k, a[k as keyof Counters] - b[k as keyof Counters]])) as unknown as Counters;
const scale = (a: Counters, f: number): Counters => Object.fromEntries(Object.entries(a).map(([k, v]) => [k, v * f])) as unknown as Counters;

/** Dollars of a set of counts (plus connectivity minutes), by service. */
function price(c: Counters, connectedMinutes = 0): Record<string, number> {
  const iot = prices.iotCore;
  const messages = c.publishesIn + c.publishesOut + c.pubacksIn + c.connects + c.subscribes;
  const invocations = c.apiRequests + c.rules + c.tasks;
  const gbSeconds = ((c.apiMs + c.ruleMs + c.taskMs) / 1000) * (MEMORY_MB / 1024);
  const out = {
    iotConnectivity: (connectedMinutes / 1e6) * iot.connectivityPerMillionMinutes,
    iotMessages: (messages / 1e6) * iot.messagesPerMillion,
    iotRules: (c.rules / 1e6) * (iot.rulesTriggeredPerMillion + iot.actionsAppliedPerMillion),
    iotRegistry: (c.registryOps / 1e6) * iot.registryOperationsPerMillion,
    lambda: (invocations / 1e6) * prices.lambda.requestsPerMillion + gbSeconds * prices.lambda.arm64PerGbSecond,
    apiGateway: (c.apiRequests / 1e6) * prices.apiGateway.httpApiPerMillionRequests,
    dynamodb: (c.wcu / 1e6) * prices.dynamodb.writeRequestUnitsPerMillion + (c.rcu / 1e6) * prices.dynamodb.readRequestUnitsPerMillion,
    stepFunctions: (c.transitions / 1000) * prices.stepFunctions.standardPerThousandStateTransitions,
    secretsManager: (c.secretCalls / 10_000) * prices.secretsManager.perTenThousandApiCalls,
    cloudwatchLogs: (c.logBytes / 1024 ** 3) * prices.cloudwatchLogs.ingestionPerGb,
  };
  return { ...out, total: Object.values(out).reduce((s, v) => s + v, 0) };
}
const round = (o: Record<string, number>, digits = 4) => Object.fromEntries(Object.entries(o).map(([k, v]) => [k, +v.toFixed(digits)]));
const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;
const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
/**
 * One API call as a careful client makes it: a POST carries an Idempotency-Key, and a 5xx or 429
 * (a function timing out on this loaded machine: the create may or may not have happened) is
 * retried with the same key, so it is done exactly once. A call that still fails stops the run.
 */
const api = async (method: string, p: string, body?: unknown) => {
  const headers = method === 'POST' ? { ...auth, 'idempotency-key': randomUUID() } : auth;
  for (let attempt = 1; ; attempt++) {
    const r = await fetch(`${rt.url}${p}`, { method, headers, ...(body ? { body: JSON.stringify(body) } : {}) });
    const parsed = (await r.json().catch(() => undefined)) as Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
    if (r.status < 500 && r.status !== 429) return { status: r.status, body: parsed };
    if (attempt === 5) throw new Error(`${method} ${p} answered ${r.status} ${attempt} times: ${JSON.stringify(parsed)}`);
    await sleep(2000 * attempt);
  }
};
/** The benchmark's own reads while it waits (not the product's): left out of every count. */
let ownReads = 0;
async function until(what: string, check: () => Promise<boolean>, ms: number): Promise<void> {
  const end = Date.now() + ms;
  for (;;) {
    const before = capacity.read;
    const done = await check();
    ownReads += capacity.read - before;
    if (done) return;
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await sleep(1000);
  }
}

let fleet: SimulatedFleet | undefined;
try {
  const ids = Array.from({ length: hosts }, (_, i) => `cost-${i + 1}`);
  const token = (await api('POST', '/v1/registration-tokens', { name: 'cost', autoApprove: true })).body.token as string;
  // ---- 1. registration ----
  const r0 = snapshot();
  fleet = startSimulatedAgents({
    apiUrl: rt.url, registrationToken: token, project: 'default', count: hosts, stateDir: path.join(dataDir, 'sim'), uidPrefix: 'cost',
    fullReportSeconds: BENCH_FULL_REPORT_SECONDS, kairos: { version: 'v3.5.0', rebootDelayMs: 500, k8sReadyDelayMs: 500 }, log: () => undefined,
  });
  // Watched from the agents' side: no reads of the benchmark's own in the registration counts.
  await until('every host online', async () => fleet!.hosts.every((h) => h.agent.state.phase === 'online'), 900_000);
  await sleep(5000);
  await rt.iot.whenIdle();
  const registration = scale(minus(snapshot(), r0), 1 / hosts);

  // ---- 2. idle ----
  const i0 = snapshot();
  await sleep(idleSeconds * 1000);
  await rt.iot.whenIdle();
  const idleMeasured = minus(snapshot(), i0);
  // Idle traffic is the full reports: scale from the bench's cadence to the shipped one, and to a month.
  const monthSeconds = prices.monthMinutes * 60;
  const idlePerHostMonth = scale(idleMeasured, (monthSeconds / idleSeconds) * (BENCH_FULL_REPORT_SECONDS / DEFAULT_FULL_REPORT_SECONDS) / hosts);

  // ---- 3. upgrade wave (single-node clusters) ----
  await api('POST', '/v1/profiles', { name: 'cost' });
  for (const [version, kairos, k3s] of [['1.0.0', 'v3.5.0', '1.30.4'], ['2.0.0', 'v3.6.0', '1.31.2']] as const) {
    await api('POST', '/v1/profiles/cost/versions', { version, publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04', image: image(kairos, k3s) }, { type: 'k8s', pack: 'k3s', version: k3s }] });
  }
  const created = await Promise.all(ids.slice(0, clusters).map((id, c) => api('POST', '/v1/clusters', { name: `cost-${c + 1}`, profile: { name: 'cost', version: '1.0.0' }, controlPlane: { hostIds: [id] } })));
  const ended = async (opIds: string[]) => (await Promise.all(opIds.map((id) => rt.deps.operations.get(id)))).every((o) => o && ['succeeded', 'failed', 'cancelled'].includes(o.status));
  await until('clusters created', () => ended(created.map((r) => r.body.operationId as string)), 900_000);
  await sleep(3000);
  await rt.iot.whenIdle();
  const u0 = snapshot();
  const upgrades = await Promise.all(created.map((r) => api('POST', `/v1/clusters/${r.body.id}/upgrades`, { to: { version: '2.0.0' }, acknowledgeDowntime: true })));
  const refused = upgrades.filter((u) => u.status !== 202);
  if (refused.length > 0) throw new Error(`${refused.length} upgrades refused: ${JSON.stringify(refused[0]!.body)}`);
  await until('upgrades ended', () => ended(upgrades.map((u) => u.body.id as string)), 900_000);
  await rt.iot.whenIdle();
  const succeeded = (await Promise.all(upgrades.map((u) => rt.deps.operations.get(u.body.id as string)))).filter((o) => o?.status === 'succeeded').length;
  const perUpgradedNode = scale(minus(snapshot(), u0), 1 / clusters);

  const idle1000 = price(scale(idlePerHostMonth, 1000), 1000 * prices.monthMinutes);
  const idle1000Hourly = price(scale(idlePerHostMonth, 1000 * (DEFAULT_FULL_REPORT_SECONDS / 3600)), 1000 * prices.monthMinutes);
  const result = {
    when: new Date().toISOString(), prices: { region: prices.region, recorded: prices.recorded },
    hosts, clusters, upgradesSucceeded: succeeded, idleSeconds, benchFullReportSeconds: BENCH_FULL_REPORT_SECONDS, shippedFullReportSeconds: DEFAULT_FULL_REPORT_SECONDS,
    idleMeasured: round(idleMeasured as unknown as Record<string, number>, 2),
    costPer1000HostsMonthIdle: round(idle1000),
    costPer1000HostsMonthIdleWithHourlyFullReports: round(idle1000Hourly),
    costPerUpgradedNode: round(price(perUpgradedNode), 6),
    costPerRegistration: round(price(registration), 6),
    countsPerUpgradedNode: round(perUpgradedNode as unknown as Record<string, number>, 2),
    countsPerRegistration: round(registration as unknown as Record<string, number>, 2),
    machine: { cpus: os.cpus().length, node: process.version },
  };
  console.table({
    'idle, per 1,000 hosts per month ($)': idle1000.total!.toFixed(2),
    '  of which IoT connectivity ($)': idle1000.iotConnectivity!.toFixed(2),
    '  (with hourly full reports) ($)': idle1000Hourly.total!.toFixed(2),
    'per upgraded node ($)': result.costPerUpgradedNode.total!.toFixed(6),
    'per registration ($)': result.costPerRegistration.total!.toFixed(6),
    'upgrades succeeded': `${succeeded} / ${clusters}`,
  });
  write(`${JSON.stringify({ costPer1000HostsMonthIdle: result.costPer1000HostsMonthIdle, costPerUpgradedNode: result.costPerUpgradedNode, costPerRegistration: result.costPerRegistration }, null, 2)}\n`);
  mkdirSync('bench/results', { recursive: true });
  const file = path.join('bench/results', `cost-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  write(`written ${file}\n`);
} finally {
  await fleet?.stop();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
