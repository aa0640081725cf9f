import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';
import { API_GROUPS, API_ROUTES, routeKey } from '../../lib/api-routes.js';
import { ROUTE_DOCS } from '../../lambdas/contracts/openapi.js';
import { LOCAL_AUDIENCE, LOCAL_ISSUER } from '../../local/local-issuer.js';
import { eventually, seedApprovedHosts, startHarness, type Harness } from './harness.js';
import { generateSshKeyPair } from '../../cli/ssh-keys.js';

let h: Harness;
const ids: Record<string, string> = {};
const layers = [{ type: 'os', pack: 'ubuntu', version: '24.04', image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.30.4-k3s1' }, { type: 'k8s', pack: 'k3s', version: '1.30.4' }];

/** Every state-table item (keys + version): a request that "changes nothing" leaves this equal. */
async function stateFingerprint(): Promise<string> {
  const items: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const out = await db().send(new ScanCommand({ TableName: h.rt.deps.config.stateTable, ExclusiveStartKey: start }));
    for (const i of out.Items ?? []) items.push(JSON.stringify(Object.entries(i).sort()));
    start = out.LastEvaluatedKey;
  } while (start);
  return items.sort().join('\n');
}
const db = () => h.rt.dynamo;

const fill = (p: string) => p.replace('{id}', ids.token!).replace('{hostId}', ids.host!).replace('{name}', 'victim-prof')
  .replace('{version}', '1.0.0').replace('{clusterId}', ids.cluster!).replace('{operationId}', ids.operation!).replace('{upgradeId}', ids.operation!).replace('{tunnelId}', 'tunnel-nope')
  .replace('{grantId}', ids.grant!)
  .replace('{templateId}', 'victim-tpl');

const jwtRoutes = API_ROUTES.filter((r) => r.auth === 'jwt');
const bodyRoutes = API_ROUTES.filter((r) => ROUTE_DOCS[routeKey(r)]?.body);
const mutating = jwtRoutes.filter((r) => r.method !== 'GET');

beforeAll(async () => {
  h = await startHarness();
  const t = await h.call('POST', '/v1/registration-tokens', { project: 'victim', body: { name: 'victim token' } });
  ids.token = t.body.id;
  ids.host = (await h.call('POST', '/v1/hosts', { project: 'victim', body: { uid: 'victim-host' } })).body.id;
  ids.grant = (await h.call('POST', '/v1/troubleshoot-grants', { project: 'victim', body: { subject: 'victim-operator' } })).body.id;
  await h.call('POST', '/v1/profiles', { project: 'victim', body: { name: 'victim-prof' } });
  await h.call('POST', '/v1/profiles/victim-prof/versions', { project: 'victim', body: { version: '1.0.0', layers, publish: true } });
  await seedApprovedHosts(h, 'victim', ['victim-cp']);
  const tpl = await h.call('POST', '/v1/cluster-templates', { project: 'victim', body: {
    name: 'victim-tpl', profile: { name: 'victim-prof', version: '1.x' }, topology: { controlPlane: [{ hosts: 1, size: 1 }] }, selector: { site: 'victim-site' },
  } });
  expect(tpl.status).toBe(201);
  const c = await h.call('POST', '/v1/clusters', { project: 'victim', body: { name: 'victim-c', profile: { name: 'victim-prof', version: '1.0.0' }, controlPlane: { hostIds: ['victim-cp'] } } });
  ids.cluster = c.body.id;
  ids.operation = c.body.operationId;
  // Its workflow finds the seeded host offline and ends the create (releasing the claim): let
  // it finish before the tests take their before/after snapshots of the state table.
  await eventually('the victim create ends', async () => {
    const op = await h.rt.deps.operations.get(c.body.operationId);
    return op && !['queued', 'running'].includes(op.status);
  });
  expect(Object.values(ids).every(Boolean)).toBe(true);
  const attacker = await h.token('mallory', ['attacker:admin']);
  await h.call('POST', '/v1/profiles', { token: attacker, project: 'attacker', body: { name: 'p' } });
  await h.call('POST', '/v1/profiles/p/versions', { token: attacker, project: 'attacker', body: { version: '1.0.0', layers, publish: true } });
});
afterAll(async () => { await h?.stop(); });

describe('changes nothing on bad input', () => {
  let before: string;
  beforeAll(async () => { before = await stateFingerprint(); });
  afterAll(async () => { expect(await stateFingerprint()).toBe(before); });

  describe.each(bodyRoutes.map((r) => [routeKey(r), r] as const))('%s', (_k, r) => {
    const call = (c: Parameters<Harness['call']>[2]) => h.call(r.method, fill(r.path), { project: 'victim', ...c });

    it('malformed JSON → 400 malformed-json', async () => {
      const res = await call({ raw: '{"name": "x",' });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(res.body.code).toBe('malformed-json');
    });
    it('wrong types → 400 validation-failed naming the field', async () => {
      const res = await call({ body: { name: 42, uid: ['x'], version: 'one', hosts: 'all', token: 7, site: false, layers: 'none' } });
      expect(res.status).toBe(400);
      expect(res.body.code).toBe('validation-failed');
      expect(res.body.errors.length).toBeGreaterThan(0);
    });
    it('unknown fields → 400 naming them', async () => {
      const res = await call({ body: { surprise: true } });
      expect(res.status).toBe(400);
      expect(JSON.stringify(res.body.errors)).toMatch(/surprise|expected/);
    });
    it('oversized body → 413', async () => {
      const limit = API_GROUPS[r.group].maxBodyBytes;
      const res = await call({ raw: JSON.stringify({ pad: 'x'.repeat(limit + 1) }) });
      expect(res.status).toBe(413);
      expect(res.body.code).toBe('body-too-large');
    });
    it('not JSON → 415', async () => {
      const res = await call({ raw: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
      expect(res.status).toBe(415);
    });
  });

  it.each([
    ['control characters in a name', '/v1/registration-tokens', { name: 'evil\u0000name' }],
    ['bidi override in a name', '/v1/registration-tokens', { name: 'abc\u202Egnp.exe' }],
    ['spaces in a uid', '/v1/hosts', { uid: 'a b' }],
    ['newline injection in a tag', '/v1/hosts', { uid: 'tag-inject', tags: { a: 'b\nevil: true' } }],
    ['a 10 kB uid', '/v1/hosts', { uid: 'x'.repeat(10_000) }],
    ['a path in a profile name', '/v1/profiles', { name: '../../etc/passwd' }],
    ['a script in a site', '/v1/user-data', { token: 'eft_x', site: '<script>alert(1)</script>' }],
    ['a YAML document in an SSH key', '/v1/user-data', { token: 'eft_x', site: 's', sshAuthorizedKeys: ['ssh-ed25519 AAA\nruncmd: [reboot]'] }],
    ['a negative maxUses', '/v1/registration-tokens', { name: 'n', maxUses: -1 }],
    ['a template channel that is not one', '/v1/cluster-templates', { name: 't', profile: { name: 'victim-prof', version: '1.y' }, topology: { controlPlane: [{ hosts: 1, size: 1 }] }, selector: {} }],
    ['a template rule of 3 control-plane nodes for 2 hosts', '/v1/cluster-templates', { name: 't', profile: { name: 'victim-prof', version: '1.x' }, topology: { controlPlane: [{ hosts: 2, size: 3 }] }, selector: {} }],
    ['a template maintenance window at 25:00', '/v1/cluster-templates', { name: 't', profile: { name: 'victim-prof', version: '1.x' }, topology: { controlPlane: [{ hosts: 1, size: 1 }] }, selector: {}, upgradePolicy: { maintenanceWindow: { start: '25:00', durationMinutes: 60 } } }],
    ['a template selector site with a path', '/v1/cluster-templates', { name: 't', profile: { name: 'victim-prof', version: '1.x' }, topology: { controlPlane: [{ hosts: 1, size: 1 }] }, selector: { site: '../x' } }],
    ['a control plane of 2', '/v1/clusters', { name: 'two', profile: { name: 'victim-prof', version: '1.0.0' }, controlPlane: { hostIds: ['a', 'b'] }, vip: '192.0.2.1' }],
  ])('hostile or impossible input: %s → 400', async (_name, p, body) => {
    const res = await h.call('POST', p, { project: 'victim', body });
    expect(res.status).toBe(400);
    expect(res.body.detail).toBeTruthy();
  });

  it.each([
    ['/v1/hosts/..%2F..%2Fetc'], ['/v1/hosts/%00'], ['/v1/hosts/%E0%A4%A'], ['/v1/clusters/c-nope'], ['/v1/operations/op-nope'],
  ])('unknown or hostile ids → 4xx: %s', async (p) => {
    const res = await h.call('GET', p, { project: 'victim' });
    expect([400, 404]).toContain(res.status);
  });

  it('bad query parameters → 400', async () => {
    expect((await h.call('GET', '/v1/hosts?limit=1000', { project: 'victim' })).status).toBe(400);
    expect((await h.call('GET', '/v1/hosts?status=sleeping', { project: 'victim' })).status).toBe(400);
    expect((await h.call('GET', '/v1/hosts?sort=name', { project: 'victim' })).status).toBe(400);
    expect((await h.call('GET', '/v1/hosts?cursor=not-a-cursor', { project: 'victim' })).body.code).toBe('invalid-cursor');
    expect((await h.call('GET', '/v1/hosts', { project: 'Not_A_Project' })).body.code).toBe('invalid-project');
  });

  describe('authentication', () => {
    it.each(jwtRoutes.map((r) => [routeKey(r), r] as const))('%s without a token → 401', async (_k, r) => {
      const res = await h.call(r.method, fill(r.path), { token: null, project: 'victim', body: r.method === 'GET' ? undefined : {} });
      expect(res.status).toBe(401);
    });

    it('refuses an expired token, a token from another key, and a token for another audience', async () => {
      const jwk = JSON.parse(readFileSync(path.join(h.rt.dataDir, 'jwt-key.json'), 'utf8')) as JWK;
      const key = await importJWK(jwk, 'ES256');
      const base = () => new SignJWT({ 'edgefleet:roles': ['*:admin'] }).setProtectedHeader({ alg: 'ES256' }).setSubject('mallory').setIssuedAt(Math.floor(Date.now() / 1000) - 7200);
      const expired = await base().setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key);
      const wrongAud = await base().setIssuer(LOCAL_ISSUER).setAudience('someone-else').setExpirationTime('1h').sign(key);
      const other = await generateKeyPair('ES256');
      const forged = await base().setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE).setExpirationTime('1h').sign(other.privateKey);
      for (const token of [expired, wrongAud, forged, 'not.a.jwt']) {
        expect((await h.call('GET', '/v1/hosts', { token, project: 'victim' })).status).toBe(401);
      }
    });
  });

  describe('authorization', () => {
    it.each(mutating.map((r) => [routeKey(r), r] as const))('%s as a viewer → 403, audited as denied', async (_k, r) => {
      const viewer = await h.token('vera-viewer', ['victim:viewer']);
      const res = await h.call(r.method, fill(r.path), { token: viewer, project: 'victim', body: r.method === 'PATCH' ? { version: 1 } : undefined });
      expect(res.status).toBe(403);
      expect(res.body.code).toBe('forbidden');
      const audit = await h.call('GET', '/v1/audit-events?actor=vera-viewer&limit=1', { project: 'victim' });
      expect(audit.body.items[0]).toMatchObject({ outcome: 'denied', actor: 'vera-viewer' });
    });

    // A site name is a name inside each project: PATCH /v1/sites/{site} sets the caller's own project's setting and
    // addresses nothing of another project (the rollout reads it by project and site).
    it.each(jwtRoutes.filter((r) => r.path.includes('{') && routeKey(r) !== 'PATCH /v1/sites/{site}').map((r) => [routeKey(r), r] as const))(
      "%s on another project's object → 404, nothing revealed", async (_k, r) => {
        // With the remote-shell grant too: the refusal must come from the object, not the permission.
        const attacker = await h.token('mallory', ['attacker:admin', 'attacker:troubleshoot']);
        const body = r.path.endsWith('/versions') && r.method === 'POST' ? { version: '9.9.9', layers }
          : r.path.endsWith('/tunnels') && r.method === 'POST' ? { reason: 'steal a shell', publicKey: generateSshKeyPair('x').publicKey }
          : r.method === 'PATCH' && r.path.startsWith('/v1/cluster-templates') ? { version: 1, description: 'pwned' }
          : r.method === 'PATCH' ? { version: 1, name: 'pwned' }
            : r.path.endsWith('/scale') ? { pool: 'edge', add: ['h-1'] }
              : r.path.endsWith('/reconfigure') ? { profile: { name: 'p', version: '1.0.0' } }
                : r.path.endsWith('/upgrades') ? { to: { version: '1.0.0' } }
                  : r.path.endsWith('/diagnostics') && r.method === 'POST' ? { since: '1h' }
                    : r.path.endsWith('/agent-update') ? { version: '0.1.0' } : undefined;
        const res = await h.call(r.method, fill(r.path), { token: attacker, project: 'attacker', body });
        expect(res.status).toBe(404);
        expect(res.body.detail).toMatch(/does not exist in this project|has no version/);
      });

    it("cannot claim another project's hosts or act in a project without a role", async () => {
      const attacker = await h.token('mallory', ['attacker:admin']);
      const claim = await h.call('POST', '/v1/clusters', { token: attacker, project: 'attacker', body: { name: 'steal', profile: { name: 'p', version: '1.0.0' }, controlPlane: { hostIds: ['victim-cp'] } } });
      expect(claim.status).toBe(409);
      expect(claim.body.detail).toMatch(/does not exist in this project/);
      const cross = await h.call('GET', '/v1/hosts', { token: attacker, project: 'victim' });
      expect(cross.status).toBe(403);
      expect(cross.body.detail).toMatch(/no role in project "victim"/);
    });
  });
});
