/**
 * One set of assertions for the RegistrationTurns port (registration admission's clock and kept
 * turns), run against the in-memory adapter (test/unit/adapters/memory-contract.test.ts) and the
 * DynamoDB adapter on DynamoDB Local (test/integration/dynamo-contract.test.ts): the use-case
 * tests run on the memory one, so it must hand out exactly the turns the real one does.
 */
import type { RegistrationTurns } from '../../lambdas/ports/device-registry.js';

/**
 * `turns()` returns the adapter under test (one clock, shared by the tests: each starts at an
 * instant later than every earlier test reached, from `base()`); `unique()` a fresh host id.
 */
export function registrationTurnsContract(turns: () => RegistrationTurns, unique: () => string): void {
  let next = Date.parse('2027-01-01T00:00:00.000Z');
  /** An instant later than any the clock reached in an earlier test. */
  const base = () => (next += 86_400_000);

  describe('RegistrationTurns contract', () => {
    it('an idle clock gives the first request now, then one step after another', async () => {
      const t = turns(), now = base();
      expect(await t.take(now, 100)).toBe(now);
      expect(await t.take(now, 100)).toBe(now + 100);
      expect(await t.take(now + 50, 100)).toBe(now + 200);
    });

    it('requests in the same instant, all at once: every one its own turn, one step apart, none lost', async () => {
      const t = turns(), now = base();
      const got = await Promise.all(Array.from({ length: 40 }, () => t.take(now, 250)));
      expect([...got].sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => now + i * 250));
    });

    it('a clock that fell behind (nobody asked) restarts at now: unused turns are not saved up', async () => {
      const t = turns(), now = base();
      await t.take(now, 100);
      expect(await t.take(now + 60_000, 100)).toBe(now + 60_000);
      expect(await t.take(now + 60_000, 100)).toBe(now + 60_100);
    });

    it('a third of a second at a time: the steps add up (within 10 µs: the clock is epoch milliseconds in a double)', async () => {
      const t = turns(), now = base();
      let last = 0;
      for (let i = 0; i < 30; i++) last = await t.take(now, 1000 / 3);
      expect(Math.abs(last - now - 29 * (1000 / 3))).toBeLessThan(0.01);
    });

    it('a kept turn is held, used once, and replaced by the next kept one', async () => {
      const t = turns(), host = unique(), now = base();
      expect(await t.heldBy(host)).toBeUndefined();
      expect(await t.use(host)).toBe(false);
      await t.keep(host, now + 1000 / 3);
      expect(await t.heldBy(host)).toEqual({ turnMs: now + 1000 / 3, used: false });
      const raced = await Promise.all([t.use(host), t.use(host), t.use(host)]);
      expect(raced.filter(Boolean)).toHaveLength(1);
      expect(await t.heldBy(host)).toEqual({ turnMs: now + 1000 / 3, used: true });
      await t.keep(host, now + 5000);
      expect(await t.heldBy(host)).toEqual({ turnMs: now + 5000, used: false });
      expect(await t.heldBy(unique())).toBeUndefined();
    });
  });
}
