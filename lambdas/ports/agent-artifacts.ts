/**
 * The key that signs the agent's manifest (GET /v1/agent/manifest.sig): an ECDSA P-256 key
 * (SHA-256, DER signatures). Locally a key file in the data dir; on AWS a KMS asymmetric key
 * (ECC_NIST_P256, ECDSA_SHA_256) — not wired in this release. The install configuration carries
 * its public key so that a host can check what it downloads before anything runs.
 */
export interface AgentSigningKey {
  /** The public key, PEM (SubjectPublicKeyInfo), as `openssl dgst -verify` reads it. */
  publicKeyPem(): Promise<string>;
}

/** The agent manifest the control plane publishes (GET /v1/agent/manifest). */
export interface AgentManifestReader {
  /** The published manifest's version; undefined when none is published. */
  publishedVersion(): Promise<string | undefined>;
}
