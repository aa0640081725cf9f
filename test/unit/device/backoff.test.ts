import { Backoff, fullJitterDelay, retryAfterDelay, sleep } from '../../../device/backoff.js';

describe('backoff with full jitter', () => {
  test('the ceiling doubles up to the cap; delays stay within [0, ceiling)', () => {
    expect(fullJitterDelay(0, 1000, 60_000, () => 0.999999)).toBe(999);
    expect(fullJitterDelay(3, 1000, 60_000, () => 0.999999)).toBe(7999);
    expect(fullJitterDelay(10, 1000, 60_000, () => 0.999999)).toBe(59_999);
    expect(fullJitterDelay(5000, 1000, 60_000, () => 0.5)).toBe(30_000);
    expect(fullJitterDelay(4, 1000, 60_000, () => 0)).toBe(0);
  });

  test('random delays are spread over the whole range (not clustered near the ceiling)', () => {
    const b = new Backoff({ baseMs: 100, capMs: 1000 });
    for (let i = 0; i < 5; i++) b.next();
    const samples = Array.from({ length: 2000 }, () => fullJitterDelay(10, 100, 1000));
    expect(Math.min(...samples)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...samples)).toBeLessThan(1000);
    expect(samples.filter((s) => s < 250).length).toBeGreaterThan(300);
    expect(samples.filter((s) => s >= 750).length).toBeGreaterThan(300);
  });

  test('reset starts from the base again', () => {
    const b = new Backoff({ baseMs: 10, capMs: 1000, random: () => 0.99 });
    expect([b.next(), b.next(), b.next()]).toEqual([9, 19, 39]);
    b.reset();
    expect(b.next()).toBe(9);
  });

  test('sleep returns early when aborted', async () => {
    const c = new AbortController();
    const t0 = Date.now();
    setTimeout(() => c.abort(), 10);
    await sleep(10_000, c.signal);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  test.each([
    // [Retry-After ms, random, wait ms]
    [2000, 0, 2000], [2000, 0.5, 2500], [2000, 0.999, 2999],
    [60_000, 0.5, 60_500],
    [0, 0, 1000], [-5, 0.5, 1500],
    [86_400_000, 0.5, 60_500],
  ])('a Retry-After of %d ms at random %d is waited %d ms: within [1 s, the cap], plus under a second', (ra, rnd, ms) => {
    expect(retryAfterDelay(ra, 60_000, () => rnd)).toBe(ms);
  });
});
