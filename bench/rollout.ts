/**
 * `npm run bench:rollout [-- --clusters 1000 --procs 1 --fail-percent 5 --abort-percent 50
 * --max-concurrent 100 --reboot-ms 1000 --ready-ms 1000 --batch 100]` (issue 13): N single-node
 * simulated clusters on profile 1.0.0, then ONE rollout to 2.0.0 over all of them (canary 1 %,
 * growth 2, `--max-concurrent`, tick 1 s). The new image fails (Kairos falls back) on
 * `--fail-percent` of wave 2's clusters. Abort: more than `--abort-percent` % of the finished
 * clusters failed, judged once the canary and wave 2 finished (minFinished = their size), so the
 * default 50 % does not abort and a low one aborts right after wave 2.
 *
 * Measures: wall time from the POST to the rollout's end; the floor (number of waves run × one
 * cluster upgrade, measured first on a cluster of its own); Step Functions transitions, Lambda
 * invocations and DynamoDB units per cluster during the rollout; final counts per state; and,
 * when it aborted, the proof that no cluster of a later wave was touched (still pending, no
 * upgrade operation, no upgrade call on its node). The hosts run in this process, or in
 * `--procs` worker processes (bench/rollout-worker.ts).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ROLLOUT_ENDED, type RolloutRecord } from '../lambdas/contracts/rollouts.js';
import { sumCounts } from '../lambdas/domain/rollout.js';
import { planWaves } from '../lambdas/domain/rollout-rules.js';
import type { RolloutWaveRecord } from '../lambdas/ports/rollouts.js';
import { startLocal } from '../local/runtime.js';
import { trackCapacity } from './capacity.js';
import { startBenchFleet, type BenchFleet } from './rollout-fleet.js';
import { pct, sleep, type Json } from './sim-clusters.js';

const { values } = parseArgs({ options: {
  clusters: { type: 'string', default: '1000' }, procs: { type: 'string', default: '1' },
  'fail-percent': { type: 'string', default: '5' }, 'abort-percent': { type: 'string', default: '50' },
  'max-concurrent': { type: 'string', default: '100' }, 'reboot-ms': { type: 'string', default: '1000' },
  'ready-ms': { type: 'string', default: '1000' }, batch: { type: 'string', default: '100' }, timeout: { type: 'string', default: '3600' },
} });
const N = Number(values.clusters);
const procs = Number(values.procs);
const failPercent = Number(values['fail-percent']);
const abortPercent = Number(values['abort-percent']);
const maxConcurrent = Number(values['max-concurrent']);
const rebootMs = Number(values['reboot-ms']);
const readyMs = Number(values['ready-ms']);
const batch = Number(values.batch);
const timeoutMs = Number(values.timeout) * 1000;
if (!Number.isInteger(N) || N < 2 || N > 1000) throw new Error(`--clusters must be a whole number from 2 to 1000 (one POST /v1/rollouts names at most 1000 clusters), got ${values.clusters}`);

const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;
const OLD = image('v3.5.0', '1.30.4');
const NEW = image('v3.6.0', '1.31.2');
const layers = (img: string, k3s: string) => [{ type: 'os', pack: 'ubuntu', version: '24.04', image: img }, { type: 'k8s', pack: 'k3s', version: k3s }];
const uid = (position: number) => `rb-${position + 1}`; // target position p runs on host rb-(p+1); rb-(N+1) is the floor's own cluster
const soloHost = uid(N);

// The waves the control plane will plan (same rules), and wave 2's failing share, spread evenly.
const waves = { canary: { percent: 1 }, growth: 2, maxConcurrent };
const sizes = planWaves(N, waves);
const wave2 = { start: sizes[0]!, size: sizes[1] ?? 0 };
const failCount = failPercent > 0 && wave2.size > 0 ? Math.max(1, Math.round((wave2.size * failPercent) / 100)) : 0;
const failing = Array.from({ length: failCount }, (_, i) => uid(wave2.start + Math.floor((i * wave2.size) / failCount)));
const policy = {
  waves, abort: { failurePercent: abortPercent, minFinished: wave2.start + wave2.size },
  upgrade: { acknowledgeDowntime: true }, tickSeconds: 1,
};

// The benchmark's own reads of the rollout run inside `observer` and are not counted.
const observer = new AsyncLocalStorage<true>();
const observe = <T>(f: () => Promise<T>) => observer.run(true, f);
const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-rollout-'));
const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'CRITICAL', hostTimeoutSeconds: 600, commandSweepMs: 5000 });
const capacity = trackCapacity(rt.dynamo, 'benchCapacity', () => observer.getStore() === true);
const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
const api = async (method: string, p: string, body?: unknown) => {
  const r = await fetch(`${rt.url}${p}`, { method, headers: auth, ...(body ? { body: JSON.stringify(body) } : {}) });
  return { status: r.status, body: (await r.json().catch(() => undefined)) as Json };
};
const log = (m: string) => process.stdout.write(`[${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const until = async <T>(what: string, f: () => Promise<T | undefined>, ms = timeoutMs, every = 1000): Promise<T> => {
  const since = Date.now();
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() - since > ms) throw new Error(`${what}: not done after ${Math.round(ms / 1000)} s`);
    await sleep(every);
  }
};
const endedOps = async (ids: readonly string[]) => {
  const out: Json[] = [];
  for (const id of ids) {
    const op = await rt.deps.operations.get(id);
    if (!op || !['succeeded', 'failed', 'cancelled'].includes(op.status)) return undefined;
    out.push(op as unknown as Json);
  }
  return out;
};

let fleet: BenchFleet | undefined;
const phases: Record<string, number> = {};
try {
  const benchStart = Date.now();
  const t = await api('POST', '/v1/registration-tokens', { name: 'bench', autoApprove: true });
  fleet = await startBenchFleet({
    apiUrl: rt.url, registrationToken: t.body.token as string, project: 'default', count: N + 1, procs, stateDir: path.join(dataDir, 'sim'), uidPrefix: 'rb',
    kairos: { version: 'v3.5.0', image: OLD, rebootDelayMs: rebootMs, k8sReadyDelayMs: readyMs }, failing, failImage: NEW,
  });
  const hostIds = Array.from({ length: N + 1 }, (_, p) => uid(p));
  await until('hosts online', async () => {
    if (fleet!.refused() > 0) throw new Error(`${fleet!.refused()} simulated agents gave up registering`);
    if (fleet!.online() < N + 1) return undefined;
    for (const id of hostIds) if ((await rt.deps.hosts.get(id))?.presence !== 'online') return undefined;
    return true;
  }, timeoutMs, 2000);
  phases.hostsOnlineSeconds = (Date.now() - benchStart) / 1000;
  log(`${N + 1} hosts online after ${phases.hostsOnlineSeconds.toFixed(0)} s`);

  await api('POST', '/v1/profiles', { name: 'bench' });
  for (const [version, img, k3s] of [['1.0.0', OLD, '1.30.4'], ['2.0.0', NEW, '1.31.2']] as const) {
    const r = await api('POST', '/v1/profiles/bench/versions', { version, layers: layers(img, k3s), publish: true });
    if (r.status !== 201) throw new Error(`profile bench ${version} refused: ${JSON.stringify(r.body)}`);
  }
  const clusterOf = new Map<string, string>();
  const createFailures: { host: string; reason: string }[] = [];
  const createStart = Date.now();
  const online = async (hs: readonly string[]) => {
    for (const h of hs) if ((await rt.deps.hosts.get(h))?.presence !== 'online') return undefined;
    return true;
  };
  for (let from = 0; from <= N; from += batch) {
    // A loaded machine can drop an agent's MQTT session for a moment (keep-alive missed), or run a
    // workflow step past its function's timeout: a create that failed is tried again, under a new
    // name, once its host is back (3 tries; every retry and its reason is in the JSON).
    let todo = hostIds.slice(from, from + batch);
    for (let attempt = 1; todo.length > 0; attempt++) {
      await until('batch hosts online', () => online(todo), 300_000, 1000);
      const made = await Promise.all(todo.map((h) => api('POST', '/v1/clusters', { name: `rb-${h}${attempt > 1 ? `-try${attempt}` : ''}`, profile: { name: 'bench', version: '1.0.0' }, controlPlane: { hostIds: [h] } })));
      const refused = made.filter((r) => r.status !== 202);
      if (refused.length) throw new Error(`${refused.length} cluster creates refused: ${JSON.stringify(refused[0]!.body)}`);
      made.forEach((r, i) => clusterOf.set(todo[i]!, r.body.id as string));
      const ops = await until('clusters created', () => endedOps(made.map((r) => r.body.operationId as string)), timeoutMs, 500);
      const bad = ops.flatMap((o, i) => (o.status === 'succeeded' ? [] : [{ host: todo[i]!, reason: String(o.reason) }]));
      if (bad.length && attempt >= 3) throw new Error(`${bad.length} cluster creates did not succeed: ${bad[0]!.reason}`);
      if (bad.length) log(`${bad.length} creates failed (${bad.map((b) => `${b.host}: ${b.reason}`).join('; ')}): trying again`);
      phases.createRetries = (phases.createRetries ?? 0) + bad.length;
      createFailures.push(...bad);
      todo = bad.map((b) => b.host);
    }
    log(`clusters created: ${Math.min(from + batch, N + 1)} of ${N + 1}`);
  }
  phases.createSeconds = (Date.now() - createStart) / 1000;
  await until('kubelet versions reported', async () => {
    for (const id of hostIds) if (!((await rt.iot.deps.status.get(id))?.content as Json | undefined)?.kubernetes?.version) return undefined;
    return true;
  }, 120_000, 1000);
  await rt.iot.whenIdle();

  // ---- the floor: one cluster's upgrade on its own ----
  const solo = await api('POST', `/v1/clusters/${clusterOf.get(soloHost)}/upgrades`, { to: { version: '2.0.0' }, acknowledgeDowntime: true });
  if (solo.status !== 202) throw new Error(`the single upgrade was refused: ${JSON.stringify(solo.body)}`);
  const [soloOp] = await until('single upgrade', () => endedOps([solo.body.id as string]), 300_000, 100);
  if (soloOp!.status !== 'succeeded') throw new Error(`the single upgrade ended ${soloOp!.status}: ${soloOp!.reason}`);
  const singleMs = Date.parse(soloOp!.endedAt) - Date.parse(soloOp!.startedAt);
  log(`one cluster upgrade alone: ${(singleMs / 1000).toFixed(1)} s`);
  await rt.iot.whenIdle();
  await sleep(2000);

  // ---- measured: from the POST of the rollout to its end ----
  capacity.read = 0; capacity.write = 0; capacity.writeCalls = 0; capacity.writesByKind = {}; capacity.writeCallsByKind = {};
  const rules = () => Object.values(rt.iot.ruleStats).reduce((n, s) => n + s.accepted + s.rejected + s.failed, 0);
  const before = { transitions: rt.workflows.stats.stateTransitions, tasks: rt.workflows.stats.lambdaInvocations, rules: rules(), executions: rt.workflows.stats.executions };
  const targets = Array.from({ length: N }, (_, p) => clusterOf.get(uid(p))!);
  const started = Date.now();
  const created = await api('POST', '/v1/rollouts', { name: 'bench', targets: { clusterIds: targets }, to: { name: 'bench', version: '2.0.0' }, policy });
  if (created.status !== 202) throw new Error(`the rollout was refused (${created.status}): ${JSON.stringify(created.body)}`);
  const id = created.body.id as string;
  let lastLine = '';
  const done = await until('rollout ended', () => observe(async () => {
    const r = await rt.deps.rollouts.get(id);
    const c = sumCounts((await rt.deps.rollouts.waves(id)).map((w) => w.counts));
    const line = `rollout ${r?.status}, wave ${(r?.currentWave ?? 0) + 1}/${sizes.length}: ${c.succeeded} succeeded, ${c.failed} failed, ${c.running} running, ${c.pending} pending`;
    if (line !== lastLine) log(lastLine = line);
    return r && ROLLOUT_ENDED.includes(r.status) ? r : undefined;
  }), timeoutMs, 1000) as RolloutRecord;
  const wallMs = Date.parse(done.endedAt ?? new Date().toISOString()) - started;
  await rt.iot.whenIdle();
  await sleep(2000);
  await rt.iot.whenIdle();
  const transitions = rt.workflows.stats.stateTransitions - before.transitions;
  const tasks = rt.workflows.stats.lambdaInvocations - before.tasks;
  const ruleCalls = rules() - before.rules;
  const measured = { read: capacity.read, write: capacity.write, writeCalls: capacity.writeCalls, byKind: { ...capacity.writesByKind } };

  // ---- what happened, wave by wave, and the abort proof ----
  const waveRecords: RolloutWaveRecord[] = await observe(() => rt.deps.rollouts.waves(id));
  const counts = sumCounts(waveRecords.map((w) => w.counts));
  const run = waveRecords.filter((w) => w.startedAt !== undefined);
  const lastRun = run.length ? Math.max(...run.map((w) => w.index)) : -1;
  const later = waveRecords.filter((w) => w.index > lastRun);
  let abortProof: Json | undefined;
  if (later.length > 0) {
    const laterTargets = (await Promise.all(later.map((w) => observe(() => rt.deps.rollouts.targetsBetween(id, w.start, w.start + w.size))))).flat();
    let withOperation = 0;
    for (const c of laterTargets) {
      const ops = await observe(() => rt.deps.operations.list('default', { type: 'cluster', id: c.clusterId }, { limit: 100 }));
      if (ops.items.some((o) => o.type === 'upgrade-cluster')) withOperation++;
    }
    const laterHosts = laterTargets.map((x) => uid(x.position));
    const facts = await fleet.inspect(laterHosts);
    abortProof = {
      abortedAfterWave: lastRun + 1, laterWaves: later.length, laterClusters: laterTargets.length,
      notPending: laterTargets.filter((x) => x.state !== 'pending').length, withOperationId: laterTargets.filter((x) => x.operationId).length,
      withUpgradeOperation: withOperation, nodesInspected: facts.size,
      nodesWithUpgradeCall: [...facts.values()].filter((f) => f.upgradeCalls > 0).length,
      nodesNotOnOldImage: [...facts.values()].filter((f) => f.kairosVersion !== 'v3.5.0' || f.boot !== 'active').length,
    };
    abortProof.holds = abortProof.notPending === 0 && abortProof.withOperationId === 0 && abortProof.withUpgradeOperation === 0
      && abortProof.nodesInspected === laterTargets.length && abortProof.nodesWithUpgradeCall === 0 && abortProof.nodesNotOnOldImage === 0;
  }
  const failedFacts = await fleet.inspect(failing);
  const failedTargets = (await observe(() => rt.deps.rollouts.listTargets(id, { state: 'failed' }, { limit: 100 }))).items;
  const rollbacks = await Promise.all(failedTargets.map((x) => (x.rollbackOperationId ? observe(() => rt.deps.operations.get(x.rollbackOperationId!)) : undefined)));
  const perCluster = (n: number) => +(n / N).toFixed(2);
  const startedClusters = counts.succeeded + counts.failed;
  const perStarted = (n: number) => +(n / Math.max(1, startedClusters)).toFixed(2);
  // A wave's end: its last target's end (an aborted wave is never marked ended); its start spread: first to last upgrade operation started.
  const spans = await Promise.all(waveRecords.map(async (w) => {
    if (!w.startedAt) return undefined;
    const ts = await observe(() => rt.deps.rollouts.targetsBetween(id, w.start, w.start + w.size));
    const ends = ts.flatMap((x) => (x.endedAt ? [Date.parse(x.endedAt)] : []));
    // Targets carry their tick's clock as startedAt (all of a wave alike): the upgrade operations say when each really started.
    const ops = await Promise.all(ts.map((x) => (x.operationId ? observe(() => rt.deps.operations.get(x.operationId!)) : undefined)));
    const starts = ops.flatMap((o) => (o ? [Date.parse(o.startedAt)] : []));
    return { end: ends.length ? Math.max(...ends) : undefined, spread: starts.length ? (Math.max(...starts) - Math.min(...starts)) / 1000 : undefined };
  }));
  const lastEnd = spans.map((x) => x?.end);
  const waveRows = waveRecords.map((w, i) => ({
    wave: w.index + 1, size: w.size, succeeded: w.counts.succeeded, failed: w.counts.failed, pending: w.counts.pending + w.counts.deferred + w.counts.waiting, skipped: w.counts.skipped,
    startS: w.startedAt ? +((Date.parse(w.startedAt) - started) / 1000).toFixed(1) : null,
    endS: lastEnd[i] !== undefined ? +((lastEnd[i]! - started) / 1000).toFixed(1) : null,
    startSpreadS: spans[i]?.spread !== undefined ? +spans[i]!.spread!.toFixed(1) : null,
  }));
  const waveSeconds = waveRows.filter((w) => w.startS !== null && w.endS !== null).map((w) => w.endS! - w.startS!);
  const result = {
    when: new Date().toISOString(), clusters: N, procs, simulated: { rebootMs, readyMs }, policy,
    injected: { failPercent, failingClusters: failing.length, wave2Size: wave2.size, hosts: failing },
    phases, createFailures, rollout: { id, status: done.status, reason: done.reason, waves: sizes.length, wavesRun: run.length, waveSizes: sizes },
    wallSeconds: +(wallMs / 1000).toFixed(1), singleUpgradeSeconds: +(singleMs / 1000).toFixed(1),
    floorSeconds: +((run.length * singleMs) / 1000).toFixed(1), floorAllWavesSeconds: +((sizes.length * singleMs) / 1000).toFixed(1),
    waveSeconds: { p50: +pct(waveSeconds, 50).toFixed(1), max: +Math.max(...waveSeconds).toFixed(1) },
    counts, waves: waveRows,
    failedClustersRolledBack: [...failedFacts.values()].filter((f) => f.boot === 'active' && f.kairosVersion === 'v3.5.0').length,
    failedClusters: failedTargets.map((x, i) => ({
      position: x.position, host: uid(x.position), reason: x.reason, rollback: rollbacks[i] ? `${rollbacks[i]!.id} ${rollbacks[i]!.status}` : 'none', node: failedFacts.get(uid(x.position)) ?? null,
    })),
    perCluster: {
      stateTransitions: perCluster(transitions), lambdaInvocations: perCluster(tasks + ruleCalls + 1),
      workflowTaskInvocations: perCluster(tasks), iotRuleInvocations: perCluster(ruleCalls), executions: perCluster(rt.workflows.stats.executions - before.executions),
      rcu: perCluster(measured.read), wcu: perCluster(measured.write), writeCalls: perCluster(measured.writeCalls),
      wcuByKind: Object.fromEntries(Object.entries(measured.byKind).sort((x, y) => y[1] - x[1]).slice(0, 12).map(([k, v]) => [k, perCluster(v)])),
    },
    perStartedCluster: {
      clusters: startedClusters, stateTransitions: perStarted(transitions), lambdaInvocations: perStarted(tasks + ruleCalls + 1),
      rcu: perStarted(measured.read), wcu: perStarted(measured.write),
    },
    abortProof: abortProof ?? null,
    machine: { cpus: os.cpus().length, node: process.version },
  };
  console.table(waveRows);
  console.table({
    'rollout': `${done.status} after wave ${run.length} of ${sizes.length}`,
    'wall time POST → end (s)': result.wallSeconds, 'floor: waves run × one upgrade (s)': `${result.floorSeconds} (${run.length} × ${result.singleUpgradeSeconds})`,
    'succeeded / failed / not started / skipped': `${counts.succeeded} / ${counts.failed} / ${counts.pending + counts.deferred + counts.waiting} / ${counts.skipped}`,
    'failed clusters rolled back to 1.0.0 image': `${result.failedClustersRolledBack} of ${failing.length}`,
    'state transitions per cluster': result.perCluster.stateTransitions, 'Lambda invocations per cluster': result.perCluster.lambdaInvocations,
    'RCU / WCU per cluster': `${result.perCluster.rcu} / ${result.perCluster.wcu}`,
    ...(startedClusters < N ? { 'per started cluster: transitions, invocations, RCU / WCU': `${result.perStartedCluster.stateTransitions}, ${result.perStartedCluster.lambdaInvocations}, ${result.perStartedCluster.rcu} / ${result.perStartedCluster.wcu}` } : {}),
    'abort proof': abortProof ? `${abortProof.holds ? 'holds' : 'BROKEN'}: ${abortProof.laterClusters} later clusters, ${abortProof.notPending} not pending, ${abortProof.withUpgradeOperation} with an upgrade operation, ${abortProof.nodesWithUpgradeCall} nodes with an upgrade call` : 'no abort',
  });
  mkdirSync('bench/results', { recursive: true });
  const file = path.join('bench/results', `rollout-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  log(`written ${file}`);
} finally {
  await fleet?.stop();
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
