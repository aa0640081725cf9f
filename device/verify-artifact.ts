/**
 * Checks what the agent downloads from the control plane before anything of it runs (used by
 * the coming agent-update; the first install does the same checks in sh with openssl and
 * sha256sum, lambdas/domain/agent-install.ts):
 *   1. the manifest's signature: ECDSA P-256 / SHA-256, DER, by the control plane's key (its
 *      public half comes with the install configuration: /oem/edgefleet/agent-signing.pub);
 *   2. the manifest itself (lambdas/contracts/agent-artifacts.ts);
 *   3. the artifact's size and SHA-256 against the manifest's entry for it.
 * Every refusal is an ArtifactRefused naming what failed and on what.
 */
import { createHash, createPublicKey, verify } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { agentManifest, type AgentArtifact, type AgentManifest } from '../lambdas/contracts/agent-artifacts.js';

export type RefusalReason = 'bad-key' | 'bad-signature' | 'bad-manifest' | 'not-listed' | 'size-mismatch' | 'checksum-mismatch';

export class ArtifactRefused extends Error {
  constructor(readonly reason: RefusalReason, message: string) {
    super(message);
    this.name = 'ArtifactRefused';
  }
}

/** The manifest, once its signature holds and it parses; else ArtifactRefused. */
export function verifyManifest(bytes: Uint8Array, signature: Uint8Array, publicKeyPem: string): AgentManifest {
  let key;
  try {
    key = createPublicKey(publicKeyPem);
  } catch (e) {
    throw new ArtifactRefused('bad-key', `the control plane's signing key is not a PEM public key (${(e as Error).message}): render the user-data again`);
  }
  if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new ArtifactRefused('bad-key', `the control plane's signing key is ${key.asymmetricKeyType} ${key.asymmetricKeyDetails?.namedCurve ?? ''}, not ECDSA P-256: render the user-data again`.replace(/ +:/, ':'));
  }
  let ok = false;
  try {
    ok = verify('sha256', bytes, { key, dsaEncoding: 'der' }, signature);
  } catch {
    ok = false;
  }
  if (!ok) throw new ArtifactRefused('bad-signature', 'the agent manifest is not signed by this control plane\'s key: refusing it and everything it lists. Something between the host and the control plane changed it, or it comes from another control plane');
  let json: unknown;
  try {
    json = JSON.parse(Buffer.from(bytes).toString('utf8'));
  } catch {
    json = undefined;
  }
  const parsed = agentManifest.safeParse(json);
  if (!parsed.success) throw new ArtifactRefused('bad-manifest', `the signed agent manifest is not one this agent understands (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ').slice(0, 300)})`);
  return parsed.data;
}

/** The manifest's entry for `file`; else ArtifactRefused. */
export function artifactFor(manifest: AgentManifest, file: string): AgentArtifact {
  const a = manifest.artifacts.find((x) => x.file === file);
  if (!a) throw new ArtifactRefused('not-listed', `the signed agent manifest ${manifest.version} lists no ${file} (it lists ${manifest.artifacts.map((x) => x.file).join(', ')})`);
  return a;
}

function check(a: AgentArtifact, size: number, sha256: string): AgentArtifact {
  if (size !== a.size) throw new ArtifactRefused('size-mismatch', `${a.file} is ${size} bytes, the signed manifest says ${a.size}: refusing to run it`);
  if (sha256 !== a.sha256) throw new ArtifactRefused('checksum-mismatch', `${a.file} does not match the SHA-256 in the signed manifest (expected ${a.sha256}, got ${sha256}): refusing to run it`);
  return a;
}

/** Checks bytes in memory against the manifest's entry for `file`. */
export function verifyArtifact(manifest: AgentManifest, file: string, bytes: Uint8Array): AgentArtifact {
  return check(artifactFor(manifest, file), bytes.length, createHash('sha256').update(bytes).digest('hex'));
}

/** Checks a downloaded file (streamed: an executable is ~100 MiB) against the manifest's entry for `file`. */
export async function verifyArtifactFile(manifest: AgentManifest, file: string, path: string): Promise<AgentArtifact> {
  const a = artifactFor(manifest, file);
  const size = (await stat(path)).size;
  if (size !== a.size) return check(a, size, '');
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  return check(a, size, hash.digest('hex'));
}
