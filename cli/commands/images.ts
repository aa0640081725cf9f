/**
 * `edgefleet images build-context`: writes an EdgeForge-style build context (Dockerfile FROM the
 * Kairos provider image, the agent baked in, build script, AuroraBoot ISO command). Offline: no
 * control plane is called. The rendering is the pure domain function the entry point passes in
 * (CliIo.imageBuild); this only parses the flags, reads the agent build, and writes files.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Option, type Command } from 'commander';
import { agentManifest } from '../../lambdas/contracts/agent-artifacts.js';
import { imageBuildFlags, imageBuildInput, type BakedAgent, type ImageArch, type ImageBuildFlags } from '../../lambdas/contracts/image-build.js';
import { action, examples, type CliRuntime, type Session } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';

interface Opts {
  os: string;
  osVersion: string;
  k8s: string;
  k8sVersion: string;
  arch?: string;
  kairosVersion?: string;
  registry?: string;
  baseImage?: string;
  agentDir: string;
  out: string;
  force?: boolean;
  output?: string;
}

/** The flags as the contract's shape; the first problem is a usage error naming the flag. */
export function parseImageFlags(o: Opts): ImageBuildFlags {
  const r = imageBuildFlags.safeParse({
    os: o.os, osVersion: o.osVersion, k8s: o.k8s, k8sVersion: o.k8sVersion,
    ...(o.arch !== undefined ? { arch: o.arch } : {}),
    ...(o.kairosVersion !== undefined ? { kairosVersion: o.kairosVersion } : {}),
    ...(o.registry !== undefined ? { registry: o.registry } : {}),
    ...(o.baseImage !== undefined ? { baseImage: o.baseImage } : {}),
  });
  if (r.success) return r.data;
  const flag = (p: PropertyKey | undefined) => `--${String(p ?? '').replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  const lines = r.error.issues.map((i) => (i.message.startsWith('--') ? i.message : `${flag(i.path[0])}: ${i.message}`));
  throw new UsageError(`cannot write a build context: ${lines[0]}`, lines.slice(1));
}

const AGENT_ARCH: Record<ImageArch, 'x64' | 'arm64'> = { amd64: 'x64', arm64: 'arm64' };

function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The agent for `arch` from a `npm run device:build` output directory, checked against its manifest. */
export function readAgentBuild(dir: string, shownAs: string, arch: ImageArch): BakedAgent {
  const build = 'build it with `npm run device:build` (or pass --agent-dir with the directory it wrote)';
  let text: string;
  try {
    text = readFileSync(join(dir, 'manifest.json'), 'utf8');
  } catch {
    throw new UsageError(`no agent build in ${shownAs}: ${join(shownAs, 'manifest.json')} cannot be read`, [build]);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  const m = agentManifest.safeParse(json);
  if (!m.success) throw new CliError(`${join(shownAs, 'manifest.json')} is not an agent manifest (${m.error.issues[0]?.message ?? 'not JSON'})`, EXIT.invalid, [build]);
  const exe = m.data.artifacts.find((a) => a.arch === AGENT_ARCH[arch]);
  const unit = m.data.artifacts.find((a) => a.arch === 'noarch' && a.file.endsWith('.service'));
  if (!exe) throw new UsageError(`the agent build in ${shownAs} has no ${AGENT_ARCH[arch]} executable for an ${arch} image`, [`npm run device:build -- --arch ${AGENT_ARCH[arch]}`]);
  if (!unit) throw new CliError(`the agent build in ${shownAs} lists no systemd unit`, EXIT.invalid, [build]);
  for (const a of [exe, unit]) {
    let got: string;
    try {
      got = sha256File(join(dir, a.file));
    } catch {
      throw new UsageError(`${join(shownAs, a.file)} is missing although the manifest lists it`, [build]);
    }
    if (got !== a.sha256) throw new CliError(`${join(shownAs, a.file)} does not match its manifest (SHA-256 ${got}, manifest ${a.sha256}): refusing to bake it`, EXIT.invalid, [build]);
  }
  return { version: m.data.version, executable: exe.file, unit: unit.file, sha256: exe.sha256 };
}

function isNonEmptyDir(path: string): boolean {
  try {
    return statSync(path).isDirectory() ? readdirSync(path).length > 0 : true;
  } catch {
    return false;
  }
}

function writeContext(s: Session, o: Opts): void {
  const renderer = s.io.imageBuild;
  if (!renderer) throw new CliError('this build of the CLI has no image renderer (entry point bin/edgefleet.ts wires it)', EXIT.unexpected);
  const flags = parseImageFlags(o);
  const plan = renderer.plan(flags);
  if (!plan.ok) throw new CliError(`cannot build an image for ${flags.os} ${flags.osVersion} with ${flags.k8s} ${flags.k8sVersion}: ${plan.reason}`, EXIT.invalid);
  const out = s.path(o.out);
  if (isNonEmptyDir(out) && !o.force) {
    throw new UsageError(`${o.out} is not empty: refusing to write a build context into it`, ['pick an empty or new directory, or add --force to overwrite the files of the context there']);
  }
  const agentDir = s.path(o.agentDir);
  const agent = readAgentBuild(agentDir, o.agentDir, flags.arch);
  const ctx = renderer.render(imageBuildInput.parse({ ...flags, agent }));
  if (!ctx.ok) throw new CliError(`cannot build an image for ${flags.os} ${flags.osVersion} with ${flags.k8s} ${flags.k8sVersion}: ${ctx.reason}`, EXIT.invalid);
  const written: string[] = [];
  try {
    for (const f of ctx.files) {
      const path = join(out, f.path);
      mkdirSync(dirname(path), { recursive: true });
      writeFileSync(path, f.content, { mode: f.mode });
      chmodSync(path, f.mode);
      written.push(f.path);
    }
    for (const a of ctx.agentFiles) {
      const path = join(out, a.to);
      mkdirSync(dirname(path), { recursive: true });
      copyFileSync(join(agentDir, a.from), path);
      written.push(a.to);
    }
  } catch (err) {
    throw new CliError(`cannot write the build context into ${o.out}: ${(err as Error).message}`, EXIT.usage, written.length ? [`written before the failure: ${written.join(', ')}`] : []);
  }
  if (s.out.isJson) {
    s.out.json({ dir: out, baseImage: ctx.baseImage, image: ctx.image, agentVersion: agent.version, files: written });
    return;
  }
  const shown = o.out.replace(/(.)\/+$/, '$1');
  s.out.line(`Wrote the build context for ${ctx.image} to ${shown}:`);
  for (const f of written) s.out.line(`  ${f}`);
  s.out.line(`Base image: ${ctx.baseImage}`);
  s.out.line('');
  s.out.line('Next:');
  s.out.line(`  cd ${shown} && ./build.sh         # docker build -t ${ctx.image} .`);
  s.out.line(`  ./build.sh push                   # push it (tag it for your registry with --registry)`);
  s.out.line(`  ./build.sh iso                    # installer ISO into ${shown}/build/ with AuroraBoot`);
  s.out.line(`  edgefleet user-data --site <site> --agent-install baked --out user-data.yaml`);
  s.out.line(`  use image ${ctx.image} in the os layer of a cluster profile (README.md in the context shows the layers)`);
}

export function registerImages(program: Command, rt: CliRuntime): void {
  const images = program.command('images').description('build OS images for edge hosts (offline: no control plane needed)');
  images
    .command('build-context')
    .description('write an EdgeForge-style image build context: a Dockerfile FROM the Kairos provider image with the agent baked in, plus build and ISO commands')
    .requiredOption('--os <pack>', 'OS pack of the compatibility matrix, e.g. ubuntu (a systemd OS: the agent runs as a systemd service)')
    .requiredOption('--os-version <release>', 'OS release, e.g. 24.04')
    .requiredOption('--k8s <distribution>', 'Kubernetes distribution of the compatibility matrix, e.g. k3s')
    .requiredOption('--k8s-version <version>', 'Kubernetes version, e.g. 1.31.2 (or 1.31.2+k3s2 for another release build)')
    .requiredOption('--out <dir>', 'directory to write the context into (new or empty)')
    .addOption(new Option('--arch <arch>', 'image architecture').choices(['amd64', 'arm64']).default('amd64'))
    .option('--kairos-version <version>', 'Kairos release of the base image', 'v3.5.0')
    .option('--agent-dir <dir>', 'the agent build (npm run device:build)', 'dist/device')
    .option('--registry <repository>', 'image repository to tag the result for, e.g. registry.example.com/edge/edgefleet-os (default edgefleet/kairos-<os>)')
    .option('--base-image <ref>', 'start from this provider image instead of the Kairos one (its tag must name the same distribution and version)')
    .option('--force', 'write into a non-empty --out, overwriting the context files there')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['table', 'json']))
    .addHelpText('after', examples(
      'npm run device:build -- --arch x64 && edgefleet images build-context --os ubuntu --os-version 24.04 --k8s k3s --k8s-version 1.31.2 --out image/',
      'edgefleet images build-context --os opensuse --os-version 15.6 --k8s rke2 --k8s-version 1.31.2 --arch arm64 --registry registry.example.com/edge/os --out os-arm64/',
    ))
    .action(action<Opts>(rt, async (s, o) => writeContext(s, o)));
}
