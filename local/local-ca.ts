import { createHash, randomBytes, webcrypto } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto as never);

const EC = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY = 86_400_000;

export interface IssuedCertificate {
  /** Like IoT's certificateId: SHA-256 of the DER certificate, hex. */
  readonly certificateId: string;
  readonly certificatePem: string;
  readonly notAfter: Date;
}

export interface LocalCa {
  readonly caPem: string;
  /** Key and certificate for the local MQTT broker's TLS listener. */
  serverCertificate(hostnames: readonly string[]): Promise<{ keyPem: string; certPem: string }>;
  /** Verifies the CSR's self-signature and key type, then issues a client certificate CN = thingName. */
  signCsr(csrPem: string, thingName: string): Promise<IssuedCertificate>;
  revoke(certificateId: string): void;
  isRevoked(certificateId: string): boolean;
}

export const certificateIdOf = (certPem: string): string =>
  createHash('sha256').update(Buffer.from(new x509.X509Certificate(certPem).rawData)).digest('hex');

async function exportPkcs8(key: CryptoKey): Promise<string> {
  return x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');
}

async function importPkcs8(pem: string): Promise<CryptoKey> {
  return webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC, true, ['sign']) as Promise<CryptoKey>;
}

const serial = () => randomBytes(16).toString('hex').replace(/^[89a-f]/, '1');

/**
 * The local stand-in for IoT Core's certificate authority: an EC P-256 CA kept in `dir`
 * (ca.pem, ca-key.pem 0600, revoked.json). Device keys never come here, only CSRs.
 */
export async function loadOrCreateCa(dir: string): Promise<LocalCa> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const certFile = path.join(dir, 'ca.pem');
  const keyFile = path.join(dir, 'ca-key.pem');
  const revokedFile = path.join(dir, 'revoked.json');
  let caCert: x509.X509Certificate;
  let caKey: CryptoKey;
  if (existsSync(certFile) && existsSync(keyFile)) {
    try {
      caCert = new x509.X509Certificate(readFileSync(certFile, 'utf8'));
      caKey = await importPkcs8(readFileSync(keyFile, 'utf8'));
    } catch (e) {
      throw new Error(`the local CA in ${dir} is unreadable (${(e as Error).message}); the data dir is corrupt — move ${dir} away (registered devices must then register again) or use another --data-dir`);
    }
  } else {
    const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
    caCert = await x509.X509CertificateGenerator.createSelfSigned({
      serialNumber: serial(), name: 'CN=EdgeFleet Local CA, O=EdgeFleet', notBefore: new Date(Date.now() - DAY), notAfter: new Date(Date.now() + 3650 * DAY),
      keys, signingAlgorithm: EC,
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
      ],
    });
    caKey = keys.privateKey;
    writeFileSync(keyFile, await exportPkcs8(caKey), { mode: 0o600 });
    writeFileSync(certFile, caCert.toString('pem'));
  }
  const revoked = new Set<string>(existsSync(revokedFile) ? JSON.parse(readFileSync(revokedFile, 'utf8')) as string[] : []);
  const caPem = caCert.toString('pem');

  const issue = async (subject: string, publicKey: x509.PublicKey | CryptoKey, extensions: x509.Extension[], days: number) => {
    const cert = await x509.X509CertificateGenerator.create({
      serialNumber: serial(), subject, issuer: caCert.subject, notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + days * DAY),
      signingAlgorithm: EC, publicKey, signingKey: caKey,
      extensions: [new x509.BasicConstraintsExtension(false, undefined, true), await x509.AuthorityKeyIdentifierExtension.create(caCert), ...extensions],
    });
    return cert;
  };

  return {
    caPem,
    async serverCertificate(hostnames) {
      const keys = await webcrypto.subtle.generateKey(EC, true, ['sign', 'verify']) as CryptoKeyPair;
      const cert = await issue('CN=edgefleet-local-broker', keys.publicKey, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(hostnames.map((h) => (/^\d+\.\d+\.\d+\.\d+$/.test(h) ? { type: 'ip' as const, value: h } : { type: 'dns' as const, value: h }))),
      ], 30);
      return { keyPem: await exportPkcs8(keys.privateKey), certPem: cert.toString('pem') };
    },
    async signCsr(csrPem, thingName) {
      let csr: x509.Pkcs10CertificateRequest;
      try {
        csr = new x509.Pkcs10CertificateRequest(csrPem);
      } catch (e) {
        throw new Error(`the CSR cannot be parsed: ${(e as Error).message}`);
      }
      if (!(await csr.verify())) throw new Error('the CSR signature does not verify: it was not signed by the key it carries');
      const alg = csr.publicKey.algorithm as { name: string; namedCurve?: string };
      if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') throw new Error('the CSR key must be ECDSA P-256');
      const cert = await issue(`CN=${thingName}`, csr.publicKey, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ], 365);
      const certificatePem = cert.toString('pem');
      return { certificateId: certificateIdOf(certificatePem), certificatePem, notAfter: cert.notAfter };
    },
    revoke(certificateId) {
      revoked.add(certificateId);
      writeFileSync(revokedFile, JSON.stringify([...revoked]));
    },
    isRevoked: (certificateId) => revoked.has(certificateId),
  };
}
