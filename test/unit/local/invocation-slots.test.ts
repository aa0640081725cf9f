import { CallerGoneError, FunctionTimedOutError, InvocationSlots, invokeLocal, type LocalFunction } from '../../../local/lambda-invocation.js';

/*
 * This machine's bound on a function's concurrent invocations (local/lambda-invocation.ts): at
 * most `limit` run, the others wait in order, and a waiting invocation's Lambda timeout counts
 * from when it starts, not from when it was called.
 */
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('InvocationSlots', () => {
  it.each([0, -1, 1.5, Number.NaN])('refuses a limit of %p', (limit) => {
    expect(() => new InvocationSlots(limit)).toThrow(/whole number of at least 1/);
  });

  it('lets `limit` in at once and hands each freed slot to the longest waiting, in order', async () => {
    const slots = new InvocationSlots(2);
    const order: number[] = [];
    await slots.acquire(); await slots.acquire();
    const waiters = [3, 4, 5].map((n) => slots.acquire().then(() => order.push(n)));
    await sleep(5);
    expect(order).toEqual([]);
    expect(slots.load).toEqual({ running: 2, waiting: 3 });
    slots.release();
    await sleep(0);
    expect(order).toEqual([3]);
    slots.release(); slots.release();
    await Promise.all(waiters);
    expect(order).toEqual([3, 4, 5]);
    expect(slots.load).toEqual({ running: 2, waiting: 0 });
    slots.release(); slots.release();
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it('serves the newest waiter first once the oldest has waited lifoAfterMs (local/wait-queue.ts)', async () => {
    const slots = new InvocationSlots(1, 20);
    const order: number[] = [];
    expect(await slots.acquire()).toBe(true);
    const waiters = [2, 3, 4].map((n) => slots.acquire().then((held) => { order.push(n); return held; }));
    await sleep(30);
    slots.release(); slots.release(); slots.release();
    expect(await Promise.all(waiters)).toEqual([true, true, true]);
    expect(order).toEqual([4, 3, 2]);
    slots.release();
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });

  it('drops a waiter whose caller is gone without giving it a slot, wherever it waits', async () => {
    const slots = new InvocationSlots(1, 0);
    await slots.acquire();
    const gone = new Set<string>();
    const outcome: string[] = [];
    const waiters = ['old', 'middle', 'new'].map((id) => slots.acquire(() => gone.has(id)).then((held) => outcome.push(`${id}:${held}`)));
    gone.add('old'); gone.add('new');
    slots.release();
    await Promise.all(waiters.slice(0, 1).concat(waiters.slice(2)));
    await sleep(0);
    expect(outcome.sort()).toEqual(['middle:true', 'new:false', 'old:false']);
    expect(slots.load).toEqual({ running: 1, waiting: 0 });
    slots.release();
    expect(slots.load).toEqual({ running: 0, waiting: 0 });
  });
});

describe('invokeLocal with slots', () => {
  it('runs one invocation at a time at limit 1; the second waits, and its timeout starts when it runs', async () => {
    const fn: LocalFunction = { name: 'edgefleet-test', timeoutMs: 1_000, slots: new InvocationSlots(1) };
    let running = 0; let most = 0;
    const work = async (ms: number) => { running++; most = Math.max(most, running); await sleep(ms); running--; return ms; };
    const started = Date.now();
    // Together 1.2 s: past the 1 s timeout from the call, within it from each start.
    const results = await Promise.all([invokeLocal(fn, () => work(600)), invokeLocal(fn, () => work(600))]);
    expect(results).toEqual([600, 600]);
    expect(most).toBe(1);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1_190);
    expect(fn.slots!.load).toEqual({ running: 0, waiting: 0 });
  });

  it('a timed-out invocation frees its slot at its timeout, and a failed one when it fails', async () => {
    const fn: LocalFunction = { name: 'edgefleet-test', timeoutMs: 50, slots: new InvocationSlots(1) };
    const stuck = invokeLocal(fn, () => new Promise<never>(() => undefined));
    const next = invokeLocal(fn, async () => 'ran');
    await expect(stuck).rejects.toBeInstanceOf(FunctionTimedOutError);
    await expect(next).resolves.toBe('ran');
    await expect(invokeLocal(fn, async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    await expect(invokeLocal(fn, async () => 'again')).resolves.toBe('again');
    expect(fn.slots!.load).toEqual({ running: 0, waiting: 0 });
  });

  it('without slots, invocations are not bounded', async () => {
    const fn: LocalFunction = { name: 'edgefleet-test', timeoutMs: 1000 };
    let running = 0; let most = 0;
    await Promise.all(Array.from({ length: 20 }, () => invokeLocal(fn, async () => { running++; most = Math.max(most, running); await sleep(10); running--; })));
    expect(most).toBe(20);
  });
});

describe('invokeLocal with a caller that went away', () => {
  it('does not run an invocation whose caller left while it waited for a slot, and frees the slot', async () => {
    const fn: LocalFunction = { name: 'edgefleet-test', timeoutMs: 1_000, slots: new InvocationSlots(1) };
    let release!: () => void;
    const first = invokeLocal(fn, () => new Promise<string>((r) => { release = () => r('first'); }));
    let gone = false;
    const ran: string[] = [];
    const waiting = invokeLocal(fn, async () => { ran.push('second'); return 'second'; }, 'req-2', () => gone);
    await sleep(5);
    gone = true; // the caller hung up while it waited
    release();
    await expect(first).resolves.toBe('first');
    await expect(waiting).rejects.toBeInstanceOf(CallerGoneError);
    await expect(waiting).rejects.toThrow('invocation req-2 of edgefleet-test did not run: nobody waited for its answer any more (its caller closed the connection, or the API\'s integration timeout passed) while it waited for a local concurrency slot');
    expect(ran).toEqual([]);
    expect(fn.slots!.load).toEqual({ running: 0, waiting: 0 });
    // A caller still there runs as before.
    await expect(invokeLocal(fn, async () => 'third', 'req-3', () => false)).resolves.toBe('third');
  });
});
