import 'reflect-metadata';
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[0]);

const EC = { name: 'ECDSA', namedCurve: 'P-256' } as const;

/** A new ECDSA P-256 private key, PKCS8 PEM. Generated on the device; it never leaves it. */
export function generateDeviceKey(): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

/** The SPKI PEM of a private key's public half. */
export function publicKeyPem(privateKeyPem: string): string {
  return createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();
}

function pemBody(pem: string): Uint8Array {
  return Buffer.from(pem.replace(/-----[^-]+-----|\s+/g, ''), 'base64');
}

/** A PKCS#10 CSR (PEM, trailing newline) with CN = the host uid, signed by the device key. */
export async function createCsr(privateKeyPem: string, commonName: string): Promise<string> {
  const subtle = webcrypto.subtle;
  const privateKey = await subtle.importKey('pkcs8', pemBody(createPrivateKey(privateKeyPem).export({ type: 'pkcs8', format: 'pem' }).toString()), EC, false, ['sign']);
  const publicKey = await subtle.importKey('spki', pemBody(publicKeyPem(privateKeyPem)), EC, true, ['verify']);
  const cn = commonName.replace(/[,+="\\<>;#]/g, '-');
  const csr = await x509.Pkcs10CertificateRequestGenerator.create({
    name: `CN=${cn}`,
    keys: { privateKey, publicKey } as never,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
  });
  const pem = csr.toString('pem').replace(/\r\n/g, '\n');
  return pem.endsWith('\n') ? pem : `${pem}\n`;
}

/** The message a device signs on every registration call: `${uid}|${at}`. */
export const proofMessage = (uid: string, at: string): string => `${uid}|${at}`;

/** Proof of key possession: base64 IEEE-P1363 ECDSA P-256/SHA-256 signature over `${uid}|${at}`. */
export function signProof(privateKeyPem: string, uid: string, at: string): { at: string; signature: string } {
  const signature = sign('sha256', Buffer.from(proofMessage(uid, at), 'utf8'), { key: privateKeyPem, dsaEncoding: 'ieee-p1363' });
  return { at, signature: signature.toString('base64') };
}
