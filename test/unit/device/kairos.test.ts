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
    expect(await new KairosCli(r, paths()).state()).toEqual({ boot: 'passive', kairosVersion: 'v3.4.2', flavor: 'ubuntu', osRelease: 'ubuntu 24.04' });
    expect(r.calls).toEqual([]);
  });

  test('state: falls back to kairos-agent state get boot, then os-release', async () => {
    await writeFile(join(dir, 'os-release'), 'PRETTY_NAME="Ubuntu 24.04 LTS"\n');
    const r = new RecordingRunner(() => ({ stdout: 'active_boot\n', stderr: '' }));
    expect(await new KairosCli(r, paths()).state()).toEqual({ boot: 'active', osRelease: 'Ubuntu 24.04 LTS' });
    expect(r.argv).toEqual([['kairos-agent', 'state', 'get', 'boot']]);
  });

  test('parsers', () => {
    expect(parseBootState('recovery_boot')).toBe('recovery');
    expect(parseBootState('??')).toBe('unknown');
    expect(parseReleaseFile("A='x'\n# c\nB=y z\n")).toEqual({ A: 'x', B: 'y z' });
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
