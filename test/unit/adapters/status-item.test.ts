import { brotliCompressSync } from 'node:zlib';
import { statusFromItem, statusItem, statusKey } from '../../../lambdas/adapters/dynamodb/status-item.js';
import type { StoredStatus } from '../../../lambdas/domain/device-status.js';
import { fullReportContent } from '../../fixtures/status-content.js';

const stored = (content: StoredStatus['content']): StoredStatus => ({ at: 1_764_000_000_123, seq: 1_764_000_000_124, fingerprint: 'f'.repeat(43), storedAt: 1_764_000_000_200, content });

/** Stored size as DynamoDB bills it (attribute names + values; binary by its bytes, numbers ~ their digits). */
const itemBytes = (item: Record<string, unknown>) =>
  Object.entries(item).reduce((s, [k, v]) => s + k.length + (v instanceof Uint8Array ? v.byteLength : Buffer.byteLength(typeof v === 'string' ? v : JSON.stringify(v))), 0);

describe('status items', () => {
  it.each([
    ['a full report of an init node', fullReportContent()],
    ['a minimal change report', { boot: { state: 'active' }, agentVersion: '0.1.0' }],
    ['hostile text, nulls, numbers and empty containers', { agentVersion: '"quotes" \\u0000 ünïcødé 🚀', remoteAccess: false, n: 0, big: 2 ** 52, neg: -1.5, nothing: null, empty: {}, list: [] }],
  ])('%s: stored compressed, and reads back as the same StoredStatus', (_name, content) => {
    const item = statusItem('h-1', stored(content));
    expect(item).toMatchObject({ ...statusKey('h-1'), kind: 'status', at: 1_764_000_000_123, seq: 1_764_000_000_124, storedAt: 1_764_000_000_200 });
    expect(item.contentBr).toBeInstanceOf(Uint8Array);
    expect('content' in item).toBe(false);
    expect(statusFromItem(item)).toEqual(stored(content));
  });

  it('keeps a full report of an init node under 1 KB (one write unit); as a plain map it was over', () => {
    const status = stored(fullReportContent());
    const plain = { ...statusKey('some-host-id-of-36-characters-000000'), kind: 'status', ...status };
    expect(itemBytes(plain)).toBeGreaterThan(1024);
    expect(itemBytes(statusItem('some-host-id-of-36-characters-000000', status))).toBeLessThan(800);
  });

  it('reads an item stored by an earlier release (the content as a plain map) the same', () => {
    const status = stored(fullReportContent());
    expect(statusFromItem({ ...statusKey('h-1'), kind: 'status', ...status })).toEqual(status);
  });

  it.each([
    ['no item', undefined],
    ['no ordering fields', { ...statusKey('h-1'), content: { agentVersion: '1' } }],
    ['a seq that is not a number', { ...statusItem('h-1', stored({ a: 1 })), seq: '7' }],
    ['no content at all', { ...statusKey('h-1'), at: 1, seq: 1, fingerprint: 'f', storedAt: 1 }],
    ['plain content that is not a map', { ...statusKey('h-1'), at: 1, seq: 1, fingerprint: 'f', storedAt: 1, content: ['a'] }],
    ['compressed bytes that are not brotli', { ...statusItem('h-1', stored({ a: 1 })), contentBr: new Uint8Array([1, 2, 3, 4]) }],
    ['compressed JSON that is not an object', { ...statusItem('h-1', stored({ a: 1 })), contentBr: brotliCompressSync('[1,2]') }],
    ['compressed text that is not JSON', { ...statusItem('h-1', stored({ a: 1 })), contentBr: brotliCompressSync('{"a":') }],
  ])('an unreadable item is no report: %s', (_name, item) => {
    expect(statusFromItem(item as Record<string, unknown> | undefined)).toBeUndefined();
  });
});
