/**
 * The whole profile lands on the node (issue 11), end to end on the local runtime: a profile
 * with a CNI chart (calico's tigera-operator), a CSI chart (longhorn) and two add-ons (plain
 * manifests, and the ingress-nginx chart) creates a 3-node cluster that is `running` only once
 * the init node reported every pack ready; a pack that cannot install fails the create, naming
 * it; a reconfigure of an add-on's values (a new profile version, or a new value of the profile
 * variable they use) reaches the node's files and installs that pack again.
 * The simulated hosts install packs only from the files their stages wrote (simulator/).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli } from '../../cli/program.js';
import type { PackStatus } from '../../lambdas/contracts/packs.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;

const IMAGE = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.31.2-k3s1';
const QUOTAS = 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: quotas\n---\napiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: pods\n  namespace: quotas\nspec:\n  hard:\n    pods: "50"\n';
const layers = (ingress: { version?: string; values?: string } = {}) => [
  { type: 'os', pack: 'ubuntu', version: '24.04', image: IMAGE },
  { type: 'k8s', pack: 'k3s', version: '1.31.2' },
  { type: 'cni', pack: 'calico', version: '3.29.1', namespace: 'tigera-operator', values: 'installation:\n  cni:\n    type: Calico\n', chart: { repo: 'https://docs.tigera.io/calico/charts', name: 'tigera-operator', version: 'v3.29.1' } },
  { type: 'csi', pack: 'longhorn', version: '1.7.2', namespace: 'longhorn-system', chart: { repo: 'https://charts.longhorn.io', name: 'longhorn', version: '1.7.2' } },
  { type: 'addon', pack: 'quotas', version: '1.0.0', manifests: QUOTAS },
  {
    type: 'addon', pack: 'ingress-nginx', version: '1.12.0', namespace: 'ingress-nginx', values: ingress.values ?? 'controller:\n  replicaCount: {{ .vars.INGRESS_REPLICAS }}\n',
    chart: { repo: 'https://kubernetes.github.io/ingress-nginx', name: 'ingress-nginx', version: ingress.version ?? '4.12.0' },
  },
];
const PACKS = ['calico', 'longhorn', 'quotas', 'ingress-nginx'];
const VARIABLES = [{ name: 'INGRESS_REPLICAS', type: 'number', required: true, description: 'ingress controller replicas' }];
const VARS = { INGRESS_REPLICAS: 1 };
const MANIFESTS = '/var/lib/rancher/k3s/server/manifests';

/** Every pack list the status handler stored on a cluster, in order. */
const stored: { clusterId: string; packs: readonly PackStatus[]; at: string }[] = [];

beforeAll(async () => {
  h = await startHarness({ hostTimeoutSeconds: 8, commandSweepMs: 300 });
  const clusters = h.rt.iot.deps.clusters!;
  const record = clusters.recordPacks.bind(clusters);
  clusters.recordPacks = async (clusterId, init, packs, at) => {
    const ok = await record(clusterId, init, packs, at);
    if (ok) stored.push({ clusterId, packs: packs.map((p) => ({ ...p })), at });
    return ok;
  };
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-full-stack-it-'));
  ({ fleet } = await startFleet(h, {
    count: 5, prefix: 'fs', stateDir: dir, kairos: { rebootDelayMs: 100, k8sReadyDelayMs: 150, packInstallDelayMs: 400 },
    perHost: (_uid, n) => (n === 5 ? { failures: { packFailure: { quotas: 'admission webhook "quota.example.com" denied the request: pods quota too high' } } } : undefined),
  }));
  expect((await h.call('POST', '/v1/profiles', { body: { name: 'full' } })).status).toBe(201);
  const publish = async (version: string, l: unknown[]) => {
    const r = await h.call('POST', '/v1/profiles/full/versions', { body: { version, layers: l, variables: VARIABLES, publish: true } });
    expect([r.status, r.body?.detail]).toEqual([201, undefined]);
  };
  await publish('1.0.0', layers());
  await publish('1.1.0', layers({ values: 'controller:\n  replicaCount: {{ .vars.INGRESS_REPLICAS }}\n  service:\n    type: NodePort\n' }));
  await publish('1.0.1', layers({ version: '9.9.9' }));
}, 120_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

async function finished(operationId: string, ms = 60_000): Promise<any> {
  return eventually(`operation ${operationId} ends`, async () => {
    const r = await h.call('GET', `/v1/operations/${operationId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(r.body?.status) ? r.body : false;
  }, ms, 100);
}

const files = (id: string) => fleet.host(id)!.kairos.snapshot.files ?? {};
let clusterId = '';

/**
 * Holds `pack`'s install job on the init node (an injected hang) until the control plane has
 * stored it `installing` for the cluster, checks the operation still runs meanwhile (it waits
 * for the packs), then lets the job finish. A transient state is seen however loaded the machine.
 */
async function throughInstalling(pack: string, start: () => Promise<{ id: string; operationId: string }>): Promise<any> {
  const from = stored.length;
  fleet.host('fs-1')!.kairos.setFailures({ packHang: [pack] });
  const { id, operationId } = await start();
  await eventually(`the init node's ${pack} stored as installing`, async () => stored.slice(from).some((s) => s.clusterId === id && s.packs.find((p) => p.name === pack)?.state === 'installing'), 60_000, 50);
  expect((await h.call('GET', `/v1/operations/${operationId}`)).body.status).toBe('running');
  fleet.host('fs-1')!.kairos.setFailures({ packHang: undefined });
  return finished(operationId);
}

describe('a full profile on a 3-node cluster', () => {
  it('create reaches running only after the init node reported every pack ready; the view and the CLI show them', async () => {
    const op = await throughInstalling('longhorn', async () => {
      const r = await h.call('POST', '/v1/clusters', { body: { name: 'full', profile: { name: 'full', version: '1.0.0' }, controlPlane: { hostIds: ['fs-1'] }, workers: [{ name: 'pos', hostIds: ['fs-2', 'fs-3'] }], variables: VARS } });
      expect(r.status).toBe(202);
      clusterId = r.body.id;
      return r.body;
    });
    expect([op.status, op.reason]).toEqual(['succeeded', undefined]);
    // The init node's last step was the wait for the packs, after both workers joined.
    expect(op.hosts['fs-1']).toMatchObject({ status: 'succeeded', step: 'wait-packs', detail: 'every pack ready: calico v3.29.1, longhorn 1.7.2, quotas 1.0.0, ingress-nginx 4.12.0' });
    for (const w of ['fs-2', 'fs-3']) expect(Date.parse(op.hosts[w].at)).toBeLessThanOrEqual(Date.parse(op.hosts['fs-1'].at));
    // The packs went through installing to ready on the init node; every one was ready before the create ended.
    const mine = stored.filter((s) => s.clusterId === clusterId);
    expect(mine.some((s) => s.packs.some((p) => p.name === 'longhorn' && p.state === 'installing'))).toBe(true);
    const allReady = mine.find((s) => PACKS.every((n) => s.packs.find((p) => p.name === n)?.state === 'ready'));
    expect(allReady).toBeDefined();
    expect(Date.parse(allReady!.at)).toBeLessThanOrEqual(Date.parse(op.endedAt));
    const c = (await h.call('GET', `/v1/clusters/${clusterId}`)).body;
    expect(c.status).toBe('running');
    expect(c.packs).toEqual([
      { name: 'calico', type: 'cni', state: 'ready', version: 'v3.29.1' },
      { name: 'longhorn', type: 'csi', state: 'ready', version: '1.7.2' },
      { name: 'quotas', type: 'addon', state: 'ready', version: '1.0.0' },
      { name: 'ingress-nginx', type: 'addon', state: 'ready', version: '4.12.0' },
    ]);
    // What was written: the HelmChart files on the server, none on the workers.
    // The variable's value, filled in on the node.
    expect(files('fs-1')[`${MANIFESTS}/edgefleet-ingress-nginx.yaml`]?.content).toMatch(/kind: HelmChart[\s\S]*replicaCount: "?1"?\n/);
    expect(Object.keys(files('fs-2')).filter((p) => p.startsWith(MANIFESTS))).toEqual([]);
    expect(await fleet.host('fs-2')!.kairos.packs()).toEqual([]);

    const out: string[] = [];
    const code = await runCli(['clusters', 'get', clusterId], {
      env: { HOME: dir, EDGEFLEET_CONFIG: path.join(dir, 'none.json'), EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: h.rt.adminToken },
      stdout: (s) => out.push(s), stderr: () => undefined, cwd: dir,
    });
    expect(code).toBe(0);
    expect(out.join('')).toMatch(/Packs:\s+4\/4 ready/);
    expect(out.join('')).toMatch(/PACK\s+TYPE\s+VERSION\s+STATE\s+REASON\ncalico\s+cni\s+v3.29.1\s+ready[\s\S]*ingress-nginx\s+addon\s+4.12.0\s+ready/);
  }, 90_000);

  it('reconfigure of an add-on\'s values reaches the node and installs that pack again (installing → ready)', async () => {
    const before = fleet.host('fs-1')!.kairos.snapshot.packRecords!;
    const from = stored.length;
    const op = await throughInstalling('ingress-nginx', async () => {
      const r = await h.call('POST', `/v1/clusters/${clusterId}/reconfigure`, { body: { profile: { name: 'full', version: '1.1.0' } } });
      expect(r.status).toBe(202);
      return { id: clusterId, operationId: r.body.operationId };
    });
    expect([op.status, op.reason, op.input.behaviour]).toEqual(['succeeded', undefined, 'reload']);
    expect(op.hosts['fs-1']).toMatchObject({ status: 'succeeded', step: 'wait-packs' });
    expect(files('fs-1')[`${MANIFESTS}/edgefleet-ingress-nginx.yaml`]?.content).toMatch(/type: NodePort/);
    const after = fleet.host('fs-1')!.kairos.snapshot.packRecords!;
    expect(after['ingress-nginx']!.since).toBeGreaterThan(before['ingress-nginx']!.since);
    expect(after.calico).toEqual(before.calico);
    const states = stored.slice(from).filter((s) => s.clusterId === clusterId).map((s) => s.packs.find((p) => p.name === 'ingress-nginx')?.state);
    expect(states).toContain('installing');
    expect(states.at(-1)).toBe('ready');
    await eventually('the cluster view shows every pack ready', async () => {
      const c = (await h.call('GET', `/v1/clusters/${clusterId}`)).body;
      return c.profile.version === '1.1.0' && c.packs?.every((p: PackStatus) => p.state === 'ready');
    });
  }, 90_000);

  it('reconfigure with a new value of the variable the add-on uses reaches the node and the pack status', async () => {
    const before = fleet.host('fs-1')!.kairos.snapshot.packRecords!;
    const from = stored.length;
    const op = await throughInstalling('ingress-nginx', async () => {
      const r = await h.call('POST', `/v1/clusters/${clusterId}/reconfigure`, { body: { variables: { INGRESS_REPLICAS: 3 } } });
      expect(r.status).toBe(202);
      return { id: clusterId, operationId: r.body.operationId };
    });
    expect([op.status, op.reason, op.input.behaviour]).toEqual(['succeeded', undefined, 'reload']);
    expect(files('fs-1')[`${MANIFESTS}/edgefleet-ingress-nginx.yaml`]?.content).toMatch(/replicaCount: "?3"?\n/);
    const after = fleet.host('fs-1')!.kairos.snapshot.packRecords!;
    expect(after['ingress-nginx']!.since).toBeGreaterThan(before['ingress-nginx']!.since);
    expect(after.longhorn).toEqual(before.longhorn);
    const states = stored.slice(from).filter((s) => s.clusterId === clusterId).map((s) => s.packs.find((p) => p.name === 'ingress-nginx')?.state);
    expect(states).toContain('installing');
    expect(states.at(-1)).toBe('ready');
  }, 90_000);
});

describe('a pack that cannot install fails the create, naming it', () => {
  it.each([
    ['a chart version the repository does not have', 'fs-4', '1.0.1', /pack ingress-nginx failed: helm install of ingress-nginx failed: chart ingress-nginx version 9.9.9 not found in https:\/\/kubernetes.github.io\/ingress-nginx/],
    ['an add-on the cluster refuses (injected)', 'fs-5', '1.0.0', /pack quotas failed: admission webhook "quota.example.com" denied the request/],
  ])('%s', async (_name, hostId, version, reason) => {
    const r = await h.call('POST', '/v1/clusters', { body: { name: `bad-${hostId}`, profile: { name: 'full', version }, controlPlane: { hostIds: [hostId] }, variables: VARS } });
    expect(r.status).toBe(202);
    const op = await finished(r.body.operationId);
    expect(op.status).toBe('failed');
    expect(op.step).toBe('packs');
    expect(op.reason).toMatch(reason);
    expect(op.reason).toContain(hostId);
    const c = (await h.call('GET', `/v1/clusters/${r.body.id}`)).body;
    expect(c.status).toBe('failed');
    expect(c.statusReason).toMatch(reason);
  }, 90_000);
});
