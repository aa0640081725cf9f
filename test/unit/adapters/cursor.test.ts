import { ValidationError } from '../../../lambdas/domain/errors.js';
import { decodeCursor, encodeCursor, shardCursor } from '../../../lambdas/adapters/dynamodb/cursor.js';

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v), 'utf8').toString('base64url');

describe('list cursors', () => {
  it('round-trips a DynamoDB key bound to its query', () => {
    const key = { pk: 'HOST#a', sk: 'HOST', gsi1sk: 3 };
    expect(decodeCursor(encodeCursor('f1', key), 'f1')).toEqual(key);
    expect(decodeCursor(undefined, 'f1')).toBeUndefined();
  });

  it.each<[string, string]>([
    ['not base64 JSON', '!!!'],
    ['JSON that is not an envelope', b64([1, 2])],
    ['another query', encodeCursor('f2', { pk: 'x' })],
    ['s null', b64({ f: 'f1', s: null })],
    ['s missing', b64({ f: 'f1' })],
    ['s empty object', b64({ f: 'f1', s: {} })],
    ['s an array', b64({ f: 'f1', s: ['a'] })],
    ['s a number', b64({ f: 'f1', s: 5 })],
    ['s a string', b64({ f: 'f1', s: 'x' })],
    ['a nested attribute', b64({ f: 'f1', s: { pk: { S: 'x' } } })],
    ['too many attributes', b64({ f: 'f1', s: { a: '1', b: '2', c: '3', d: '4', e: '5' } })],
    ['an attribute name with odd characters', b64({ f: 'f1', s: { 'p k': 'x' } })],
  ])('%s → invalid-cursor', (_n, cursor) => {
    let err: unknown;
    try { decodeCursor(cursor, 'f1'); } catch (e) { err = e; }
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as ValidationError).code).toBe('invalid-cursor');
  });

  it('the sharded host state: right length, each 0, null or a key', () => {
    expect(decodeCursor(encodeCursor('f', [0, null, { pk: 'a' }]), 'f', shardCursor(3))).toEqual([0, null, { pk: 'a' }]);
    expect(() => decodeCursor(encodeCursor('f', [0, null]), 'f', shardCursor(3))).toThrow(ValidationError);
    expect(() => decodeCursor(encodeCursor('f', [1, null, 0]), 'f', shardCursor(3))).toThrow(ValidationError);
  });
});
