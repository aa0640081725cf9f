/**
 * Shared set-up of the cluster benchmarks: the local runtime, N × 3 simulated hosts (the real
 * agent in this process), a profile, and helpers to drive and time operations.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startSimulatedAgents, type SimulatedFleet, type SimulatedKairosOptions } from '../simulator/index.js';
import { startLocal, type LocalRuntime } from '../local/runtime.js';
import { trackCapacity, type Capacity } from './capacity.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a benchmark reads a few fields of API answers
export type Json = Record<string, any>;

export interface Bench {
  readonly rt: LocalRuntime;
  readonly fleet: SimulatedFleet;
  readonly capacity: Capacity;
  readonly ids: string[];
  api(method: string, p: string, body?: unknown): Promise<{ status: number; body: Json }>;
  /** Polls the operations until each ended; returns them by id. */
  waitAll(ops: string[], timeoutMs: number): Promise<Map<string, Json>>;
  /** Invocations of the IoT rule handlers so far. */
  ruleInvocations(): number;
  stop(): Promise<void>;
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
export const pct = (xs: number[], p: number) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]! : NaN; };

export async function startBench(o: { hosts: number; kairos: SimulatedKairosOptions; timeoutMs: number; hostTimeoutSeconds?: number }): Promise<Bench> {
  const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-sim-'));
  const rt = await startLocal({ port: 0, mqttPort: 0, dataDir, inMemory: true, logLevel: 'CRITICAL', hostTimeoutSeconds: o.hostTimeoutSeconds ?? 600, commandSweepMs: 5000 });
  const capacity = trackCapacity(rt.dynamo);
  const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json' };
  const api = async (method: string, p: string, body?: unknown) => {
    const r = await fetch(`${rt.url}${p}`, { method, headers: auth, ...(body ? { body: JSON.stringify(body) } : {}) });
    return { status: r.status, body: (await r.json().catch(() => undefined)) as Json };
  };
  let fleet: SimulatedFleet | undefined;
  const stop = async () => {
    await fleet?.stop();
    await rt.stop();
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const t = await api('POST', '/v1/registration-tokens', { name: 'bench', autoApprove: true, maxUses: o.hosts });
    fleet = startSimulatedAgents({
      apiUrl: rt.url, registrationToken: t.body.token, project: 'default', count: o.hosts, stateDir: path.join(dataDir, 'sim'), uidPrefix: 'bc',
      kairos: o.kairos, log: () => undefined, readyPollMs: 100,
    });
    const ids = Array.from({ length: o.hosts }, (_, i) => `bc-${i + 1}`);
    const since = Date.now();
    for (;;) {
      let online = 0;
      for (const id of ids) if ((await rt.deps.hosts.get(id))?.presence === 'online') online++;
      if (online === o.hosts) break;
      if (Date.now() - since > o.timeoutMs) throw new Error(`only ${online} of ${o.hosts} simulated hosts came online`);
      await sleep(1000);
    }
    const waitAll = async (ops: string[], timeoutMs: number) => {
      const ended = new Map<string, Json>();
      const started = Date.now();
      while (ended.size < ops.length && Date.now() - started < timeoutMs) {
        for (const id of ops) {
          if (ended.has(id)) continue;
          const op = await rt.deps.operations.get(id);
          if (op && ['succeeded', 'failed', 'cancelled'].includes(op.status)) ended.set(id, op as unknown as Json);
        }
        await sleep(250);
      }
      return ended;
    };
    const ruleInvocations = () => Object.values(rt.iot.ruleStats).reduce((n, s) => n + s.accepted + s.rejected + s.failed, 0);
    return { rt, fleet, capacity, ids, api, waitAll, ruleInvocations, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

/** Resets the counters just before the measured part. */
export function resetCounters(b: Bench): { transitions: number; tasks: number; rules: number } {
  b.capacity.read = 0; b.capacity.write = 0; b.capacity.writeCalls = 0; b.capacity.writesByKind = {}; b.capacity.writeCallsByKind = {};
  return { transitions: b.rt.workflows.stats.stateTransitions, tasks: b.rt.workflows.stats.lambdaInvocations, rules: b.ruleInvocations() };
}
