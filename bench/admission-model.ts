/**
 * A model of a registration storm on AWS, where no single machine's CPU bounds it: hosts booting
 * at once against API Gateway's throttle of the register route and the control plane's admission
 * (domain/admission.ts), each host retrying as the shipped agent does (device/registration.ts).
 * Every decision is the shipped code's: the local front door's token bucket (API Gateway's
 * algorithm), `decideAdmission`, the agent's `Backoff` and `retryAfterDelay`. What it leaves out:
 * function and network latency (a request is answered the instant it is sent), Lambda's
 * concurrency, and anything but registration. So it gives the storm's shape — how fast the
 * admission's seconds are filled, how many attempts each host makes — not a measured time.
 */
import { Backoff, retryAfterDelay } from '../device/backoff.js';
import { REGISTRATION_BACKOFF } from '../device/registration.js';
import { admissionWindow, decideAdmission } from '../lambdas/domain/admission.js';
import { ACCOUNT_API_THROTTLE, TokenBucket, type ThrottleLimit } from '../local/api-throttle.js';

export interface StormModel {
  readonly hosts: number;
  /** Hosts start uniformly over this many seconds (0: all in the same instant). */
  readonly arrivalSeconds: number;
  /** API Gateway's throttle of `POST /v1/device/register`. */
  readonly registerThrottle: ThrottleLimit;
  /** Registrations admitted per second. */
  readonly admissionPerSecond: number;
  /** How a host waits an answer's Retry-After (ms → ms): the shipped agent's by default. */
  readonly retryAfterWait?: (retryAfterMs: number, random: () => number) => number;
  readonly seed?: number;
}

export interface StormOutcome {
  readonly hosts: number;
  /** From the first start to the last admission. */
  readonly drainSeconds: number;
  readonly registrationsPerSecond: number;
  /** Start → admitted, seconds. */
  readonly p50Seconds: number;
  readonly p99Seconds: number;
  readonly attemptsPerHost: number;
  /** Answered 429 by API Gateway (no Retry-After). */
  readonly throttledPerHost: number;
  /** Answered 429 by the admission (a function invocation each, with a Retry-After). */
  readonly refusedPerHost: number;
  /** Invariants the run checks: each host admitted once, no second admitting more than its rate. */
  readonly admittedOnce: boolean;
  readonly maxAdmittedInASecond: number;
}

/** The previous agent's wait: Retry-After spread over [RA, 2·RA) (kept for comparison). */
export const doubleSpread = (retryAfterMs: number, random: () => number): number => {
  const ra = Math.min(REGISTRATION_BACKOFF.capMs, Math.max(1000, retryAfterMs));
  return Math.round(ra + random() * ra);
};

/** A small seeded generator (mulberry32): the same seed, the same storm. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A binary heap of (time, host), earliest first. */
class Agenda {
  private readonly items: [number, number][] = [];
  get size(): number { return this.items.length; }
  push(at: number, host: number): void {
    const h = this.items;
    h.push([at, host]);
    for (let i = h.length - 1; i > 0;) {
      const p = (i - 1) >> 1;
      if (h[p]![0] <= h[i]![0]) break;
      [h[p], h[i]] = [h[i]!, h[p]!];
      i = p;
    }
  }
  pop(): [number, number] {
    const h = this.items;
    const top = h[0]!;
    const last = h.pop()!;
    if (h.length) {
      h[0] = last;
      for (let i = 0; ;) {
        const l = 2 * i + 1, r = l + 1;
        let m = i;
        if (l < h.length && h[l]![0] < h[m]![0]) m = l;
        if (r < h.length && h[r]![0] < h[m]![0]) m = r;
        if (m === i) break;
        [h[m], h[i]] = [h[i]!, h[m]!];
        i = m;
      }
    }
    return top;
  }
}

const pct = (sorted: readonly number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

/** Runs one storm to its end: every host admitted. */
export function modelStorm(m: StormModel): StormOutcome {
  const random = seeded(m.seed ?? 1);
  const wait = m.retryAfterWait ?? ((ms: number, r: () => number) => retryAfterDelay(ms, REGISTRATION_BACKOFF.capMs, r));
  const account = new TokenBucket(ACCOUNT_API_THROTTLE, 0);
  const route = new TokenBucket(m.registerThrottle, 0);
  const agenda = new Agenda();
  const startedAt = new Float64Array(m.hosts);
  const admittedAt = new Float64Array(m.hosts).fill(NaN);
  const backoffs: Backoff[] = [];
  for (let h = 0; h < m.hosts; h++) {
    backoffs.push(new Backoff({ ...REGISTRATION_BACKOFF, random }));
    startedAt[h] = random() * m.arrivalSeconds * 1000;
    agenda.push(startedAt[h]!, h);
  }
  let window = -1, place = 0, attempts = 0, throttled = 0, refused = 0, maxInSecond = 0, admittedTwice = false;
  while (agenda.size) {
    const [at, h] = agenda.pop();
    attempts++;
    if (!account.take(at) || !route.take(at)) {
      throttled++;
      agenda.push(at + backoffs[h]!.next(), h);
      continue;
    }
    const w = admissionWindow(new Date(at));
    if (w !== window) { window = w; place = 0; }
    const d = decideAdmission(++place, m.admissionPerSecond);
    if (d.admitted) {
      if (!Number.isNaN(admittedAt[h]!)) admittedTwice = true;
      admittedAt[h] = at;
      maxInSecond = Math.max(maxInSecond, place);
      continue;
    }
    refused++;
    agenda.push(at + wait(d.retryAfterSeconds * 1000, random), h);
  }
  const times = Array.from(admittedAt, (a, h) => (a - startedAt[h]!) / 1000).sort((a, b) => a - b);
  const first = Math.min(...startedAt), last = Math.max(...admittedAt);
  const drainSeconds = (last - first) / 1000;
  const per = (n: number) => +(n / m.hosts).toFixed(2);
  return {
    hosts: m.hosts, drainSeconds: +drainSeconds.toFixed(1), registrationsPerSecond: +(m.hosts / Math.max(drainSeconds, 1e-9)).toFixed(2),
    p50Seconds: +pct(times, 50).toFixed(1), p99Seconds: +pct(times, 99).toFixed(1),
    attemptsPerHost: per(attempts), throttledPerHost: per(throttled), refusedPerHost: per(refused),
    admittedOnce: !admittedTwice && !admittedAt.some(Number.isNaN), maxAdmittedInASecond: maxInSecond,
  };
}
