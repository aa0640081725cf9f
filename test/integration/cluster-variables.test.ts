/**
 * Profile variables end to end on the local runtime (issue 11): a profile declares variables,
 * a cluster create supplies them (a secret one too), the node's applied cloud-config carries
 * the values (the secret filled in only on the way to the host), the state and audit tables
 * never hold the secret, and a reconfigure with new values only reaches the node.
 */
import { createHash, createHmac } from 'node:crypto';
import { IDEMPOTENCY_KEY_SECRET } from '../../lambdas/contracts/workflows.js';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseAllDocuments } from 'yaml';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;

// Characters that mean something in YAML (": ", " #", braces, "&", "*") but no quote or backslash.
const SECRET = 'p@ss: w0rd #1 {x} &y *z';
const NEW_SECRET = 'second-s3cret: !tag [a]';
const IMG = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const LAYERS = [
  { type: 'os', pack: 'ubuntu', version: '24.04', image: IMG },
  { type: 'k8s', pack: 'k3s', version: '1.31.2', values: 'node-label:\n  - site={{ .vars.SITE }}\n' },
  {
    type: 'addon', pack: 'shop-app', version: '1.0.0', namespace: 'shop',
    chart: { repo: 'https://kubernetes.github.io/ingress-nginx', name: 'ingress-nginx', version: '4.12.0' },
    values: 'replicas: {{ .vars.REPLICAS }}\ndb:\n  password: {{ .vars.DB_PASSWORD }}\n',
  },
];
const VARIABLES = [
  { name: 'SITE', required: true, regex: '[a-z0-9-]+' },
  { name: 'REPLICAS', type: 'number', default: 1 },
  { name: 'DB_PASSWORD', secret: true, required: true },
];

beforeAll(async () => {
  // 15 s: a host step's deadline, which no test here waits for (a service restart under a loaded CI must not miss it).
  h = await startHarness({ hostTimeoutSeconds: 15, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-vars-it-'));
  ({ fleet } = await startFleet(h, { count: 2, prefix: 'va', stateDir: dir, kairos: { rebootDelayMs: 100, k8sReadyDelayMs: 150 } }));
  expect((await h.call('POST', '/v1/profiles', { body: { name: 'shop' } })).status).toBe(201);
  const pv = await h.call('POST', '/v1/profiles/shop/versions', { body: { version: '1.0.0', layers: LAYERS, variables: VARIABLES, publish: true } });
  expect(pv.status).toBe(201);
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function finished(operationId: string): Promise<any> {
  return eventually(`operation ${operationId} ends`, async () => {
    const r = await h.call('GET', `/v1/operations/${operationId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(r.body?.status) ? r.body : false;
  }, 60_000, 100);
}

/** Every item of both tables, as one JSON text. */
const everyStoredItem = async (): Promise<string> => (await h.storedItems()).join('\n');

/** Every key: value of a YAML text, descending into strings that are YAML documents themselves (files, HelmChart values). */
function leaves(text: string, out: [string, unknown][] = []): [string, unknown][] {
  const walk = (v: unknown, key: string): void => {
    if (Array.isArray(v)) v.forEach((x) => walk(x, key));
    else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) walk(x, k);
    else {
      out.push([key, v]);
      if (typeof v === 'string' && v.includes('\n')) {
        for (const d of parseAllDocuments(v)) if (Array.isArray(d) === false && 'errors' in d && d.errors.length === 0) walk(d.toJS(), key);
      }
    }
  };
  for (const d of parseAllDocuments(text)) if ('errors' in d && d.errors.length === 0) walk(d.toJS(), '');
  return out;
}
const applied = (hostId: string) => fleet.host(hostId)!.kairos.snapshot.cloudConfig ?? '';
/** The distinct values of `key` in the applied configuration (the boot and reload stages write the same pack file). */
const valueOf = (hostId: string, key: string) => [...new Set(leaves(applied(hostId)).filter(([k]) => k === key).map(([, v]) => v))];

describe('profile variables', () => {
  let clusterId: string;

  it('create: the values reach the node, the secret only on the host; the tables never hold it; the API masks it', async () => {
    const refused = await h.call('POST', '/v1/clusters', { body: { name: 'shop-1', profile: { name: 'shop', version: '1.0.0' }, controlPlane: { hostIds: ['va-1'] }, variables: { SITE: 'shop-1', NOPE: 1 } } });
    expect(refused.status).toBe(422);
    expect(refused.body.code).toBe('invalid-variables');
    expect(refused.body.errors).toEqual(expect.arrayContaining([
      { path: 'variables.NOPE', message: expect.stringMatching(/NOPE is not declared/) },
      { path: 'variables.DB_PASSWORD', message: expect.stringMatching(/DB_PASSWORD is required/) },
    ]));

    const createBody = { name: 'shop-1', profile: { name: 'shop', version: '1.0.0' }, controlPlane: { hostIds: ['va-1'] }, variables: { SITE: 'shop-1', REPLICAS: 2, DB_PASSWORD: SECRET } };
    const r = await h.call('POST', '/v1/clusters', { headers: { 'idempotency-key': 'create-shop-1-with-vars' }, body: createBody });
    expect(r.status).toBe(202);
    clusterId = r.body.id;
    expect(r.body.variables).toEqual({ SITE: 'shop-1', REPLICAS: 2, DB_PASSWORD: '********' });
    const created = await finished(r.body.operationId);
    expect(created.reason ?? '').toBe('');
    expect(created.status).toBe('succeeded');

    expect(valueOf('va-1', 'password')).toEqual([SECRET]);
    expect(valueOf('va-1', 'replicas')).toEqual([2]);
    expect(applied('va-1')).toContain('site=shop-1');
    expect(applied('va-1')).not.toContain('@@EDGEFLEET_SECRET_');

    const stored = await everyStoredItem();
    expect(stored).toContain('@@EDGEFLEET_SECRET_VAR_DB_PASSWORD@@'); // the stored command holds the placeholder…
    expect(stored).not.toContain(SECRET); // …and no item of either table the value
    // The Idempotency-Key record keeps a keyed fingerprint: the plain SHA-256 of the request,
    // which a table reader could recompute from a guessed password, is in no item.
    const request = `POST /v1/clusters\n{}\n${JSON.stringify(createBody)}`;
    expect(stored).not.toContain(createHash('sha256').update(request).digest('hex'));
    expect(stored).toContain(createHmac('sha256', (await h.rt.deps.secrets.get(IDEMPOTENCY_KEY_SECRET))!).update(request).digest('hex'));
    const got = await h.call('GET', `/v1/clusters/${clusterId}`);
    expect(got.body).toMatchObject({ variables: { SITE: 'shop-1', REPLICAS: 2, DB_PASSWORD: '********' }, secretVariables: ['DB_PASSWORD'] });
    expect(got.text).not.toContain(SECRET);
  }, 120_000);

  it('reconfigure with new values only: classified as a reload, reaches the node, the cluster keeps the new values', async () => {
    const r = await h.call('POST', `/v1/clusters/${clusterId}/reconfigure`, { body: { variables: { REPLICAS: 3, DB_PASSWORD: NEW_SECRET } } });
    expect(r.status).toBe(202);
    const op = await finished(r.body.operationId);
    expect(op.reason ?? '').toBe('');
    expect(op).toMatchObject({ status: 'succeeded', input: { behaviour: 'reload', variables: { changed: ['DB_PASSWORD', 'REPLICAS'] } } });
    expect(op.input.changes.map((c: { layer: string }) => c.layer)).toEqual(['addon:shop-app']);
    expect(valueOf('va-1', 'password')).toEqual([NEW_SECRET]);
    expect(valueOf('va-1', 'replicas')).toEqual([3]);
    expect((await h.call('GET', `/v1/clusters/${clusterId}`)).body.variables).toEqual({ SITE: 'shop-1', REPLICAS: 3, DB_PASSWORD: '********' });
    const stored = await everyStoredItem();
    expect(stored).not.toContain(NEW_SECRET);
    expect(stored).not.toContain(SECRET);

    const restart = await h.call('POST', `/v1/clusters/${clusterId}/reconfigure`, { body: { variables: { SITE: 'shop-1b' } } });
    const op2 = await finished(restart.body.operationId);
    expect(op2.reason ?? '').toBe('');
    expect(op2).toMatchObject({ status: 'succeeded', input: { behaviour: 'service-restart', variables: { changed: ['SITE'] } } });
    expect(applied('va-1')).toContain('site=shop-1b');
    expect(valueOf('va-1', 'password')).toEqual([NEW_SECRET]);
  }, 120_000);
});
