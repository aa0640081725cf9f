import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';
import { ValidationError } from '../../domain/errors.js';
import type { CsrInspector } from '../../ports/device-registry.js';

let providerSet = false;

const csrError = (code: string, message: string, cause?: unknown) =>
  new ValidationError(code, message, { cause, errors: [{ path: 'body.csr', message }] });

/** PKCS#10 checks with @peculiar/x509 (WebCrypto): parse, self-signature, ECDSA P-256 key. */
export const x509CsrInspector: CsrInspector = {
  async inspect(csrPem) {
    if (!providerSet) { x509.cryptoProvider.set(webcrypto as never); providerSet = true; }
    let csr: x509.Pkcs10CertificateRequest;
    try {
      csr = new x509.Pkcs10CertificateRequest(csrPem);
    } catch (e) {
      throw csrError('invalid-csr', `the CSR cannot be parsed as PKCS#10: ${(e as Error).message}`, e);
    }
    const alg = csr.publicKey.algorithm as { name?: string; namedCurve?: string };
    if (alg.name !== 'ECDSA' || alg.namedCurve !== 'P-256') {
      throw csrError('csr-key-unsupported', `the CSR key must be ECDSA P-256 (got ${alg.name ?? 'unknown'}${alg.namedCurve ? ` ${alg.namedCurve}` : ''})`);
    }
    let ok = false;
    try {
      ok = await csr.verify();
    } catch (e) {
      throw csrError('csr-signature-invalid', `the CSR signature cannot be checked: ${(e as Error).message}`, e);
    }
    if (!ok) throw csrError('csr-signature-invalid', 'the CSR signature does not verify: it was not signed by the key it carries');
    return { publicKeyPem: csr.publicKey.toString('pem') };
  },
};
