import { describeChange, diffHosts, type HostSnapshot } from '../../cli/commands/hosts-watch.js';

const snap = (entries: [string, 'online' | 'offline', string][]): HostSnapshot =>
  new Map(entries.map(([id, presence, status]) => [id, { presence, status: status as never }]));

describe('hosts watch diff', () => {
  it.each([
    ['nothing changed', snap([['a', 'online', 'approved']]), snap([['a', 'online', 'approved']]), []],
    ['went offline', snap([['a', 'online', 'approved']]), snap([['a', 'offline', 'approved']]), [{ id: 'a', what: 'presence', from: 'online', to: 'offline' }]],
    ['approved and came online', snap([['a', 'offline', 'pending']]), snap([['a', 'online', 'approved']]),
      [{ id: 'a', what: 'presence', from: 'offline', to: 'online' }, { id: 'a', what: 'status', from: 'pending', to: 'approved' }]],
    ['appeared and gone, in id order', snap([['b', 'online', 'approved']]), snap([['a', 'offline', 'pending']]),
      [{ id: 'a', what: 'appeared', to: 'pending/offline' }, { id: 'b', what: 'gone', from: 'approved/online' }]],
  ])('%s', (_name, prev, next, expected) => {
    expect(diffHosts(prev, next)).toEqual(expected);
  });

  it('writes one readable line per change', () => {
    const at = new Date('2026-11-24T03:04:05Z');
    expect(describeChange({ id: 'till-1', what: 'presence', from: 'online', to: 'offline' }, at)).toBe('03:04:05  till-1  presence online → offline');
    expect(describeChange({ id: 'till-2', what: 'appeared', to: 'pending/offline' }, at)).toBe('03:04:05  till-2  appeared (pending/offline)');
  });
});
