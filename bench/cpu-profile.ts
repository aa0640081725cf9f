/**
 * `npx tsx bench/cpu-profile.ts <file.cpuprofile>… [--top 15]`: where a process's CPU went, from
 * V8 profiles written by `node --cpu-prof` (bench:fleet's control plane and, with `--procs`, its
 * simulator workers). Prints self time by area (crypto, DynamoDB marshalling, the rest of the AWS
 * SDK, HTTP, TLS/sockets, the MQTT broker, zod, logging, our own folders, …), inclusive time by
 * area (a sample counts once for every area on its stack), and the top functions by self and
 * inclusive time. A native function without a script (e.g. a crypto binding) counts in the area
 * of the nearest caller that has one.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';

export interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}
export interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly startTime: number;
  readonly endTime: number;
  readonly samples?: readonly number[];
  readonly timeDeltas?: readonly number[];
}

/** Areas in the order they are matched: the first whose test passes names the frame. */
const AREAS: ReadonlyArray<readonly [string, (url: string, fn: string) => boolean]> = [
  ['idle', (_u, f) => f === '(idle)'],
  ['garbage collection', (_u, f) => f === '(garbage collector)'],
  ['(program: V8/native, no JS frame)', (_u, f) => f === '(program)' || f === '(root)'],
  ['crypto (x509/CSR, signing, keys)', (u) => /@peculiar|asn1|pvtsutils|pkijs|node:internal\/crypto|node:crypto|\/jose\//.test(u)],
  ['DynamoDB marshalling (util/lib-dynamodb)', (u) => /util-dynamodb|lib-dynamodb/.test(u)],
  ['AWS SDK / smithy (other)', (u) => /@aws-sdk|@smithy|@aws-crypto/.test(u)],
  ['MQTT broker (aedes, mqtt-packet)', (u) => /aedes|mqtt-packet|mqemitter|qlobber|bulk-write-stream|retimer/.test(u)],
  ['device SDK / aws-crt (agents)', (u) => /aws-crt|aws-iot-device-sdk/.test(u)],
  ['zod', (u) => /node_modules\/zod\//.test(u)],
  ['logging (powertools logger)', (u) => /@aws-lambda-powertools\/logger/.test(u)],
  ['powertools (metrics, tracer, commons)', (u) => /@aws-lambda-powertools/.test(u)],
  ['middy', (u) => /@middy/.test(u)],
  ['Step Functions (aws-local-stepfunctions)', (u) => /aws-local-stepfunctions/.test(u)],
  ['HTTP (node http, undici/fetch)', (u) => /node:_http|node:http|node:internal\/http|undici|node:internal\/deps\/undici/.test(u)],
  ['TLS / sockets / streams', (u) => /node:_tls|node:tls|node:net|node:internal\/stream|node:internal\/tls|node:internal\/net|node:stream/.test(u)],
  ['JSON / buffers / other node internals', (u) => u.startsWith('node:')],
  ['module loading (tsx/esbuild)', (u) => /\/tsx\/|esbuild/.test(u)],
  ['other node_modules', (u) => u.includes('/node_modules/')],
  ['our code: lambdas/', (u) => u.includes('/lambdas/')],
  ['our code: local/', (u) => u.includes('/local/')],
  ['our code: device/', (u) => u.includes('/device/')],
  ['our code: simulator/', (u) => u.includes('/simulator/')],
  ['our code: bench/', (u) => u.includes('/bench/')],
];

/** The area a frame belongs to, or undefined for a frame without a script (native, builtin) that is not one of V8's pseudo-frames. */
export function areaOf(url: string, functionName: string): string | undefined {
  for (const [name, test] of AREAS) if (test(url, functionName)) return name;
  return url ? 'other' : undefined;
}

export interface ProfileSummary {
  /** Wall time the profile covers, ms. */
  readonly wallMs: number;
  /** Sampled time, ms (≈ wall time: idle is a frame of its own). */
  readonly sampledMs: number;
  readonly selfByArea: ReadonlyArray<{ readonly area: string; readonly ms: number }>;
  readonly inclusiveByArea: ReadonlyArray<{ readonly area: string; readonly ms: number }>;
  readonly topSelf: ReadonlyArray<{ readonly fn: string; readonly area: string; readonly ms: number }>;
  readonly topInclusive: ReadonlyArray<{ readonly fn: string; readonly area: string; readonly ms: number }>;
}

const frameName = (n: ProfileNode) => `${n.callFrame.functionName || '(anonymous)'} ${n.callFrame.url ? `${shortUrl(n.callFrame.url)}:${n.callFrame.lineNumber + 1}` : '(native)'}`;

function shortUrl(url: string): string {
  const nm = url.lastIndexOf('/node_modules/');
  if (nm >= 0) return url.slice(nm + '/node_modules/'.length);
  for (const dir of ['/lambdas/', '/local/', '/device/', '/simulator/', '/bench/', '/lib/']) {
    const i = url.lastIndexOf(dir);
    if (i >= 0) return url.slice(i + 1);
  }
  return url.replace(/^file:\/\//, '');
}

const sortDesc = <T extends { ms: number }>(xs: T[]) => xs.sort((a, b) => b.ms - a.ms);

/** Self and inclusive time by area and by function. Pure. */
export function summarize(p: CpuProfile, top = 15): ProfileSummary {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  // Self time per node from the samples (µs deltas); a profile without them has no time.
  const selfUs = new Map<number, number>();
  const samples = p.samples ?? [];
  const deltas = p.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // timeDeltas[i] is the time before sample i; attribute the gap after a sample to it.
    const d = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, d));
  }
  // Each node's area: its own, else (native frame) the nearest ancestor's.
  const areaMemo = new Map<number, string>();
  const nodeArea = (id: number): string => {
    const cached = areaMemo.get(id);
    if (cached) return cached;
    const n = byId.get(id)!;
    const own = areaOf(n.callFrame.url, n.callFrame.functionName);
    const up = parent.get(id);
    const a = own ?? (up === undefined ? 'native (no caller)' : nodeArea(up));
    areaMemo.set(id, a);
    return a;
  };
  const selfArea = new Map<string, number>();
  const inclArea = new Map<string, number>();
  const selfFn = new Map<string, { area: string; us: number }>();
  const inclFn = new Map<string, { area: string; us: number }>();
  let sampled = 0;
  for (const [id, us] of selfUs) {
    if (us === 0) continue;
    sampled += us;
    const n = byId.get(id)!;
    const a = nodeArea(id);
    selfArea.set(a, (selfArea.get(a) ?? 0) + us);
    const name = frameName(n);
    selfFn.set(name, { area: a, us: (selfFn.get(name)?.us ?? 0) + us });
    // Inclusive: once per area and per function on this node's stack.
    const areas = new Set<string>();
    const fns = new Map<string, string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const an = nodeArea(cur);
      areas.add(an);
      const fname = frameName(byId.get(cur)!);
      if (!fns.has(fname)) fns.set(fname, an);
    }
    for (const x of areas) inclArea.set(x, (inclArea.get(x) ?? 0) + us);
    for (const [fname, an] of fns) inclFn.set(fname, { area: an, us: (inclFn.get(fname)?.us ?? 0) + us });
  }
  const ms = (us: number) => Math.round(us / 100) / 10;
  const pseudo = /^\((root|program|idle|garbage collector)\)/;
  return {
    wallMs: ms(p.endTime - p.startTime),
    sampledMs: ms(sampled),
    selfByArea: sortDesc([...selfArea].map(([area, us]) => ({ area, ms: ms(us) }))),
    inclusiveByArea: sortDesc([...inclArea].map(([area, us]) => ({ area, ms: ms(us) }))),
    topSelf: sortDesc([...selfFn].map(([fn, v]) => ({ fn, area: v.area, ms: ms(v.us) }))).slice(0, top),
    topInclusive: sortDesc([...inclFn].filter(([fn]) => !pseudo.test(fn)).map(([fn, v]) => ({ fn, area: v.area, ms: ms(v.us) }))).slice(0, top),
  };
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const { values, positionals } = parseArgs({ allowPositionals: true, options: { top: { type: 'string', default: '15' } } });
  if (positionals.length === 0) {
    console.error('usage: npx tsx bench/cpu-profile.ts <file.cpuprofile>… [--top 15] (profiles from node --cpu-prof)');
    process.exit(2);
  }
  for (const file of positionals) {
    const s = summarize(JSON.parse(readFileSync(file, 'utf8')) as CpuProfile, Number(values.top));
    const busy = s.sampledMs - (s.selfByArea.find((a) => a.area === 'idle')?.ms ?? 0);
    const pct = (x: number, of: number) => `${((100 * x) / (of || 1)).toFixed(1)} %`;
    console.log(`\n${path.basename(file)}: ${(s.wallMs / 1000).toFixed(1)} s profiled, ${(busy / 1000).toFixed(1)} s busy (not idle)`);
    console.table(s.selfByArea.map((a) => ({ area: a.area, 'self s': +(a.ms / 1000).toFixed(1), 'of busy': a.area === 'idle' ? '' : pct(a.ms, busy) })));
    console.table(s.inclusiveByArea.filter((a) => a.area !== 'idle').map((a) => ({ area: a.area, 'inclusive s': +(a.ms / 1000).toFixed(1), 'of busy': pct(a.ms, busy) })));
    console.table(s.topSelf.map((f) => ({ 'top self': f.fn, area: f.area, s: +(f.ms / 1000).toFixed(2) })));
    console.table(s.topInclusive.map((f) => ({ 'top inclusive': f.fn, area: f.area, s: +(f.ms / 1000).toFixed(2) })));
  }
}
