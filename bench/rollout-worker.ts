/**
 * One worker process of `npm run bench:rollout -- --procs P` (bench/rollout-fleet.ts): runs its
 * share of the simulated hosts, reports once a second how many are online, and answers the
 * parent's `inspect` requests (upgrade calls seen and what each host runs). Stops on `stop`, on
 * the parent's disconnect, or on SIGTERM.
 */
import type { SimulatedFleet } from '../simulator/index.js';
import { inspectHosts, rolloutWorkerQuery, rolloutWorkerStart, startInProcess, type RolloutWorkerReport } from './rollout-fleet.js';

let fleet: SimulatedFleet | undefined;
let stopping = false;

const send = (m: RolloutWorkerReport) => {
  if (process.connected) process.send?.(m);
};

function report(): void {
  const hosts = fleet?.hosts ?? [];
  send({ type: 'status', online: hosts.filter((h) => h.agent.state.phase === 'online').length, refused: hosts.filter((h) => h.agent.state.phase === 'refused' || h.agent.state.phase === 'failed').length, rss: process.memoryUsage().rss });
}

async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await fleet?.stop();
  process.disconnect?.();
  process.exit(0);
}

process.on('message', (raw: unknown) => {
  if (raw && typeof raw === 'object' && (raw as { type?: unknown }).type === 'stop') {
    void stop();
    return;
  }
  const query = rolloutWorkerQuery.safeParse(raw);
  if (query.success) {
    void (fleet ? inspectHosts(fleet, query.data.uids) : Promise.resolve({})).then((hosts) => send({ type: 'inspected', requestId: query.data.requestId, hosts }));
    return;
  }
  const start = rolloutWorkerStart.safeParse(raw);
  if (!start.success || fleet) return;
  fleet = startInProcess(start.data);
  report();
  setInterval(report, 1000).unref();
});
process.on('disconnect', () => void stop());
process.on('SIGTERM', () => void stop());
send({ type: 'ready' });
