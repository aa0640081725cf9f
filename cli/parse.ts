/**
 * Pure parsers for flag values. They throw commander's InvalidArgumentError, which commander
 * reports as `error: option '--tag <key=value>' argument 'x' is invalid. <why>` (exit 2).
 */
import { InvalidArgumentError } from 'commander';
import { dnsName, hostId, semver, tagKey, tagValue } from '../lambdas/contracts/common.js';

export type Tags = Record<string, string>;
export interface WorkerPool {
  name: string;
  hostIds: string[];
}
export interface ProfileRef {
  name: string;
  version: string;
}

const firstIssue = (r: { success: boolean; error?: { issues: { message: string }[] } }): string =>
  r.error?.issues[0]?.message ?? 'invalid';

/** `key=value`; the value may be empty. Checked against the API's tag rules. */
export function parseTag(text: string): [string, string] {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, e.g. env=prod (got "${text}")`);
  const key = text.slice(0, eq).trim();
  const value = text.slice(eq + 1).trim();
  const k = tagKey.safeParse(key);
  if (!k.success) throw new InvalidArgumentError(`tag key "${key}": ${firstIssue(k)}`);
  const v = tagValue.safeParse(value);
  if (!v.success) throw new InvalidArgumentError(`tag value "${value}": ${firstIssue(v)}`);
  return [key, value];
}

/** Commander collector for a repeatable `--tag k=v`. */
export function collectTags(text: string, previous: Tags | undefined): Tags {
  const [k, v] = parseTag(text);
  if (previous && k in previous && previous[k] !== v) {
    throw new InvalidArgumentError(`tag "${k}" given twice with different values`);
  }
  return { ...previous, [k]: v };
}

/** Commander collector for a repeatable plain string (e.g. `--remove-tag k`). */
export function collectStrings(text: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), text];
}

/** `a,b,c` → host ids, trimmed, no empties, no duplicates. */
export function parseIdList(text: string): string[] {
  const ids = text
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  if (ids.length === 0) throw new InvalidArgumentError('expected one or more host ids separated by commas, e.g. hw-1,hw-2');
  const seen = new Set<string>();
  for (const id of ids) {
    const r = hostId.safeParse(id);
    if (!r.success) throw new InvalidArgumentError(`host id "${id}": ${firstIssue(r)}`);
    if (seen.has(id)) throw new InvalidArgumentError(`host id "${id}" is listed twice`);
    seen.add(id);
  }
  return ids;
}

/** `pool=a,b` → a worker pool. */
export function parseWorkerPool(text: string): WorkerPool {
  const eq = text.indexOf('=');
  if (eq <= 0) throw new InvalidArgumentError(`expected <pool>=<id,id,...>, e.g. workers=hw-3,hw-4 (got "${text}")`);
  const name = text.slice(0, eq).trim();
  const n = dnsName.safeParse(name);
  if (!n.success) throw new InvalidArgumentError(`pool name "${name}": ${firstIssue(n)}`);
  return { name, hostIds: parseIdList(text.slice(eq + 1)) };
}

/** Commander collector for a repeatable `--workers pool=a,b`. */
export function collectWorkers(text: string, previous: WorkerPool[] | undefined): WorkerPool[] {
  const pool = parseWorkerPool(text);
  if (previous?.some((p) => p.name === pool.name)) {
    throw new InvalidArgumentError(`worker pool "${pool.name}" is given twice; list all its hosts in one --workers`);
  }
  return [...(previous ?? []), pool];
}

/** `name@1.2.0` → {name, version}. */
export function parseProfileRef(text: string): ProfileRef {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) {
    throw new InvalidArgumentError(`expected <name>@<version>, e.g. edge-k3s@1.2.0 (got "${text}")`);
  }
  const name = text.slice(0, at);
  const version = text.slice(at + 1);
  const n = dnsName.safeParse(name);
  if (!n.success) throw new InvalidArgumentError(`profile name "${name}": ${firstIssue(n)}`);
  const v = semver.safeParse(version);
  if (!v.success) throw new InvalidArgumentError(`profile version "${version}": ${firstIssue(v)}`);
  return { name, version };
}

export function parsePositiveInt(max: number) {
  return (text: string): number => {
    if (!/^\d+$/.test(text.trim())) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    const n = Number(text);
    if (n < 1 || n > max) throw new InvalidArgumentError(`expected a whole number from 1 to ${max}`);
    return n;
  };
}

const DURATION_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** An ISO 8601 time with offset, or a duration back from now: `30m`, `6h`, `7d`, `2w`. */
export function parseSince(text: string, now: number = Date.now()): string {
  const t = text.trim();
  const rel = /^(\d+)([mhdw])$/.exec(t);
  if (rel) return new Date(now - Number(rel[1]) * DURATION_MS[rel[2]]).toISOString();
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t) && !Number.isNaN(Date.parse(t))) {
    return new Date(Date.parse(t)).toISOString();
  }
  if (/^\d{4}-\d{2}-\d{2}$/.test(t) && !Number.isNaN(Date.parse(`${t}T00:00:00Z`))) return `${t}T00:00:00.000Z`;
  throw new InvalidArgumentError('expected an ISO time such as 2026-01-31T08:00:00Z, a date such as 2026-01-31, or a duration such as 30m, 6h, 7d');
}

/** An ISO time in the future, for `--expires-at` (also accepts a duration ahead: `30d`). */
export function parseExpiry(text: string, now: number = Date.now()): string {
  const t = text.trim();
  const rel = /^(\d+)([mhdw])$/.exec(t);
  const iso = rel ? new Date(now + Number(rel[1]) * DURATION_MS[rel[2]]).toISOString() : parseSince(t, now);
  if (Date.parse(iso) <= now) throw new InvalidArgumentError(`the expiry ${iso} is in the past`);
  return iso;
}

/** Profile variable values given on the command line (`--var NAME=value`), by name; values are text (the API converts numbers and booleans). */
export type Vars = Record<string, string>;

/** `--var NAME=value` (repeatable): the first "=" splits; a name given twice is refused. */
export function collectVars(text: string, previous: Vars | undefined): Vars {
  const eq = text.indexOf('=');
  const name = eq < 0 ? text : text.slice(0, eq);
  if (eq <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
    throw new InvalidArgumentError(`expected NAME=value with NAME of letters, digits and "_" (got "${text.slice(0, 40)}")`);
  }
  if (previous && name in previous) throw new InvalidArgumentError(`variable ${name} is given twice`);
  return { ...(previous ?? {}), [name]: text.slice(eq + 1) };
}
