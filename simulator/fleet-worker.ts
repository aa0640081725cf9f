/**
 * One worker process of a split simulated fleet (process-fleet.ts): runs its share of the
 * agents with startSimulatedAgents and tells the parent, four times a second, how many are registered and online (and when each first was)
 * and its memory and CPU; on `census`, every agent's phase (agent-census.ts). Started by the parent over IPC; stops (agents closed cleanly) on `stop`, on
 * the parent's disconnect, or on SIGTERM.
 */
import { startSimulatedAgents, type SimulatedFleet } from './simulated-fleet.js';
import { workerStart, type WorkerReport } from './process-fleet-messages.js';
import { firstSeenTracker } from './first-seen.js';
import { snapshotOf } from './agent-census.js';

let fleet: SimulatedFleet | undefined;
let stopping = false;
// memoryUsage.rss(): memoryUsage() also walks the heap's spaces, which cost a worker of 500 agents ~4 % of its CPU at 4 reports a second.
const baselineRss = process.memoryUsage.rss();
// This process's CPU (every thread: the agents' JS, and aws-crt's TLS and MQTT threads) from when its agents started.
let cpuAtStart: NodeJS.CpuUsage | undefined;
const cpuMs = () => {
  if (!cpuAtStart) return 0;
  const u = process.cpuUsage(cpuAtStart);
  return (u.user + u.system) / 1000;
};

const send = (m: WorkerReport) => {
  if (process.connected) process.send?.(m);
};

const seen = firstSeenTracker();

/** Counts, memory, and when agents were first seen registered and online (each agent once; the report interval is the resolution). */
function report(): void {
  const hosts = fleet?.hosts ?? [];
  const { newlyRegisteredAt, newlyOnlineAt } = seen.look(hosts);
  const online = hosts.filter((h) => h.agent.state.phase === 'online').length;
  const refused = hosts.filter((h) => h.agent.state.phase === 'refused' || h.agent.state.phase === 'failed').length;
  send({ type: 'status', online, refused, registered: seen.registered, newlyRegisteredAt, newlyOnlineAt, rss: process.memoryUsage.rss(), baselineRss, cpuMs: cpuMs() });
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await fleet?.stop();
  send({ type: 'stopped' });
  process.disconnect?.();
  process.exit(0);
}

process.on('message', (raw: unknown) => {
  const type = raw && typeof raw === 'object' && 'type' in raw ? raw.type : undefined;
  if (type === 'stop') {
    void stop();
    return;
  }
  if (type === 'census') {
    send({ type: 'census', agents: (fleet?.hosts ?? []).map((h) => snapshotOf(h.uid, h.agent.state)) });
    return;
  }
  const start = workerStart.safeParse(raw);
  if (!start.success || fleet) return;
  const o = start.data;
  cpuAtStart = process.cpuUsage();
  fleet = startSimulatedAgents({ ...o, log: () => undefined });
  report();
  setInterval(report, 250).unref();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
send({ type: 'ready' });
