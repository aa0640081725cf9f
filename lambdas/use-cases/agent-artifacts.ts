import { agentArtifactFile, agentManifest, type AgentManifest } from '../contracts/agent-artifacts.js';
import { NotFoundError, UnavailableError } from '../domain/errors.js';
import type { AgentArtifactStore, AgentManifestReader, AgentSigningKey } from '../ports/agent-artifacts.js';

/** What serving the agent needs; absent where the deployment publishes no agent. */
export interface AgentArtifactDeps {
  readonly signing?: AgentSigningKey;
  readonly store?: AgentArtifactStore;
}

/** One answer of GET /v1/agent/…: bytes, or where to fetch an artifact. */
export type AgentResource =
  | { readonly kind: 'bytes'; readonly contentType: string; readonly body: Uint8Array }
  | { readonly kind: 'redirect'; readonly url: string }
  | { readonly kind: 'file'; readonly path: string };

export const AGENT_RESOURCES = 'manifest, manifest.sig, public-key.pem and artifacts/{file}';

const NOT_PUBLISHED = 'this deployment publishes no agent artifacts: build them with npm run device:build and deploy the stack with '
  + '-c edgefleet:agentArtifacts=dist/device (locally: start with --agent-artifacts <dir>); until then render the user-data with "agentInstall": "baked"';

/**
 * Serves `/v1/agent/<rest>`: the manifest's exact bytes, its signature (signed over those same
 * bytes, so a host that verifies what it downloaded verifies what was signed), the public key,
 * or where to fetch an artifact the manifest lists (nothing else: a name it does not list is 404).
 */
export async function agentResource(deps: AgentArtifactDeps, rest: string): Promise<AgentResource> {
  const known = rest === 'manifest' || rest === 'manifest.sig' || rest === 'public-key.pem' || rest.startsWith('artifacts/');
  if (!known) throw new NotFoundError('not-found', `no such agent resource: /v1/agent/${rest.slice(0, 100)} (there are ${AGENT_RESOURCES})`);
  const { signing, store } = deps;
  if (!signing || !store) throw new UnavailableError('agent-artifacts-not-configured', NOT_PUBLISHED);
  if (rest === 'public-key.pem') return { kind: 'bytes', contentType: 'application/x-pem-file', body: Buffer.from(await signing.publicKeyPem()) };
  const m = await readManifest(store);
  if (rest === 'manifest') return { kind: 'bytes', contentType: 'application/json', body: m.bytes };
  if (rest === 'manifest.sig') return { kind: 'bytes', contentType: 'application/octet-stream', body: await signing.sign(m.bytes) };
  const name = rest.slice('artifacts/'.length);
  const artifact = agentArtifactFile.safeParse(name).success ? m.manifest.artifacts.find((a) => a.file === name) : undefined;
  if (!artifact) {
    throw new NotFoundError('not-found', `the agent manifest (version ${m.manifest.version}) lists no artifact "${name.slice(0, 100)}": ask for one of ${m.manifest.artifacts.map((a) => a.file).join(', ')}`);
  }
  const at = await store.artifact(artifact.file);
  return at.kind === 'redirect' ? { kind: 'redirect', url: at.url } : { kind: 'file', path: at.path };
}

async function readManifest(store: AgentArtifactStore): Promise<{ bytes: Uint8Array; manifest: AgentManifest }> {
  const bytes = await store.manifest();
  if (!bytes) throw new UnavailableError('agent-artifacts-missing', `no agent manifest.json in ${store.where} (or this function may not read it): ${NOT_PUBLISHED}`);
  let json: unknown;
  try { json = JSON.parse(Buffer.from(bytes).toString('utf8')); } catch { json = undefined; }
  const parsed = agentManifest.safeParse(json);
  if (!parsed.success) {
    throw new UnavailableError('agent-artifacts-invalid', `manifest.json in ${store.where} is not an agent manifest (${parsed.error.issues[0]?.message ?? 'not JSON'}): run npm run device:build again (on AWS, deploy the stack with its output)`);
  }
  return { bytes, manifest: parsed.data };
}

/** The published manifest's version, read from the store (an agent update checks it); none when nothing valid is published. */
export function manifestReader(store: AgentArtifactStore): AgentManifestReader {
  return {
    publishedVersion: async () => {
      try {
        return (await readManifest(store)).manifest.version;
      } catch (e) {
        if (e instanceof UnavailableError) return undefined;
        throw e;
      }
    },
  };
}
