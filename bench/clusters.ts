/**
 * `npm run bench:clusters [-- --clusters 50 --ready-ms 2000]`: provisions N three-node
 * clusters (3 control-plane nodes with a VIP) concurrently on 3N simulated hosts — the real
 * agent, the TLS broker, the synthesized state machines on aws-local-stepfunctions — and
 * records wall time against the simulated per-step delays (each node is Ready `ready-ms`
 * after its bootstrap; the control plane joins one node at a time, so a cluster needs at least
 * 3 × ready-ms), plus per cluster: Step Functions state transitions, Lambda invocations (task
 * handlers, IoT rule handlers and the HTTP request) and DynamoDB capacity units.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pct, resetCounters, sleep, startBench } from './sim-clusters.js';

const { values } = parseArgs({ options: { clusters: { type: 'string', default: '50' }, 'ready-ms': { type: 'string', default: '2000' }, timeout: { type: 'string', default: '900' } } });
const clusters = Number(values.clusters);
const readyMs = Number(values['ready-ms']);
const timeoutMs = Number(values.timeout) * 1000;

const b = await startBench({ hosts: clusters * 3, kairos: { rebootDelayMs: 100, k8sReadyDelayMs: readyMs }, timeoutMs });
try {
  await b.api('POST', '/v1/profiles', { name: 'bench' });
  await b.api('POST', '/v1/profiles/bench/versions', { version: '1.0.0', publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04', image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.30.4-k3s1' }, { type: 'k8s', pack: 'k3s', version: '1.30.4' }] });
  await b.rt.iot.whenIdle();
  await sleep(2000);

  // ---- measured: from the first POST until every operation ended ----
  const before = resetCounters(b);
  const started = Date.now();
  const created = await Promise.all(Array.from({ length: clusters }, (_, c) => b.api('POST', '/v1/clusters', {
    name: `bench-${c + 1}`, profile: { name: 'bench', version: '1.0.0' }, vip: `10.1.${Math.floor(c / 250)}.${(c % 250) + 1}`,
    controlPlane: { hostIds: [b.ids[c * 3]!, b.ids[c * 3 + 1]!, b.ids[c * 3 + 2]!] },
  })));
  const refused = created.filter((r) => r.status !== 202);
  if (refused.length > 0) throw new Error(`${refused.length} creates refused: ${JSON.stringify(refused[0]!.body)}`);
  const ops = created.map((r) => r.body.operationId as string);
  const ended = await b.waitAll(ops, timeoutMs);
  const wallMs = Date.now() - started;
  await b.rt.iot.whenIdle();
  const transitions = b.rt.workflows.stats.stateTransitions - before.transitions;
  const tasks = b.rt.workflows.stats.lambdaInvocations - before.tasks;
  const rules = b.ruleInvocations() - before.rules;
  const durations = [...ended.values()].map((o) => Date.parse(o.endedAt ?? o.startedAt) - Date.parse(o.startedAt));
  const succeeded = [...ended.values()].filter((o) => o.status === 'succeeded').length;
  const minimumMs = 3 * readyMs;
  const per = (n: number) => +(n / clusters).toFixed(1);
  const result = {
    clusters, hostsPerCluster: 3, simulatedReadyMs: readyMs, succeeded, failed: ended.size - succeeded, unfinished: ops.length - ended.size,
    wallSeconds: +(wallMs / 1000).toFixed(1),
    theoreticalMinimumSeconds: minimumMs / 1000,
    operationSeconds: { p50: +(pct(durations, 50) / 1000).toFixed(1), p99: +(pct(durations, 99) / 1000).toFixed(1) },
    controlPlaneOverheadSecondsPerCluster: { p50: +((pct(durations, 50) - minimumMs) / 1000).toFixed(1), wall: +((wallMs - minimumMs) / 1000).toFixed(1) },
    perCluster: {
      stateTransitions: per(transitions), lambdaInvocations: per(tasks + rules + clusters),
      workflowTaskInvocations: per(tasks), iotRuleInvocations: per(rules),
      rcu: per(b.capacity.read), wcu: per(b.capacity.write), writeCalls: per(b.capacity.writeCalls),
      wcuByKind: Object.fromEntries(Object.entries(b.capacity.writesByKind).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, per(v)])),
      writeCallsByKind: Object.fromEntries(Object.entries(b.capacity.writeCallsByKind).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, per(v)])),
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
  await b.stop();
}
