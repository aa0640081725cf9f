/** Profile variables on create and reconfigure (issue 11), on the in-memory adapters: what is stored where, what is refused. */
import type { HostRecord } from '../../../lambdas/domain/model.js';
import type { Layer, ProfileVariable } from '../../../lambdas/domain/profile.js';
import { reconfigureCluster } from '../../../lambdas/use-cases/cluster-operations.js';
import { createCluster } from '../../../lambdas/use-cases/clusters.js';
import { startUpgrade } from '../../../lambdas/use-cases/upgrades.js';
import { upgradeFinishChanges } from '../../../lambdas/use-cases/workflows/upgrade-steps.js';
import { ADMIN, BASE, CLUSTER_ID, PROJECT, REPAVE, T0, world, type World } from './world.js';

const VARS: ProfileVariable[] = [
  { name: 'SITE', required: true, regex: '[a-z0-9-]+' },
  { name: 'REPLICAS', type: 'number', default: 1 },
  { name: 'PASSWORD', secret: true, required: true },
];
const APP: Layer = { type: 'addon', pack: 'app', version: '1.0.0', chart: { repo: 'https://charts.example.com', name: 'app', version: '1.0.0' }, values: 'replicas: {{ .vars.REPLICAS }}\npassword: {{ .vars.PASSWORD }}\n' };
const WITH_VARS: Layer[] = [...BASE.map((l) => (l.type === 'k8s' ? { ...l, values: 'node-label:\n  - site={{ .vars.SITE }}\n' } : l)), APP];
const SECRET = 'Tr0ub4dor&3-horse';

async function withVariables(): Promise<World> {
  const w = await world();
  await w.profiles.createVersion({ name: 'edge', project: PROJECT, version: '1.5.0', layers: WITH_VARS, variables: VARS, status: 'published', publishedAt: T0, createdAt: T0, createdBy: 'alice' }, { setLatest: true });
  for (const id of ['h8', 'h9']) {
    const h: HostRecord = { id, uid: id, project: PROJECT, tags: {}, status: 'approved', version: 1, createdAt: T0, updatedAt: T0 };
    await w.hosts.create(h);
  }
  return w;
}
const body = (variables: Record<string, string | number | boolean>) => ({ name: 'shop-9', profile: { name: 'edge', version: '1.5.0' }, controlPlane: { hostIds: ['h9'] }, variables });

describe('createCluster with variables', () => {
  it('keeps non-secret values on the cluster, secret ones only in the secret store (by name on the cluster)', async () => {
    const w = await withVariables();
    const c = await createCluster(w.deps, ADMIN, body({ SITE: 'shop-9', REPLICAS: '3', PASSWORD: SECRET }));
    expect(c).toMatchObject({ variables: { SITE: 'shop-9', REPLICAS: 3 }, secretVariables: ['PASSWORD'] });
    expect(w.secrets.secrets.get(`clusters/${c.id}/vars/PASSWORD`)).toBe(SECRET);
    // Nowhere else: the cluster, the operation, the audit trail.
    const stored = JSON.stringify([await w.clusters.get(c.id), await w.operations.get(c.operationId), await w.audit.list(PROJECT, {}, { limit: 100 })]);
    expect(stored).not.toContain(SECRET);
  });

  it.each([
    ['an unknown variable', { SITE: 'a', PASSWORD: 'p', NOPE: 1 }, 'variables.NOPE'],
    ['a required one missing', { PASSWORD: 'p' }, 'variables.SITE'],
    ['a value off its regex', { SITE: 'Shop 9', PASSWORD: 'p' }, 'variables.SITE'],
  ])('refuses %s with invalid-variables (422), naming it, and changes nothing', async (_label, variables, path) => {
    const w = await withVariables();
    const err = await createCluster(w.deps, ADMIN, body(variables)).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unprocessable', code: 'invalid-variables', errors: expect.arrayContaining([expect.objectContaining({ path })]) });
    expect(w.secrets.secrets.size).toBe(0);
    expect((await w.hosts.get('h9'))?.clusterId).toBeUndefined();
  });
});

describe('reconfigureCluster with variables', () => {
  async function running(): Promise<World> {
    const w = await withVariables();
    const c = await w.clusters.get(CLUSTER_ID);
    w.state.clusters.set(CLUSTER_ID, { ...c!, profile: { name: 'edge', version: '1.5.0' }, variables: { SITE: 'shop', REPLICAS: 1 }, secretVariables: ['PASSWORD'] });
    return w;
  }

  it.each([
    ['an add-on value → reload', { REPLICAS: 4 }, 'reload', ['REPLICAS'], ['addon:app']],
    ['a k8s value → service restart', { SITE: 'shop-2' }, 'service-restart', ['SITE'], ['k8s:k3s']],
    ['a new secret → reload of the layer using it', { PASSWORD: 'n3w-secret' }, 'reload', ['PASSWORD'], ['addon:app']],
  ] as const)('new values without a new profile version: %s', async (_label, variables, behaviour, changed, layers) => {
    const w = await running();
    const out = await reconfigureCluster(w.deps, ADMIN, CLUSTER_ID, { variables });
    const op = await w.operations.get(out.operationId);
    expect(op).toMatchObject({ type: 'reconfigure', input: { profile: { name: 'edge', version: '1.5.0' }, behaviour, variables: { changed } } });
    expect(op?.type === 'reconfigure' && op.input.changes.map((c) => c.layer)).toEqual(layers);
    expect(JSON.stringify(op)).not.toContain('n3w-secret');
    if ('PASSWORD' in variables) expect(w.secrets.secrets.get(`clusters/${CLUSTER_ID}/vars/PASSWORD`)).toBe('n3w-secret');
    // The audit names the variables, never a value.
    const events = await w.audit.list(PROJECT, {}, { limit: 10 });
    expect(JSON.stringify(events)).toContain(`variables ${changed.join(', ')}`);
    expect(JSON.stringify(events)).not.toContain('n3w-secret');
  });

  it('refuses a variable the profile version does not declare (422) and starts nothing', async () => {
    const w = await running();
    await expect(reconfigureCluster(w.deps, ADMIN, CLUSTER_ID, { variables: { NOPE: 'x' } })).rejects.toMatchObject({ kind: 'unprocessable', code: 'invalid-variables' });
    expect(w.workflows.started).toEqual([]);
  });
});

describe('startUpgrade with variables', () => {
  /** The cluster runs 1.0.0 (no variables); 2.5.0 repaves and adds an app that needs SITE and PASSWORD. */
  async function withNewRequirements(): Promise<World> {
    const w = await world();
    await w.profiles.createVersion({ name: 'edge', project: PROJECT, version: '2.5.0', layers: [...REPAVE, APP], variables: VARS, status: 'published', publishedAt: T0, createdAt: T0, createdBy: 'alice' }, { setLatest: true });
    return w;
  }
  const upgrade = (w: World, variables?: Record<string, string | number | boolean>) =>
    startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.5.0' }, acknowledgeDowntime: true, ...(variables ? { variables } : {}) });

  it('a version that newly requires variables is refused without their values (422 naming each), and nothing is started or stored', async () => {
    const w = await withNewRequirements();
    const err = await upgrade(w).catch((e: unknown) => e);
    expect(err).toMatchObject({ kind: 'unprocessable', code: 'invalid-variables' });
    expect((err as { errors: { path: string }[] }).errors.map((e) => e.path).sort()).toEqual(['variables.PASSWORD', 'variables.SITE']);
    expect(w.workflows.started).toHaveLength(0);
    expect((await w.clusters.get(CLUSTER_ID))?.status).toBe('running');
  });

  it('with them: the upgrade carries the values (secret ones by name; the value in the secret store only) and the cluster takes them when it succeeds', async () => {
    const w = await withNewRequirements();
    const op = await upgrade(w, { SITE: 'shop-1', PASSWORD: SECRET });
    expect(op.type === 'upgrade-cluster' && op.input.variables).toEqual({ values: { SITE: 'shop-1' }, secrets: ['PASSWORD'], changed: ['PASSWORD', 'SITE'] });
    expect(w.secrets.secrets.get(`clusters/${CLUSTER_ID}/vars/PASSWORD`)).toBe(SECRET);
    expect(JSON.stringify([await w.operations.get(op.id), await w.clusters.get(CLUSTER_ID), await w.audit.list(PROJECT, {}, { limit: 100 })])).not.toContain(SECRET);
    expect(op.type === 'upgrade-cluster' && upgradeFinishChanges(op)).toMatchObject({ profile: { version: '2.5.0' }, variables: { SITE: 'shop-1' }, secretVariables: ['PASSWORD'] });
  });

  it('an upgrade without variables carries none, and finishing it leaves the cluster\'s values as they are', async () => {
    const w = await world();
    const op = await startUpgrade(w.deps, ADMIN, CLUSTER_ID, { to: { version: '2.0.0' }, acknowledgeDowntime: true });
    expect(op.type === 'upgrade-cluster' && op.input.variables).toBeUndefined();
    expect(op.type === 'upgrade-cluster' && upgradeFinishChanges(op)).not.toHaveProperty('variables');
  });
});
