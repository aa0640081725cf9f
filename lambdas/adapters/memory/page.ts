import { createHash } from 'node:crypto';
import { ValidationError } from '../../domain/errors.js';
import type { Page, PageRequest } from '../../ports/index.js';

/**
 * Pagination of the in-memory adapters, with the DynamoDB adapters' contract: an opaque cursor
 * bound to the list (and filter) it came from; one from another list, or altered, is a
 * ValidationError `invalid-cursor`. Items are ordered by `sortKey` (ascending, or descending).
 */
export function fingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

function decode(cursor: string, f: string): string {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (e) {
    throw new ValidationError('invalid-cursor', 'the cursor is not one this API issued for this list; start again without a cursor',
      { cause: e, errors: [{ path: 'query.cursor', message: 'not a cursor' }] });
  }
  if (typeof parsed !== 'object' || parsed === null || !('f' in parsed) || !('after' in parsed) || parsed.f !== f || typeof parsed.after !== 'string') {
    throw new ValidationError('invalid-cursor', 'the cursor belongs to a different list or filter; start again without a cursor',
      { errors: [{ path: 'query.cursor', message: 'issued for another list, filter or project' }] });
  }
  return parsed.after;
}

export function pageOf<T>(items: readonly T[], sortKey: (item: T) => string, page: PageRequest, f: string, order: 'asc' | 'desc' = 'asc'): Page<T> {
  const sign = order === 'asc' ? 1 : -1;
  const sorted = [...items].sort((a, b) => sign * sortKey(a).localeCompare(sortKey(b)));
  const after = page.cursor === undefined ? undefined : decode(page.cursor, f);
  const rest = after === undefined ? sorted : sorted.filter((i) => sign * sortKey(i).localeCompare(after) > 0);
  const taken = rest.slice(0, page.limit);
  const last = taken.at(-1);
  return rest.length > taken.length && last !== undefined
    ? { items: taken, nextCursor: Buffer.from(JSON.stringify({ f, after: sortKey(last) }), 'utf8').toString('base64url') }
    : { items: taken };
}
