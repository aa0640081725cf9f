import 'reflect-metadata';
import { createPublicKey, verify } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { deviceRegisterBody } from '../../../lambdas/contracts/device.js';
import { createCsr, generateDeviceKey, publicKeyPem, signProof } from '../../../device/identity.js';

describe('device identity', () => {
  const key = generateDeviceKey();

  test('the key is a PKCS8 ECDSA P-256 PEM', () => {
    expect(key).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    const pub = createPublicKey(key);
    expect(pub.asymmetricKeyType).toBe('ec');
    expect(pub.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  test('the CSR verifies, carries the uid as CN and the device public key, and fits the contract', async () => {
    const pem = await createCsr(key, 'host-uid-1');
    const csr = new x509.Pkcs10CertificateRequest(pem);
    expect(await csr.verify()).toBe(true);
    expect(csr.subject).toBe('CN=host-uid-1');
    const spki = Buffer.from(csr.publicKey.rawData).toString('base64');
    expect(publicKeyPem(key).replace(/-----[^-]+-----|\s+/g, '')).toBe(spki);
    const body = deviceRegisterBody.safeParse({
      token: 't', uid: 'host-uid-1', csr: pem,
      inventory: { arch: 'amd64', cpus: 2, memoryMb: 2048, disks: [], nics: [], os: { name: 'ubuntu', version: '24.04' }, agentVersion: '0.1.0' },
      proof: signProof(key, 'host-uid-1', new Date().toISOString()),
    });
    expect(body.success).toBe(true);
  });

  test('the proof verifies with node:crypto over uid|at (IEEE P1363) and not for another uid', () => {
    const at = '2026-01-01T00:00:00.000Z';
    const proof = signProof(key, 'u1', at);
    const sig = Buffer.from(proof.signature, 'base64');
    expect(sig).toHaveLength(64);
    const pub = createPublicKey(publicKeyPem(key));
    expect(verify('sha256', Buffer.from(`u1|${at}`), { key: pub, dsaEncoding: 'ieee-p1363' }, sig)).toBe(true);
    expect(verify('sha256', Buffer.from(`u2|${at}`), { key: pub, dsaEncoding: 'ieee-p1363' }, sig)).toBe(false);
  });
});
