import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { startSimulatedAgents, type SimulatedFleet, type SimulatedFleetOptions } from '../../simulator/index.js';
import { sdkTransportFactory } from '../../device/transport-sdk.js';
import { startLocal, type LocalOptions, type LocalRuntime } from '../../local/runtime.js';
import { CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';
import { ephemeralLow, stablePort } from '../../local/stable-port.js';

export interface Call {
  readonly token?: string | null;
  readonly body?: unknown;
  readonly raw?: string;
  readonly project?: string;
  readonly headers?: Record<string, string>;
}

export interface Reply {
  readonly status: number;
  readonly body: any;
  readonly text: string;
  readonly headers: Headers;
}

export interface Harness {
  readonly rt: LocalRuntime;
  call(method: string, p: string, c?: Call): Promise<Reply>;
  /** Signs a token for `subject` with `roles` like `default:viewer`. */
  token(subject: string, roles: string[]): Promise<string>;
  /** Every item of the state and audit tables, as JSON text: what anyone with table read access sees. */
  storedItems(): Promise<string[]>;
  /** Stops the runtime; the data dir is removed unless `keepData` (a restart test starts again on it). */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

/** Starts the real local runtime (DynamoDB Local in memory, API on a free loopback port). */
export async function startHarness(options: Partial<LocalOptions> = {}): Promise<Harness> {
  const dataDir = options.dataDir ?? mkdtempSync(path.join(os.tmpdir(), 'edgefleet-it-'));
  const rt = await startLocal({
    port: 0, inMemory: true, logLevel: 'CRITICAL',
    // Tests bound a host step at seconds instead of the product's 30 minutes; Lambda's retry of
    // a timed-out asynchronous invocation (60 s, then 120 s) is compressed with them, or one
    // result handler timing out on a loaded machine outlives the test's deadline.
    asyncRetryScale: 0.05,
    templateCache: CHECKOUT_TEMPLATE_CACHE,
    ...options, dataDir,
  });
  return {
    rt,
    async call(method, p, c = {}) {
      const headers: Record<string, string> = { ...(c.headers ?? {}) };
      const token = c.token === undefined ? rt.adminToken : c.token;
      if (token) headers.authorization = `Bearer ${token}`;
      if (c.project) headers['x-edgefleet-project'] = c.project;
      let body: string | undefined = c.raw;
      if (c.body !== undefined) body = JSON.stringify(c.body);
      if (body !== undefined) headers['content-type'] ??= 'application/json';
      const res = await fetch(`${rt.url}${p}`, { method, headers, body });
      const text = await res.text();
      let parsed: unknown;
      try { parsed = text ? JSON.parse(text) : undefined; } catch { parsed = undefined; }
      return { status: res.status, body: parsed, text, headers: res.headers };
    },
    token: (subject, roles) => rt.issuer.sign(subject, roles, 3600),
    async storedItems() {
      const out: string[] = [];
      for (const table of [rt.deps.config.stateTable, rt.deps.config.auditTable]) {
        let start: Record<string, unknown> | undefined;
        do {
          const page = await rt.dynamo.send(new ScanCommand({ TableName: table, ExclusiveStartKey: start }));
          for (const i of page.Items ?? []) out.push(JSON.stringify(i));
          start = page.LastEvaluatedKey;
        } while (start);
      }
      return out;
    },
    async stop(opts = {}) {
      await rt.stop();
      if (!opts.keepData) rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** Creates hosts directly in the approved state (the device registration path arrives later). */
export async function seedApprovedHosts(h: Harness, project: string, ids: string[]): Promise<void> {
  const now = new Date().toISOString();
  for (const id of ids) {
    const ok = await h.rt.deps.hosts.create({ id, uid: id.toUpperCase(), project, tags: {}, status: 'approved', version: 1, createdAt: now, updatedAt: now, approvedAt: now });
    if (!ok) throw new Error(`seed host ${id} exists`);
  }
}

/** Polls `probe` until it returns something truthy (the value is returned) or `ms` pass. */
export async function eventually<T>(what: string, probe: () => Promise<T | undefined | false>, ms = 20_000, everyMs = 50): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/**
 * A free loopback port for a runtime that must come back on the same ports after a restart:
 * below the kernel's ephemeral range (stable-port.ts), where no outgoing connection of the
 * machine can take it while the runtime is stopped (a CI run saw the restart fail with the MQTT
 * port "already in use" when it came from listen(0)), and in a slice of its own per jest worker,
 * so that two suites running side by side never pick the same one.
 */
export function freePort(): Promise<number> {
  const worker = Number(process.env.JEST_WORKER_ID ?? 1);
  // [10000, 20000): DynamoDB Local's ports are chosen from 20000 up (local/dynamodb-local.ts).
  const from = 10_000 + ((worker - 1) % 8) * 1250;
  return stablePort({ from, to: Math.min(from + 1250, ephemeralLow()) });
}

/**
 * Simulated hosts running the real agent against the harness, registered with an
 * auto-approving token; resolves once every one is online. Reconnects are quick so that a
 * restarted runtime sees them again within a second or two.
 */
export async function startFleet(h: Harness, o: { count: number; prefix: string; stateDir: string } & Partial<SimulatedFleetOptions>): Promise<{ fleet: SimulatedFleet; ids: string[] }> {
  const t = await h.call('POST', '/v1/registration-tokens', { body: { name: `fleet-${o.prefix}`, autoApprove: true, maxUses: o.count * 4 } });
  const { count, prefix, stateDir, ...rest } = o;
  const fleet = startSimulatedAgents({
    apiUrl: h.rt.url, registrationToken: t.body.token, project: 'default', count, stateDir, uidPrefix: prefix,
    checkIntervalMs: 100, readyPollMs: 50,
    transportFactory: (settings) => sdkTransportFactory({ ...settings, minReconnectMs: 200, maxReconnectMs: 1000 }),
    ...rest,
  });
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i + 1}`);
  try {
    await eventually('all simulated hosts online', async () => {
      for (const id of ids) if ((await h.rt.deps.hosts.get(id))?.presence !== 'online') return false;
      return true;
    }, 60_000);
  } catch (e) {
    // The caller never gets the fleet to stop: stop it here, or its agents keep the test process alive.
    await fleet.stop();
    throw e;
  }
  return { fleet, ids };
}
