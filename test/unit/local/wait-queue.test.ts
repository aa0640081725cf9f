import { BoundedSlots, LIFO_AFTER_MS, WaitQueue } from '../../../local/wait-queue.js';

/*
 * The order of this machine's local waits (local/wait-queue.ts): in order while the oldest waiter
 * has waited less than `lifoAfterMs`, newest first past it; waiters whose callers are gone are removed.
 */
describe('WaitQueue', () => {
  it.each([-1, Number.NaN])('refuses lifoAfterMs %p', (ms) => {
    expect(() => new WaitQueue(ms)).toThrow(/lifoAfterMs must be a number of milliseconds of at least 0/);
  });

  it('waits a second by default before it serves newest first', () => {
    expect(LIFO_AFTER_MS).toBe(1_000);
    expect(new WaitQueue().lifoAfterMs).toBe(LIFO_AFTER_MS);
  });

  // Waiters a, b, c pushed at 0, 10 and 20 ms; `takes` are the times of successive takes.
  it.each([
    { name: 'in order while the oldest is young', lifoAfterMs: 100, takes: [20, 30, 40], served: ['a', 'b', 'c'] },
    { name: 'newest first once the oldest waited lifoAfterMs', lifoAfterMs: 100, takes: [100, 101, 102], served: ['c', 'b', 'a'] },
    { name: 'decided again at each take, by the oldest waiter left', lifoAfterMs: 15, takes: [14, 15, 30], served: ['a', 'b', 'c'] },
    { name: 'in order, then newest first as the oldest ages', lifoAfterMs: 15, takes: [14, 25, 26], served: ['a', 'c', 'b'] },
    { name: 'always newest first at 0', lifoAfterMs: 0, takes: [20, 20, 20], served: ['c', 'b', 'a'] },
    { name: 'empty: nothing', lifoAfterMs: 0, takes: [20, 20, 20, 20], served: ['c', 'b', 'a', undefined] },
  ])('$name', ({ lifoAfterMs, takes, served }) => {
    const q = new WaitQueue<string>(lifoAfterMs);
    q.push('a', 0); q.push('b', 10); q.push('c', 20);
    expect(takes.map((t) => q.take(t))).toEqual(served);
    expect(q.length).toBe(Math.max(0, 3 - takes.length));
  });

  it('removes the waiters that are gone, wherever they are, and keeps the others in their order', () => {
    const q = new WaitQueue<{ id: string; gone: boolean }>(1_000);
    const items = ['a', 'b', 'c', 'd'].map((id) => ({ id, gone: id === 'a' || id === 'c' }));
    items.forEach((it, i) => q.push(it, i));
    expect(q.removeWhere((it) => it.gone).map((it) => it.id)).toEqual(['a', 'c']);
    expect(q.length).toBe(2);
    expect(q.removeWhere((it) => it.gone)).toEqual([]);
    expect([q.take(5), q.take(5), q.take(5)].map((it) => it?.id)).toEqual(['b', 'd', undefined]);
  });
});

describe('BoundedSlots', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p, naming the bound', (limit) => {
    expect(() => new BoundedSlots('the front door\'s connections', limit)).toThrow(`the front door's connections must be a whole number of at least 1, not ${limit}`);
  });

  it('hands a slot to a waiter whose caller is still there and drops the gone ones with false', async () => {
    const slots = new BoundedSlots('a bound', 1, 1_000);
    expect(await slots.acquire()).toBe(true);
    let firstGone = false;
    const first = slots.acquire(() => firstGone);
    const second = slots.acquire(() => false);
    expect(slots.load).toEqual({ running: 1, waiting: 2 });
    firstGone = true;
    slots.release();
    expect(await first).toBe(false);
    expect(await second).toBe(true);
    expect(slots.load).toEqual({ running: 1, waiting: 0 });
    slots.release();
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });
});
