import { createHash, createPublicKey } from 'node:crypto';
import { GetPublicKeyCommand, SignCommand, type KMSClient } from '@aws-sdk/client-kms';
import type { AgentSigningKey } from '../../ports/agent-artifacts.js';

/**
 * The agent manifest's signing key on AWS: a KMS asymmetric key (KeySpec ECC_NIST_P256,
 * KeyUsage SIGN_VERIFY) created by the stack; its private half never leaves KMS.
 *
 * Sign: SigningAlgorithm ECDSA_SHA_256 with MessageType DIGEST over the SHA-256 of the
 * manifest's exact bytes, computed here. KMS then signs that digest as it is (RAW would hash
 * the message itself and caps it at 4096 bytes; a manifest of 16 artifacts may pass that).
 * The result is the same ECDSA signature either way, DER-encoded (ANS X9.62, RFC 3279 2.2.3),
 * which is what `openssl dgst -sha256 -verify key.pem -signature manifest.sig manifest.json`
 * checks on the host. Signatures are kept per manifest digest, so a warm function calls Sign
 * once per published manifest.
 *
 * GetPublicKey returns the public key as DER SubjectPublicKeyInfo; it is served PEM-encoded
 * ("BEGIN PUBLIC KEY"), which openssl reads with `-verify`. Read once per process.
 */
export class KmsAgentSigningKey implements AgentSigningKey {
  private pem: Promise<string> | undefined;
  private readonly signatures = new Map<string, Promise<Uint8Array>>();

  constructor(private readonly kms: KMSClient, private readonly keyId: string) {}

  publicKeyPem(): Promise<string> {
    this.pem ??= this.loadPublicKey().catch((e: unknown) => { this.pem = undefined; throw e; });
    return this.pem;
  }

  sign(message: Uint8Array): Promise<Uint8Array> {
    const digest = createHash('sha256').update(message).digest();
    const id = digest.toString('hex');
    let signature = this.signatures.get(id);
    if (!signature) {
      signature = (async () => {
        const out = await this.kms.send(new SignCommand({ KeyId: this.keyId, Message: digest, MessageType: 'DIGEST', SigningAlgorithm: 'ECDSA_SHA_256' }));
        if (!out.Signature || out.Signature.length === 0) throw new Error(`KMS Sign with key ${this.keyId} returned no signature`);
        return out.Signature;
      })();
      signature.catch(() => this.signatures.delete(id));
      // A few manifests at most are live at once (the published one, maybe its predecessor).
      if (this.signatures.size >= 8) this.signatures.clear();
      this.signatures.set(id, signature);
    }
    return signature;
  }

  private async loadPublicKey(): Promise<string> {
    const out = await this.kms.send(new GetPublicKeyCommand({ KeyId: this.keyId }));
    if (out.KeySpec !== 'ECC_NIST_P256' || out.KeyUsage !== 'SIGN_VERIFY' || !out.SigningAlgorithms?.includes('ECDSA_SHA_256') || !out.PublicKey) {
      throw new Error(`the agent signing key ${this.keyId} is ${out.KeySpec ?? 'of an unknown spec'} for ${out.KeyUsage ?? 'an unknown use'}, not an ECC_NIST_P256 SIGN_VERIFY key with ECDSA_SHA_256: `
        + 'hosts verify the manifest with ECDSA P-256 / SHA-256; point AGENT_SIGNING_KEY_ARN at the key the stack creates');
    }
    return createPublicKey({ key: Buffer.from(out.PublicKey), format: 'der', type: 'spki' }).export({ format: 'pem', type: 'spki' }).toString();
  }
}
