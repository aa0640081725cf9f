/**
 * The key that signs the agent's manifest (GET /v1/agent/manifest.sig): an ECDSA P-256 key
 * (SHA-256, DER signatures). Locally a key file in the data dir; on AWS a KMS asymmetric key
 * (ECC_NIST_P256, ECDSA_SHA_256) created by the stack. The install configuration carries its
 * public key so that a host can check what it downloads before anything runs.
 */
export interface AgentSigningKey {
  /** The public key, PEM (SubjectPublicKeyInfo), as `openssl dgst -verify` reads it. */
  publicKeyPem(): Promise<string>;
  /** ECDSA P-256 over SHA-256 of `message`'s exact bytes, DER-encoded (what `openssl dgst -sha256 -verify` checks). */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Where a host gets one artifact the manifest lists. */
export type AgentArtifactLocation =
  /** A short-lived URL (a presigned S3 GET): answered with a redirect, the host's curl follows it. */
  | { readonly kind: 'redirect'; readonly url: string }
  /** A file on this machine (the local runtime streams it). */
  | { readonly kind: 'file'; readonly path: string };

/** The published agent: the manifest's exact bytes and the files it lists. */
export interface AgentArtifactStore {
  /** Where the artifacts are, for messages (a bucket and prefix, a directory). */
  readonly where: string;
  /** The manifest's exact bytes; undefined when nothing is published there. */
  manifest(): Promise<Uint8Array | undefined>;
  /** Where to fetch `file` (a name the signed manifest lists; checked by the caller). */
  artifact(file: string): Promise<AgentArtifactLocation>;
}

/** The agent manifest the control plane publishes (GET /v1/agent/manifest). */
export interface AgentManifestReader {
  /** The published manifest's version; undefined when none is published. */
  publishedVersion(): Promise<string | undefined>;
}
