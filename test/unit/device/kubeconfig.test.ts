import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import type { CommandRunner, RunResult } from '../../../device/command-runner.js';
import { KairosCli } from '../../../device/kairos.js';
import { parseExportKubeconfigParams, rewriteKubeconfigServer } from '../../../device/kubeconfig.js';
import { renderNodeConfig } from '../../../lambdas/domain/node-config.js';
import { SimulatedKairos, SimulatedKubernetes } from '../../../simulator/index.js';
import { agentFixture } from './agent-harness.js';

const K3S_YAML = `apiVersion: v1
clusters:
- cluster:
    certificate-authority-data: LS0tLS1CRUdJTi
    server: https://127.0.0.1:6443
  name: default
contexts:
- context:
    cluster: default
    user: default
  name: default
current-context: default
kind: Config
preferences: {}
users:
- name: default
  user:
    client-certificate-data: LS0tLS1DRVJU
    client-key-data: LS0tLS1LRVk
`;

describe('export-kubeconfig parameters', () => {
  it.each([
    [{ address: '192.0.2.10' }, 'https://192.0.2.10:6443'],
    [{ address: '2001:db8::10' }, 'https://[2001:db8::10]:6443'],
    [{ address: 'api.shop-12.example.com' }, 'https://api.shop-12.example.com:6443'],
    [{ address: 'c-host-1' }, 'https://c-host-1:6443'],
  ])('%j → %s', (params, server) => {
    expect(parseExportKubeconfigParams(params)).toEqual({ server });
  });

  it.each([
    [{}, /address: required/],
    [{ address: 42 }, /address: required/],
    [{ address: 'https://evil:6443/x' }, /not an IP address or a DNS name/],
    [{ address: '--insecure' }, /not an IP address or a DNS name/],
    [{ address: 'a b' }, /not an IP address or a DNS name/],
    [{ address: '192.0.2.10', path: '/etc/shadow' }, /unknown parameter "path"/],
  ])('refuses %j', (params, why) => {
    expect(() => parseExportKubeconfigParams(params as Record<string, string>)).toThrow(why);
  });
});

describe('rewriteKubeconfigServer', () => {
  it('points every cluster at the control-plane address and keeps the credentials', () => {
    const out = parse(rewriteKubeconfigServer(K3S_YAML, 'https://192.0.2.100:6443')) as any;
    expect(out.clusters[0].cluster).toEqual({ 'certificate-authority-data': 'LS0tLS1CRUdJTi', server: 'https://192.0.2.100:6443' });
    expect(out.users[0].user['client-key-data']).toBe('LS0tLS1LRVk');
    expect(out['current-context']).toBe('default');
  });

  it.each([
    ['not YAML', 'a: [1'],
    ['no clusters', 'apiVersion: v1\nkind: Config\n'],
    ['a cluster entry without a cluster section', 'clusters:\n- name: x\n'],
  ])('refuses %s', (_what, text) => {
    expect(() => rewriteKubeconfigServer(text, 'https://a:6443')).toThrow(/admin kubeconfig/);
  });
});

class NoRunner implements CommandRunner {
  async run(): Promise<RunResult> { return { stdout: '', stderr: '' }; }
}

describe('KairosCli.exportKubeconfig reads the admin kubeconfig of a control-plane node only', () => {
  let dir: string;
  beforeEach(async () => { dir = await mkdtemp(join(tmpdir(), 'ef-kubeconfig-')); });
  afterEach(async () => { await rm(dir, { recursive: true, force: true }); });
  const cli = () => new KairosCli(new NoRunner(), {
    runDir: join(dir, 'run'), kairosRelease: join(dir, 'kr'), osRelease: join(dir, 'or'), oemDir: join(dir, 'oem'), grubenv: '/oem/grubenv', adminKubeconfig: join(dir, 'k3s.yaml'), distribution: 'k3s',
  });
  const applied = async (role: 'init' | 'worker') => {
    await mkdir(join(dir, 'oem'), { recursive: true });
    await cli().applyCloudConfig(renderNodeConfig({
      clusterId: 'c-1', clusterName: 'shop', hostId: 'h-1', role, pool: role === 'init' ? 'control-plane' : 'pos', controlPlaneAddress: '192.0.2.10', tokenPlaceholder: 'T',
      layers: [{ type: 'os', pack: 'ubuntu', version: '24.04' }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }],
    }));
  };

  it('returns the file on the init node', async () => {
    await applied('init');
    await writeFile(join(dir, 'k3s.yaml'), K3S_YAML);
    expect(await cli().exportKubeconfig()).toBe(K3S_YAML);
  });

  it('says what to check when the provider wrote none yet', async () => {
    await applied('init');
    await expect(cli().exportKubeconfig()).rejects.toThrow(/cannot read the k3s admin kubeconfig .*ENOENT.*journalctl -u k3s/);
  });

  it('refuses on a worker', async () => {
    await applied('worker');
    await writeFile(join(dir, 'k3s.yaml'), K3S_YAML);
    await expect(cli().exportKubeconfig()).rejects.toThrow(/not a control-plane node/);
  });
});

describe('the export-kubeconfig command on a simulated host', () => {
  const fixture = agentFixture('ef-agent-kubeconfig-', { readyTimeoutMs: 2000 });
  const config = (clusterId: string, role: 'init' | 'worker') => renderNodeConfig({
    clusterId, clusterName: 'shop', hostId: 'host-1', role, pool: role === 'init' ? 'control-plane' : 'pos', controlPlaneAddress: '192.0.2.10', tokenPlaceholder: 'tok',
    layers: [{ type: 'os', pack: 'ubuntu', version: '24.04' }, { type: 'k8s', pack: 'k3s', version: '1.31.2' }],
  });

  it('returns the kubeconfig of what was bootstrapped, on the result only (not in the detail, not recorded)', async () => {
    const k = new SimulatedKairos();
    const a = await fixture.online(k);
    await a.run('b1', 'apply-cloud-config', { cloudConfig: config('c-1', 'init'), mode: 'bootstrap' });
    const r = await a.run('k1', 'export-kubeconfig', { address: '192.0.2.100' });
    expect(r.phases).toEqual(['accepted', 'succeeded']);
    expect(r.detail).toBe('admin kubeconfig exported (server https://192.0.2.100:6443)');
    const result = a.t.results('k1').at(-1);
    const kc = parse(result.kubeconfig as string) as any;
    expect(kc.clusters[0].cluster.server).toBe('https://192.0.2.100:6443');
    expect(kc.clusters[0].cluster['certificate-authority-data']).toBe(k.kubernetes.credentials('c-1').caData);
    // The agent keeps the outcome for a redelivery, without the kubeconfig.
    const stored = await readFile(join(fixture.dir(), 'commands.json'), 'utf8');
    expect(stored).toContain('admin kubeconfig exported');
    expect(stored).not.toContain(kc.users[0].user['client-key-data']);
  });

  it('fails before bootstrap and on a worker, saying where it runs', async () => {
    const a = await fixture.online(new SimulatedKairos());
    expect((await a.run('k2', 'export-kubeconfig', { address: '192.0.2.100' })).detail).toMatch(/not a control-plane node.*init node/);
    await a.run('b2', 'apply-cloud-config', { cloudConfig: config('c-1', 'worker'), mode: 'bootstrap' });
    expect((await a.run('k3', 'export-kubeconfig', { address: '192.0.2.100' })).detail).toBe('this host is a worker; export-kubeconfig runs on the init node');
  });
});

describe('simulated cluster credentials', () => {
  it('are generated per cluster and shared by the cluster\'s control-plane nodes', () => {
    const kube = new SimulatedKubernetes();
    expect(kube.credentials('c-1')).toEqual(kube.credentials('c-1'));
    expect(kube.credentials('c-1').caData).not.toBe(kube.credentials('c-2').caData);
    expect(Buffer.from(kube.credentials('c-1').caData, 'base64').toString()).toMatch(/^-----BEGIN CERTIFICATE-----\n/);
  });
});
