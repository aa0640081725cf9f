/**
 * `npm run bench:admission [-- --hosts 100,1000,10000,30000 --arrival 0,300 --seeds 6]`: the
 * registration storm on AWS, modelled (bench/admission-model.ts) with the limits of the
 * synthesized stack — API Gateway's throttle of the register route and the admission rate of the
 * device function — and the shipped agent's retry policy, against two earlier configurations:
 * the admission before its turns (a new place in each second's counter per request), and that
 * with the register route throttled at 50/s (burst 100) and the agent spreading a Retry-After
 * over [RA, 2·RA). Prints one row per storm (means over the seeds) and writes JSON under
 * bench/results/. A model, not a measurement: no latency, no Lambda concurrency.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { HANDLER_ENV } from '../lambdas/contracts/routes.js';
import { stageThrottles, type ThrottleLimit } from '../local/api-throttle.js';
import { synthesizeTemplate } from '../lib/synth.js';
import { REGISTER_ROUTE } from '../lib/constructs/api.js';
import { doubleSpread, modelStorm, type StormModel, type StormOutcome } from './admission-model.js';

const { values } = parseArgs({ options: {
  hosts: { type: 'string', default: '100,1000,10000,30000' }, arrival: { type: 'string', default: '0,300' }, seeds: { type: 'string', default: '6' },
} });
const list = (s: string) => s.split(',').map(Number);
const seeds = Number(values.seeds);

const template = synthesizeTemplate();
const throttles = stageThrottles(template);
const shipped = throttles.routes[REGISTER_ROUTE] ?? throttles.default;
if (!shipped) throw new Error(`the synthesized stage throttles neither ${REGISTER_ROUTE} nor its default route`);
const admissionEnv = Object.values(template.Resources as Record<string, { Type?: string; Properties?: { Environment?: { Variables?: Record<string, unknown> } } }>)
  .map((r) => r.Properties?.Environment?.Variables?.[HANDLER_ENV.registerAdmissionPerSecond]).find((v) => v !== undefined);
const admissionPerSecond = Number(admissionEnv);
if (!Number.isInteger(admissionPerSecond) || admissionPerSecond < 1) throw new Error(`the synthesized device function has no admission rate (${String(admissionEnv)})`);

const OLD_THROTTLE: ThrottleLimit = { rateLimit: 50, burstLimit: 100 };
const variants: { readonly name: string; readonly throttle: ThrottleLimit; readonly wait?: StormModel['retryAfterWait']; readonly admission?: StormModel['admission'] }[] = [
  { name: 'shipped (turns)', throttle: shipped },
  { name: 'per-second windows', throttle: shipped, admission: 'windows' },
  { name: 'windows, 50/s, [RA,2RA)', throttle: OLD_THROTTLE, wait: doubleSpread, admission: 'windows' },
];

const mean = (rows: readonly StormOutcome[], k: keyof StormOutcome) => +(rows.reduce((a, r) => a + Number(r[k]), 0) / rows.length).toFixed(2);
const results: Record<string, unknown>[] = [];
console.log(`register route throttle ${shipped.rateLimit}/s burst ${shipped.burstLimit}; admission ${admissionPerSecond}/s (from the synthesized stack); ${seeds} seeds each`);
for (const hosts of list(values.hosts)) {
  for (const arrivalSeconds of list(values.arrival)) {
    for (const v of variants) {
      const rows = Array.from({ length: seeds }, (_, i) => modelStorm({
        hosts, arrivalSeconds, registerThrottle: v.throttle, admissionPerSecond, seed: 7919 * (i + 1), ...(v.wait ? { retryAfterWait: v.wait } : {}), ...(v.admission ? { admission: v.admission } : {}),
      }));
      if (!rows.every((r) => r.admittedOnce)) throw new Error(`${v.name}: a host was admitted twice or never`);
      const row = {
        hosts, arrivalSeconds, variant: v.name, throttle: v.throttle, admissionPerSecond,
        drainSeconds: mean(rows, 'drainSeconds'), registrationsPerSecond: mean(rows, 'registrationsPerSecond'),
        p50Seconds: mean(rows, 'p50Seconds'), p99Seconds: mean(rows, 'p99Seconds'),
        attemptsPerHost: mean(rows, 'attemptsPerHost'), throttledPerHost: mean(rows, 'throttledPerHost'), refusedPerHost: mean(rows, 'refusedPerHost'),
        maxAdmittedInASecond: Math.max(...rows.map((r) => r.maxAdmittedInASecond)), maxAdmittedIn10Seconds: Math.max(...rows.map((r) => r.maxAdmittedIn10Seconds)),
        overtaken: mean(rows, 'overtaken'),
      };
      results.push(row);
      console.log(`${String(hosts).padStart(6)} hosts over ${String(arrivalSeconds).padStart(3)} s  ${v.name.padEnd(26)} ${String(row.registrationsPerSecond).padStart(6)}/s  drain ${row.drainSeconds} s  p50 ${row.p50Seconds} s  p99 ${row.p99Seconds} s  attempts/host ${row.attemptsPerHost} (429 throttle ${row.throttledPerHost}, admission ${row.refusedPerHost})  most admitted in 1 s ${row.maxAdmittedInASecond}, in 10 s ${row.maxAdmittedIn10Seconds}  overtaken >5 s ${row.overtaken}`);
    }
  }
}
mkdirSync('bench/results', { recursive: true });
const file = path.join('bench/results', `admission-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
writeFileSync(file, `${JSON.stringify({ when: new Date().toISOString(), model: 'bench/admission-model.ts', registerThrottle: shipped, admissionPerSecond, seeds, results }, null, 2)}\n`);
console.log(`results written to ${file}`);
