/**
 * `npm run bench:clusters [-- --clusters 50 --ready-ms 2000]`: provisions N three-node
 * clusters (3 control-plane nodes with a VIP) concurrently on 3N simulated hosts — the real
 * agent, the TLS broker, the synthesized state machines on aws-local-stepfunctions — and
 * records wall time against the simulated per-step delays (each node is Ready `ready-ms`
 * after its bootstrap; the control plane joins one node at a time, so a cluster needs at least
 * 3 × ready-ms), plus per cluster: Step Functions state transitions, Lambda invocations (task
 * handlers, IoT rule handlers and the HTTP request) and DynamoDB capacity units.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startSimulatedAgents } from '../device/simulate.js';
import { startLocal } from '../local/runtime.js';
import { trackCapacity } from './capacity.js';

const { values } = parseArgs({ options: { clusters: { type: 'string', default: '50' }, 'ready-ms': { type: 'string', default: '2000' }, timeout: { type: 'string', default: '900' } } });
const clusters = Number(values.clusters);
const readyMs = Number(values['ready-ms']);
const timeoutMs = Number(values.timeout) * 1000;
const hostsNeeded = clusters * 3;

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-clusters-'));
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'CRITICAL', hostTimeoutSeconds: 600, commandSweepMs: 5000 });
const capacity = trackCapacity(rt.dynamo);
const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a benchmark reads a few fields of API answers
type Json = Record<string, any>;
const api = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(`${rt.url}${p}`, { method, headers: auth, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: (await r.json().catch(() => undefined)) as Json };
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN; };
const rules = () => Object.values(rt.iot.ruleStats).reduce((n, s) => n + s.accepted + s.rejected + s.failed, 0);

let fleet: ReturnType<typeof startSimulatedAgents> | undefined;
try {
  const t = await api('POST', '/v1/registration-tokens', { name: 'bench-clusters', autoApprove: true, maxUses: hostsNeeded });
  fleet = startSimulatedAgents({
    apiUrl: rt.url, registrationToken: t.body.token, project: 'default', count: hostsNeeded, stateDir: path.join(dataDir, 'sim'), uidPrefix: 'bc',
    kairos: { rebootDelayMs: 100, k8sReadyDelayMs: readyMs }, log: () => undefined, readyPollMs: 100,
  });
  const ids = Array.from({ length: hostsNeeded }, (_, i) => `bc-${i + 1}`);
  const onlineSince = Date.now();
  for (;;) {
    let online = 0;
    for (const id of ids) if ((await rt.deps.hosts.get(id))?.presence === 'online') online++;
    if (online === hostsNeeded) break;
    if (Date.now() - onlineSince > timeoutMs) throw new Error(`only ${online} of ${hostsNeeded} simulated hosts came online`);
    await sleep(1000);
  }
  await api('POST', '/v1/profiles', { name: 'bench' });
  await api('POST', '/v1/profiles/bench/versions', { version: '1.0.0', publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04' }, { type: 'k8s', pack: 'k3s', version: '1.30.4' }] });
  await rt.iot.whenIdle();
  await sleep(2000);

  // ---- measured: from the first POST until every operation ended ----
  capacity.read = 0; capacity.write = 0; capacity.writeCalls = 0; capacity.writesByKind = {};
  const statsBefore = { ...rt.workflows.stats };
  const rulesBefore = rules();
  const started = Date.now();
  const created = await Promise.all(Array.from({ length: clusters }, (_, c) => api('POST', '/v1/clusters', {
    name: `bench-${c + 1}`, profile: { name: 'bench', version: '1.0.0' }, vip: `10.1.${Math.floor(c / 250)}.${(c % 250) + 1}`,
    controlPlane: { hostIds: [ids[c * 3]!, ids[c * 3 + 1]!, ids[c * 3 + 2]!] },
  })));
  const refused = created.filter((r) => r.status !== 202);
  if (refused.length > 0) throw new Error(`${refused.length} creates refused: ${JSON.stringify(refused[0]!.body)}`);
  const ops = created.map((r) => r.body.operationId as string);
  const ended = new Map<string, { status: string; startedAt: string; endedAt?: string }>();
  while (ended.size < ops.length && Date.now() - started < timeoutMs) {
    for (const id of ops) {
      if (ended.has(id)) continue;
      const op = await rt.deps.operations.get(id);
      if (op && ['succeeded', 'failed', 'cancelled'].includes(op.status)) ended.set(id, op);
    }
    await sleep(250);
  }
  const wallMs = Date.now() - started;
  await rt.iot.whenIdle();
  const stats = {
    executions: rt.workflows.stats.executions - statsBefore.executions,
    stateTransitions: rt.workflows.stats.stateTransitions - statsBefore.stateTransitions,
    taskInvocations: rt.workflows.stats.lambdaInvocations - statsBefore.lambdaInvocations,
  };
  const ruleInvocations = rules() - rulesBefore;
  const durations = [...ended.values()].map((o) => Date.parse(o.endedAt ?? o.startedAt) - Date.parse(o.startedAt));
  const succeeded = [...ended.values()].filter((o) => o.status === 'succeeded').length;
  const minimumMs = 3 * readyMs;
  const result = {
    clusters, hostsPerCluster: 3, simulatedReadyMs: readyMs, succeeded, failed: ended.size - succeeded, unfinished: ops.length - ended.size,
    wallSeconds: +(wallMs / 1000).toFixed(1),
    theoreticalMinimumSeconds: minimumMs / 1000,
    operationSeconds: { p50: +(pct(durations, 50) / 1000).toFixed(1), p99: +(pct(durations, 99) / 1000).toFixed(1) },
    controlPlaneOverheadSecondsPerCluster: { p50: +((pct(durations, 50) - minimumMs) / 1000).toFixed(1), wall: +((wallMs - minimumMs) / 1000).toFixed(1) },
    perCluster: {
      stateTransitions: +(stats.stateTransitions / clusters).toFixed(1),
      lambdaInvocations: +((stats.taskInvocations + ruleInvocations + clusters) / clusters).toFixed(1),
      workflowTaskInvocations: +(stats.taskInvocations / clusters).toFixed(1),
      iotRuleInvocations: +(ruleInvocations / clusters).toFixed(1),
      rcu: +(capacity.read / clusters).toFixed(1), wcu: +(capacity.write / clusters).toFixed(1), writeCalls: +(capacity.writeCalls / clusters).toFixed(1),
      wcuByKind: Object.fromEntries(Object.entries(capacity.writesByKind).sort((a, b) => b[1] - a[1]).map(([k, v]) => [k, +(v / clusters).toFixed(1)])),
    },
    machine: { cpus: os.cpus().length, node: process.version },
  };
  console.table({
    'wall time (s)': result.wallSeconds, 'theoretical minimum (s)': result.theoreticalMinimumSeconds,
    'operation p50 / p99 (s)': `${result.operationSeconds.p50} / ${result.operationSeconds.p99}`,
    'succeeded / failed / unfinished': `${succeeded} / ${result.failed} / ${result.unfinished}`,
    'state transitions per cluster': result.perCluster.stateTransitions, 'Lambda invocations per cluster': result.perCluster.lambdaInvocations,
    'RCU / WCU per cluster': `${result.perCluster.rcu} / ${result.perCluster.wcu}`,
  });
  mkdirSync('bench/results', { recursive: true });
  const file = path.join('bench/results', `clusters-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${file}`);
} finally {
  await fleet?.stop();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
