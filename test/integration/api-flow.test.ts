import { AGENT_CONFIG_PATH } from '../../lambdas/domain/user-data.js';
import { parse } from 'yaml';
import { eventually, seedApprovedHosts, startHarness, type Harness } from './harness.js';

let h: Harness;
beforeAll(async () => { h = await startHarness(); });
afterAll(async () => { await h?.stop(); });

const layers = (k3s = '1.30.4') => [
  { type: 'os', pack: 'ubuntu', version: '24.04', image: `quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv${k3s}-k3s1` },
  { type: 'k8s', pack: 'k3s', version: k3s },
  { type: 'addon', pack: 'metrics-server', version: '0.7.2', values: 'replicas: 1\n', chart: { repo: 'https://kubernetes-sigs.github.io/metrics-server/', name: 'metrics-server', version: '3.12.2' } },
];

describe('registration tokens', () => {
  it('shows the secret once, stores only a hash, lists, revokes idempotently', async () => {
    const created = await h.call('POST', '/v1/registration-tokens', { body: { name: 'shop 12', maxUses: 3, autoApprove: true, site: 'shop-12' } });
    expect(created.status).toBe(201);
    expect(created.body.token).toMatch(/^eft_[a-z0-9]+_[A-Za-z0-9_-]{40,}$/);
    const got = await h.call('GET', `/v1/registration-tokens/${created.body.id}`);
    expect(got.status).toBe(200);
    expect(got.body.token).toBeUndefined();
    expect(got.body.secretHash).toBeUndefined();
    expect(got.body).toMatchObject({ name: 'shop 12', maxUses: 3, uses: 0, autoApprove: true, revoked: false });
    const listed = await h.call('GET', '/v1/registration-tokens?limit=100');
    expect(listed.body.items.map((t: { id: string }) => t.id)).toContain(created.body.id);
    const revoked = await h.call('DELETE', `/v1/registration-tokens/${created.body.id}`);
    expect(revoked.body.revoked).toBe(true);
    expect((await h.call('DELETE', `/v1/registration-tokens/${created.body.id}`)).status).toBe(200);
  });

  it('refuses an expiry in the past', async () => {
    const r = await h.call('POST', '/v1/registration-tokens', { body: { name: 'old', expiresAt: '2001-01-01T00:00:00Z' } });
    expect(r.status).toBe(400);
    expect(r.body.code).toBe('invalid-expiry');
  });

  it('renders user-data only for a usable token of the project', async () => {
    const t = await h.call('POST', '/v1/registration-tokens', { body: { name: 'ud', tags: { region: 'eu' } } });
    const ud = await h.call('POST', '/v1/user-data', { body: { token: t.body.token, site: 'shop-7', tags: { lane: '3' } } });
    expect(ud.status).toBe(200);
    expect(ud.headers.get('content-type')).toMatch(/^text\/cloud-config/);
    expect(ud.text.startsWith('#cloud-config\n')).toBe(true);
    const doc = parse(ud.text);
    const file = doc.stages.boot.flatMap((st: { files?: { path: string }[] }) => st.files ?? []).find((f: { path: string }) => f.path === AGENT_CONFIG_PATH);
    expect(JSON.parse(file.content)).toMatchObject({ apiUrl: h.rt.url, registrationToken: t.body.token, site: 'shop-7', tags: { region: 'eu', lane: '3' } });
    await h.call('DELETE', `/v1/registration-tokens/${t.body.id}`);
    const refused = await h.call('POST', '/v1/user-data', { body: { token: t.body.token, site: 'shop-7' } });
    expect(refused.status).toBe(400);
    expect(refused.body.code).toBe('token-revoked');
  });
});

describe('hosts', () => {
  it('pre-registers, reads, updates with optimistic concurrency and deletes', async () => {
    const c = await h.call('POST', '/v1/hosts', { body: { uid: 'DELL:SN-0001', name: 'till 1', site: 'shop-1', tags: { region: 'eu' } } });
    expect(c.status).toBe(201);
    expect(c.body).toMatchObject({ id: 'dell-sn-0001', uid: 'DELL:SN-0001', status: 'pre-registered', presence: 'offline', version: 1 });
    const dup = await h.call('POST', '/v1/hosts', { body: { uid: 'dell sn 0001'.replace(/ /g, '-') } });
    expect(dup.status).toBe(409);
    expect(dup.body.code).toBe('host-exists');
    const p1 = await h.call('PATCH', '/v1/hosts/dell-sn-0001', { body: { version: 1, name: 'till one' } });
    expect(p1.status).toBe(200);
    expect(p1.body).toMatchObject({ name: 'till one', version: 2 });
    const stale = await h.call('PATCH', '/v1/hosts/dell-sn-0001', { body: { version: 1, name: 'lost update' } });
    expect(stale.status).toBe(412);
    expect(stale.body.code).toBe('version-mismatch');
    expect((await h.call('GET', '/v1/hosts/dell-sn-0001')).body.name).toBe('till one');
    const approve = await h.call('POST', '/v1/hosts/dell-sn-0001/approve', { body: {} });
    expect(approve.status).toBe(409);
    expect(approve.body.code).toBe('host-not-registered');
    expect((await h.call('DELETE', '/v1/hosts/dell-sn-0001')).status).toBe(204);
    expect((await h.call('GET', '/v1/hosts/dell-sn-0001')).status).toBe(404);
  });

  it('imports a batch idempotently and pages through every host exactly once', async () => {
    const hosts = Array.from({ length: 1200 }, (_, i) => ({ uid: `BATCH-${String(i).padStart(5, '0')}`, site: `store-${i % 7}`, tags: { ring: i % 2 ? 'odd' : 'even' } }));
    const project = 'batch';
    const first = await h.call('POST', '/v1/hosts/batch', { project, body: { hosts: [...hosts, { uid: 'batch-00000' }] } });
    expect(first.status).toBe(200);
    expect(first.body.failed).toEqual([expect.objectContaining({ uid: 'batch-00000', code: 'duplicate-in-batch' })]);
    // What did not fit in the function's time (a busy machine) comes back as unprocessed: sent again, never a 5xx.
    let created = first.body.created;
    let left: string[] = first.body.unprocessed;
    for (let round = 0; left.length > 0; round++) {
      expect(round).toBeLessThan(20);
      const next = await h.call('POST', '/v1/hosts/batch', { project, body: { hosts: hosts.filter((x) => left.includes(x.uid)) } });
      expect(next.status).toBe(200);
      created += next.body.created;
      left = next.body.unprocessed;
    }
    expect(created).toBe(1200);
    const again = await h.call('POST', '/v1/hosts/batch', { project, body: { hosts: hosts.slice(0, 100) } });
    expect(again.body).toMatchObject({ created: 0, existing: 100, failed: [] });

    const seen = new Set<string>();
    let cursor: string | undefined;
    let pages = 0;
    do {
      const r = await h.call('GET', `/v1/hosts?limit=100${cursor ? `&cursor=${cursor}` : ''}`, { project });
      expect(r.status).toBe(200);
      expect(r.body.items.length).toBeLessThanOrEqual(100);
      for (const item of r.body.items) { expect(seen.has(item.id)).toBe(false); seen.add(item.id); }
      cursor = r.body.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen.size).toBe(1200);

    const site = await h.call('GET', '/v1/hosts?site=store-3&limit=100', { project });
    expect(site.body.items.every((x: { site: string }) => x.site === 'store-3')).toBe(true);
    const tagged = await h.call('GET', '/v1/hosts?tag=ring=odd&status=pre-registered&limit=100', { project });
    expect(tagged.body.items.length).toBeGreaterThan(0);
    expect(tagged.body.items.every((x: { tags: { ring: string } }) => x.tags.ring === 'odd')).toBe(true);
    const none = await h.call('GET', '/v1/hosts?status=approved', { project });
    expect(none.body.items).toEqual([]);
  });

  it('refuses a cursor from another list', async () => {
    await h.call('POST', '/v1/hosts/batch', { project: 'cursors', body: { hosts: Array.from({ length: 5 }, (_, i) => ({ uid: `cur-${i}` })) } });
    const p = await h.call('GET', '/v1/hosts?limit=2', { project: 'cursors' });
    expect(p.body.nextCursor).toBeDefined();
    const other = await h.call('GET', `/v1/hosts?limit=2&status=pending&cursor=${p.body.nextCursor}`, { project: 'cursors' });
    expect(other.status).toBe(400);
    expect(other.body.code).toBe('invalid-cursor');
  });
});

describe('profiles', () => {
  it('validates layers against the matrix and keeps published versions immutable', async () => {
    expect((await h.call('POST', '/v1/profiles', { body: { name: 'retail', description: 'store edge' } })).status).toBe(201);
    const bad = await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '1.0.0', layers: [{ type: 'os', pack: 'alpine', version: '3.20' }, { type: 'k8s', pack: 'rke2', version: '1.30.2' }] } });
    expect(bad.status).toBe(422);
    expect(bad.body.code).toBe('invalid-layers');
    expect(bad.body.detail).toMatch(/systemd/);
    // The OS image must carry the Kubernetes the k8s layer names (issue 11): refused, naming the layer, nothing stored.
    const mismatch = await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '0.9.0', layers: layers().map((l) => (l.type === 'k8s' ? { ...l, version: '1.31.2' } : l)), publish: true } });
    expect(mismatch.status).toBe(422);
    expect(mismatch.headers.get('content-type')).toMatch(/application\/problem\+json/);
    expect(mismatch.body.code).toBe('image-version-mismatch');
    expect(mismatch.body.errors).toEqual([{ path: 'layers.0.image', message: expect.stringMatching(/layer 0 \(os ubuntu\): image .*k3sv1\.30\.4-k3s1 carries k3s 1\.30\.4, but the k8s layer is k3s 1\.31\.2/) }]);
    const noChart = await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '0.9.0', layers: [...layers(), { type: 'cni', pack: 'calico', version: '3.28.0' }] } });
    expect(noChart.status).toBe(422);
    expect(noChart.body.errors).toContainEqual({ path: 'layers.3.chart', message: expect.stringMatching(/needs a chart or manifests.*k3s ships only flannel/) });
    expect((await h.call('GET', '/v1/profiles/retail/versions/0.9.0')).status).toBe(404);
    const draft = await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '1.0.0', layers: layers() } });
    expect(draft.status).toBe(201);
    expect(draft.body.status).toBe('draft');
    expect(draft.body.layers.map((l: { type: string }) => l.type)).toEqual(['os', 'k8s', 'addon']);
    const pub = await h.call('POST', '/v1/profiles/retail/versions/1.0.0/publish');
    expect(pub.body.status).toBe('published');
    expect((await h.call('POST', '/v1/profiles/retail/versions/1.0.0/publish')).body.code).toBe('profile-version-published');
    const again = await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '1.0.0', layers: layers('1.31.1'), publish: true } });
    expect(again.status).toBe(409);
    await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '1.10.0', layers: layers('1.31.1'), publish: true } });
    await h.call('POST', '/v1/profiles/retail/versions', { body: { version: '1.2.0', layers: layers('1.31.1'), publish: true } });
    expect((await h.call('GET', '/v1/profiles/retail')).body.latestVersion).toBe('1.10.0');
    const versions = await h.call('GET', '/v1/profiles/retail/versions');
    expect(versions.body.items.map((v: { version: string }) => v.version)).toEqual(['1.10.0', '1.2.0', '1.0.0']);
  });
});

describe('clusters', () => {
  beforeAll(async () => {
    await h.call('POST', '/v1/profiles', { project: 'plant', body: { name: 'line' } });
    await h.call('POST', '/v1/profiles/line/versions', { project: 'plant', body: { version: '2.0.0', layers: layers(), publish: true } });
    await seedApprovedHosts(h, 'plant', ['cp-a', 'cp-b', 'cp-c', 'wk-a', 'wk-b']);
    // Connected as far as the control plane knows (no agent answers): the create workflow
    // sends the first node its configuration and waits for it.
    for (const id of ['cp-a', 'cp-b', 'cp-c', 'wk-a', 'wk-b']) await h.rt.iot.deps.presence.apply(id, { presence: 'online', at: Date.now() });
  });

  it('records desired state, claims hosts atomically, and releases them on delete', async () => {
    const body = { name: 'line-1', profile: { name: 'line', version: '2.0.0' }, controlPlane: { hostIds: ['cp-a', 'cp-b', 'cp-c'] }, workers: [{ name: 'pool', hostIds: ['wk-a'] }], vip: '192.0.2.10' };
    const c = await h.call('POST', '/v1/clusters', { project: 'plant', body });
    expect(c.status).toBe(202);
    expect(c.body).toMatchObject({ name: 'line-1', status: 'provisioning', operationId: expect.stringMatching(/^op-/) });
    const op = await eventually('the create workflow waits for the first node', async () => {
      const o = (await h.call('GET', `/v1/operations/${c.body.operationId}`, { project: 'plant' })).body;
      return o?.hosts?.['cp-a']?.commandId ? o : false;
    });
    // These hosts were seeded, not booted: they never reported a running image, so the create
    // repaves them to the profile's image first (preflight, then the verified upgrade) before init.
    expect(op).toMatchObject({ type: 'create-cluster', status: 'running', step: 'repave', target: { type: 'cluster', id: c.body.id } });
    expect(op.hosts['cp-a']).toMatchObject({ step: 'preflight' });
    expect(Object.keys(op.hosts).sort()).toEqual(['cp-a', 'cp-b', 'cp-c', 'wk-a']);
    const members = await h.call('GET', `/v1/hosts?clusterId=${c.body.id}`, { project: 'plant' });
    expect(members.body.items.map((x: { id: string }) => x.id).sort()).toEqual(['cp-a', 'cp-b', 'cp-c', 'wk-a']);
    const sameName = await h.call('POST', '/v1/clusters', { project: 'plant', body: { ...body, controlPlane: { hostIds: ['wk-b'] }, workers: [], vip: undefined } });
    expect(sameName.status).toBe(409);
    expect(sameName.body.code).toBe('cluster-name-taken');
    expect((await h.call('GET', '/v1/hosts/wk-b', { project: 'plant' })).body.clusterId).toBeUndefined();
    const taken = await h.call('POST', '/v1/clusters', { project: 'plant', body: { ...body, name: 'line-2', controlPlane: { hostIds: ['cp-a'] }, workers: [], vip: undefined } });
    expect(taken.status).toBe(409);
    expect(taken.body.detail).toMatch(/cp-a already belongs to cluster/);
    expect((await h.call('DELETE', '/v1/hosts/cp-a', { project: 'plant' })).body.code).toBe('host-in-cluster');

    // Deleting a cluster that is still being created cancels the create and starts the delete
    // (which resets every claimed host; no agent answers here, so it stays running).
    const del = await h.call('DELETE', `/v1/clusters/${c.body.id}`, { project: 'plant' });
    expect(del.status).toBe(202);
    expect(del.body).toMatchObject({ status: 'deleting', activeOperationId: del.body.operationId });
    expect((await h.call('GET', `/v1/operations/${c.body.operationId}`, { project: 'plant' })).body).toMatchObject({ status: 'cancelled', reason: expect.stringMatching(/deleted/) });
    const deleting = await h.call('GET', `/v1/operations/${del.body.operationId}`, { project: 'plant' });
    expect(deleting.body).toMatchObject({ type: 'delete-cluster', target: { type: 'cluster', id: c.body.id } });
    expect(Object.keys(deleting.body.hosts).sort()).toEqual(['cp-a', 'cp-b', 'cp-c', 'wk-a']);
    expect((await h.call('DELETE', `/v1/clusters/${c.body.id}`, { project: 'plant' })).body.operationId).toBe(del.body.operationId);
  });

  it('refuses a draft profile version and hosts that are not approved', async () => {
    await h.call('POST', '/v1/profiles/line/versions', { project: 'plant', body: { version: '2.1.0', layers: layers() } });
    const draft = await h.call('POST', '/v1/clusters', { project: 'plant', body: { name: 'x', profile: { name: 'line', version: '2.1.0' }, controlPlane: { hostIds: ['wk-b'] } } });
    expect(draft.body.code).toBe('profile-version-draft');
    await h.call('POST', '/v1/hosts', { project: 'plant', body: { uid: 'not-yet' } });
    const pending = await h.call('POST', '/v1/clusters', { project: 'plant', body: { name: 'x', profile: { name: 'line', version: '2.0.0' }, controlPlane: { hostIds: ['not-yet'] } } });
    expect(pending.status).toBe(409);
    expect(pending.body.detail).toMatch(/not-yet is pre-registered, not approved/);
  });
});

describe('audit and operations', () => {
  it('records who did what, filterable by resource and actor', async () => {
    const admin2 = await h.token('alice@example.com', ['audit-p:admin']);
    await h.call('POST', '/v1/hosts', { token: admin2, project: 'audit-p', body: { uid: 'audited-1' } });
    await h.call('PATCH', '/v1/hosts/audited-1', { token: admin2, project: 'audit-p', body: { version: 1, name: 'renamed' } });
    const byResource = await h.call('GET', '/v1/audit-events?resource=host/audited-1', { token: admin2, project: 'audit-p' });
    expect(byResource.body.items.map((e: { action: string }) => e.action)).toEqual(['host.update', 'host.create']);
    expect(byResource.body.items[0]).toMatchObject({ actor: 'alice@example.com', outcome: 'success', requestId: expect.any(String) });
    const byActor = await h.call('GET', '/v1/audit-events?actor=alice@example.com', { token: admin2, project: 'audit-p' });
    expect(byActor.body.items).toHaveLength(2);
    const all = await h.call('GET', '/v1/audit-events', { token: admin2, project: 'audit-p' });
    expect(all.body.items).toHaveLength(2);
  });

  it('serves health and a generated OpenAPI document without a token', async () => {
    expect((await h.call('GET', '/healthz', { token: null })).body).toEqual({ status: 'ok' });
    const doc = await h.call('GET', '/v1/openapi.json', { token: null });
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/v1/hosts'].post.requestBody.content['application/json'].schema.properties.uid).toBeDefined();
  });
});
