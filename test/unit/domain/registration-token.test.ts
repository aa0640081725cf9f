import { randomBytes } from 'node:crypto';
import {
  DEFAULT_TOKEN_LIFETIME_DAYS, MAX_TOKEN_LIFETIME_DAYS, formatToken, hashSecret, parseToken, resolveExpiry, secretMatches, usability,
  type TokenPolicy,
} from '../../../lambdas/domain/registration-token.js';

const DAY = 86_400_000;
const NOW = new Date('2025-06-01T12:00:00.000Z');
const ID = '0123456789abcdef';
const SECRET = 'Zm9vYmFyYmF6cXV4cXV1eGNvcmdlZ3JhdWx0Z2FycGx5';

describe('registration token format', () => {
  it.each([
    ['a generated id and 32-byte base64url secret', '9f86d081884c7d65', randomBytes(32).toString('base64url')],
    ['minimum lengths', 'a'.repeat(8), 'b'.repeat(32)],
    ['maximum lengths', 'z'.repeat(32), 'Y'.repeat(128)],
    ['secret with "_" and "-"', ID, `${'_'.repeat(16)}${'-'.repeat(16)}`],
    ['secret that looks like another token', ID, `eft_${'a'.repeat(8)}_${'b'.repeat(32)}`],
  ])('format → parse round trip: %s', (_label, id, secret) => {
    const token = formatToken(id, secret);
    expect(token.startsWith('eft_')).toBe(true);
    expect(parseToken(token)).toEqual({ id, secret });
  });

  it.each([
    ['empty', ''],
    ['no prefix', `${ID}_${SECRET}`],
    ['wrong prefix', `efx_${ID}_${SECRET}`],
    ['upper-case prefix', `EFT_${ID}_${SECRET}`],
    ['id too short', `eft_${'a'.repeat(7)}_${SECRET}`],
    ['id too long', `eft_${'a'.repeat(33)}_${SECRET}`],
    ['upper-case id', `eft_ABCDEF0123_${SECRET}`],
    ['id with "-"', `eft_abcd-0123_${SECRET}`],
    ['secret too short', `eft_${ID}_${'s'.repeat(31)}`],
    ['secret too long', `eft_${ID}_${'s'.repeat(129)}`],
    ['secret with "+" (base64, not base64url)', `eft_${ID}_${'s'.repeat(31)}+`],
    ['secret with "="', `eft_${ID}_${'s'.repeat(32)}=`],
    ['no secret', `eft_${ID}_`],
    ['no separator', `eft_${ID}${SECRET}`],
    ['trailing newline', `eft_${ID}_${SECRET}\n`],
    ['leading space', ` eft_${ID}_${SECRET}`],
    ['trailing space', `eft_${ID}_${SECRET} `],
    ['two tokens', `eft_${ID}_${SECRET} eft_${ID}_${SECRET}`],
  ])('parse rejects a malformed token: %s', (_label, token) => {
    expect(parseToken(token)).toBeUndefined();
  });
});

describe('secretMatches()', () => {
  const stored = hashSecret(SECRET);

  it('stores sha256 hex, never the secret', () => {
    expect(stored).toMatch(/^[0-9a-f]{64}$/);
    expect(stored).not.toContain(SECRET);
    expect(hashSecret(SECRET)).toBe(stored);
  });

  it.each([
    ['the right secret', SECRET, stored, true],
    ['the right secret, upper-case stored hex', SECRET, stored.toUpperCase(), true],
    ['another secret', `${SECRET}x`, stored, false],
    ['a secret differing in case', SECRET.toLowerCase(), stored, false],
    ['empty secret', '', stored, false],
    ['the hash itself as the secret', stored, stored, false],
    ['a truncated stored hash', SECRET, stored.slice(0, 62), false],
    ['an empty stored hash', SECRET, '', false],
    ['a non-hex stored hash', SECRET, 'z'.repeat(64), false],
  ])('%s → %s', (_label, secret, hash, expected) => {
    expect(secretMatches(secret, hash)).toBe(expected);
  });
});

describe('usability()', () => {
  const policy = (p: Partial<TokenPolicy>): TokenPolicy => ({ expiresAt: new Date(NOW.getTime() + DAY).toISOString(), uses: 0, revoked: false, ...p });

  it.each([
    ['fresh', {}, 'ok'],
    ['expires in 1 ms', { expiresAt: new Date(NOW.getTime() + 1).toISOString() }, 'ok'],
    ['expires exactly now', { expiresAt: NOW.toISOString() }, 'token-expired'],
    ['expired a day ago', { expiresAt: new Date(NOW.getTime() - DAY).toISOString() }, 'token-expired'],
    ['unreadable expiry (fails closed)', { expiresAt: 'not a date' }, 'token-expired'],
    ['revoked', { revoked: true }, 'token-revoked'],
    ['revoked and expired: revocation is reported', { revoked: true, expiresAt: NOW.toISOString() }, 'token-revoked'],
    ['one use left', { maxUses: 3, uses: 2 }, 'ok'],
    ['used up', { maxUses: 3, uses: 3 }, 'token-used-up'],
    ['over-used', { maxUses: 1, uses: 5 }, 'token-used-up'],
    ['unlimited uses', { uses: 1_000_000 }, 'ok'],
    ['expired and used up: expiry is reported', { maxUses: 1, uses: 1, expiresAt: NOW.toISOString() }, 'token-expired'],
  ] as const)('%s → %s', (_label, p, expected) => {
    const result = usability(policy(p), NOW);
    if (expected === 'ok') expect(result).toEqual({ ok: true });
    else expect(result).toEqual({ ok: false, code: expected, reason: expect.any(String) });
  });

  it('the used-up reason says how many times it was used', () => {
    expect(usability(policy({ maxUses: 3, uses: 3 }), NOW)).toMatchObject({ reason: expect.stringMatching(/used 3 of 3 times/) });
  });
});

describe('resolveExpiry()', () => {
  it(`defaults to ${DEFAULT_TOKEN_LIFETIME_DAYS} days`, () => {
    expect(DEFAULT_TOKEN_LIFETIME_DAYS).toBe(30);
    expect(resolveExpiry(undefined, NOW)).toEqual({ ok: true, expiresAt: '2025-07-01T12:00:00.000Z' });
  });

  it.each([
    ['in one minute', '2025-06-01T12:01:00.000Z', '2025-06-01T12:01:00.000Z'],
    ['with an offset, normalized to UTC', '2025-06-02T14:00:00+02:00', '2025-06-02T12:00:00.000Z'],
    ['exactly 366 days', new Date(NOW.getTime() + 366 * DAY).toISOString(), '2026-06-02T12:00:00.000Z'],
  ])('accepts an expiry %s', (_label, requested, expected) => {
    expect(resolveExpiry(requested, NOW)).toEqual({ ok: true, expiresAt: expected });
  });

  it.each([
    ['exactly now', NOW.toISOString(), /in the future/],
    ['in the past', '2025-05-31T12:00:00.000Z', /in the future/],
    ['long ago', '1970-01-01T00:00:00.000Z', /in the future/],
    ['366 days and 1 ms', new Date(NOW.getTime() + MAX_TOKEN_LIFETIME_DAYS * DAY + 1).toISOString(), /within 366 days/],
    ['two years', '2027-06-01T12:00:00.000Z', /within 366 days/],
    ['not a date', 'tomorrow', /ISO 8601/],
    ['empty', '', /ISO 8601/],
  ])('refuses an expiry %s', (_label, requested, reason) => {
    expect(resolveExpiry(requested, NOW)).toEqual({ ok: false, reason: expect.stringMatching(reason) });
  });
});
