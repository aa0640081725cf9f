import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bundleManifest } from '../../../lambdas/contracts/diagnostics.js';
import { AllowListRunner, CommandFailed, type CommandRunner } from '../../../device/command-runner.js';
import { collectBundle, type DiagnosticsSource } from '../../../device/diagnostics/collect.js';
import { diagnosticItems, registryOf, type HostFacts } from '../../../device/diagnostics/plan.js';
import { parseCollectParams } from '../../../device/diagnostics/run-diagnostics.js';
import { tarGz } from '../../../device/diagnostics/tar.js';
import { InvalidParameter } from '../../../device/kubernetes.js';
import { readTarGz } from '../../../cli/bundle-reader.js';

/** One of each secret kind the redaction knows, planted in what the host prints. */
const SECRETS = {
  k3sToken: `K10${'b2'.repeat(32)}::server:0123456789abcdef0123456789abcdef`,
  joinToken: 'cluster-join-secret-value',
  pemBody: 'MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7',
  clientKey: 'LS0tLS1CRUdJTiBQUklWQVRFIEtFWS0tLS0tCk1JSUV2',
  kubeToken: 'kube-sa-token-0123456789',
  password: 'registry-p4ss',
  bearer: 'opaqueBearerValue0123456789',
  awsKeyId: 'AKIAIOSFODNN7EXAMPLE',
  awsSecret: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

const JOURNAL = [
  `Nov 30 k3s[1]: starting with --token=${SECRETS.k3sToken}`,
  `Nov 30 k3s[1]: cluster_token: ${SECRETS.joinToken}`,
  `Nov 30 k3s[1]: Authorization: Bearer ${SECRETS.bearer}`,
  `Nov 30 k3s[1]: env AWS_ACCESS_KEY_ID=${SECRETS.awsKeyId} aws_secret_access_key=${SECRETS.awsSecret}`,
].join('\n');
const KUBE_OUT = `apiVersion: v1\nusers:\n- user:\n    client-key-data: ${SECRETS.clientKey}\n    token: ${SECRETS.kubeToken}\n`;
const RELEASE = 'KAIROS_VERSION="v3.4.2"\nKAIROS_IMAGE_REPO="quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1"\n';
const NODE_JSON = '{"clusterId":"c1","controlPlaneAddress":"10.0.0.10","role":"init"}';

const FACTS: HostFacts = { distribution: 'k3s', role: 'init', nodeName: 'shop-1', controlPlaneAddress: '10.0.0.10', registry: { host: 'quay.io', port: 443 } };

/** A host whose programs print the planted secrets; `ip route` fails; the registry does not answer. */
function plantedHost(extra: Partial<Record<string, string>> = {}): DiagnosticsSource & { ran: string[] } {
  const ran: string[] = [];
  const inner: CommandRunner = {
    async run(file, args) {
      ran.push([file, ...args].join(' '));
      if (file === 'journalctl') return { stdout: extra.journal ?? JOURNAL, stderr: '' };
      if (file === 'kubectl') return { stdout: KUBE_OUT, stderr: '' };
      if (file === 'ip' && args[0] === 'route') throw new CommandFailed(file, args, 2, `RTNETLINK answers: password: ${SECRETS.password}`, false);
      if (file === 'kairos-agent') return { stdout: `boot: active_boot\n-----BEGIN PRIVATE KEY-----\n${SECRETS.pemBody}\n-----END PRIVATE KEY-----\n`, stderr: '' };
      return { stdout: `${file} ${args.join(' ')} ok\n`, stderr: '' };
    },
  };
  return {
    ran,
    runner: new AllowListRunner(inner),
    async readFile(p) {
      if (p === '/etc/kairos-release') return RELEASE;
      if (p === '/etc/edgefleet/node.json') return NODE_JSON;
      if (p === '/etc/resolv.conf') return 'nameserver 10.0.0.1\n';
      return `${p} contents\n`;
    },
    async connect(host, port) {
      if (host === '10.0.0.10' && port === 6443) return;
      throw new Error('ETIMEDOUT');
    },
    async facts() { return FACTS; },
  };
}

const SINCE = new Date('2026-11-30T11:00:00Z');
let clock = Date.parse('2026-11-30T12:00:00Z');
const now = () => (clock += 7);

describe('collectBundle', () => {
  it('collects every planned item, redacts each secret kind, and packs a tar.gz any tar reads', async () => {
    const host = plantedHost();
    const bundle = await collectBundle(host, { hostId: 'shop-1', commandId: 'diag-x', since: SINCE, maxBytes: 1024 * 1024, now });
    expect(bundle.sha256).toBe(createHash('sha256').update(bundle.tgz).digest('hex'));

    // Read back with node:zlib and a tar reader, and with the system's tar.
    const files = readTarGz(bundle.tgz);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'diag-unit-'));
    try {
      writeFileSync(path.join(dir, 'b.tgz'), bundle.tgz);
      const listed = execFileSync('tar', ['-tzf', path.join(dir, 'b.tgz')], { encoding: 'utf8' }).trim().split('\n');
      expect(listed).toEqual([...files.keys()]);
      execFileSync('tar', ['-xzf', path.join(dir, 'b.tgz'), '-C', dir]);
      expect(readFileSync(path.join(dir, 'manifest.json'), 'utf8')).toBe(files.get('manifest.json')!.toString());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }

    const manifest = bundleManifest.parse(JSON.parse(files.get('manifest.json')!.toString()));
    expect(manifest).toMatchObject({ hostId: 'shop-1', commandId: 'diag-x', since: SINCE.toISOString() });
    const planned = diagnosticItems(FACTS, SINCE.getTime() / 1000).map((i) => i.file);
    expect(manifest.items.map((i) => i.file)).toEqual(planned);
    expect([...files.keys()]).toEqual(['manifest.json', ...planned]);
    for (const item of manifest.items) {
      expect(files.get(item.file)!.length).toBe(item.bytes);
      expect(item.durationMs).toBeGreaterThanOrEqual(0);
    }
    // The journals of the agent, kairos-agent and k3s, over the window; kubectl on a control plane.
    expect(host.ran).toEqual(expect.arrayContaining([
      `journalctl --no-pager --utc --output=short-iso --unit=k3s --since=@${SINCE.getTime() / 1000} --lines=20000`,
      'kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml get nodes,pods -A -o wide --request-timeout=20s',
      'kubectl --kubeconfig /etc/rancher/k3s/k3s.yaml describe node shop-1 --request-timeout=20s',
    ]));

    // A failing item is recorded, not fatal; its output is redacted too.
    const route = manifest.items.find((i) => i.file === 'network/ip-route.txt')!;
    expect(route).toMatchObject({ exitCode: 2, command: 'ip route show' });
    expect(route.error).toContain('exit 2');
    expect(manifest.items.find((i) => i.file === 'network/reach-registry.txt')).toMatchObject({ exitCode: 1, error: 'ETIMEDOUT' });
    expect(manifest.items.find((i) => i.file === 'network/reach-control-plane.txt')).toMatchObject({ exitCode: 0 });
    expect(files.get('network/reach-control-plane.txt')!.toString()).toBe('connected to 10.0.0.10:6443\n');

    // No planted secret survives anywhere in the bundle (raw tar, every file, the manifest).
    const everything = Buffer.concat([...files.values()]).toString('utf8');
    for (const [kind, secret] of Object.entries(SECRETS)) expect({ kind, leaked: everything.includes(secret) }).toEqual({ kind, leaked: false });
    expect(manifest.items.reduce((n, i) => n + i.redactions, 0)).toBeGreaterThanOrEqual(Object.keys(SECRETS).length);
  });

  it('runs nothing outside the allow-list, and reads only the planned files', async () => {
    const host = plantedHost();
    await collectBundle(host, { hostId: 'h', commandId: 'c', since: SINCE, maxBytes: 1024 * 1024, now });
    const programs = new Set(host.ran.map((r) => r.split(' ')[0]));
    expect([...programs].sort()).toEqual(['df', 'ip', 'journalctl', 'kairos-agent', 'kubectl']);
  });

  it('stays within maxBytes: the largest item is cut and marked truncated', async () => {
    const noise = randomBytes(600 * 1024).toString('base64');
    const bundle = await collectBundle(plantedHost({ journal: noise }), { hostId: 'h', commandId: 'c', since: SINCE, maxBytes: 256 * 1024, now });
    expect(bundle.tgz.length).toBeLessThanOrEqual(256 * 1024);
    const manifest = bundleManifest.parse(JSON.parse(readTarGz(bundle.tgz).get('manifest.json')!.toString()));
    expect(manifest.items.filter((i) => i.truncated).length).toBeGreaterThan(0);
  });

  it('a worker collects no kubectl items; a host that is not a node no Kubernetes journal', () => {
    const files = (f: HostFacts) => diagnosticItems(f, 0).map((i) => i.file);
    expect(files({ ...FACTS, role: 'worker' })).not.toContain('kubernetes/nodes-pods.txt');
    expect(files({ ...FACTS, role: 'worker' })).toContain('journal/k3s-agent.log');
    expect(files({ distribution: 'rke2', role: 'control-plane', nodeName: 'n' })).toEqual(expect.arrayContaining(['journal/rke2-server.log', 'kubernetes/describe-node.txt']));
    expect(files({}).filter((f) => f.startsWith('journal/'))).toEqual(['journal/edgefleet-agent.log', 'journal/kairos-agent.log']);
  });
});

describe('tar', () => {
  it('writes ustar entries a reader gets back byte for byte', () => {
    const content = randomBytes(1500);
    const { tgz } = tarGz([{ name: 'a/b.bin', content, mtime: 1 }, { name: 'empty', content: Buffer.alloc(0), mtime: 1 }]);
    const files = readTarGz(tgz);
    expect(files.get('a/b.bin')!.equals(content)).toBe(true);
    expect(files.get('empty')!.length).toBe(0);
  });

  it('refuses a name a ustar header cannot hold', () => {
    expect(() => tarGz([{ name: 'x'.repeat(101), content: Buffer.alloc(1), mtime: 0 }])).toThrow(/1–100 printable ASCII/);
  });
});

describe('registryOf and parameters', () => {
  it.each([
    ['quay.io/kairos/ubuntu:24.04', { host: 'quay.io', port: 443 }],
    ['registry.local:5000/os/img:1', { host: 'registry.local', port: 5000 }],
    ['ubuntu:24.04', { host: 'registry-1.docker.io', port: 443 }],
    [undefined, undefined],
  ])('%s → %j', (image, want) => expect(registryOf(image)).toEqual(want));

  it('refuses parameters the contract does not allow, naming them', () => {
    const good = { since: SINCE.toISOString(), uploadUrl: 'https://b.s3.amazonaws.com/', uploadFields: '{"key":"k"}', maxBytes: 4096 };
    expect(parseCollectParams(good).fields).toEqual({ key: 'k' });
    expect(() => parseCollectParams({ ...good, uploadFields: '[1]' })).toThrow(InvalidParameter);
    expect(() => parseCollectParams({ ...good, uploadUrl: 'file:///etc/passwd' })).toThrow(/uploadUrl/);
    expect(() => parseCollectParams({ ...good, extra: 1 })).toThrow(/extra/);
  });
});
