/**
 * `npm run bench:api [-- --seconds 15 --connections 32]`: starts the local runtime and drives
 * its HTTP API with autocannon, one route at a time, recording throughput, latency and the
 * DynamoDB capacity units each request consumed (ReturnConsumedCapacity on every call).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import { startLocal } from '../local/runtime.js';
import { trackCapacity } from './capacity.js';

const { values } = parseArgs({ options: { seconds: { type: 'string', default: '15' }, connections: { type: 'string', default: '32' }, seed: { type: 'string', default: '2000' } } });
const seconds = Number(values.seconds);
const connections = Number(values.connections);
const seedCount = Number(values.seed);

const dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-bench-'));
// The handlers' throughput: API Gateway's stage throttle (200/s a route by default) would answer past it with 429.
const rt = await startLocal({ port: 0, dataDir, inMemory: true, logLevel: 'CRITICAL', apiThrottling: false });
const capacity = trackCapacity(rt.dynamo);

const auth = { authorization: `Bearer ${rt.adminToken}`, 'content-type': 'application/json', 'x-edgefleet-project': 'bench' };
try {
  // Seed: hosts spread over 20 sites.
  for (let i = 0; i < seedCount; i += 5000) {
    const hosts = Array.from({ length: Math.min(5000, seedCount - i) }, (_, k) => ({ uid: `seed-${i + k}`, site: `site-${(i + k) % 20}`, tags: { ring: String((i + k) % 4) } }));
    const r = await fetch(`${rt.url}/v1/hosts/batch`, { method: 'POST', headers: auth, body: JSON.stringify({ hosts }) });
    if (!r.ok) throw new Error(`seeding failed: ${r.status} ${await r.text()}`);
  }
  let counter = 0;
  const phases: { name: string; method: 'GET' | 'POST'; path: () => string; body?: () => string; writes?: boolean }[] = [
    { name: 'POST /v1/hosts', method: 'POST', path: () => '/v1/hosts', body: () => JSON.stringify({ uid: `bench-${process.pid}-${counter++}`, site: `site-${counter % 20}` }) },
    { name: 'GET /v1/hosts/{hostId}', method: 'GET', path: () => `/v1/hosts/seed-${Math.floor(Math.random() * seedCount)}` },
    { name: 'GET /v1/hosts?site=&limit=50', method: 'GET', path: () => `/v1/hosts?site=site-${Math.floor(Math.random() * 20)}&limit=50` },
    { name: 'GET /v1/hosts?status=&limit=50', method: 'GET', path: () => '/v1/hosts?status=pre-registered&limit=50' },
    { name: 'GET /v1/hosts?tag=&limit=50', method: 'GET', path: () => `/v1/hosts?tag=ring=${Math.floor(Math.random() * 4)}&limit=50` },
  ];
  const rows: Record<string, unknown>[] = [];
  for (const p of phases) {
    capacity.read = 0; capacity.write = 0;
    const result = await autocannon({
      url: rt.url, connections, duration: seconds, headers: auth,
      requests: [{ method: p.method, setupRequest: (req: autocannon.Request) => ({ ...req, path: p.path(), ...(p.body ? { body: p.body() } : {}) }) }],
    });
    const ok = result['2xx'];
    rows.push({
      route: p.name, requests: result.requests.total, ok, non2xx: result.non2xx, rps: Math.round(result.requests.average),
      p50ms: result.latency.p50, p99ms: result.latency.p99,
      rcuPerReq: ok ? +(capacity.read / ok).toFixed(2) : 0, wcuPerReq: ok ? +(capacity.write / ok).toFixed(2) : 0,
    });
  }
  console.table(rows);
  const outDir = path.join(path.dirname(new URL(import.meta.url).pathname), 'results');
  mkdirSync(outDir, { recursive: true });
  const file = path.join(outDir, `api-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify({ when: new Date().toISOString(), node: process.version, cpus: os.cpus().length, seconds, connections, seedCount, rows }, null, 2));
  console.log(`results written to ${path.relative(process.cwd(), file)}`);
} finally {
  await rt.stop();
  rmSync(dataDir, { recursive: true, force: true });
}
