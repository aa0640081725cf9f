import { createPublicKey, verify } from 'node:crypto';
import { transition, type HostStatus } from './host-lifecycle.js';
import { usability } from './registration-token.js';

/**
 * Device registration decisions, pure: given the token policy, the host as stored (or none),
 * the key the device presents and the time, what happens. The caller performs the writes.
 */
export interface RegistrationToken {
  readonly project: string;
  readonly expiresAt: string;
  readonly maxUses?: number;
  readonly uses: number;
  readonly revoked: boolean;
  readonly autoApprove: boolean;
  readonly allowReregistration: boolean;
}

export interface ExistingHost {
  readonly project: string;
  readonly status: HostStatus;
  readonly publicKeyPem?: string;
  readonly certificateId?: string;
}

export type RegistrationDecision =
  /** No host with this id: create it, consuming a token use. */
  | { readonly kind: 'create'; readonly status: 'pending' | 'approved' }
  /** A pre-registered host registers for the first time (consumes a use; keeps site/tags/cluster). */
  | { readonly kind: 'claim-pre-registered'; readonly status: 'approved' }
  /** The same key asks again (pending poll, or an approved host fetching its certificate). */
  | { readonly kind: 'repeat'; readonly status: HostStatus; readonly needsCertificate: boolean }
  /** Same uid, new key, allowed by the token: consumes a use, revokes the old certificate. */
  | { readonly kind: 'reregister'; readonly status: 'pending' | 'approved'; readonly revokeCertificateId?: string }
  | { readonly kind: 'refuse'; readonly code: string; readonly reason: string; readonly http: 'forbidden' | 'conflict' };

const refuse = (code: string, reason: string, http: 'forbidden' | 'conflict' = 'conflict'): RegistrationDecision => ({ kind: 'refuse', code, reason, http });

/** Normalizes a PEM so that two encodings of one key compare equal. */
export function samePublicKey(a: string | undefined, b: string): boolean {
  if (!a) return false;
  const strip = (p: string) => p.replace(/-----[^-]+-----|\s+/g, '');
  return strip(a) === strip(b);
}

export function decideRegistration(token: RegistrationToken, host: ExistingHost | undefined, publicKeyPem: string, now: Date): RegistrationDecision {
  if (host && host.project !== token.project) {
    return refuse('wrong-project', 'this hardware id is registered in another project than the registration token\'s; use a token of that project', 'forbidden');
  }
  const sameKey = host !== undefined && samePublicKey(host.publicKeyPem, publicKeyPem);
  if (host && sameKey) {
    // A repeat call by the device that registered: not a new use of the token, but the token
    // must still be authentic and neither revoked nor expired (uses are not counted again).
    const u = usability({ ...token, maxUses: undefined }, now);
    if (!u.ok) return refuse(u.code, u.reason, 'forbidden');
    if (host.status === 'rejected') return refuse('host-rejected', 'this host was rejected by an operator; delete it before it can register again');
    if (host.status === 'decommissioned') return refuse('host-decommissioned', 'this host was decommissioned; an operator must delete it before it can register again');
    return { kind: 'repeat', status: host.status, needsCertificate: (host.status === 'approved' || host.status === 'in-cluster') && !host.certificateId };
  }
  const u = usability(token, now);
  if (!u.ok) return refuse(u.code, u.reason, 'forbidden');
  if (!host) return { kind: 'create', status: token.autoApprove ? 'approved' : 'pending' };
  if (host.status === 'pre-registered' && !host.publicKeyPem) return { kind: 'claim-pre-registered', status: 'approved' };

  // A key different from the stored one: a re-installed host (or someone else) with this uid.
  if (!token.allowReregistration) {
    const t = transition(host.status, { type: 'register', autoApprove: token.autoApprove });
    if (!t.ok) return refuse(t.code, t.reason);
    return refuse('host-key-mismatch', 'a registration for this hardware id with another key is already pending; an operator must reject or delete it, or use a token that allows re-registration');
  }
  const t = transition(host.status, { type: 'reregister', autoApprove: token.autoApprove });
  if (!t.ok) return refuse(t.code, t.reason);
  return {
    kind: 'reregister', status: t.status === 'approved' ? 'approved' : 'pending',
    ...(host.certificateId ? { revokeCertificateId: host.certificateId } : {}),
  };
}

/** 32 symbols without 0/O/1/I: a byte maps onto it without bias (256 % 32 = 0). */
export const PAIRING_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
export const PAIRING_CODE_LENGTH = 6;

/** Pairing code from caller-supplied random bytes (at least 6). */
export function pairingCodeFrom(random: Uint8Array): string {
  if (random.length < PAIRING_CODE_LENGTH) throw new Error(`pairingCodeFrom needs ${PAIRING_CODE_LENGTH} random bytes`);
  let code = '';
  for (let i = 0; i < PAIRING_CODE_LENGTH; i++) code += PAIRING_ALPHABET[random[i]! % PAIRING_ALPHABET.length];
  return code;
}

export const PROOF_WINDOW_MS = 5 * 60_000;
export const POLL_AFTER_SECONDS = 30;

export type ProofCheck = { ok: true } | { ok: false; code: 'proof-required' | 'proof-expired' | 'proof-invalid'; reason: string };

/** The message a device signs with its CSR key to prove possession on a repeat call. */
export const proofMessage = (uid: string, at: string): string => `${uid}|${at}`;

/**
 * Verifies an ECDSA P-256 / SHA-256 signature (IEEE P1363, base64) over `${uid}|${at}` by the
 * stored key, with `at` within 5 minutes of now (either way: clocks drift).
 */
export function checkProof(publicKeyPem: string, uid: string, proof: { at: string; signature: string } | undefined, now: Date): ProofCheck {
  if (!proof) return { ok: false, code: 'proof-required', reason: 'this host is already registered: send `proof`, a signature by the CSR key over "<uid>|<at>"' };
  const at = Date.parse(proof.at);
  if (!(Math.abs(now.getTime() - at) <= PROOF_WINDOW_MS)) {
    return { ok: false, code: 'proof-expired', reason: `proof.at must be within ${PROOF_WINDOW_MS / 60_000} minutes of the server time (${now.toISOString()}); check the device clock` };
  }
  let valid = false;
  try {
    const key = createPublicKey(publicKeyPem);
    valid = verify('sha256', Buffer.from(proofMessage(uid, proof.at), 'utf8'), { key, dsaEncoding: 'ieee-p1363' }, Buffer.from(proof.signature, 'base64'));
  } catch {
    valid = false;
  }
  return valid ? { ok: true } : { ok: false, code: 'proof-invalid', reason: 'proof.signature does not verify with the key of the CSR this host registered with' };
}
