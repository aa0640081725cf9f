import { seedApprovedHosts, startHarness, type Harness } from './harness.js';

let h: Harness;
const project = 'race';
const layers = [{ type: 'os', pack: 'debian', version: '12', image: 'quay.io/kairos/debian:bookworm-standard-amd64-generic-v3.5.0-kubeadmv1.31.2' }, { type: 'k8s', pack: 'kubeadm', version: '1.31.2' }];

beforeAll(async () => {
  h = await startHarness();
  await h.call('POST', '/v1/profiles', { project, body: { name: 'p' } });
  await h.call('POST', '/v1/profiles/p/versions', { project, body: { version: '1.0.0', layers, publish: true } });
});
afterAll(async () => { await h?.stop(); });

const cluster = (name: string, hostIds: string[]) => ({ name, profile: { name: 'p', version: '1.0.0' }, controlPlane: { hostIds } });

describe('races', () => {
  it.each([1, 2, 3])('two clusters racing for one host: exactly one wins, the loser claims nothing (round %i)', async (round) => {
    const shared = `shared-${round}`;
    const [a, b] = [`only-a-${round}`, `only-b-${round}`];
    await seedApprovedHosts(h, project, [shared, a, b]);
    const results = await Promise.all([
      h.call('POST', '/v1/clusters', { project, body: { ...cluster(`a-${round}`, [shared]), workers: [{ name: 'w', hostIds: [a] }] } }),
      h.call('POST', '/v1/clusters', { project, body: { ...cluster(`b-${round}`, [shared]), workers: [{ name: 'w', hostIds: [b] }] } }),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 409]);
    const winner = results.find((r) => r.status === 202)!;
    const loser = results.find((r) => r.status === 409)!;
    expect(loser.body.code).toBe('hosts-unavailable');
    const loserOwnHost = winner.body.name.startsWith('a-') ? b : a;
    expect((await h.call('GET', `/v1/hosts/${loserOwnHost}`, { project })).body.clusterId).toBeUndefined();
    // The winner claimed the shared host (its operation lists it); its workflow then fails on the
    // offline seeded hosts and releases the claim — the loser never held anything.
    const op = (await h.call('GET', `/v1/operations/${winner.body.operationId}`, { project })).body;
    expect(Object.keys(op.hosts).sort()).toEqual([shared, winner.body.name.startsWith('a-') ? a : b].sort());
    const clusters = await h.call('GET', '/v1/clusters?limit=100', { project });
    expect(clusters.body.items.filter((c: { name: string }) => c.name.endsWith(`-${round}`))).toHaveLength(1);
  });

  it('two creates of the same host: one 201, one 409', async () => {
    const results = await Promise.all([1, 2].map(() => h.call('POST', '/v1/hosts', { project, body: { uid: 'twin' } })));
    expect(results.map((r) => r.status).sort()).toEqual([201, 409]);
  });

  it('concurrent updates with the same version: one wins, the other gets 412', async () => {
    await h.call('POST', '/v1/hosts', { project, body: { uid: 'contended' } });
    const results = await Promise.all(['x', 'y'].map((name) => h.call('PATCH', '/v1/hosts/contended', { project, body: { version: 1, name } })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 412]);
    expect((await h.call('GET', '/v1/hosts/contended', { project })).body.version).toBe(2);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first response for a retry and refuses the key for a different request', async () => {
    const headers = { 'idempotency-key': 'retry-1234-abcd' };
    const first = await h.call('POST', '/v1/registration-tokens', { project, headers, body: { name: 'once' } });
    const retry = await h.call('POST', '/v1/registration-tokens', { project, headers, body: { name: 'once' } });
    expect(first.status).toBe(201);
    expect(retry.status).toBe(201);
    expect(retry.body.id).toBe(first.body.id);
    expect(retry.headers.get('idempotent-replayed')).toBe('true');
    const tokens = await h.call('GET', '/v1/registration-tokens?limit=100', { project });
    expect(tokens.body.items.filter((t: { name: string }) => t.name === 'once')).toHaveLength(1);
    const other = await h.call('POST', '/v1/registration-tokens', { project, headers, body: { name: 'different' } });
    expect(other.status).toBe(409);
    expect(other.body.code).toBe('idempotency-key-reused');
  });

  it('concurrent duplicates create one cluster', async () => {
    await seedApprovedHosts(h, project, ['idem-cp']);
    const headers = { 'idempotency-key': 'cluster-create-777' };
    const results = await Promise.all([1, 2].map(() => h.call('POST', '/v1/clusters', { project, headers, body: cluster('idem', ['idem-cp']) })));
    const ok = results.filter((r) => r.status === 202);
    expect(ok.length).toBeGreaterThanOrEqual(1);
    for (const r of results.filter((x) => x.status !== 202)) expect(r.body.code).toBe('idempotency-in-progress');
    const listed = await h.call('GET', '/v1/clusters?limit=100', { project });
    expect(listed.body.items.filter((c: { name: string }) => c.name === 'idem')).toHaveLength(1);
  });
});
