import { createHash } from 'node:crypto';
import { z } from 'zod';
import { ValidationError } from '../../domain/errors.js';
import { toRecord } from './client.js';

/**
 * Opaque pagination cursors: base64url JSON bound to the query they came from, so a cursor
 * from one list (or project) cannot be replayed against another. The inner state is
 * validated with zod before it reaches DynamoDB: a tampered cursor is a 400 `invalid-cursor`,
 * never a 500 from the SDK or the database.
 */
export function queryFingerprint(parts: readonly unknown[]): string {
  return createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 16);
}

/** A DynamoDB key (LastEvaluatedKey): table and index key attributes, strings or numbers. */
export const dynamoKey = z.record(z.string().regex(/^[A-Za-z0-9_.-]{1,255}$/), z.union([z.string().min(1).max(2048), z.number().finite()]))
  .refine((k) => Object.keys(k).length >= 1 && Object.keys(k).length <= 4, 'a key has 1 to 4 attributes');
export type DynamoKey = z.infer<typeof dynamoKey>;

/** The sharded host listing's state: per shard, 0 (not started), null (done) or where it stopped. */
export const shardCursor = (shards: number) => z.array(z.union([z.literal(0), z.null(), dynamoKey])).length(shards);

const envelope = z.object({ f: z.string(), s: z.unknown() });
const notOurs = 'the cursor is not one this API issued for this list; start again without a cursor';

export function encodeCursor(fingerprint: string, state: unknown): string {
  return Buffer.from(JSON.stringify({ f: fingerprint, s: state }), 'utf8').toString('base64url');
}

/**
 * The state inside `cursor` (undefined without one), checked against `schema` (by default a
 * DynamoDB key). Throws ValidationError `invalid-cursor` for anything this API did not issue.
 */
export function decodeCursor(cursor: string | undefined, fingerprint: string): DynamoKey | undefined;
export function decodeCursor<T>(cursor: string | undefined, fingerprint: string, schema: z.ZodType<T>): T | undefined;
export function decodeCursor(cursor: string | undefined, fingerprint: string, schema: z.ZodType = dynamoKey): unknown {
  if (cursor === undefined) return undefined;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch (e) {
    throw new ValidationError('invalid-cursor', notOurs, { cause: e, errors: [{ path: 'query.cursor', message: 'not a cursor' }] });
  }
  const outer = envelope.safeParse(parsed);
  if (!outer.success || outer.data.f !== fingerprint) {
    throw new ValidationError('invalid-cursor', 'the cursor belongs to a different list or filter; start again without a cursor',
      { errors: [{ path: 'query.cursor', message: 'issued for another list, filter or project' }] });
  }
  const state = schema.safeParse(outer.data.s);
  if (!state.success) throw new ValidationError('invalid-cursor', notOurs, { errors: [{ path: 'query.cursor', message: 'its content was altered' }] });
  return state.data;
}

/** One Query's items as records plus the cursor to the next page (bound to `fingerprint`). */
export function pageFrom<T>(out: { Items?: Record<string, unknown>[]; LastEvaluatedKey?: Record<string, unknown> }, fingerprint: string): { items: T[]; nextCursor?: string } {
  return {
    items: (out.Items ?? []).map((i) => toRecord<T>(i)),
    nextCursor: out.LastEvaluatedKey ? encodeCursor(fingerprint, out.LastEvaluatedKey) : undefined,
  };
}
