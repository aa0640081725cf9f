/**
 * `npm run bench:upgrades [-- --clusters 100 --reboot-ms 1000 --ready-ms 1000]`: creates N
 * three-node clusters (3 control-plane nodes) on 3N simulated hosts, then upgrades all of them
 * at once to a new OS + Kubernetes version (a repave: preflight, drain, Kairos A/B upgrade,
 * reboot, post-boot health gate, uncordon — node by node). Simulated step durations are fixed:
 * a reboot takes `reboot-ms`, a node is Ready `ready-ms` after boot, so one node takes at least
 * reboot + ready and a cluster (one control-plane node at a time) 3 × that. Records total time
 * against that floor (control-plane overhead), the minimum available capacity of each cluster
 * during its upgrade (from the simulated Kubernetes availability timeline), and Step Functions
 * state transitions, Lambda invocations and DynamoDB units per upgraded node.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pct, resetCounters, sleep, startBench } from './sim-clusters.js';

const { values } = parseArgs({ options: {
  clusters: { type: 'string', default: '100' }, 'reboot-ms': { type: 'string', default: '1000' },
  'ready-ms': { type: 'string', default: '1000' }, timeout: { type: 'string', default: '1500' },
} });
const clusters = Number(values.clusters);
const rebootMs = Number(values['reboot-ms']);
const readyMs = Number(values['ready-ms']);
const timeoutMs = Number(values.timeout) * 1000;
const image = (kairos: string, k3s: string) => `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-${kairos}-k3sv${k3s}-k3s1`;

const b = await startBench({ hosts: clusters * 3, kairos: { version: 'v3.5.0', rebootDelayMs: rebootMs, k8sReadyDelayMs: readyMs }, timeoutMs });
try {
  await b.api('POST', '/v1/profiles', { name: 'bench' });
  for (const [version, kairos, k3s] of [['1.0.0', 'v3.5.0', '1.30.4'], ['2.0.0', 'v3.6.0', '1.31.2']]) {
    await b.api('POST', '/v1/profiles/bench/versions', { version, publish: true, layers: [{ type: 'os', pack: 'ubuntu', version: '24.04', image: image(kairos!, k3s!) }, { type: 'k8s', pack: 'k3s', version: k3s }] });
  }
  const nodesOf = (c: number) => [b.ids[c * 3]!, b.ids[c * 3 + 1]!, b.ids[c * 3 + 2]!];
  const created = await Promise.all(Array.from({ length: clusters }, (_, c) => b.api('POST', '/v1/clusters', {
    name: `bench-${c + 1}`, profile: { name: 'bench', version: '1.0.0' }, vip: `10.1.${Math.floor(c / 250)}.${(c % 250) + 1}`, controlPlane: { hostIds: nodesOf(c) },
  })));
  const made = await b.waitAll(created.map((r) => r.body.operationId as string), timeoutMs);
  const running = [...made.values()].filter((o) => o.status === 'succeeded').length;
  if (running < clusters) throw new Error(`only ${running} of ${clusters} clusters reached running`);
  await b.rt.iot.whenIdle();
  // Every node's status report with its Kubernetes node (Ready, kubelet version) must have
  // landed: the drain's availability check reads them. The agent reports a change at its
  // periodic check (30 s), so a fixed pause is not enough (it passed or failed by timing).
  const reported = async () => {
    for (const id of b.ids) {
      const h = await b.api('GET', `/v1/hosts/${id}`);
      if ((h.body.reported as { kubernetes?: { ready?: boolean } } | undefined)?.kubernetes?.ready !== true) return false;
    }
    return true;
  };
  for (const since = Date.now(); !(await reported());) {
    if (Date.now() - since > 120_000) throw new Error('after 120 s not every node has reported its Kubernetes node Ready; see GET /v1/hosts');
    await sleep(1000);
  }

  // ---- measured: from the first upgrade request until every upgrade ended ----
  const before = resetCounters(b);
  const started = Date.now();
  const upgrades = await Promise.all(created.map((r) => b.api('POST', `/v1/clusters/${r.body.id}/upgrades`, { to: { version: '2.0.0' } })));
  const refused = upgrades.filter((r) => r.status !== 202);
  if (refused.length > 0) throw new Error(`${refused.length} upgrades refused: ${JSON.stringify(refused[0]!.body)}`);
  const ended = await b.waitAll(upgrades.map((r) => r.body.id as string), timeoutMs);
  const wallMs = Date.now() - started;
  const finishedAt = Date.now();
  await b.rt.iot.whenIdle();
  const transitions = b.rt.workflows.stats.stateTransitions - before.transitions;
  const tasks = b.rt.workflows.stats.lambdaInvocations - before.tasks;
  const rules = b.ruleInvocations() - before.rules;
  const nodes = clusters * 3;
  const durations = [...ended.values()].map((o) => Date.parse(o.endedAt ?? o.startedAt) - Date.parse(o.startedAt));
  const succeeded = [...ended.values()].filter((o) => o.status === 'succeeded').length;
  const minAvailable = Array.from({ length: clusters }, (_, c) => b.fleet.kubernetes.minAvailable(nodesOf(c), started, finishedAt));
  const maxOut = Array.from({ length: clusters }, (_, c) => b.fleet.kubernetes.maxConcurrentUnavailable(nodesOf(c), started, finishedAt));
  const minimumMs = 3 * (rebootMs + readyMs);
  const perNode = (n: number) => +(n / nodes).toFixed(2);
  const result = {
    clusters, nodes, simulated: { rebootMs, readyMs }, succeeded, failed: ended.size - succeeded, unfinished: upgrades.length - ended.size,
    failureReasons: [...new Set([...ended.values()].filter((o) => o.status !== 'succeeded').map((o) => String(o.reason)))].slice(0, 5),
    wallSeconds: +(wallMs / 1000).toFixed(1), theoreticalMinimumSeconds: minimumMs / 1000,
    upgradeSeconds: { p50: +(pct(durations, 50) / 1000).toFixed(1), p99: +(pct(durations, 99) / 1000).toFixed(1) },
    overheadSecondsPerCluster: { p50: +((pct(durations, 50) - minimumMs) / 1000).toFixed(1), wall: +((wallMs - minimumMs) / 1000).toFixed(1) },
    availability: {
      minAvailableNodesPerCluster: Math.min(...minAvailable), maxNodesOutPerCluster: Math.max(...maxOut),
      minCapacity: `${Math.min(...minAvailable)} of 3`,
    },
    perUpgradedNode: {
      stateTransitions: perNode(transitions), lambdaInvocations: perNode(tasks + rules + clusters),
      workflowTaskInvocations: perNode(tasks), iotRuleInvocations: perNode(rules),
      rcu: perNode(b.capacity.read), wcu: perNode(b.capacity.write), writeCalls: perNode(b.capacity.writeCalls),
      wcuByKind: Object.fromEntries(Object.entries(b.capacity.writesByKind).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, perNode(v)])),
      writeCallsByKind: Object.fromEntries(Object.entries(b.capacity.writeCallsByKind).sort((x, y) => y[1] - x[1]).map(([k, v]) => [k, perNode(v)])),
    },
    machine: { cpus: os.cpus().length, node: process.version },
  };
  console.table({
    'wall time (s)': result.wallSeconds, 'theoretical minimum (s)': result.theoreticalMinimumSeconds,
    'upgrade p50 / p99 (s)': `${result.upgradeSeconds.p50} / ${result.upgradeSeconds.p99}`,
    'succeeded / failed / unfinished': `${succeeded} / ${result.failed} / ${result.unfinished}`,
    'min available nodes per cluster': result.availability.minCapacity, 'max nodes out per cluster': result.availability.maxNodesOutPerCluster,
    'state transitions per node': result.perUpgradedNode.stateTransitions, 'Lambda invocations per node': result.perUpgradedNode.lambdaInvocations,
    'RCU / WCU per node': `${result.perUpgradedNode.rcu} / ${result.perUpgradedNode.wcu}`,
  });
  mkdirSync('bench/results', { recursive: true });
  const file = path.join('bench/results', `upgrades-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`written ${file}`);
} finally {
  await b.stop();
}
