/**
 * The cluster's kubeconfig end to end on the local runtime: the create's last phase asks the
 * init node (a simulated host running the real agent) for its admin kubeconfig, the results
 * handler moves it into the secret store, and only an admin of the project reads it back
 * (API and CLI). The value never reaches DynamoDB.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse } from 'yaml';
import { runCli } from '../../cli/program.js';
import type { SimulatedFleet } from '../../simulator/index.js';
import { eventually, startFleet, startHarness, type Harness } from './harness.js';

let h: Harness;
let fleet: SimulatedFleet;
let dir: string;
let clusterId: string;
let operationId: string;
const VIP = '10.0.0.10';
const LAYERS = [
  { type: 'os', pack: 'ubuntu', version: '24.04', image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.30.4-k3s1' },
  { type: 'k8s', pack: 'k3s', version: '1.30.4' },
];

beforeAll(async () => {
  h = await startHarness({ hostTimeoutSeconds: 20, commandSweepMs: 300 });
  dir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-kubeconfig-it-'));
  ({ fleet } = await startFleet(h, { count: 2, prefix: 'kc', stateDir: dir, kairos: { rebootDelayMs: 50, k8sReadyDelayMs: 100 } }));
  expect((await h.call('POST', '/v1/profiles', { body: { name: 'kc' } })).status).toBe(201);
  expect((await h.call('POST', '/v1/profiles/kc/versions', { body: { version: '1.0.0', layers: LAYERS, publish: true } })).status).toBe(201);
  const r = await h.call('POST', '/v1/clusters', {
    body: { name: 'kc', profile: { name: 'kc', version: '1.0.0' }, controlPlane: { hostIds: ['kc-1'] }, workers: [{ name: 'pos', hostIds: ['kc-2'] }], vip: VIP },
  });
  expect(r.status).toBe(202);
  ({ id: clusterId, operationId } = r.body as { id: string; operationId: string });
  const op = await eventually('the create ends', async () => {
    const o = await h.call('GET', `/v1/operations/${operationId}`);
    return ['succeeded', 'failed', 'cancelled'].includes(o.body?.status) ? o.body : false;
  }, 90_000, 100);
  expect(op).toMatchObject({ status: 'succeeded' });
}, 150_000);

afterAll(async () => {
  await fleet?.stop();
  await h?.stop();
  rmSync(dir, { recursive: true, force: true });
});

/** Every item of both tables, as one JSON text. */
const everyStoredItem = async (): Promise<string> => (await h.storedItems()).join('\n');

describe('GET /v1/clusters/{id}/kubeconfig', () => {
  it('the create fetched it from the init node as its last phase; the cluster says when', async () => {
    const op = (await h.call('GET', `/v1/operations/${operationId}`)).body;
    expect(op.hosts['kc-1']).toMatchObject({ status: 'succeeded', step: 'export-kubeconfig', detail: expect.stringMatching(/^kubeconfig stored at /) });
    const c = (await h.call('GET', `/v1/clusters/${clusterId}`)).body;
    expect(c.kubeconfigStoredAt).toEqual(expect.any(String));
    expect(fleet.host('kc-1')!.kairos.calls).toContain('export-kubeconfig');
    expect(fleet.host('kc-2')!.kairos.calls).not.toContain('export-kubeconfig');
  });

  it('returns a kubeconfig (application/yaml) to an admin: it parses, its server is the control-plane address, its CA is the cluster\'s', async () => {
    const r = await h.call('GET', `/v1/clusters/${clusterId}/kubeconfig`);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(r.headers.get('cache-control')).toBe('no-store');
    const kc = parse(r.text) as any;
    expect(kc.kind).toBe('Config');
    expect(kc.clusters[0].cluster.server).toBe(`https://${VIP}:6443`);
    expect(kc.clusters[0].cluster['certificate-authority-data']).toBe(fleet.host('kc-1')!.kairos.kubernetes.credentials(clusterId).caData);
    const audit = await h.call('GET', `/v1/audit-events?resource=cluster/${clusterId}&limit=5`);
    expect(audit.body.items.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`)).toContain('cluster.kubeconfig.read:success');
  });

  it('is refused to a viewer (403) and an operator (403), and hidden from another project (404)', async () => {
    for (const role of ['viewer', 'operator']) {
      const r = await h.call('GET', `/v1/clusters/${clusterId}/kubeconfig`, { token: await h.token(`kc-${role}`, [`default:${role}`]) });
      expect(r.status).toBe(403);
      expect(r.text).not.toContain('certificate-authority-data');
    }
    const other = await h.call('GET', `/v1/clusters/${clusterId}/kubeconfig`, { token: await h.token('kc-other', ['other:admin']), project: 'other' });
    expect(other.status).toBe(404);
    expect(other.body).toMatchObject({ code: 'cluster-not-found' });
  });

  it('is in no DynamoDB item (state table, audit table)', async () => {
    const kc = parse((await h.call('GET', `/v1/clusters/${clusterId}/kubeconfig`)).text) as any;
    const key: string = kc.users[0].user['client-key-data'];
    const ca: string = kc.clusters[0].cluster['certificate-authority-data'];
    expect(key.length).toBeGreaterThan(40);
    const items = await everyStoredItem();
    expect(items).toContain(clusterId);
    expect(items).not.toContain(key);
    expect(items).not.toContain(ca);
  });

  it('edgefleet clusters kubeconfig <id> --out writes it with mode 0600; clusters get says it is stored', async () => {
    const env = { HOME: dir, EDGEFLEET_CONFIG: path.join(dir, 'cli.json'), EDGEFLEET_URL: h.rt.url, EDGEFLEET_TOKEN: h.rt.adminToken };
    const run = async (args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const code = await runCli(args, { env, stdout: (s) => out.push(s), stderr: (s) => err.push(s), cwd: dir });
      return { code, stdout: out.join(''), stderr: err.join('') };
    };
    const file = path.join(dir, 'kc.yaml');
    const w = await run(['clusters', 'kubeconfig', clusterId, '--out', file]);
    expect(w).toMatchObject({ code: 0 });
    expect(w.stderr).toMatch(/mode 0600/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, 'utf8')).toBe((await h.call('GET', `/v1/clusters/${clusterId}/kubeconfig`)).text);
    const printed = await run(['clusters', 'kubeconfig', clusterId]);
    expect((parse(printed.stdout) as any).clusters[0].cluster.server).toBe(`https://${VIP}:6443`);
    expect((await run(['clusters', 'get', clusterId])).stdout).toMatch(/Kubeconfig:\s+stored at \S+ \(edgefleet clusters kubeconfig/);
    const viewer = await runCli(['clusters', 'kubeconfig', clusterId], {
      env: { ...env, EDGEFLEET_TOKEN: await h.token('kc-cli-viewer', ['default:viewer']) }, stdout: () => undefined, stderr: () => undefined, cwd: dir,
    });
    expect(viewer).not.toBe(0);
  });

  it('is deleted with the cluster', async () => {
    const secret = `clusters/${clusterId}/kubeconfig`;
    expect(await h.rt.deps.secrets.get(secret)).toEqual(expect.any(String));
    const d = await h.call('DELETE', `/v1/clusters/${clusterId}`);
    expect(d.status).toBe(202);
    await eventually('the delete ends', async () => ((await h.call('GET', `/v1/operations/${d.body.operationId}`)).body?.status === 'succeeded'), 60_000, 100);
    expect(await h.rt.deps.secrets.get(secret)).toBeUndefined();
    expect((await h.call('GET', `/v1/clusters/${clusterId}/kubeconfig`)).status).toBe(404);
  });
});
