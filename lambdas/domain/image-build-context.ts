/**
 * EdgeForge-style image build context (issue 16, Build 4): a Dockerfile FROM the Kairos provider
 * image for an OS × Kubernetes pair of the compatibility matrix, with the agent executable, its
 * systemd unit and its native library baked in where `agentInstall: baked` user-data looks
 * (the agent layout's bakedDir), plus a build script and the AuroraBoot command that turns
 * the image into an installer ISO. Pure: the CLI validates the input (contracts/image-build.ts),
 * calls this and writes the files.
 *
 * Kairos image names (https://kairos.io/docs/reference/image_matrix/, "Image naming format"):
 *   <registry>/<repository>:<flavor_release>-<variant>-<arch>-<device>-<version>[-<provider><k8s version>]
 * e.g. quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3s-v1.31.2-k3s1. "standard" is
 * the variant with a Kubernetes provider. The k3s part is "k3s-v1.33.2-k3s1" from Kairos v3.5.0
 * (release images such as quay.io/kairos/alpine:3.21-standard-amd64-generic-v3.5.0-k3s-v1.33.2-k3s1)
 * and "k3sv1.33.1-k3s1" before (v3.4.2 ISO kairos-ubuntu-24.04-standard-amd64-generic-v3.4.2-k3sv1.33.1+k3s1.iso;
 * "+" is "-" in a tag). rke2 and kubeadm come from their own providers (kairos-io/provider-rke2,
 * provider-kubeadm) as "rke2v1.31.2-rke2r1" and "kubeadmv1.30.4" (image-tag.ts); a base built
 * elsewhere (CanvOS) is given with `baseImage` and must name the same distribution and version.
 */
import { OS_PACKS, checkCompatibility, matchRelease } from './compatibility.js';
import type { AgentLayout } from './agent-install.js';
import { parseImageTag } from './image-tag.js';
import { compareVersions, parseVersion } from './versions.js';

export type ImageArch = 'amd64' | 'arm64';

export interface ImageFlags {
  readonly os: string;
  readonly osVersion: string;
  readonly k8s: string;
  /** "1.31.2", "v1.31.2" or with the release suffix ("1.31.2+k3s2", "1.31.2-rke2r1"). */
  readonly k8sVersion: string;
  readonly arch: ImageArch;
  readonly kairosVersion: string;
  /** Where the built image goes, without tag. @default `edgefleet/kairos-<os>` */
  readonly registry?: string;
  /** A provider image to start from instead of the Kairos one (e.g. built with CanvOS). */
  readonly baseImage?: string;
}

export interface ImageBuildSpec extends ImageFlags {
  readonly agent: { readonly version: string; readonly executable: string; readonly unit: string; readonly sha256: string };
}

export type ImagePlan = { readonly ok: true; readonly baseImage: string } | { readonly ok: false; readonly reason: string };

export type BuildContext =
  | {
    readonly ok: true; readonly baseImage: string; readonly image: string;
    readonly files: readonly { readonly path: string; readonly content: string; readonly mode: number }[];
    readonly agentFiles: readonly { readonly from: string; readonly to: string }[];
  }
  | { readonly ok: false; readonly reason: string };

export const KAIROS_REGISTRY = 'quay.io/kairos';
export const AURORABOOT_IMAGE = 'quay.io/kairos/auroraboot:latest';

const DEBIAN_CODENAMES: Readonly<Record<string, string | undefined>> = { '11': 'bullseye', '12': 'bookworm' };

/** How Kairos names each OS pack of the matrix: its repository and its flavor_release per release. */
export const KAIROS_FLAVORS: Readonly<Record<string, { readonly repository: string; readonly release: (r: string) => string | undefined }>> = {
  ubuntu: { repository: 'ubuntu', release: (r) => r },
  opensuse: { repository: 'opensuse', release: (r) => `leap-${r}` },
  alpine: { repository: 'alpine', release: (r) => r },
  rocky: { repository: 'rockylinux', release: (r) => r },
  debian: { repository: 'debian', release: (r) => DEBIAN_CODENAMES[r] },
};

/** The release suffix each distribution's builds carry when the version does not give one. */
const DEFAULT_SUFFIX: Readonly<Record<string, string | undefined>> = { k3s: 'k3s1', rke2: 'rke2r1', kubeadm: undefined };
const SUFFIX_SHAPE: Readonly<Record<string, RegExp>> = { k3s: /^k3s\d+$/, rke2: /^rke2r\d+$/ };

/** Where the baked image keeps things. The agent directory is the one baked user-data checks. */
export function bakedPaths(l: AgentLayout) {
  return {
    agentDir: l.bakedDir,
    executable: `${l.bakedDir}/${l.executable}`,
    nativeDir: `${l.bakedDir}/.native`,
    unit: l.unit,
    /** The vendor unit directory is image content (/etc/systemd is persistent state on Kairos). */
    unitDir: '/usr/lib/systemd/system',
    dropIn: `/usr/lib/systemd/system/${l.unit}.d/10-edgefleet-baked.conf`,
  } as const;
}

/** Where the build context holds the agent's files. */
const contextPaths = (l: AgentLayout) => ({ executable: `agent/${l.executable}`, unit: `agent/${l.unit}`, dropIn: 'systemd/10-edgefleet-baked.conf' }) as const;

function k8sTagPart(k8s: string, version: string, suffix: string | undefined, kairosVersion: string): string {
  const dashed = k8s === 'k3s' && compareVersions(parseVersion(kairosVersion) ?? [0, 0, 0], [3, 5, 0]) >= 0;
  return `${k8s}${dashed ? '-' : ''}v${version}${suffix ? `-${suffix}` : ''}`;
}

/** The base image and the image a context builds, or the reason there is none (the matrix's own). */
export function planImage(f: ImageFlags): ImagePlan {
  const m = /^v?(\d+\.\d+\.\d+)(?:[+-](.+))?$/.exec(f.k8sVersion);
  if (!m) return { ok: false, reason: `--k8s-version ${f.k8sVersion} is not major.minor.patch (e.g. 1.31.2)` };
  const version = m[1]!;
  const compat = checkCompatibility({ pack: f.os, version: f.osVersion }, { pack: f.k8s, version });
  if (!compat.ok) return { ok: false, reason: compat.reason };
  const osPack = OS_PACKS.find((p) => p.pack === f.os)!;
  if (osPack.init !== 'systemd') {
    const systemd = OS_PACKS.filter((p) => p.init === 'systemd').map((p) => p.pack).join(', ');
    return { ok: false, reason: `${f.os} uses ${osPack.init}, but the baked agent runs as a systemd service (and its executable needs glibc): an ${f.os} image cannot carry it yet; build for ${systemd}, or install the agent on ${f.os} hosts another way` };
  }
  const suffix = m[2] ?? DEFAULT_SUFFIX[f.k8s];
  if (m[2] && !SUFFIX_SHAPE[f.k8s]?.test(m[2])) {
    return { ok: false, reason: `--k8s-version ${f.k8sVersion}: "${m[2]}" is not a ${f.k8s} release suffix${SUFFIX_SHAPE[f.k8s] ? ` (e.g. ${DEFAULT_SUFFIX[f.k8s]})` : ` (${f.k8s} versions have none)`}` };
  }
  let baseImage = f.baseImage;
  if (baseImage) {
    const t = parseImageTag(baseImage);
    if (t.distribution !== f.k8s || t.kubernetesVersion !== version) {
      return { ok: false, reason: `--base-image ${baseImage} carries ${t.distribution ? `${t.distribution} ${t.kubernetesVersion}` : 'no Kubernetes its tag names'}, not ${f.k8s} ${version}: give a Kairos or CanvOS provider image whose tag names ${f.k8s} ${version}, or leave --base-image out` };
    }
  } else {
    const flavor = KAIROS_FLAVORS[f.os];
    const release = matchRelease(f.os, f.osVersion)!;
    const flavorRelease = flavor?.release(release);
    if (!flavor || !flavorRelease) return { ok: false, reason: `no Kairos image name is known for ${f.os} ${release}: add it to KAIROS_FLAVORS (lambdas/domain/image-build-context.ts), or pass --base-image` };
    baseImage = `${KAIROS_REGISTRY}/${flavor.repository}:${flavorRelease}-standard-${f.arch}-generic-${f.kairosVersion}-${k8sTagPart(f.k8s, version, suffix, f.kairosVersion)}`;
  }
  return { ok: true, baseImage };
}

/** The image a context builds: `<registry>:<base tag>-edgefleet-<agent version>` (so its tag still names the distribution and version). */
function outputImage(f: ImageFlags, baseImage: string, agentVersion: string): { image: string; tag: string } {
  const baseTag = parseImageTag(baseImage).tag ?? 'latest';
  const tag = `${baseTag}-edgefleet-${agentVersion.replace(/\+/g, '-')}`.slice(0, 128);
  return { image: `${f.registry ?? `edgefleet/kairos-${f.os}`}:${tag}`, tag };
}

/** The Dockerfile, build script, README and systemd drop-in of the context, or the refusal; `layout` is the agent's (lambdas/contracts/agent-layout.ts AGENT_LAYOUT). */
export function renderImageBuildContext(s: ImageBuildSpec, layout: AgentLayout): BuildContext {
  const plan = planImage(s);
  if (!plan.ok) return plan;
  const { image, tag } = outputImage(s, plan.baseImage, s.agent.version);
  const facts: Facts = { ...s, version: /^v?(\d+\.\d+\.\d+)/.exec(s.k8sVersion)![1]!, baseImage: plan.baseImage, image, tag, baked: bakedPaths(layout), context: contextPaths(layout) };
  return {
    ok: true, baseImage: plan.baseImage, image,
    files: [
      { path: 'Dockerfile', content: dockerfile(facts), mode: 0o644 },
      { path: facts.context.dropIn, content: dropIn(facts), mode: 0o644 },
      { path: 'build.sh', content: buildScript(facts), mode: 0o755 },
      { path: 'README.md', content: readme(facts), mode: 0o644 },
    ],
    agentFiles: [{ from: s.agent.executable, to: facts.context.executable }, { from: s.agent.unit, to: facts.context.unit }],
  };
}

type Facts = ImageBuildSpec & { version: string; baseImage: string; image: string; tag: string; baked: ReturnType<typeof bakedPaths>; context: ReturnType<typeof contextPaths> };

/** Image labels: the same facts as the tag (which is what profile validation reads, image-tag.ts). */
export function imageLabels(f: Facts): Record<string, string> {
  return {
    'org.opencontainers.image.title': `EdgeFleet ${f.os} ${f.osVersion} with ${f.k8s} ${f.version}`,
    'org.opencontainers.image.base.name': f.baseImage,
    'org.opencontainers.image.ref.name': f.tag,
    'io.edgefleet.os': f.os,
    'io.edgefleet.os-version': f.osVersion,
    'io.edgefleet.kubernetes.distribution': f.k8s,
    'io.edgefleet.kubernetes.version': f.version,
    'io.edgefleet.agent.version': f.agent.version,
    'io.edgefleet.agent.sha256': f.agent.sha256,
    'io.edgefleet.agent.path': f.baked.executable,
  };
}

function dockerfile(f: Facts): string {
  const labels = Object.entries(imageLabels(f)).map(([k, v]) => `${k}=${JSON.stringify(v)}`);
  return `# EdgeFleet OS image: Kairos ${f.os} ${f.osVersion} (${f.arch}) with ${f.k8s} ${f.version} and the EdgeFleet agent ${f.agent.version} baked in.
# Written by \`edgefleet images build-context\`; build it with ./build.sh (README.md).
# Base: the Kairos provider ("standard") image, named <flavor_release>-<variant>-<arch>-<device>-<kairos version>-<provider><k8s version>
# (https://kairos.io/docs/reference/image_matrix/).
FROM ${f.baseImage}

# The agent where \`agentInstall: baked\` user-data looks for it, its unit in the image's vendor unit
# directory (image content, replaced by an OS upgrade), and a drop-in pointing the unit at ${f.baked.agentDir}.
COPY ${f.context.executable} ${f.context.unit} ${f.baked.agentDir}/
COPY ${f.context.dropIn} ${f.baked.dropIn}
RUN echo "${f.agent.sha256}  ${f.baked.executable}" | sha256sum -c - \\
 && chmod 0755 ${f.baked.executable} \\
 && chmod 0644 ${f.baked.agentDir}/${f.baked.unit} ${f.baked.dropIn} \\
 && cp ${f.baked.agentDir}/${f.baked.unit} ${f.baked.unitDir}/${f.baked.unit} \\
 && mkdir -p ${f.baked.unitDir}/multi-user.target.wants \\
 && ln -sf ../${f.baked.unit} ${f.baked.unitDir}/multi-user.target.wants/${f.baked.unit}

# The executable writes its aws-crt library out of itself on first start: do it now, so the
# read-only image already has it. Without a configuration the agent then stops with 78.
RUN EDGEFLEET_NATIVE_DIR=${f.baked.nativeDir} EDGEFLEET_AGENT_CONFIG=/nonexistent/agent.json ${f.baked.executable} >/dev/null 2>&1 || [ $? -eq 78 ] \\
 && ls ${f.baked.nativeDir}/aws-crt-nodejs-*.node

LABEL ${labels.join(' \\\n      ')}
`;
}

function dropIn(f: Facts): string {
  return `# EdgeFleet: the agent is baked into this image at ${f.baked.agentDir} (edgefleet images build-context).
[Service]
ExecStart=
ExecStart=${f.baked.executable}
Environment=EDGEFLEET_NATIVE_DIR=${f.baked.nativeDir}
`;
}

const platform = (arch: ImageArch) => `linux/${arch}`;

function buildScript(f: Facts): string {
  return `#!/bin/sh
# Builds the EdgeFleet OS image from this context (written by \`edgefleet images build-context\`).
#   ./build.sh         build ${f.image}
#   ./build.sh push    build, then push it
#   ./build.sh iso     build, then make an installer ISO with AuroraBoot into ./build/
# AURORABOOT_IMAGE overrides the AuroraBoot image (default ${AURORABOOT_IMAGE}).
set -eu
cd "$(dirname "$0")"
IMAGE='${f.image}'
docker build --platform ${platform(f.arch)} -t "$IMAGE" .
case "\${1:-}" in
  push) docker push "$IMAGE" ;;
  iso)
    mkdir -p build
    docker run --rm -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD/build":/output \\
      "\${AURORABOOT_IMAGE:-${AURORABOOT_IMAGE}}" build-iso --output /output/ "docker:$IMAGE"
    ls -l build/*.iso ;;
  '') ;;
  *) echo "build.sh: unknown step \\"$1\\" (push or iso)" >&2; exit 2 ;;
esac
`;
}

function readme(f: Facts): string {
  const layers = `layers:\n  - { type: os, pack: ${f.os}, version: "${f.osVersion}", image: "${f.image}" }\n  - { type: k8s, pack: ${f.k8s}, version: "${f.version}" }`;
  return `# EdgeFleet OS image: ${f.os} ${f.osVersion} + ${f.k8s} ${f.version} (${f.arch}), agent ${f.agent.version}

Written by \`edgefleet images build-context\`. The image is the Kairos provider image
\`${f.baseImage}\` with the EdgeFleet agent baked in at \`${f.baked.executable}\` (unit
\`${f.baked.unit}\`, enabled).

## Build

\`\`\`bash
docker build --platform ${platform(f.arch)} -t ${f.image} .   # or: ./build.sh
docker push ${f.image}                                        # or: ./build.sh push
\`\`\`

The build runs the agent once to unpack its native library: building for another
architecture than the builder's needs QEMU emulation (\`docker run --privileged --rm tonistiigi/binfmt --install all\`).

## Installer ISO (AuroraBoot)

\`\`\`bash
mkdir -p build
docker run --rm -v /var/run/docker.sock:/var/run/docker.sock -v "$PWD/build":/output \\
  ${AURORABOOT_IMAGE} build-iso --output /output/ docker:${f.image}   # or: ./build.sh iso
\`\`\`

## Use it

- Install configuration: \`edgefleet user-data --site <site> --agent-install baked --out user-data.yaml\`
  (the host only checks that the baked agent is there and starts it).
- Cluster profile: an os layer with this image validates against its k8s layer (the tag names ${f.k8s} ${f.version}):

\`\`\`yaml
${layers}
\`\`\`
`;
}
