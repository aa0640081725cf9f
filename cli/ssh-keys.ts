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

export function generateSshKeyPair(comment: string): SshKeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  const pub = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const seed = Buffer.from(privateKey.export({ format: 'jwk' }).d!, 'base64url');
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
