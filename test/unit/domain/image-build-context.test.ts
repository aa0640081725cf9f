import { DockerfileParser, Label } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { AGENT_LAYOUT } from '../../../lambdas/contracts/agent-layout.js';
import { K8S_PACKS, OS_PACKS, checkCompatibility } from '../../../lambdas/domain/compatibility.js';
import { bakedPaths, planImage, renderImageBuildContext as renderWith, type ImageArch, type ImageBuildSpec } from '../../../lambdas/domain/image-build-context.js';
import { parseImageTag } from '../../../lambdas/domain/image-tag.js';
import { validateLayers } from '../../../lambdas/domain/profile.js';

const BAKED = bakedPaths(AGENT_LAYOUT);
const BAKED_AGENT_DIR = AGENT_LAYOUT.bakedDir;
const renderImageBuildContext = (s: ImageBuildSpec) => renderWith(s, AGENT_LAYOUT);

const agent = { version: '0.1.0', executable: 'edgefleet-agent-linux-x64', unit: 'edgefleet-agent.service', sha256: 'a'.repeat(64) };
const spec = (o: Partial<ImageBuildSpec> = {}): ImageBuildSpec => ({
  os: 'ubuntu', osVersion: '24.04', k8s: 'k3s', k8sVersion: '1.31.2', arch: 'amd64', kairosVersion: 'v3.5.0', agent, ...o,
});

/** Every OS release × distribution of the matrix, at the lowest and highest validated minor, for both architectures. */
const PAIRS = OS_PACKS.flatMap((o) => o.releases.flatMap((osVersion) => K8S_PACKS.flatMap((k) =>
  [k.versions.min, k.versions.max].flatMap((minor) => (['amd64', 'arm64'] as ImageArch[]).map((arch) => ({
    os: o.pack, osVersion, k8s: k.pack, k8sVersion: `${minor}.4`, arch, init: o.init,
  }))))));

const ok = (s: ImageBuildSpec) => {
  const ctx = renderImageBuildContext(s);
  if (!ctx.ok) throw new Error(`refused: ${ctx.reason}`);
  return ctx;
};
const dockerfileOf = (ctx: ReturnType<typeof ok>) => ctx.files.find((f) => f.path === 'Dockerfile')!.content;
const labelsOf = (text: string) => Object.fromEntries(DockerfileParser.parse(text).getInstructions()
  .flatMap((i) => (i instanceof Label ? i.getProperties() : []))
  .map((p) => [p.getName(), p.getValue()]));

describe('renderImageBuildContext() over the whole compatibility matrix', () => {
  it('covers every OS and distribution of the matrix', () => {
    expect(new Set(PAIRS.map((p) => p.os))).toEqual(new Set(OS_PACKS.map((o) => o.pack)));
    expect(new Set(PAIRS.map((p) => p.k8s))).toEqual(new Set(K8S_PACKS.map((k) => k.pack)));
    expect(PAIRS.filter((p) => renderImageBuildContext(spec(p)).ok).length).toBeGreaterThan(20);
  });

  it.each(PAIRS)('$os $osVersion × $k8s $k8sVersion ($arch)', (p) => {
    const s = spec(p);
    const compat = checkCompatibility({ pack: p.os, version: p.osVersion }, { pack: p.k8s, version: p.k8sVersion });
    const ctx = renderImageBuildContext(s);
    if (!compat.ok) {
      expect(ctx).toEqual({ ok: false, reason: compat.reason });
      return;
    }
    if (p.init !== 'systemd') {
      expect(ctx.ok).toBe(false);
      expect(!ctx.ok && ctx.reason).toMatch(new RegExp(`${p.os} uses ${p.init}, but the baked agent runs as a systemd service`));
      return;
    }
    if (!ctx.ok) throw new Error(ctx.reason);
    const text = dockerfileOf(ctx);
    // 1. the linter finds nothing
    expect(validate(text)).toEqual([]);
    const df = DockerfileParser.parse(text);
    // 2. FROM is the Kairos provider image for this OS release, distribution, version and arch
    const froms = df.getFROMs();
    expect(froms).toHaveLength(1);
    const base = froms[0]!.getImage()!;
    expect(base).toBe(ctx.baseImage);
    const t = parseImageTag(base);
    expect(t.repository).toMatch(/^quay\.io\/kairos\/[a-z]+$/);
    expect(t.tag).toContain(`-standard-${p.arch}-generic-v3.5.0-`);
    expect(t).toMatchObject({ shape: 'kairos', kairosVersion: 'v3.5.0', distribution: p.k8s, kubernetesVersion: p.k8sVersion });
    // 3. every COPY source is a file of the written context
    const contextPaths = new Set([...ctx.files.map((f) => f.path), ...ctx.agentFiles.map((a) => a.to)]);
    const copies = df.getInstructions().filter((i) => i.getKeyword() === 'COPY');
    expect(copies.length).toBeGreaterThan(0);
    for (const c of copies) {
      const args = c.getArguments().map((a) => a.getValue()).filter((a) => !a.startsWith('--'));
      for (const src of args.slice(0, -1)) expect(contextPaths).toContain(src);
    }
    expect(ctx.agentFiles).toEqual([{ from: agent.executable, to: 'agent/edgefleet-agent' }, { from: agent.unit, to: 'agent/edgefleet-agent.service' }]);
    // 4. labels present and parse back to the right distribution and version
    const labels = labelsOf(text);
    expect(labels).toMatchObject({
      'io.edgefleet.os': p.os, 'io.edgefleet.os-version': p.osVersion,
      'io.edgefleet.kubernetes.distribution': p.k8s, 'io.edgefleet.kubernetes.version': p.k8sVersion,
      'io.edgefleet.agent.version': '0.1.0', 'io.edgefleet.agent.path': `${BAKED_AGENT_DIR}/edgefleet-agent`,
      'org.opencontainers.image.base.name': base,
    });
    for (const ref of [labels['org.opencontainers.image.base.name']!, `x:${labels['org.opencontainers.image.ref.name']}`, ctx.image]) {
      expect(parseImageTag(ref)).toMatchObject({ distribution: p.k8s, kubernetesVersion: p.k8sVersion });
    }
    // 5. a profile whose os layer uses the built image validates against its k8s layer, and not against another version
    const os = { type: 'os' as const, pack: p.os, version: p.osVersion, image: ctx.image };
    expect(validateLayers([os, { type: 'k8s', pack: p.k8s, version: p.k8sVersion }]).errors).toEqual([]);
    const other = `${p.k8sVersion.split('.').slice(0, 2).join('.')}.9`;
    expect(validateLayers([os, { type: 'k8s', pack: p.k8s, version: other }]).code).toBe('image-version-mismatch');
  });
});

describe('renderImageBuildContext() details', () => {
  it.each([
    ['ubuntu', '24.04', 'k3s', '1.31.2', 'amd64', 'v3.5.0', 'quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3s-v1.31.2-k3s1'],
    ['ubuntu', '22.04', 'k3s', '1.30.4', 'arm64', 'v3.4.2', 'quay.io/kairos/ubuntu:22.04-standard-arm64-generic-v3.4.2-k3sv1.30.4-k3s1'],
    ['opensuse', '15.6', 'k3s', '1.33.2+k3s1', 'amd64', 'v3.5.0', 'quay.io/kairos/opensuse:leap-15.6-standard-amd64-generic-v3.5.0-k3s-v1.33.2-k3s1'],
    ['debian', '12', 'k3s', '1.30.8', 'amd64', 'v3.3.2', 'quay.io/kairos/debian:bookworm-standard-amd64-generic-v3.3.2-k3sv1.30.8-k3s1'],
    ['rocky', '9', 'rke2', '1.31.2', 'amd64', 'v3.5.0', 'quay.io/kairos/rockylinux:9-standard-amd64-generic-v3.5.0-rke2v1.31.2-rke2r1'],
    ['ubuntu', '22.04', 'kubeadm', '1.30.4', 'amd64', 'v3.5.0', 'quay.io/kairos/ubuntu:22.04-standard-amd64-generic-v3.5.0-kubeadmv1.30.4'],
  ])('%s %s × %s %s (%s, Kairos %s) starts FROM %s', (os, osVersion, k8s, k8sVersion, arch, kairosVersion, from) => {
    expect(planImage(spec({ os, osVersion, k8s, k8sVersion, arch: arch as ImageArch, kairosVersion }))).toEqual({ ok: true, baseImage: from });
  });

  it('bakes the agent where baked user-data looks, enables its unit and points it there with a drop-in', () => {
    const ctx = ok(spec());
    const text = dockerfileOf(ctx);
    expect(text).toContain(`COPY agent/edgefleet-agent agent/edgefleet-agent.service ${BAKED_AGENT_DIR}/`);
    expect(text).toContain(`echo "${'a'.repeat(64)}  ${BAKED_AGENT_DIR}/edgefleet-agent" | sha256sum -c -`);
    expect(text).toContain('ln -sf ../edgefleet-agent.service /usr/lib/systemd/system/multi-user.target.wants/edgefleet-agent.service');
    expect(text).toContain(`EDGEFLEET_NATIVE_DIR=${BAKED.nativeDir}`);
    const dropIn = ctx.files.find((f) => f.path === 'systemd/10-edgefleet-baked.conf')!.content;
    expect(dropIn).toMatch(new RegExp(`^ExecStart=\\n^ExecStart=${BAKED_AGENT_DIR}/edgefleet-agent$`, 'm'));
    expect(dropIn).toContain(`Environment=EDGEFLEET_NATIVE_DIR=${BAKED_AGENT_DIR}/.native`);
  });

  it('writes the docker build and AuroraBoot build-iso commands into build.sh and README.md', () => {
    const ctx = ok(spec({ registry: 'registry.example.com:5000/edge/os', arch: 'arm64' }));
    const image = 'registry.example.com:5000/edge/os:24.04-standard-arm64-generic-v3.5.0-k3s-v1.31.2-k3s1-edgefleet-0.1.0';
    expect(ctx.image).toBe(image);
    const build = ctx.files.find((f) => f.path === 'build.sh')!;
    expect(build.mode).toBe(0o755);
    expect(build.content).toContain(`IMAGE='${image}'`);
    expect(build.content).toContain('docker build --platform linux/arm64 -t "$IMAGE" .');
    expect(build.content).toContain('build-iso --output /output/ "docker:$IMAGE"');
    const readme = ctx.files.find((f) => f.path === 'README.md')!.content;
    expect(readme).toContain(`build-iso --output /output/ docker:${image}`);
    expect(readme).toContain('--agent-install baked');
  });

  it('the linter does flag a broken Dockerfile (the check above can fail)', () => {
    const broken = dockerfileOf(ok(spec())).replace('LABEL org.opencontainers.image.title="', 'LABEL org.opencontainers.image.title="\n');
    expect(validate(broken).length).toBeGreaterThan(0);
  });

  it.each([
    ['a base image for another version', { baseImage: 'example.com/canvos:k3s-1.30.1-v4.5.7-demo' }, /--base-image example.com\/canvos:k3s-1.30.1-v4.5.7-demo carries k3s 1.30.1, not k3s 1.31.2/],
    ['a base image whose tag names no Kubernetes', { baseImage: 'quay.io/kairos/ubuntu:24.04-core-amd64-generic-v3.5.0' }, /carries no Kubernetes its tag names/],
    ['a release suffix of another distribution', { k8sVersion: '1.31.2+rke2r1' }, /"rke2r1" is not a k3s release suffix/],
    ['a suffix on kubeadm', { k8s: 'kubeadm', k8sVersion: '1.31.2+k3s1' }, /kubeadm versions have none/],
    ['an unknown OS', { os: 'gentoo' }, /unknown OS pack "gentoo"; supported: ubuntu, opensuse, alpine, rocky, debian/],
    ['an OS release outside the matrix', { osVersion: '18.04' }, /ubuntu 18.04 is not a supported release/],
  ])('refuses %s', (_label, o, reason) => {
    const ctx = renderImageBuildContext(spec(o));
    expect(ctx.ok).toBe(false);
    expect(!ctx.ok && ctx.reason).toMatch(reason);
  });

  it('takes a CanvOS base image that names the same distribution and version', () => {
    const ctx = ok(spec({ baseImage: 'registry.example.com/canvos:k3s-1.31.2-v4.5.7-demo' }));
    expect(DockerfileParser.parse(dockerfileOf(ctx)).getFROMs()[0]!.getImage()).toBe('registry.example.com/canvos:k3s-1.31.2-v4.5.7-demo');
    expect(parseImageTag(ctx.image)).toMatchObject({ distribution: 'k3s', kubernetesVersion: '1.31.2' });
  });
});
