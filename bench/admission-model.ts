/**
 * A model of a registration storm on AWS, where no single machine's CPU bounds it: hosts booting
 * at once against API Gateway's throttle of the register route and the control plane's admission
 * (domain/admission.ts), each host retrying as the shipped agent does (device/registration.ts).
 * Every decision is the shipped code's: the local front door's token bucket (API Gateway's
 * algorithm), the admission's turns (`nextTurn`, `usableTurn`, `decideTurn`, `turnEarlyMs`), the agent's
 * `Backoff` and `retryAfterDelay`. The admission before its turns (a counter per second, each
 * request taking a new place) is kept, labelled, for comparison. What it leaves out:
 * function and network latency (a request is answered the instant it is sent), Lambda's
 * concurrency, and anything but registration. So it gives the storm's shape — how fast the
 * admission's seconds are filled, how many attempts each host makes — not a measured time.
 */
import { Backoff, retryAfterDelay } from '../device/backoff.js';
import { REGISTRATION_BACKOFF } from '../device/registration.js';
import { decideTurn, MAX_ADMISSION_RETRY_SECONDS, nextTurn, turnEarlyMs, turnSpacingMs, usableTurn, type AdmissionDecision } from '../lambdas/domain/admission.js';
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
  /** `turns`: the shipped admission; `windows`: the one before it (a new place in each second's counter per request). */
  readonly admission?: 'turns' | 'windows';
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
  /** Invariants the run checks: each host admitted once; the most admitted in one second and in any 10 s. */
  readonly admittedOnce: boolean;
  readonly maxAdmittedInASecond: number;
  readonly maxAdmittedIn10Seconds: number;
  /** Hosts admitted after a host that first reached the function more than 5 s after them (0: first come, first served, within the agent's jitter). */
  readonly overtaken: number;
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

/** The admission before its turns (a counter per second, each request a new place), for comparison. */
function windowsAdmission(perSecond: number): (host: number, at: number) => AdmissionDecision {
  let window = -1, place = 0;
  return (_host, at) => {
    const w = Math.floor(at / 1000);
    if (w !== window) { window = w; place = 0; }
    if (++place <= perSecond) return { admitted: true };
    const retryAfterSeconds = Math.min(MAX_ADMISSION_RETRY_SECONDS, Math.max(1, Math.ceil((place - perSecond) / perSecond)));
    return { admitted: false, retryAfterSeconds, waitMs: retryAfterSeconds * 1000 };
  };
}

/** The shipped admission: the clock, and each host's turn kept from its first refusal. */
function turnsAdmission(perSecond: number, hosts: number): (host: number, at: number) => AdmissionDecision {
  const spacing = turnSpacingMs(perSecond), early = turnEarlyMs(perSecond);
  const turns = new Float64Array(hosts).fill(NaN);
  let clock: number | undefined;
  return (h, at) => {
    const held = Number.isNaN(turns[h]!) ? undefined : usableTurn({ turnMs: turns[h]!, used: false }, at);
    let turn = held;
    if (turn === undefined) {
      const next = nextTurn(clock, at, spacing);
      clock = next.clockMs;
      turn = next.turnMs;
    }
    const d = decideTurn(turn, at, early);
    turns[h] = d.admitted ? NaN : turn;
    return d;
  };
}

const OVERTAKEN_MS = 5000;

/** The most events in any `spanMs` (sorted times). */
function densest(sorted: readonly number[], spanMs: number): number {
  let best = 0;
  for (let i = 0, j = 0; j < sorted.length; j++) {
    while (sorted[j]! - sorted[i]! >= spanMs) i++;
    best = Math.max(best, j - i + 1);
  }
  return best;
}

/** Runs one storm to its end: every host admitted. */
export function modelStorm(m: StormModel): StormOutcome {
  const random = seeded(m.seed ?? 1);
  const wait = m.retryAfterWait ?? ((ms: number, r: () => number) => retryAfterDelay(ms, REGISTRATION_BACKOFF.capMs, r));
  const account = new TokenBucket(ACCOUNT_API_THROTTLE, 0);
  const route = new TokenBucket(m.registerThrottle, 0);
  const admit = m.admission === 'windows' ? windowsAdmission(m.admissionPerSecond) : turnsAdmission(m.admissionPerSecond, m.hosts);
  const agenda = new Agenda();
  const startedAt = new Float64Array(m.hosts);
  const reachedAt = new Float64Array(m.hosts).fill(NaN);
  const admittedAt = new Float64Array(m.hosts).fill(NaN);
  const backoffs: Backoff[] = [];
  for (let h = 0; h < m.hosts; h++) {
    backoffs.push(new Backoff({ ...REGISTRATION_BACKOFF, random }));
    startedAt[h] = random() * m.arrivalSeconds * 1000;
    agenda.push(startedAt[h]!, h);
  }
  let attempts = 0, throttled = 0, refused = 0, admittedTwice = false;
  const order: number[] = [];
  // An admission that never admits someone must end the run (as a failed invariant), not loop.
  const maxAttempts = m.hosts * 1000;
  while (agenda.size && attempts < maxAttempts) {
    const [at, h] = agenda.pop();
    attempts++;
    if (!account.take(at) || !route.take(at)) {
      throttled++;
      agenda.push(at + backoffs[h]!.next(), h);
      continue;
    }
    if (Number.isNaN(reachedAt[h]!)) reachedAt[h] = at;
    const d = admit(h, at);
    if (d.admitted) {
      if (!Number.isNaN(admittedAt[h]!)) admittedTwice = true;
      admittedAt[h] = at;
      order.push(h);
      continue;
    }
    refused++;
    agenda.push(at + wait(d.retryAfterSeconds * 1000, random), h);
  }
  // Overtaken: admitted after a host that first reached the function more than OVERTAKEN_MS later.
  let overtaken = 0, latestReach = -Infinity;
  for (const h of order) {
    if (reachedAt[h]! < latestReach - OVERTAKEN_MS) overtaken++;
    latestReach = Math.max(latestReach, reachedAt[h]!);
  }
  const admittedTimes = Array.from(admittedAt).sort((a, b) => a - b);
  const times = Array.from(admittedAt, (a, h) => (a - startedAt[h]!) / 1000).sort((a, b) => a - b);
  const first = Math.min(...startedAt), last = Math.max(...admittedAt);
  const drainSeconds = (last - first) / 1000;
  const per = (n: number) => +(n / m.hosts).toFixed(2);
  return {
    hosts: m.hosts, drainSeconds: +drainSeconds.toFixed(1), registrationsPerSecond: +(m.hosts / Math.max(drainSeconds, 1e-9)).toFixed(2),
    p50Seconds: +pct(times, 50).toFixed(1), p99Seconds: +pct(times, 99).toFixed(1),
    attemptsPerHost: per(attempts), throttledPerHost: per(throttled), refusedPerHost: per(refused),
    admittedOnce: !admittedTwice && !admittedAt.some(Number.isNaN),
    maxAdmittedInASecond: densest(admittedTimes, 1000), maxAdmittedIn10Seconds: densest(admittedTimes, 10_000), overtaken,
  };
}
