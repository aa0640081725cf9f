import { z } from 'zod';
import { agentArtifactFile, agentManifest } from './agent-artifacts.js';

/**
 * `edgefleet images build-context` (issue 16, Build 4): what an EdgeForge-style image build
 * context is made from. Every string here ends up in a Dockerfile, a shell script or an image
 * tag, so each is held to a narrow shape: no quotes, spaces, newlines or shell syntax can pass.
 */
const name = (what: string) => z.string().regex(/^[a-z][a-z0-9]{0,31}$/, `${what}: lower-case letters and digits, e.g. "ubuntu" or "k3s"`);

/** An OCI repository: `[host[:port]/]path` in lower case (the distribution spec's name grammar). */
export const ociRepository = z.string().max(255).regex(
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/,
  'an image repository such as "registry.example.com/edge/edgefleet-os" (lower case, no tag, no spaces or quotes)',
);
/** An OCI image reference with a tag (and optionally a digest). */
export const ociImageRef = z.string().max(400).regex(
  /^(?:[a-z0-9]+(?:[.-][a-z0-9]+)*(?::\d{1,5})?\/)?[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*:[\w][\w.-]{0,127}(?:@sha256:[0-9a-f]{64})?$/,
  'an image reference with a tag, such as "quay.io/kairos/ubuntu:24.04-standard-amd64-generic-v3.5.0-k3s-v1.31.2-k3s1"',
);

export const imageArch = z.enum(['amd64', 'arm64']);
export type ImageArch = z.infer<typeof imageArch>;

/** The flags of `images build-context`, before the agent is read. */
export const imageBuildFlags = z.strictObject({
  os: name('--os'),
  osVersion: z.string().regex(/^\d{1,4}(?:\.\d{1,4}){0,2}$/, '--os-version: a release such as "24.04", "15.6" or "9"'),
  k8s: name('--k8s'),
  k8sVersion: z.string().regex(/^v?\d{1,3}\.\d{1,3}\.\d{1,3}(?:[+-](?:k3s\d{1,3}|rke2r\d{1,3}))?$/, '--k8s-version: major.minor.patch such as "1.31.2" (optionally with the release suffix, "1.31.2+k3s1", "1.31.2+rke2r1")'),
  arch: imageArch.default('amd64'),
  kairosVersion: z.string().regex(/^v\d{1,3}\.\d{1,3}\.\d{1,3}(?:-(?:alpha|beta|rc)\.?\d{0,3})?$/, '--kairos-version: a Kairos release such as "v3.5.0"').default('v3.5.0'),
  registry: ociRepository.optional(),
  baseImage: ociImageRef.optional(),
});
export type ImageBuildFlags = z.infer<typeof imageBuildFlags>;

/** The agent baked into the image: from the manifest `npm run device:build` writes. */
export const bakedAgent = z.strictObject({
  version: agentManifest.shape.version,
  /** File name of the executable for the image's architecture in the agent directory. */
  executable: agentArtifactFile,
  /** File name of the systemd unit in the agent directory. */
  unit: agentArtifactFile,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});
export type BakedAgent = z.infer<typeof bakedAgent>;

export const imageBuildInput = imageBuildFlags.extend({ agent: bakedAgent });
export type ImageBuildInput = z.infer<typeof imageBuildInput>;

/** The image a build context makes, or why none can be made (the matrix's own reason). */
export type ImagePlan = { readonly ok: true; readonly baseImage: string } | { readonly ok: false; readonly reason: string };

export interface BuildContextFile {
  /** Relative to the context directory, "/"-separated. */
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export type BuildContext =
  | {
    readonly ok: true;
    readonly baseImage: string;
    readonly image: string;
    readonly files: readonly BuildContextFile[];
    /** Files to copy from the agent directory into the context: `from` a file name there, `to` a context path. */
    readonly agentFiles: readonly { readonly from: string; readonly to: string }[];
  }
  | { readonly ok: false; readonly reason: string };

/** The pure renderer the CLI is given (lambdas/domain/image-build-context.ts, wired by bin/edgefleet.ts). */
export interface ImageBuildRenderer {
  plan(flags: ImageBuildFlags): ImagePlan;
  render(input: ImageBuildInput): BuildContext;
}
