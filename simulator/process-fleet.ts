/**
 * A simulated fleet split over worker processes (`npm start -- --simulate N --simulate-procs P`,
 * `npm run bench:fleet -- --procs P`): each process runs its share of the agents
 * (fleet-worker.ts), so a large fleet on one machine measures the control plane rather than one
 * event loop of agents. The parent sees how many are online and the memory they take.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { AgentSnapshot } from './agent-census.js';
import type { WorkerReport, WorkerStart } from './process-fleet-messages.js';

export interface ProcessFleetOptions extends Omit<WorkerStart, 'type' | 'count' | 'firstIndex'> {
  readonly count: number;
  /** Worker processes (hosts are dealt out in contiguous ranges). */
  readonly procs: number;
}

export interface ProcessFleetStats {
  readonly online: number;
  /** Agents past registration (certificate received). */
  readonly registered: number;
  /** When each agent was first seen registered / online (epoch ms, to the workers' 250 ms report interval), in report order. */
  readonly registeredAt: readonly number[];
  readonly onlineAt: readonly number[];
  /** Agents that gave up (registration refused or failed). */
  readonly refused: number;
  /** The workers' resident memory, all of it. */
  readonly rssBytes: number;
  /** What the agents added to their workers' memory (each worker's RSS less its RSS before it started any). */
  readonly agentRssBytes: number;
  /** The workers' CPU time (all their threads: agent code, TLS, MQTT) since their agents started, in ms. */
  readonly agentCpuMs: number;
}

export interface ProcessFleet {
  readonly procs: number;
  /** When the agents were dealt to the (already running) workers: the fleet's start (epoch ms). */
  readonly startedAt: number;
  /** The worker processes' ids. */
  readonly pids: readonly number[];
  stats(): ProcessFleetStats;
  /** Every agent of every worker as it is now (agent-census.ts); rejects when a worker does not answer within 30 s. */
  census(): Promise<AgentSnapshot[]>;
  stop(): Promise<void>;
}

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WORKER = path.join(HERE, 'fleet-worker.ts');

interface Worker {
  readonly child: ChildProcess;
  last?: Extract<WorkerReport, { type: 'status' }>;
  readonly registeredAt: number[];
  readonly onlineAt: number[];
  readonly exited: Promise<void>;
  /** Waiting for this worker's census answer (one request at a time). */
  onCensus?: (agents: readonly AgentSnapshot[]) => void;
}

/**
 * The simulated hosts' OS trust store: an empty bundle (`SSL_CERT_FILE` of their worker process).
 * aws-crt's TLS (s2n) loads the system's CA bundle — Debian's 140-odd certificates, about 9 ms —
 * for every TLS context it makes, then discards it: the agent trusts only the CA the control
 * plane gave it at registration (`with_certificate_authority`). A real host makes one context per
 * agent process and pays that once; a worker makes one per simulated host, so with the system
 * bundle a 10,000-host storm spent 90 CPU seconds of the machine it measures on certificates
 * nobody uses. What the agents trust, and so what they connect to, is unchanged.
 */
export function simulatedTrustStore(stateDir: string): string {
  mkdirSync(stateDir, { recursive: true });
  const file = path.join(stateDir, 'simulated-os-trust-store.pem');
  writeFileSync(file, '');
  return file;
}

function spawnWorker(trustStore: string): Promise<Worker> {
  // tsx is resolved from the repository root, as `npm start` and the benchmarks run it.
  // A profiled parent (`node --cpu-prof …`) profiles its workers too, each into its own file.
  const profiling = process.execArgv.filter((a) => a.startsWith('--cpu-prof'));
  const child = fork(WORKER, [], {
    cwd: path.dirname(HERE), execArgv: ['--import', 'tsx', ...profiling], stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, SSL_CERT_FILE: trustStore },
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return new Promise((resolve, reject) => {
    const w: Worker = { child, exited, registeredAt: [], onlineAt: [] };
    const onExit = (code: number | null) => reject(new Error(`a simulator worker process exited before it was ready (exit code ${code ?? 'none'})`));
    child.once('exit', onExit);
    child.on('message', (m: WorkerReport) => {
      if (m.type === 'ready') {
        child.off('exit', onExit);
        resolve(w);
      } else if (m.type === 'status') {
        w.last = m;
        w.registeredAt.push(...m.newlyRegisteredAt);
        w.onlineAt.push(...m.newlyOnlineAt);
      } else if (m.type === 'census') {
        w.onCensus?.(m.agents);
        w.onCensus = undefined;
      }
    });
  });
}

/** Starts `procs` workers and deals them `count` agents, `<uidPrefix>-1` … `<uidPrefix>-<count>` in order. */
export async function startProcessFleet(o: ProcessFleetOptions): Promise<ProcessFleet> {
  if (!Number.isInteger(o.procs) || o.procs < 1) throw new Error(`procs must be a whole number of processes, at least 1, got ${o.procs}`);
  const { procs, count, ...common } = o;
  // Started side by side (each loads the agent code): the fleet starts once all are ready.
  const trustStore = simulatedTrustStore(o.stateDir);
  const spawned = await Promise.allSettled(Array.from({ length: procs }, () => spawnWorker(trustStore)));
  const workers = spawned.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failed = spawned.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failed) {
    for (const w of workers) w.child.kill('SIGKILL');
    throw failed.reason;
  }
  const startedAt = Date.now();
  const share = Math.ceil(count / procs);
  workers.forEach((w, i) => {
    const firstIndex = i * share + 1;
    const mine = Math.max(0, Math.min(share, count - i * share));
    const start: WorkerStart = { type: 'start', ...common, count: mine, firstIndex };
    w.child.send(start);
  });
  return {
    procs,
    startedAt,
    pids: workers.map((w) => w.child.pid ?? -1),
    stats() {
      const s = workers.map((w) => w.last);
      return {
        online: s.reduce((n, x) => n + (x?.online ?? 0), 0),
        registered: s.reduce((n, x) => n + (x?.registered ?? 0), 0),
        registeredAt: workers.flatMap((w) => w.registeredAt),
        onlineAt: workers.flatMap((w) => w.onlineAt),
        refused: s.reduce((n, x) => n + (x?.refused ?? 0), 0),
        rssBytes: s.reduce((n, x) => n + (x?.rss ?? 0), 0),
        agentRssBytes: s.reduce((n, x) => n + Math.max(0, (x?.rss ?? 0) - (x?.baselineRss ?? 0)), 0),
        agentCpuMs: s.reduce((n, x) => n + (x?.cpuMs ?? 0), 0),
      };
    },
    census: async () => (await Promise.all(workers.map((w, i) => askCensus(w, i)))).flat(),
    stop: () => stopWorkers(workers),
  };
}

function askCensus(w: Worker, i: number): Promise<readonly AgentSnapshot[]> {
  return new Promise((resolve, reject) => {
    if (!w.child.connected) return reject(new Error(`simulator worker ${i + 1} (pid ${w.child.pid ?? '?'}) has exited: its agents' phases cannot be counted`));
    const timer = setTimeout(() => {
      w.onCensus = undefined;
      reject(new Error(`simulator worker ${i + 1} (pid ${w.child.pid ?? '?'}) did not report its agents' phases within 30 s (overloaded or stuck)`));
    }, 30_000);
    w.onCensus = (agents) => {
      clearTimeout(timer);
      resolve(agents);
    };
    w.child.send({ type: 'census' });
  });
}

/** Asks every worker to stop (its agents close their MQTT sessions cleanly); one that has not exited within 15 s is killed. */
export async function stopWorkers(workers: readonly { readonly child: ChildProcess; readonly exited: Promise<void> }[]): Promise<void> {
  await Promise.all(workers.map(async (w) => {
    if (w.child.exitCode !== null || w.child.signalCode !== null) return;
    if (w.child.connected) w.child.send({ type: 'stop' });
    else w.child.kill('SIGTERM');
    const timer = setTimeout(() => w.child.kill('SIGKILL'), 15_000);
    await w.exited;
    clearTimeout(timer);
  }));
}
