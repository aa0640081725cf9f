/**
 * One worker process of a split simulated fleet (process-fleet.ts): runs its share of the
 * agents with startSimulatedAgents and tells the parent, once a second, how many are online
 * and its memory. Started by the parent over IPC; stops (agents closed cleanly) on `stop`, on
 * the parent's disconnect, or on SIGTERM.
 */
import { startSimulatedAgents, type SimulatedFleet } from './simulated-fleet.js';
import { workerStart, type WorkerReport } from './process-fleet-messages.js';

let fleet: SimulatedFleet | undefined;
let stopping = false;
const baselineRss = process.memoryUsage().rss;

const send = (m: WorkerReport) => {
  if (process.connected) process.send?.(m);
};

function report(): void {
  const hosts = fleet?.hosts ?? [];
  send({ type: 'status', online: hosts.filter((h) => h.agent.state.phase === 'online').length, refused: hosts.filter((h) => h.agent.state.phase === 'refused' || h.agent.state.phase === 'failed').length, rss: process.memoryUsage().rss, baselineRss });
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
  if (raw && typeof raw === 'object' && (raw as { type?: unknown }).type === 'stop') {
    void stop();
    return;
  }
  const start = workerStart.safeParse(raw);
  if (!start.success || fleet) return;
  const o = start.data;
  fleet = startSimulatedAgents({ ...o, log: () => undefined });
  report();
  setInterval(report, 1000).unref();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
send({ type: 'ready' });
