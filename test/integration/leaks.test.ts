import { API_ROUTES, routeKey } from '../../lambdas/contracts/routes.js';
import { ROUTE_DOCS } from '../../lambdas/contracts/openapi.js';
import { startHarness, type Harness } from './harness.js';

/**
 * Leaks and 5xx (issue 8): no one-time secret in any stored item, tampered cursors are a 400,
 * audit time ranges are bounded. Runs on the real local runtime (DynamoDB Local).
 */
let h: Harness;
const layers = [{ type: 'os', pack: 'ubuntu', version: '24.04', image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.30.4-k3s1' }, { type: 'k8s', pack: 'k3s', version: '1.30.4' }];

const everyStoredItem = (): Promise<string[]> => h.storedItems();

beforeAll(async () => {
  h = await startHarness();
  // Enough of everything that each list has a second page (limit=1).
  for (const n of [1, 2]) {
    await h.call('POST', '/v1/registration-tokens', { body: { name: `t${n}` } });
    await h.call('POST', '/v1/hosts', { body: { uid: `leak-host-${n}`, site: 'shop-1' } });
    await h.call('POST', '/v1/profiles', { body: { name: `prof-${n}` } });
    await h.call('POST', '/v1/profiles/prof-1/versions', { body: { version: `1.0.${n}`, layers } });
  }
});
afterAll(async () => { await h?.stop(); });

describe('registration token secrets are never stored', () => {
  it('an Idempotency-Key record holds no secret; a replay returns the same token without it and says why', async () => {
    const key = 'leak-test-key-0001';
    const first = await h.call('POST', '/v1/registration-tokens', { body: { name: 'idem' }, headers: { 'idempotency-key': key } });
    expect(first.status).toBe(201);
    const secret: string = first.body.token;
    expect(secret).toEqual(expect.any(String));
    const secretPart = secret.split('.').pop()!;
    expect(secretPart.length).toBeGreaterThanOrEqual(20);

    const items = await everyStoredItem();
    expect(items.some((i) => i.includes('idempotency'))).toBe(true);
    expect(items.filter((i) => i.includes(secretPart))).toEqual([]);

    const replay = await h.call('POST', '/v1/registration-tokens', { body: { name: 'idem' }, headers: { 'idempotency-key': key } });
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotent-replayed')).toBe('true');
    expect(replay.body.id).toBe(first.body.id);
    expect(replay.body.token).toBeUndefined();
    expect(replay.headers.get('edgefleet-secret-omitted')).toMatch(/token.*shown only once/i);
    expect(replay.text).not.toContain(secretPart);
  });

  it('no other creating route stores a secret in its idempotency record', async () => {
    const res = await h.call('POST', '/v1/hosts', { body: { uid: 'idem-host' }, headers: { 'idempotency-key': 'leak-test-key-0002' } });
    expect(res.status).toBe(201);
    for (const i of await everyStoredItem()) expect(i).not.toMatch(/"token":"[^"]+\.[^"]{20,}"/);
  });
});

describe('tampered list cursors are a 400 invalid-cursor on every list route', () => {
  /** A list route is one that takes a cursor (its documented query has one). */
  const listRoutes = API_ROUTES.filter((r) => r.method === 'GET' && r.auth === 'jwt' && ROUTE_DOCS[routeKey(r)]?.query?.shape.cursor !== undefined);
  const variants: [string, string][] = [
    ['GET /v1/registration-tokens', '/v1/registration-tokens'],
    ['GET /v1/hosts', '/v1/hosts'],
    ['GET /v1/hosts', '/v1/hosts?site=shop-1'],
    ['GET /v1/hosts', '/v1/hosts?status=pre-registered'],
    ['GET /v1/hosts', '/v1/hosts?health=unhealthy'],
    ['GET /v1/alert-rules', '/v1/alert-rules'],
    ['GET /v1/troubleshoot-grants', '/v1/troubleshoot-grants'],
    ['GET /v1/profiles', '/v1/profiles'],
    ['GET /v1/profiles/{name}/versions', '/v1/profiles/prof-1/versions'],
    ['GET /v1/clusters', '/v1/clusters'],
    ['GET /v1/clusters', '/v1/clusters?health=degraded'],
    ['GET /v1/cluster-templates', '/v1/cluster-templates'],
    ['GET /v1/sites', '/v1/sites'],
    ['GET /v1/operations', '/v1/operations'],
    ['GET /v1/rollouts', '/v1/rollouts'],
    ['GET /v1/rollouts', '/v1/rollouts?status=succeeded'],
    ['GET /v1/rollouts/{rolloutId}/clusters', '/v1/rollouts/{rollout}/clusters'],
    ['GET /v1/rollouts/{rolloutId}/clusters', '/v1/rollouts/{rollout}/clusters?state=failed'],
    ['GET /v1/audit-events', '/v1/audit-events'],
    ['GET /v1/audit-events', '/v1/audit-events?actor=local-admin'],
    ['GET /v1/audit-events', '/v1/audit-events?resource=registration-token/*'],
  ];

  /** Two rollouts (their targets do not exist: each ends at once, with none): lists with more than one page. */
  let rolloutId = '';
  beforeAll(async () => {
    expect((await h.call('POST', '/v1/profiles/prof-1/versions', { body: { version: '2.0.0', layers, publish: true } })).status).toBe(201);
    for (const n of [1, 2]) {
      const r = await h.call('POST', '/v1/rollouts', { body: { targets: { clusterIds: [`c-none-${n}`] }, to: { name: 'prof-1', version: '2.0.0' } } });
      expect(r.status).toBe(202);
      rolloutId = r.body.id;
    }
  });
  const at = (url: string) => url.replace('{rollout}', rolloutId);

  it('the variants cover every list route of the route table', () => {
    expect(new Set(variants.map(([k]) => k))).toEqual(new Set(listRoutes.map(routeKey)));
  });

  const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');
  /** A real cursor of `url`, with its inner state replaced. */
  async function tampered(url: string, s: unknown): Promise<string> {
    const first = await h.call('GET', `${at(url)}${url.includes('?') ? '&' : '?'}limit=1`);
    expect(first.status).toBe(200);
    const real = first.body.nextCursor ?? b64({ f: 'none', s: {} });
    const inner = JSON.parse(Buffer.from(real, 'base64url').toString('utf8'));
    return b64({ ...inner, s });
  }

  const states: [string, unknown][] = [
    ['null', null], ['an empty object', {}], ['an array', [1, 2]], ['a number', 7], ['a string', 'x'],
    ['a key of another partition', { pk: 'HOST#nope', sk: 'HOST', gsi1pk: 'X', gsi1sk: 'Y' }],
    ['a nested object', { pk: { S: 'x' } }],
  ];
  describe.each(variants)('%s (%s)', (_key, url) => {
    const expect400 = async (cursor: string) => {
      const res = await h.call('GET', `${at(url)}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`);
      expect({ status: res.status, code: res.body?.code }).toEqual({ status: 400, code: 'invalid-cursor' });
      expect(res.headers.get('content-type')).toBe('application/problem+json');
    };
    it.each(states)('inner state %s', async (_n, s) => { await expect400(await tampered(url, s)); });
    it('not base64 JSON', async () => { await expect400('!!not-base64!!'); await expect400(b64('just a string')); });
    it('a cursor of another route', async () => {
      const other = await h.call('GET', url.startsWith('/v1/profiles') ? '/v1/registration-tokens?limit=1' : '/v1/profiles?limit=1');
      await expect400(other.body.nextCursor);
    });
    it('a cursor of another project', async () => {
      const first = await h.call('GET', `${at(url)}${url.includes('?') ? '&' : '?'}limit=1`);
      const cursor = first.body.nextCursor ?? b64({ f: 'none', s: { pk: 'x', sk: 'y' } });
      const res = await h.call('GET', `${at(url)}${url.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`, { project: 'other' });
      // A list under a resource of the first project is a 404 there (the resource is not visible).
      expect({ status: res.status, code: res.body?.code }).toEqual(url.startsWith('/v1/profiles/') ? { status: 404, code: 'profile-not-found' }
        : url.startsWith('/v1/rollouts/') ? { status: 404, code: 'rollout-not-found' } : { status: 400, code: 'invalid-cursor' });
    });
  });
});

describe('audit time ranges are bounded', () => {
  it('a since older than the retention is a 400 naming the retention', async () => {
    const res = await h.call('GET', '/v1/audit-events?since=2000-01-01T00:00:00Z');
    expect(res.status).toBe(400);
    expect(res.body.code).toBe('since-beyond-retention');
    expect(res.body.detail).toMatch(/365 days/);
  });

  it('a since within the retention reads a bounded number of days per request and continues with the cursor', async () => {
    const since = new Date(Date.now() - 300 * 86_400_000).toISOString();
    let res = await h.call('GET', `/v1/audit-events?since=${since}&limit=100`);
    expect(res.status).toBe(200);
    const pages = [res];
    while (res.body.nextCursor && pages.length < 20) {
      res = await h.call('GET', `/v1/audit-events?since=${since}&limit=100&cursor=${encodeURIComponent(res.body.nextCursor)}`);
      expect(res.status).toBe(200);
      pages.push(res);
    }
    // 300 days at 31 days per request: 10 requests; every event of today is on the first page.
    expect(pages.length).toBe(10);
    expect(pages[0]!.body.items.length).toBeGreaterThan(0);
    expect(pages.slice(1).every((p) => p.body.items.length === 0)).toBe(true);
    expect(res.body.nextCursor).toBeUndefined();
  });
});
