/**
 * A one-time ed25519 key pair for `edgefleet hosts shell`, in OpenSSH's own formats: the
 * public key line (`ssh-ed25519 <base64 blob> <comment>`, RFC 8709 §4) and the private key in
 * the `openssh-key-v1` container (OpenSSH PROTOCOL.key, unencrypted: cipher and kdf "none").
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';

const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n >>> 0); return b; };
const str = (b: Buffer | string) => { const buf = typeof b === 'string' ? Buffer.from(b) : b; return Buffer.concat([u32(buf.length), buf]); };

export interface SshKeyPair {
  /** One line for authorized_keys. */
  readonly publicKey: string;
  /** PEM-armoured openssh-key-v1, for `ssh -i`. */
  readonly privateKey: string;
}

/** DER lengths of an ed25519 key (RFC 8410): SPKI is 12 header bytes + the 32-byte public key, PKCS#8 is 16 + the 32-byte seed. */
const SPKI_LENGTH = 44;
const PKCS8_LENGTH = 48;

export function generateSshKeyPair(comment: string): SshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  // The raw bytes are read from DER, not JWK: Node 20's JWK export of an Ed key holds the key's
  // mutex while it allocates, a GC then can finalize the key-generation job, whose destructor
  // takes the same mutex, and the thread deadlocks on itself (seen hanging a test run).
  const spki = publicKey.export({ type: 'spki', format: 'der' });
  const pkcs8 = privateKey.export({ type: 'pkcs8', format: 'der' });
  if (spki.length !== SPKI_LENGTH || pkcs8.length !== PKCS8_LENGTH) {
    throw new Error(`an ed25519 key came out of OpenSSL in an unexpected DER shape (SPKI ${spki.length} bytes, PKCS#8 ${pkcs8.length} bytes): the one-time ssh key cannot be made`);
  }
  const pub = spki.subarray(SPKI_LENGTH - 32);
  const seed = pkcs8.subarray(PKCS8_LENGTH - 32);
  const blob = Buffer.concat([str('ssh-ed25519'), str(pub)]);
  const check = randomBytes(4);
  let priv = Buffer.concat([check, check, str('ssh-ed25519'), str(pub), str(Buffer.concat([seed, pub])), str(comment)]);
  const pad: number[] = [];
  for (let i = 1; (priv.length + pad.length) % 8 !== 0; i++) pad.push(i);
  priv = Buffer.concat([priv, Buffer.from(pad)]);
  const body = Buffer.concat([Buffer.from('openssh-key-v1\0'), str('none'), str('none'), str(''), u32(1), str(blob), str(priv)]);
  const lines = body.toString('base64').match(/.{1,70}/g) ?? [];
  return {
    publicKey: `ssh-ed25519 ${blob.toString('base64')} ${comment}`,
    privateKey: `-----BEGIN OPENSSH PRIVATE KEY-----\n${lines.join('\n')}\n-----END OPENSSH PRIVATE KEY-----\n`,
  };
}
