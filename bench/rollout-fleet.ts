/**
 * The simulated fleet of `npm run bench:rollout`: N hosts on a simulated Kairos whose upgrade to
 * `failImage` falls back to the old partition on the hosts named in `failing`, either in this
 * process or dealt over `procs` worker processes (bench/rollout-worker.ts). The parent can ask,
 * per host, how many upgrade calls its simulated OS saw and what it runs now: the proof that an
 * aborted rollout left later clusters untouched.
 */
import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { startSimulatedAgents, type SimulatedFleet } from '../simulator/index.js';
import { stopWorkers } from '../simulator/process-fleet.js';
import { workerStart } from '../simulator/process-fleet-messages.js';

/** The simulator's worker start (simulator/process-fleet-messages.ts) with the OS image and the failures to inject. */
export const rolloutWorkerStart = workerStart.omit({ site: true, tunnelEndpoint: true, checkIntervalMs: true }).extend({
  kairos: z.object({ version: z.string(), image: z.string(), rebootDelayMs: z.number(), k8sReadyDelayMs: z.number() }),
  failing: z.array(z.string()),
  failImage: z.string(),
});
export type RolloutWorkerStart = z.infer<typeof rolloutWorkerStart>;
export const rolloutWorkerQuery = z.object({ type: z.literal('inspect'), requestId: z.number().int(), uids: z.array(z.string()) });

/** What one host's simulated OS saw and runs. */
export interface HostFacts { readonly upgradeCalls: number; readonly boot: string; readonly kairosVersion: string }

export type RolloutWorkerReport =
  | { readonly type: 'ready' }
  | { readonly type: 'status'; readonly online: number; readonly refused: number; readonly rss: number }
  | { readonly type: 'inspected'; readonly requestId: number; readonly hosts: Record<string, HostFacts> };

export interface BenchFleet {
  /** Agents online (as the agents see it). */
  online(): number;
  /** Agents that gave up registering. */
  refused(): number;
  inspect(uids: readonly string[]): Promise<Map<string, HostFacts>>;
  stop(): Promise<void>;
}

export type BenchFleetOptions = Omit<RolloutWorkerStart, 'type' | 'firstIndex'> & { readonly procs: number };

/** Facts about the hosts of `fleet` this process runs (unknown uids are left out). */
export async function inspectHosts(fleet: SimulatedFleet, uids: readonly string[]): Promise<Record<string, HostFacts>> {
  const out: Record<string, HostFacts> = {};
  for (const uid of uids) {
    const h = fleet.host(uid);
    if (!h) continue;
    const s = await h.kairos.state();
    out[uid] = { upgradeCalls: h.kairos.calls.filter((c) => c.startsWith('upgrade ')).length, boot: s.boot, kairosVersion: s.kairosVersion ?? 'unknown' };
  }
  return out;
}

/** Starts the agents of `o` in this process. */
export function startInProcess(o: Omit<RolloutWorkerStart, 'type'>): SimulatedFleet {
  const failing = new Set(o.failing);
  return startSimulatedAgents({
    apiUrl: o.apiUrl, registrationToken: o.registrationToken, project: o.project, count: o.count, firstIndex: o.firstIndex,
    stateDir: o.stateDir, uidPrefix: o.uidPrefix, kairos: o.kairos, log: () => undefined, readyPollMs: 100,
    perHost: (uid) => (failing.has(uid) ? { failures: { failImages: [o.failImage] } } : undefined),
  });
}

const HERE = path.dirname(fileURLToPath(import.meta.url));

interface Worker { readonly child: ChildProcess; last?: Extract<RolloutWorkerReport, { type: 'status' }>; readonly exited: Promise<void> }

function spawnWorker(pending: Map<number, (hosts: Record<string, HostFacts>) => void>): Promise<Worker> {
  const child = fork(path.join(HERE, 'rollout-worker.ts'), [], { cwd: path.dirname(HERE), execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const w: Worker = { child, exited };
    const onExit = (code: number | null) => reject(new Error(`a rollout benchmark worker process exited before it was ready (exit code ${code ?? 'none'}); run it alone: node --import tsx bench/rollout-worker.ts`));
    child.once('exit', onExit);
    child.on('message', (m: RolloutWorkerReport) => {
      if (m.type === 'ready') {
        child.off('exit', onExit);
        resolve(w);
      } else if (m.type === 'status') {
        w.last = m;
      } else if (m.type === 'inspected') {
        pending.get(m.requestId)?.(m.hosts);
        pending.delete(m.requestId);
      }
    });
  });
}

/** The fleet of `o`: in this process when `procs` is 1, else dealt in contiguous ranges over `procs` workers. */
export async function startBenchFleet(o: BenchFleetOptions): Promise<BenchFleet> {
  const { procs, ...common } = o;
  if (procs <= 1) {
    const fleet = startInProcess({ ...common, firstIndex: 1 });
    const gaveUp = (p: string) => p === 'refused' || p === 'failed';
    return {
      online: () => fleet.hosts.filter((h) => h.agent.state.phase === 'online').length,
      refused: () => fleet.hosts.filter((h) => gaveUp(h.agent.state.phase)).length,
      inspect: async (uids) => new Map(Object.entries(await inspectHosts(fleet, uids))),
      stop: () => fleet.stop(),
    };
  }
  const pending = new Map<number, (hosts: Record<string, HostFacts>) => void>();
  const workers: Worker[] = [];
  try {
    for (let i = 0; i < procs; i++) workers.push(await spawnWorker(pending));
  } catch (e) {
    for (const w of workers) w.child.kill('SIGKILL');
    throw e;
  }
  const share = Math.ceil(o.count / procs);
  workers.forEach((w, i) => {
    const start: RolloutWorkerStart = { type: 'start', ...common, count: Math.max(0, Math.min(share, o.count - i * share)), firstIndex: i * share + 1 };
    w.child.send(start);
  });
  let nextRequest = 1;
  return {
    online: () => workers.reduce((n, w) => n + (w.last?.online ?? 0), 0),
    refused: () => workers.reduce((n, w) => n + (w.last?.refused ?? 0), 0),
    async inspect(uids) {
      const parts = await Promise.all(workers.map((w) => new Promise<Record<string, HostFacts>>((resolve, reject) => {
        const requestId = nextRequest++;
        const timer = setTimeout(() => reject(new Error(`worker ${w.child.pid} did not answer an inspect request within 60 s`)), 60_000);
        pending.set(requestId, (hosts) => { clearTimeout(timer); resolve(hosts); });
        w.child.send({ type: 'inspect', requestId, uids: [...uids] });
      })));
      return new Map(parts.flatMap((p) => Object.entries(p)));
    },
    stop: () => stopWorkers(workers),
  };
}
