import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { CommandRunner, RunOptions, RunResult } from '../../../device/command-runner.js';
import { CommandFailed, ExecFileRunner } from '../../../device/command-runner.js';
import { InvalidParameter, KairosCli, parseBootState, parseReleaseFile, validateCloudConfig, validateImage, versionFromImage } from '../../../device/kairos.js';

class RecordingRunner implements CommandRunner {
  readonly calls: Array<{ file: string; args: readonly string[]; timeoutMs?: number }> = [];
  constructor(private readonly answer: (file: string, args: readonly string[]) => RunResult = () => ({ stdout: '', stderr: '' })) {}
  async run(file: string, args: readonly string[], options?: RunOptions): Promise<RunResult> {
    this.calls.push({ file, args: [...args], timeoutMs: options?.timeoutMs });
    return this.answer(file, args);
  }
  get argv(): string[][] {
    return this.calls.map((c) => [c.file, ...c.args]);
  }
}

const IMG = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2-k3sv1.32.3-k3s1';
let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-kairos-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});
const paths = () => ({ runDir: join(dir, 'run'), kairosRelease: join(dir, 'kairos-release'), osRelease: join(dir, 'os-release'), oemDir: join(dir, 'oem'), grubenv: '/oem/grubenv' });

const OTHER = 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3sv1.33.1-k3s1';
const RELEASE = (image: string) => `KAIROS_VERSION="v3.4.2"\nKAIROS_FLAVOR="ubuntu"\nKAIROS_IMAGE_LABEL="${image.split(':')[1]}"\nKAIROS_REGISTRY_AND_ORG="quay.io/kairos"\nKAIROS_IMAGE_REPO="${image}"\n`;

describe('KairosCli: the running image identity and what the partitions hold', () => {
  test('the running image comes from KAIROS_IMAGE_REPO; booted active with no record, the active partition holds it', async () => {
    await mkdir(join(dir, 'run'), { recursive: true });
    await writeFile(join(dir, 'run', 'active_mode'), '');
    await writeFile(join(dir, 'kairos-release'), RELEASE(IMG));
    const s = await new KairosCli(new RecordingRunner(), paths()).state();
    expect(s).toMatchObject({ boot: 'active', image: IMG, flavor: 'ubuntu', partitions: { active: { image: IMG } } });
    expect(s.digest).toBeUndefined();
  });

  test('without KAIROS_IMAGE_REPO the reference is registry/org + flavour + label; a pinned reference gives the digest', async () => {
    const { imageFromRelease } = await import('../../../device/kairos.js');
    expect(imageFromRelease({ KAIROS_REGISTRY_AND_ORG: 'quay.io/kairos', KAIROS_FLAVOR: 'ubuntu', KAIROS_IMAGE_LABEL: '24.04-standard-amd64-generic-v3.4.2' }))
      .toEqual({ image: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.4.2' });
    expect(imageFromRelease({ KAIROS_IMAGE_REPO: `r.io/os:1@sha256:${'b'.repeat(64)}` })).toEqual({ image: 'r.io/os:1', digest: `sha256:${'b'.repeat(64)}` });
    expect(imageFromRelease({ KAIROS_VERSION: 'v3.4.2' })).toEqual({});
  });

  test('after an upgrade the record says active = the new image, passive = the old; after a fallback active still holds the failed image', async () => {
    await mkdir(join(dir, 'run'), { recursive: true });
    await mkdir(join(dir, 'oem'), { recursive: true });
    await writeFile(join(dir, 'run', 'active_mode'), '');
    await writeFile(join(dir, 'kairos-release'), RELEASE(IMG));
    const cli = new KairosCli(new RecordingRunner(), paths());
    await cli.upgrade(OTHER);
    // The new image did not boot: Kairos fell back to passive (the old image runs again).
    await rm(join(dir, 'run', 'active_mode'));
    await writeFile(join(dir, 'run', 'passive_mode'), '');
    expect(await cli.state()).toMatchObject({ boot: 'passive', image: IMG, partitions: { active: { image: OTHER }, passive: { image: IMG } } });
  });

  test('a record that cannot be written does not fail the upgrade (the image was written)', async () => {
    const r = new RecordingRunner();
    await new KairosCli(r, { ...paths(), oemDir: join(dir, 'missing') }).upgrade(OTHER);
    expect(r.argv).toEqual([['kairos-agent', 'upgrade', '--source', `oci:${OTHER}`]]);
  });
});

describe('KairosCli argv', () => {
  test('upgrade: kairos-agent upgrade --source oci:<image>, with a long timeout', async () => {
    const r = new RecordingRunner();
    await new KairosCli(r).upgrade(IMG);
    await new KairosCli(r).upgrade('registry.local:5000/edge/os@sha256:' + 'a'.repeat(64), { recovery: true });
    expect(r.argv).toEqual([
      ['kairos-agent', 'upgrade', '--source', `oci:${IMG}`],
      ['kairos-agent', 'upgrade', '--source', `oci:registry.local:5000/edge/os@sha256:${'a'.repeat(64)}`, '--recovery'],
    ]);
    expect(r.calls[0]!.timeoutMs).toBe(60 * 60_000);
  });

  test('reboot and reset (statereset entry, then reboot)', async () => {
    const r = new RecordingRunner();
    const k = new KairosCli(r);
    expect(await k.reboot()).toBe('rebooting');
    expect(await k.reset()).toBe('rebooting');
    expect(r.argv).toEqual([['reboot'], ['grub2-editenv', '/oem/grubenv', 'set', 'next_entry=statereset'], ['reboot']]);
  });

  test.each([
    ['-rf /'], ['--source=evil'], ['quay.io/kairos/ubuntu:latest; reboot'], ['quay.io/kairos/ubuntu latest'], ['Quay.io/UPPER/Path:tag'], [''], ['$(id)'], ['a'.repeat(300)],
  ])('a bad image %j is refused before anything runs', async (image) => {
    const r = new RecordingRunner();
    await expect(new KairosCli(r).upgrade(image)).rejects.toThrow(InvalidParameter);
    expect(r.calls).toEqual([]);
  });

  test('valid image references', () => {
    for (const i of [IMG, 'ubuntu', 'localhost:5000/a/b:1.0', 'ghcr.io/org/img_x:v1@sha256:' + 'f'.repeat(64)]) expect(validateImage(i)).toBe(i);
    expect(versionFromImage(IMG)).toBe('v3.4.2');
    expect(versionFromImage('localhost:5000/a/b:1.0')).toBe('1.0');
    expect(versionFromImage('localhost:5000/a/b')).toBeUndefined();
  });

  test('applyCloudConfig writes /oem/90_edgefleet.yaml atomically (0600), validated', async () => {
    const k = new KairosCli(new RecordingRunner(), paths());
    await mkdir(join(dir, 'oem'));
    await k.applyCloudConfig('stages:\n  boot:\n    - name: x\n');
    const p = join(dir, 'oem', '90_edgefleet.yaml');
    expect(await readFile(p, 'utf8')).toBe('#cloud-config\nstages:\n  boot:\n    - name: x\n');
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    await expect(k.applyCloudConfig('- a list')).rejects.toThrow(/mapping/);
    await expect(k.applyCloudConfig('a: [')).rejects.toThrow(/not valid YAML/);
    expect(validateCloudConfig('#cloud-config\nx: 1')).toBe('#cloud-config\nx: 1\n');
  });

  test('state: /run/cos markers and /etc/kairos-release', async () => {
    await mkdir(join(dir, 'run'));
    await writeFile(join(dir, 'run', 'passive_mode'), '');
    await writeFile(join(dir, 'kairos-release'), 'KAIROS_NAME="kairos-ubuntu"\nKAIROS_VERSION="v3.4.2"\nKAIROS_FLAVOR="ubuntu"\nKAIROS_FLAVOR_RELEASE="24.04"\n');
    const r = new RecordingRunner();
    expect(await new KairosCli(r, paths()).state()).toEqual({ boot: 'passive', kairosVersion: 'v3.4.2', flavor: 'ubuntu', osRelease: 'ubuntu 24.04', bootedAt: expect.any(Number) });
    expect(r.calls).toEqual([]);
  });

  test('state: falls back to kairos-agent state get boot, then os-release', async () => {
    await writeFile(join(dir, 'os-release'), 'PRETTY_NAME="Ubuntu 24.04 LTS"\n');
    const r = new RecordingRunner(() => ({ stdout: 'active_boot\n', stderr: '' }));
    expect(await new KairosCli(r, paths()).state()).toEqual({ boot: 'active', osRelease: 'Ubuntu 24.04 LTS', bootedAt: expect.any(Number) });
    expect(r.argv).toEqual([['kairos-agent', 'state', 'get', 'boot']]);
  });

  test('parsers', () => {
    expect(parseBootState('recovery_boot')).toBe('recovery');
    expect(parseBootState('??')).toBe('unknown');
    expect(parseReleaseFile("A='x'\n# c\nB=y z\n")).toEqual({ A: 'x', B: 'y z' });
  });
});

describe('KairosCli Kubernetes', () => {
  const NODE = JSON.stringify({ status: { conditions: [{ type: 'Ready', status: 'True' }], nodeInfo: { kubeletVersion: 'v1.31.4+rke2r1' } } });
  async function host(cloudConfig: string | undefined, prefix = 'rke2') {
    await mkdir(join(dir, 'oem'));
    await mkdir(join(dir, 'run'));
    await writeFile(join(dir, 'run', 'active_mode'), '');
    if (cloudConfig) await writeFile(join(dir, 'oem', '90_edgefleet.yaml'), cloudConfig);
    await writeFile(join(dir, 'kairos-release'), `KAIROS_VERSION="v3.4.2"\nKAIROS_SOFTWARE_VERSION_PREFIX="${prefix}"\n`);
  }
  const CP = 'cluster:\n  role: controlplane\n  config: |\n    node-name: cp-1\n';
  const WORKER = 'cluster:\n  role: worker\n  config: |\n    node-name: w-1\n';

  test('no cluster stanza: no kubernetes in the state, kubectl never runs; bootstrap and restart refuse', async () => {
    await host(undefined);
    const r = new RecordingRunner();
    const k = new KairosCli(r, paths());
    expect((await k.state()).kubernetes).toBeUndefined();
    await expect(k.bootstrap()).rejects.toThrow(/no cluster stanza/);
    await expect(k.restartKubernetes()).rejects.toThrow(/not a Kubernetes node/);
    expect(r.calls).toEqual([]);
  });

  test('state reads the node with the admin kubeconfig on a control plane (rke2 kubectl path)', async () => {
    await host(CP);
    const r = new RecordingRunner((file) => ({ stdout: file.endsWith('kubectl') ? NODE : '', stderr: '' }));
    expect((await new KairosCli(r, paths()).state()).kubernetes).toEqual({ ready: true, cordoned: false, version: 'v1.31.4+rke2r1', role: 'control-plane', distribution: 'rke2', nodeName: 'cp-1' });
    expect(r.argv).toEqual([['/var/lib/rancher/rke2/bin/kubectl', '--kubeconfig', '/etc/rancher/rke2/rke2.yaml', 'get', 'node', 'cp-1', '-o', 'json', '--request-timeout=10s']]);
  });

  test('a worker reads its own node with the kubelet kubeconfig; an API that is not up means not Ready', async () => {
    await host(WORKER, 'k3s');
    const r = new RecordingRunner(() => {
      throw new CommandFailed('kubectl', [], 1, 'connection refused', false);
    });
    expect((await new KairosCli(r, paths()).state()).kubernetes).toEqual({ ready: false, role: 'worker', distribution: 'k3s', nodeName: 'w-1' });
    expect(r.argv[0]!.slice(0, 3)).toEqual(['kubectl', '--kubeconfig', '/var/lib/rancher/k3s/agent/kubelet.kubeconfig']);
  });

  test('bootstrap writes the node files (reload stage) then runs the boot stage (the providers live in boot.before); reload runs the reload stage only', async () => {
    await host(CP);
    const r = new RecordingRunner();
    const k = new KairosCli(r, paths());
    await k.bootstrap();
    await k.reloadKubernetes();
    expect(r.argv).toEqual([['kairos-agent', 'run-stage', 'edgefleet-reload'], ['kairos-agent', 'run-stage', 'boot'], ['kairos-agent', 'run-stage', 'edgefleet-reload']]);
  });

  test.each([
    ['rke2', CP, 'rke2-server'], ['rke2', WORKER, 'rke2-agent'], ['k3s', CP, 'k3s'], ['k3s', WORKER, 'k3s-agent'], ['kubeadm', WORKER, 'kubelet'],
  ])('restart on %s restarts the unit of the role', async (prefix, cc, unit) => {
    await host(cc, prefix);
    const r = new RecordingRunner();
    expect(await new KairosCli(r, paths()).restartKubernetes()).toBe(unit);
    expect(r.argv).toEqual([['systemctl', 'restart', unit]]);
  });

  test.each([
    ['k3s', ['kubectl', '--kubeconfig', '/etc/rancher/k3s/k3s.yaml']],
    ['rke2', ['/var/lib/rancher/rke2/bin/kubectl', '--kubeconfig', '/etc/rancher/rke2/rke2.yaml']],
    ['kubeadm', ['kubectl', '--kubeconfig', '/etc/kubernetes/admin.conf']],
  ])('kube-node on %s uses the admin kubeconfig', async (prefix, head) => {
    await host(CP, prefix);
    const r = new RecordingRunner();
    await new KairosCli(r, paths()).kubeNode('drain', 'w-1', 90);
    expect(r.argv).toEqual([[...head, 'drain', 'w-1', '--ignore-daemonsets', '--delete-emptydir-data', '--timeout=90s']]);
    expect(r.calls[0]!.timeoutMs).toBe(150_000);
  });

  test('kube-node refuses on a worker and refuses a hostile node name before anything runs', async () => {
    await host(WORKER);
    const r = new RecordingRunner();
    const k = new KairosCli(r, paths());
    await expect(k.kubeNode('cordon', 'cp-1', 10)).rejects.toThrow(/not a control-plane node/);
    await expect(k.kubeNode('cordon', '--all', 10)).rejects.toThrow(InvalidParameter);
    expect(r.calls).toEqual([]);
  });

  test('reset removes the applied cluster config from /oem (a statereset keeps /oem) before selecting statereset', async () => {
    await host(CP);
    const r = new RecordingRunner();
    await new KairosCli(r, { ...paths(), grubenv: join(dir, 'oem', 'grubenv') }).reset();
    await expect(stat(join(dir, 'oem', '90_edgefleet.yaml'))).rejects.toThrow(/ENOENT/);
    expect(r.argv).toEqual([['grub2-editenv', join(dir, 'oem', 'grubenv'), 'set', 'next_entry=statereset'], ['reboot']]);
  });
});

describe('ExecFileRunner', () => {
  test('runs argv without a shell: metacharacters stay literal', async () => {
    const r = await new ExecFileRunner().run('echo', ['$(id)', ';', '|', '*']);
    expect(r.stdout).toBe('$(id) ; | *\n');
  });

  test('non-zero exit and timeout become CommandFailed', async () => {
    const e1 = await new ExecFileRunner().run('sh', ['-c', 'echo boom >&2; exit 3']).catch((e: unknown) => e);
    expect(e1).toBeInstanceOf(CommandFailed);
    expect((e1 as CommandFailed).exitCode).toBe(3);
    expect((e1 as Error).message).toContain('boom');
    const e2 = await new ExecFileRunner().run('sleep', ['5'], { timeoutMs: 100 }).catch((e: unknown) => e);
    expect((e2 as CommandFailed).timedOut).toBe(true);
  });
});
