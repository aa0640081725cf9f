import { createHash, timingSafeEqual } from 'node:crypto';

/**
 * Registration tokens look like `eft_<id>_<secret>`. The id locates the record; only
 * sha256(secret) is stored, so a leaked table cannot be replayed against the device API.
 */
export const TOKEN_PREFIX = 'eft_';
export const DEFAULT_TOKEN_LIFETIME_DAYS = 30;
export const MAX_TOKEN_LIFETIME_DAYS = 366;

export interface TokenPolicy {
  readonly expiresAt: string;
  readonly maxUses?: number;
  readonly uses: number;
  readonly revoked: boolean;
}

export function formatToken(id: string, secret: string): string {
  return `${TOKEN_PREFIX}${id}_${secret}`;
}

export function parseToken(token: string): { id: string; secret: string } | undefined {
  const m = /^eft_([a-z0-9]{8,32})_([A-Za-z0-9_-]{32,128})$/.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : undefined;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex');
}

export function secretMatches(secret: string, storedHash: string): boolean {
  const a = Buffer.from(hashSecret(secret), 'hex');
  const b = Buffer.from(storedHash, 'hex');
  return a.length === b.length && timingSafeEqual(a, b);
}

export type TokenUsability = { ok: true } | { ok: false; code: string; reason: string };

/** Whether a token may be used now. Checked on read too: TTL deletion is not immediate. */
export function usability(policy: TokenPolicy, now: Date): TokenUsability {
  if (policy.revoked) return { ok: false, code: 'token-revoked', reason: 'the registration token was revoked; ask an operator for a new one' };
  // Fail closed: an unreadable expiry counts as expired (NaN compares false both ways).
  if (!(Date.parse(policy.expiresAt) > now.getTime())) return { ok: false, code: 'token-expired', reason: `the registration token expired at ${policy.expiresAt}; ask an operator for a new one` };
  if (policy.maxUses !== undefined && policy.uses >= policy.maxUses) return { ok: false, code: 'token-used-up', reason: `the registration token was already used ${policy.uses} of ${policy.maxUses} times` };
  return { ok: true };
}

/** Resolves the expiry of a new token: default lifetime, must be in the future and within a year. */
export function resolveExpiry(requested: string | undefined, now: Date):
  { ok: true; expiresAt: string } | { ok: false; reason: string } {
  if (requested === undefined) {
    return { ok: true, expiresAt: new Date(now.getTime() + DEFAULT_TOKEN_LIFETIME_DAYS * 86_400_000).toISOString() };
  }
  const t = Date.parse(requested);
  if (Number.isNaN(t)) return { ok: false, reason: 'expiresAt must be an ISO 8601 date-time' };
  if (t <= now.getTime()) return { ok: false, reason: 'expiresAt must be in the future' };
  if (t > now.getTime() + MAX_TOKEN_LIFETIME_DAYS * 86_400_000) return { ok: false, reason: `expiresAt must be within ${MAX_TOKEN_LIFETIME_DAYS} days` };
  return { ok: true, expiresAt: new Date(t).toISOString() };
}
