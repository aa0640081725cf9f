import { doubleSpread, modelStorm, seeded, type StormModel } from '../../../bench/admission-model.js';

const STAGE = { rateLimit: 200, burstLimit: 500 };
const OLD_ROUTE = { rateLimit: 50, burstLimit: 100 };

describe('the registration storm model (bench:admission)', () => {
  it.each<[string, Partial<StormModel>, (r: ReturnType<typeof modelStorm>) => void]>([
    ['100 hosts at once drain at the admission\'s rate with the shipped agent', { hosts: 100 }, (r) => expect(r.drainSeconds).toBeLessThan(11)],
    ['…and take half again as long spread over [RA, 2·RA)', { hosts: 100, retryAfterWait: doubleSpread }, (r) => expect(r.drainSeconds).toBeGreaterThan(14)],
    ['1,000 hosts at once under the stage\'s throttle: the admission shapes the storm', { hosts: 1000 }, (r) => expect(r.registrationsPerSecond).toBeGreaterThan(9.5)],
    ['1,000 hosts at once under 50/s: throttled hosts back off for minutes, the seconds go part-empty', { hosts: 1000, registerThrottle: OLD_ROUTE }, (r) => {
      expect(r.registrationsPerSecond).toBeLessThan(6);
      expect(r.throttledPerHost).toBeGreaterThan(3);
    }],
    ['hosts arriving slower than the admission are admitted at their first attempt', { hosts: 200, arrivalSeconds: 100 }, (r) => {
      expect(r.attemptsPerHost).toBeLessThan(1.2);
      expect(r.p50Seconds).toBe(0);
    }],
  ])('%s', (_name, over, check) => {
    const r = modelStorm({ hosts: 100, arrivalSeconds: 0, registerThrottle: STAGE, admissionPerSecond: 10, seed: 7919, ...over });
    // Invariants of every storm: each host admitted exactly once, no second over the rate.
    expect(r.admittedOnce).toBe(true);
    expect(r.maxAdmittedInASecond).toBeLessThanOrEqual(10);
    check(r);
  });

  it('the same seed gives the same storm; another seed another', () => {
    const m: StormModel = { hosts: 500, arrivalSeconds: 0, registerThrottle: OLD_ROUTE, admissionPerSecond: 10, seed: 3 };
    expect(modelStorm(m)).toEqual(modelStorm(m));
    expect(modelStorm({ ...m, seed: 4 })).not.toEqual(modelStorm(m));
    const a = seeded(1), b = seeded(1);
    const xs = Array.from({ length: 1000 }, a);
    expect(xs).toEqual(Array.from({ length: 1000 }, b));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});
