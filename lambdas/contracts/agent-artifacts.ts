import { z } from 'zod';

/**
 * The agent's artifacts as the control plane serves them (GET /v1/agent/manifest, signed by
 * GET /v1/agent/manifest.sig; files under GET /v1/agent/artifacts/{file}). Written by
 * `npm run device:build` (dist/device/manifest.json).
 *
 * The signature is ECDSA P-256 over SHA-256 of the manifest's exact bytes, DER-encoded (what
 * AWS KMS ECDSA_SHA_256 returns and `openssl dgst -sha256 -verify` checks), so a host checks it
 * with openssl alone. One artifact per line (renderAgentManifest) so that a shell can read one
 * artifact's checksum with grep/sed once the signature held.
 */
export const agentArtifactFile = z.string().regex(/^[a-z0-9][a-z0-9._-]{0,99}$/, 'a file name: lower-case letters, digits, ".", "_" and "-"');
export const agentArtifact = z.strictObject({
  /** Node's process.arch of the executable, or "noarch" (the systemd unit). */
  arch: z.enum(['x64', 'arm64', 'noarch']),
  file: agentArtifactFile,
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
  size: z.number().int().min(0),
});
export const agentManifest = z.strictObject({
  version: z.string().regex(/^\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$/),
  /** The Node.js version inside the executables. */
  node: z.string().max(32),
  builtAt: z.iso.datetime(),
  artifacts: z.array(agentArtifact).min(1).max(16),
});
export type AgentManifest = z.infer<typeof agentManifest>;
export type AgentArtifact = z.infer<typeof agentArtifact>;

/** The manifest's bytes: JSON, one artifact per line (same order as given). */
export function renderAgentManifest(m: AgentManifest): string {
  const head = JSON.stringify({ version: m.version, node: m.node, builtAt: m.builtAt });
  const lines = m.artifacts.map((a) => `    ${JSON.stringify({ arch: a.arch, file: a.file, sha256: a.sha256, size: a.size })}`);
  return `${head.slice(0, -1)},\n  "artifacts": [\n${lines.join(',\n')}\n  ]\n}\n`;
}

/** The device-facing routes that serve the agent (no JWT; the AgentArtifacts construct on AWS, local/local-agent-artifacts.ts locally). */
export const AGENT_ROUTE_KEYS = [
  'GET /v1/agent/manifest', 'GET /v1/agent/manifest.sig', 'GET /v1/agent/public-key.pem', 'GET /v1/agent/artifacts/{file}',
] as const;
/** Object keys of the published agent in its bucket: `agent/manifest.json`, `agent/<file>`. */
export const AGENT_KEY_PREFIX = 'agent/';
/** The manifest's key in the bucket (the one key the hosts function may read). */
export const AGENT_MANIFEST_KEY = `${AGENT_KEY_PREFIX}manifest.json`;
