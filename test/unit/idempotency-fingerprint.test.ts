/**
 * Idempotency-Key records keep a keyed fingerprint of the request (HMAC-SHA256 with the
 * deployment's key from the secret store), never a plain hash: a request body may carry secret
 * profile variables, and a plain SHA-256 would let anyone who reads the table confirm a guessed
 * value offline. Also: the CDK grants the key to exactly the API groups whose routes take an
 * Idempotency-Key.
 */
import { createHash, createHmac } from 'node:crypto';
import { memoryAdapters } from '../../lambdas/adapters/memory/index.js';
import { API_GROUPS, type ApiGroup } from '../../lambdas/contracts/routes.js';
import { IDEMPOTENCY_KEY_SECRET } from '../../lambdas/contracts/workflows.js';
import type { HttpDeps } from '../../lambdas/handlers/composition-root.js';
import type { SecretStore } from '../../lambdas/ports/workflow.js';
import { composeRoot } from '../../lambdas/handlers/composition-root.js';
import { loadConfig } from '../../lambdas/handlers/config.js';
import { createHttpHandler, route, type ApiEvent, type RouteTable } from '../../lambdas/handlers/http/framework.js';
import { HANDLER_ENV } from '../../lambdas/contracts/routes.js';
import { IDEMPOTENT_GROUPS } from '../../lib/edgefleet-stack.js';
import { z } from 'zod';

const SECRET = 'hunter2-shop-db-password';
const BODY = JSON.stringify({ name: 'shop-1', variables: { DB_PASSWORD: SECRET } });

function setup(key: string | undefined) {
  const m = memoryAdapters();
  if (key !== undefined) void m.secrets.put(IDEMPOTENCY_KEY_SECRET, key);
  const reads: string[] = [];
  const secrets: SecretStore = {
    get: async (n) => { reads.push(n); return m.secrets.get(n); },
    put: (n, v) => m.secrets.put(n, v), ensure: (n, g) => m.secrets.ensure(n, g), delete: (n) => m.secrets.delete(n),
  };
  const begun: string[] = [];
  const idempotency = {
    begin: async (k: string, fingerprint: string, now: Date) => { begun.push(fingerprint); return m.idempotency.begin(k, fingerprint, now); },
    complete: m.idempotency.complete.bind(m.idempotency),
    release: m.idempotency.release.bind(m.idempotency),
  };
  const root = composeRoot(loadConfig({ [HANDLER_ENV.stateTable]: 'state', [HANDLER_ENV.auditTable]: 'audit' }), {
    db: { send: async () => ({}) } as never, publisher: m.publisher, registry: m.registry, workflows: m.workflows, secrets,
  });
  let created = 0;
  const routes: RouteTable = {
    'POST /v1/clusters': route({
      body: z.object({ name: z.string(), variables: z.record(z.string(), z.string()) }), idempotent: true,
      run: async () => ({ status: 202, body: { id: `c-${++created}` } }),
    }),
  };
  const deps: HttpDeps = { ...root.http, idempotency, audit: m.audit, clock: m.clock };
  const handler = createHttpHandler('clusters', routes, () => deps);
  const call = (body: string, idem: string | null = 'retry-key-0001') => handler({
    routeKey: 'POST /v1/clusters', rawPath: '/v1/clusters', headers: { ...(idem ? { 'idempotency-key': idem } : {}), 'content-type': 'application/json' }, body,
    requestContext: { requestId: 'r-1', authorizer: { jwt: { claims: { sub: 'alice', 'edgefleet:roles': 'default:admin' }, scopes: [] } } },
  } as unknown as ApiEvent);
  return { call, begun, reads, created: () => created };
}

const plain = (body: string) => createHash('sha256').update(`POST /v1/clusters\n{}\n${body}`).digest('hex');
const keyed = (key: string, body: string) => createHmac('sha256', key).update(`POST /v1/clusters\n{}\n${body}`).digest('hex');

describe('Idempotency-Key fingerprints are keyed with the deployment secret', () => {
  it('the stored fingerprint is HMAC(key, request), not the plain SHA-256 a table reader could recompute from a guess', async () => {
    const s = setup('k'.repeat(43));
    const first = await s.call(BODY);
    expect(first.statusCode).toBe(202);
    expect(s.begun).toEqual([keyed('k'.repeat(43), BODY)]);
    expect(s.begun[0]).not.toBe(plain(BODY));
  });

  it('a retry with the same key and body replays; a different body under the same key is a 409; the key is read once per process', async () => {
    const s = setup('another-deployment-key');
    expect((await s.call(BODY)).statusCode).toBe(202);
    const replay = await s.call(BODY);
    expect(replay.statusCode).toBe(202);
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    const other = await s.call(BODY.replace(SECRET, 'something-else'));
    expect(other.statusCode).toBe(409);
    expect(JSON.parse(String(other.body)).code).toBe('idempotency-key-reused');
    expect(s.created()).toBe(1);
    expect(s.reads.filter((n) => n === IDEMPOTENCY_KEY_SECRET)).toHaveLength(1);
  });

  it('two deployments fingerprint one request differently', async () => {
    const a = setup('deployment-a-key');
    const b = setup('deployment-b-key');
    await a.call(BODY);
    await b.call(BODY);
    expect(a.begun[0]).not.toBe(b.begun[0]);
  });

  it('without the key the request is refused before anything runs (a deployment error, named), and a request without Idempotency-Key still works', async () => {
    const s = setup(undefined);
    const r = await s.call(BODY);
    expect(r.statusCode).toBe(500);
    expect(s.created()).toBe(0);
    expect(s.begun).toEqual([]);
    expect(JSON.parse(String(r.body)).detail ?? '').not.toContain(SECRET);
    expect((await s.call(BODY, null)).statusCode).toBe(202);
    expect(s.created()).toBe(1);
  });
});

describe('the stack grants the fingerprint key to exactly the groups with idempotent routes', () => {
  it('IDEMPOTENT_GROUPS = the groups whose handler routes take an Idempotency-Key', async () => {
    const groups: ApiGroup[] = [];
    for (const [group, spec] of Object.entries(API_GROUPS) as [ApiGroup, { entry: string }][]) {
      const mod = (await import(`../../${spec.entry.replace(/\.ts$/, '.js')}`)) as { routes?: RouteTable };
      if (Object.values(mod.routes ?? {}).some((r) => r.idempotent)) groups.push(group);
    }
    expect(groups.sort()).toEqual([...IDEMPOTENT_GROUPS].sort());
  });
});
