import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, jwtVerify, SignJWT, type JWK, type JWTPayload, type CryptoKey } from 'jose';

/** The local stand-in for Cognito: an ES256 key kept in the data dir, same claims as on AWS. */
export const LOCAL_ISSUER = 'https://edgefleet.local/issuer';
export const LOCAL_AUDIENCE = 'edgefleet-local';

export interface LocalIssuer {
  sign(subject: string, roles: readonly string[], ttlSeconds: number): Promise<string>;
  /** Verifies signature, issuer, audience and expiry; returns the claims. */
  verify(token: string): Promise<JWTPayload>;
}

export async function loadOrCreateIssuer(keyFile: string): Promise<LocalIssuer> {
  let privateJwk: JWK;
  if (existsSync(keyFile)) {
    try {
      privateJwk = JSON.parse(readFileSync(keyFile, 'utf8')) as JWK;
      if (privateJwk.kty !== 'EC' || !privateJwk.d) throw new Error('not an EC private key');
    } catch (e) {
      throw new Error(`the local signing key ${keyFile} is unreadable (${(e as Error).message}); the data dir is corrupt — delete that file to issue a new admin token, or start with another --data-dir`);
    }
  } else {
    const { privateKey } = await generateKeyPair('ES256', { extractable: true });
    privateJwk = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg: 'ES256' };
    writeFileSync(keyFile, JSON.stringify(privateJwk), { mode: 0o600 });
  }
  const privateKey = (await importJWK(privateJwk, 'ES256')) as CryptoKey;
  const { d: _d, ...publicJwk } = privateJwk;
  const publicKey = (await importJWK(publicJwk, 'ES256')) as CryptoKey;
  return {
    sign: (subject, roles, ttlSeconds) => new SignJWT({ 'edgefleet:roles': [...roles], token_use: 'access' })
      .setProtectedHeader({ alg: 'ES256', kid: privateJwk.kid })
      .setSubject(subject).setIssuer(LOCAL_ISSUER).setAudience(LOCAL_AUDIENCE)
      .setIssuedAt().setExpirationTime(`${ttlSeconds}s`).setJti(randomUUID())
      .sign(privateKey),
    verify: async (token) => (await jwtVerify(token, publicKey, { issuer: LOCAL_ISSUER, audience: LOCAL_AUDIENCE, algorithms: ['ES256'] })).payload,
  };
}
