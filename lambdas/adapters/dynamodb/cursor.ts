import { createHash } from 'node:crypto';
import { ValidationError } from '../../domain/errors.js';
import { toRecord } from './client.js';

/**
 * Opaque pagination cursors: base64url JSON bound to the query they came from, so a cursor
 * from one list (or project) cannot be replayed against another.
 */
export function queryFingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

export function encodeCursor(fingerprint: string, state: unknown): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, s: state }), 'utf8').toString('base64url');
}

export function decodeCursor<T>(cursor: string | undefined, fingerprint: string): T | undefined {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (e) {
    throw new ValidationError('invalid-cursor', 'the cursor is not one this API issued; start again without a cursor', { cause: e });
  }
  const p = parsed as { f?: unknown; s?: unknown };
  if (typeof p !== 'object' || p === null || p.f !== fingerprint || p.s === undefined) {
    throw new ValidationError('invalid-cursor', 'the cursor belongs to a different list or filter; start again without a cursor');
  }
  return p.s as T;
}

/** One Query's items as records plus the cursor to the next page (bound to `fingerprint`). */
export function pageFrom<T>(out: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }, fingerprint: string): { items: T[]; nextCursor?: string } {
  return {
    items: (out.Items ?? []).map((i) => toRecord<T>(i)),
    nextCursor: out.LastEvaluatedKey ? encodeCursor(fingerprint, out.LastEvaluatedKey) : undefined,
  };
}
