import { doubleSpread, modelStorm, seeded, type StormModel } from '../../../bench/admission-model.js';

const STAGE = { rateLimit: 200, burstLimit: 500 };
const OLD_ROUTE = { rateLimit: 50, burstLimit: 100 };

describe('the registration storm model (bench:admission)', () => {
  it.each<[string, Partial<StormModel>, (r: ReturnType<typeof modelStorm>) => void]>([
    ['100 hosts at once: each refused at most once, first come first served, drained at the admission\'s rate', { hosts: 100 }, (r) => {
      expect(r.drainSeconds).toBeLessThan(12);
      expect(r.refusedPerHost).toBeLessThanOrEqual(1);
      expect(r.overtaken).toBe(0);
    }],
    ['…per-second windows and the agent\'s [RA, 2·RA) took half again as long', { hosts: 100, admission: 'windows', retryAfterWait: doubleSpread }, (r) => expect(r.drainSeconds).toBeGreaterThan(14)],
    ['1,000 hosts at once under the stage\'s throttle: the admission\'s rate, about one refusal each', { hosts: 1000 }, (r) => {
      expect(r.registrationsPerSecond).toBeGreaterThan(9.5);
      expect(r.refusedPerHost).toBeLessThan(1.1);
      expect(r.overtaken).toBe(0);
    }],
    ['…per-second windows: the same rate, but each host refused again and again, in no order', { hosts: 1000, admission: 'windows' }, (r) => {
      expect(r.registrationsPerSecond).toBeGreaterThan(9.5);
      expect(r.refusedPerHost).toBeGreaterThan(5);
      expect(r.overtaken).toBeGreaterThan(500);
    }],
    ['1,000 hosts at once under 50/s: throttled hosts back off for minutes, the seconds go part-empty', { hosts: 1000, registerThrottle: OLD_ROUTE, admission: 'windows' }, (r) => {
      expect(r.registrationsPerSecond).toBeLessThan(6);
      expect(r.throttledPerHost).toBeGreaterThan(3);
    }],
    ['hosts arriving slower than the admission are admitted at their first attempt', { hosts: 200, arrivalSeconds: 100 }, (r) => {
      expect(r.attemptsPerHost).toBeLessThan(1.2);
      expect(r.p50Seconds).toBe(0);
    }],
  ])('%s', (_name, over, check) => {
    const r = modelStorm({ hosts: 100, arrivalSeconds: 0, registerThrottle: STAGE, admissionPerSecond: 10, seed: 7919, ...over });
    // Invariants of every storm: each host admitted exactly once; about the rate over any 10 s
    // (a second's worth over: hosts come back up to a second after their turn, jittered).
    expect(r.admittedOnce).toBe(true);
    expect(r.maxAdmittedIn10Seconds).toBeLessThanOrEqual(110);
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
