import { generateKeyPairSync, sign } from 'node:crypto';
import type { HostStatus } from '../../../lambdas/domain/host-lifecycle.js';
import {
  checkProof, decideRegistration, pairingCodeFrom, PAIRING_ALPHABET, proofMessage, samePublicKey,
  type ExistingHost, type RegistrationToken,
} from '../../../lambdas/domain/registration.js';

const NOW = new Date('2026-03-01T10:00:00.000Z');
const KEY_A = '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n';
const KEY_B = '-----BEGIN PUBLIC KEY-----\nBBBB\n-----END PUBLIC KEY-----\n';

const token = (over: Partial<RegistrationToken> = {}): RegistrationToken => ({
  project: 'p', expiresAt: '2026-04-01T00:00:00.000Z', uses: 0, revoked: false, autoApprove: false, allowReregistration: false, ...over,
});
const host = (status: HostStatus, over: Partial<ExistingHost> = {}): ExistingHost => ({ project: 'p', status, ...over });

describe('decideRegistration', () => {
  it.each<[string, RegistrationToken, ExistingHost | undefined, string, ReturnType<typeof decideRegistration>]>([
    ['on-site, unknown host → pending', token(), undefined, KEY_A, { kind: 'create', status: 'pending' }],
    ['on-site with an auto-approve token → approved', token({ autoApprove: true }), undefined, KEY_A, { kind: 'create', status: 'approved' }],
    ['pre-provisioned host → approved at once', token(), host('pre-registered'), KEY_A, { kind: 'claim-pre-registered', status: 'approved' }],
    ['pre-provisioned host with an auto-approve token', token({ autoApprove: true }), host('pre-registered'), KEY_A, { kind: 'claim-pre-registered', status: 'approved' }],
    ['repeat poll of a pending host (same key)', token(), host('pending', { publicKeyPem: KEY_A }), KEY_A, { kind: 'repeat', status: 'pending', needsCertificate: false }],
    ['repeat poll after operator approval → certificate needed', token(), host('approved', { publicKeyPem: KEY_A }), KEY_A, { kind: 'repeat', status: 'approved', needsCertificate: true }],
    ['repeat call of an approved host holding a certificate', token(), host('approved', { publicKeyPem: KEY_A, certificateId: 'c1' }), KEY_A, { kind: 'repeat', status: 'approved', needsCertificate: false }],
    ['repeat poll with the token used up meanwhile still works', token({ maxUses: 1, uses: 1 }), host('pending', { publicKeyPem: KEY_A }), KEY_A, { kind: 'repeat', status: 'pending', needsCertificate: false }],
    ['re-install, new key, token allows it → approved, old cert revoked', token({ allowReregistration: true }), host('approved', { publicKeyPem: KEY_A, certificateId: 'c1' }), KEY_B,
      { kind: 'reregister', status: 'approved', revokeCertificateId: 'c1' }],
    ['re-install of a pending host, new key, allowed → pending again', token({ allowReregistration: true }), host('pending', { publicKeyPem: KEY_A }), KEY_B, { kind: 'reregister', status: 'pending' }],
    ['re-install of a pending host, allowed + auto-approve', token({ allowReregistration: true, autoApprove: true }), host('pending', { publicKeyPem: KEY_A }), KEY_B, { kind: 'reregister', status: 'approved' }],
  ])('%s', (_label, t, h, key, expected) => {
    expect(decideRegistration(t, h, key, NOW)).toEqual(expected);
  });

  it.each<[string, RegistrationToken, ExistingHost | undefined, string, string, 'forbidden' | 'conflict']>([
    ['revoked token', token({ revoked: true }), undefined, KEY_A, 'token-revoked', 'forbidden'],
    ['expired token', token({ expiresAt: '2026-03-01T09:59:59.999Z' }), undefined, KEY_A, 'token-expired', 'forbidden'],
    ['unreadable expiry fails closed', token({ expiresAt: 'soon' }), undefined, KEY_A, 'token-expired', 'forbidden'],
    ['used-up token', token({ maxUses: 2, uses: 2 }), undefined, KEY_A, 'token-used-up', 'forbidden'],
    ['used-up token on a pre-registered host', token({ maxUses: 1, uses: 1 }), host('pre-registered'), KEY_A, 'token-used-up', 'forbidden'],
    ['revoked token on a pending poll', token({ revoked: true }), host('pending', { publicKeyPem: KEY_A }), KEY_A, 'token-revoked', 'forbidden'],
    ['expired token on a pending poll', token({ expiresAt: '2026-01-01T00:00:00Z' }), host('pending', { publicKeyPem: KEY_A }), KEY_A, 'token-expired', 'forbidden'],
    ['host of another project', token(), host('pre-registered', { project: 'other' }), KEY_A, 'wrong-project', 'forbidden'],
    ['rejected host, same key', token(), host('rejected', { publicKeyPem: KEY_A }), KEY_A, 'host-rejected', 'conflict'],
    ['rejected host, new key, even when re-registration is allowed', token({ allowReregistration: true }), host('rejected', { publicKeyPem: KEY_A }), KEY_B, 'host-rejected', 'conflict'],
    ['decommissioned host, same key', token(), host('decommissioned', { publicKeyPem: KEY_A }), KEY_A, 'host-decommissioned', 'conflict'],
    ['decommissioned host, new key, allowed', token({ allowReregistration: true }), host('decommissioned', { publicKeyPem: KEY_A }), KEY_B, 'host-decommissioned', 'conflict'],
    ['in-cluster host, new key, allowed', token({ allowReregistration: true }), host('in-cluster', { publicKeyPem: KEY_A, certificateId: 'c' }), KEY_B, 'host-in-cluster', 'conflict'],
    ['approved host, new key, not allowed', token(), host('approved', { publicKeyPem: KEY_A, certificateId: 'c' }), KEY_B, 'host-already-registered', 'conflict'],
    ['in-cluster host, new key, not allowed', token(), host('in-cluster', { publicKeyPem: KEY_A }), KEY_B, 'host-already-registered', 'conflict'],
    ['pending host, new key, not allowed', token(), host('pending', { publicKeyPem: KEY_A }), KEY_B, 'host-key-mismatch', 'conflict'],
  ])('refuses: %s', (_label, t, h, key, code, http) => {
    expect(decideRegistration(t, h, key, NOW)).toMatchObject({ kind: 'refuse', code, http });
  });

  it('compares keys regardless of PEM line breaks', () => {
    expect(samePublicKey('-----BEGIN PUBLIC KEY-----\r\nAA\r\nAA\r\n-----END PUBLIC KEY-----', KEY_A)).toBe(true);
    expect(samePublicKey(undefined, KEY_A)).toBe(false);
    expect(samePublicKey(KEY_B, KEY_A)).toBe(false);
  });
});

describe('pairing code', () => {
  it('has 32 unambiguous symbols (no 0, O, 1, I)', () => {
    expect(new Set(PAIRING_ALPHABET).size).toBe(32);
    expect(PAIRING_ALPHABET).not.toMatch(/[0O1I]/);
  });
  it('maps 6 random bytes onto 6 symbols, deterministically', () => {
    expect(pairingCodeFrom(Uint8Array.from([0, 1, 31, 32, 255, 100]))).toBe('AB9A9' + PAIRING_ALPHABET[100 % 32]);
    expect(pairingCodeFrom(Uint8Array.from([7, 7, 7, 7, 7, 7, 9]))).toMatch(/^[A-Z2-9]{6}$/);
  });
  it('refuses too few bytes', () => {
    expect(() => pairingCodeFrom(Uint8Array.from([1, 2, 3]))).toThrow(/6 random bytes/);
  });
});

describe('proof of possession', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const sig = (uid: string, at: string, key = privateKey) =>
    sign('sha256', Buffer.from(proofMessage(uid, at)), { key, dsaEncoding: 'ieee-p1363' }).toString('base64');
  const at = (offsetMs: number) => new Date(NOW.getTime() + offsetMs).toISOString();

  it.each([
    ['now', 0], ['4:59 ago', -299_000], ['4:59 ahead (clock drift)', 299_000],
  ])('accepts a signature made %s', (_l, off) => {
    expect(checkProof(pem, 'UID-1', { at: at(off), signature: sig('UID-1', at(off)) }, NOW)).toEqual({ ok: true });
  });

  it.each<[string, { at: string; signature: string } | undefined, string]>([
    ['missing', undefined, 'proof-required'],
    ['older than 5 minutes', { at: at(-301_000), signature: sig('UID-1', at(-301_000)) }, 'proof-expired'],
    ['unreadable time', { at: 'yesterday', signature: sig('UID-1', 'yesterday') }, 'proof-expired'],
    ['over another uid', { at: at(0), signature: sig('UID-2', at(0)) }, 'proof-invalid'],
    ['by another key', { at: at(0), signature: sig('UID-1', at(0), other.privateKey) }, 'proof-invalid'],
    ['DER instead of P1363', { at: at(0), signature: sign('sha256', Buffer.from(proofMessage('UID-1', at(0))), privateKey).toString('base64') }, 'proof-invalid'],
    ['garbage', { at: at(0), signature: '!!!' }, 'proof-invalid'],
  ])('refuses a proof that is %s', (_l, proof, code) => {
    expect(checkProof(pem, 'UID-1', proof, NOW)).toMatchObject({ ok: false, code });
  });

  it('refuses when the stored key is unreadable', () => {
    expect(checkProof('not a key', 'UID-1', { at: at(0), signature: sig('UID-1', at(0)) }, NOW)).toMatchObject({ ok: false, code: 'proof-invalid' });
  });
});
