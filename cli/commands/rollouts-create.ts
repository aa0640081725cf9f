/**
 * `edgefleet rollouts create`: flags → the POST /v1/rollouts body (issue 13). Every parser is
 * pure; bad values and bad combinations are refused before any request, naming the flag.
 */
import { InvalidArgumentError } from 'commander';
import type { z } from 'zod';
import { semver } from '../../lambdas/contracts/common.js';
import { agentUpdateRolloutBody, createRolloutBody, type AgentUpdateRolloutBody, type ClusterUpgradeRolloutBody } from '../../lambdas/contracts/rollouts.js';
import { versionChannel, weekday } from '../../lambdas/contracts/templates.js';
import { UsageError } from '../errors.js';
import type { Tags } from '../parse.js';

export type RolloutBody = z.infer<typeof createRolloutBody>;
type Weekday = z.infer<typeof weekday>;

/** `1.2.0` or a channel `1.x` / `1.4.x` (the highest published version matching it when the rollout starts). */
export function parseRolloutVersion(text: string): string {
  const t = text.trim();
  if (semver.safeParse(t).success || versionChannel.safeParse(t).success) return t;
  throw new InvalidArgumentError(`expected a published version such as 1.2.0 or a channel such as 1.x or 1.4.x (got "${text}")`);
}

const CLUSTER_ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** `c-1,c-2` → cluster ids: trimmed, no empties, no duplicates, at most 1000. */
export function parseClusterIds(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new InvalidArgumentError('expected one or more cluster ids separated by commas, e.g. c-1,c-2');
  if (ids.length > 1000) throw new InvalidArgumentError(`at most 1000 cluster ids (got ${ids.length}); target a template, site or tag instead`);
  const seen = new Set<string>();
  for (const id of ids) {
    if (!CLUSTER_ID.test(id)) throw new InvalidArgumentError(`cluster id "${id.slice(0, 70)}": letters, digits and "_.:-", at most 64`);
    if (seen.has(id)) throw new InvalidArgumentError(`cluster id "${id}" is listed twice`);
    seen.add(id);
  }
  return ids;
}

/** A site name, or a prefix ending in `*` (`shop-*`). */
export function parseSiteSelector(text: string): string {
  const t = text.trim();
  if (t.length > 64 || !/^[A-Za-z0-9][A-Za-z0-9._-]*\*?$/.test(t)) throw new InvalidArgumentError(`expected a site name such as shop-12, or a prefix ending in * such as shop-* (got "${text}")`);
  return t;
}

/** A number from `min` to `max`; whole when `int`. */
export function parseNumber(min: number, max: number, o: { int?: boolean; unit?: string } = {}) {
  const range = `${o.int ? 'a whole number' : 'a number'} from ${min} to ${max}${o.unit ? ` ${o.unit}` : ''}`;
  return (text: string): number => {
    const t = text.trim();
    if (!(o.int ? /^\d+$/ : /^\d+(\.\d+)?$/).test(t)) throw new InvalidArgumentError(`expected ${range}`);
    const n = Number(t);
    if (n < min || n > max) throw new InvalidArgumentError(`expected ${range}`);
    return n;
  };
}

/** `HH:MM`, 24 h, in the site's own time zone. */
export function parseTimeOfDay(text: string): string {
  const t = text.trim();
  if (!/^([01]\d|2[0-3]):[0-5]\d$/.test(t)) throw new InvalidArgumentError(`expected a time of day as HH:MM (24 h, the site's local time), e.g. 02:00 (got "${text}")`);
  return t;
}

/** `mon,tue,sat` → weekdays, no duplicates. */
export function parseWeekdays(text: string): Weekday[] {
  const days = text.split(',').map((s) => s.trim().toLowerCase()).filter(Boolean);
  if (!days.length) throw new InvalidArgumentError('expected days such as mon,tue,wed');
  const out: Weekday[] = [];
  for (const d of days) {
    const r = weekday.safeParse(d);
    if (!r.success) throw new InvalidArgumentError(`"${d}" is not a day; use mon, tue, wed, thu, fri, sat, sun`);
    if (out.includes(r.data)) throw new InvalidArgumentError(`"${d}" is listed twice`);
    out.push(r.data);
  }
  return out;
}

export function parseOnFailure(v: string): 'rollback' | 'pause' {
  if (v !== 'rollback' && v !== 'pause') throw new InvalidArgumentError('expected rollback or pause');
  return v;
}

/** An agent version such as 0.2.0 (the server checks it is the published one). */
export function parseAgentVersion(text: string): string {
  const t = text.trim();
  if (agentUpdateRolloutBody.shape.version.safeParse(t).success) return t;
  throw new InvalidArgumentError(`expected an agent version such as 0.2.0 (GET /v1/agent/manifest names the published one; got "${text}")`);
}

/** `agent-update` or `cluster-upgrade` (the default). */
export function parseRolloutKind(v: string): 'cluster-upgrade' | 'agent-update' {
  if (v !== 'cluster-upgrade' && v !== 'agent-update') throw new InvalidArgumentError('expected cluster-upgrade (the default) or agent-update');
  return v;
}

const HOST_ID = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?$/;

/** `h-1,h-2` → host ids: trimmed, no empties, no duplicates, at most 1000. */
export function parseHostIds(text: string): string[] {
  const ids = text.split(',').map((s) => s.trim()).filter(Boolean);
  if (!ids.length) throw new InvalidArgumentError('expected one or more host ids separated by commas, e.g. shop-1-a,shop-2-a');
  if (ids.length > 1000) throw new InvalidArgumentError(`at most 1000 host ids (got ${ids.length}); target a site, tag or --all-hosts instead`);
  const seen = new Set<string>();
  for (const id of ids) {
    if (id.length > 128 || !HOST_ID.test(id)) throw new InvalidArgumentError(`host id "${id.slice(0, 70)}": lowercase letters, digits and "-", at most 128`);
    if (seen.has(id)) throw new InvalidArgumentError(`host id "${id}" is listed twice`);
    seen.add(id);
  }
  return ids;
}

export interface RolloutCreateOpts {
  kind?: 'cluster-upgrade' | 'agent-update';
  template?: string;
  clusters?: string[];
  hosts?: string[];
  allHosts?: boolean;
  site?: string;
  tag?: Tags;
  /** cluster-upgrade: the profile version or channel. */
  to?: string;
  /** agent-update: the published agent version. */
  version?: string;
  profile?: string;
  name?: string;
  canary?: number;
  canaryPercent?: number;
  soak?: number;
  manualPromotion?: boolean;
  growth?: number;
  maxConcurrent?: number;
  abortPercent?: number;
  abortCount?: number;
  minFinished?: number;
  windowStart?: string;
  windowMinutes?: number;
  windowDays?: Weekday[];
  onFailure?: 'rollback' | 'pause';
  acknowledgeDowntime?: boolean;
  retryMinutes?: number;
  giveUpMinutes?: number;
}

const TARGET_HINT = 'choose the clusters with one of: --template <name> (its attached clusters), --clusters <id,id,...>, or --site <site|prefix*> and/or --tag <key=value>';

const HOST_TARGET_HINT = 'choose the hosts with one of: --hosts <id,id,...>, --site <site|prefix*> and/or --tag <key=value>, or --all-hosts (every approved host of the project)';

function hostTargets(o: RolloutCreateOpts): AgentUpdateRolloutBody['targets'] {
  const bySelector = o.site !== undefined || (o.tag !== undefined && Object.keys(o.tag).length > 0);
  const given = [o.hosts !== undefined && '--hosts', bySelector && '--site/--tag', o.allHosts && '--all-hosts'].filter((g): g is string => !!g);
  if (!given.length) throw new UsageError('no target hosts given; nothing was sent', [HOST_TARGET_HINT]);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} both choose the target hosts; give only one way; nothing was sent`, [HOST_TARGET_HINT]);
  if (o.hosts !== undefined) return { hostIds: o.hosts };
  if (o.allHosts) return { all: true };
  return { ...(o.site !== undefined ? { site: o.site } : {}), ...(o.tag && Object.keys(o.tag).length ? { tags: o.tag } : {}) };
}

function targets(o: RolloutCreateOpts): ClusterUpgradeRolloutBody['targets'] {
  const bySelector = o.site !== undefined || (o.tag !== undefined && Object.keys(o.tag).length > 0);
  const hostFlags = [o.hosts !== undefined && '--hosts', o.allHosts && '--all-hosts', o.version !== undefined && '--version'].filter((g): g is string => !!g);
  if (hostFlags.length) throw new UsageError(`${hostFlags.join(' and ')} belong to agent updates; add --kind agent-update (or leave them out to upgrade clusters); nothing was sent`);
  const given = [o.template !== undefined && '--template', o.clusters !== undefined && '--clusters', bySelector && '--site/--tag'].filter((g): g is string => !!g);
  if (!given.length) throw new UsageError('no target clusters given; nothing was sent', [TARGET_HINT]);
  if (given.length > 1) throw new UsageError(`${given.join(' and ')} both choose the target clusters; give only one way; nothing was sent`, [TARGET_HINT]);
  if (o.template !== undefined) return { template: o.template };
  if (o.clusters !== undefined) return { clusterIds: o.clusters };
  return { ...(o.site !== undefined ? { site: o.site } : {}), ...(o.tag && Object.keys(o.tag).length ? { tags: o.tag } : {}) };
}

/** Drops undefined values; undefined when nothing is left (so the server applies its defaults). */
function compact<T extends Record<string, unknown>>(o: T): T | undefined {
  const out = Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
  return Object.keys(out).length ? (out as T) : undefined;
}

/**
 * The POST /v1/rollouts body: only what was given (the server applies the defaults). Throws a
 * UsageError, before any request, for a missing or doubled target, --canary with
 * --canary-percent, window flags without a start or a length, or a give-up time shorter than
 * the retry time; then checks the body against the API schema.
 */
export function buildRolloutBody(o: RolloutCreateOpts): RolloutBody {
  const agent = o.kind === 'agent-update';
  if (agent) {
    const clusterOnly = [o.template !== undefined && '--template', o.clusters !== undefined && '--clusters', o.to !== undefined && '--to', o.profile !== undefined && '--profile',
      o.onFailure !== undefined && '--on-failure', o.acknowledgeDowntime && '--acknowledge-downtime'].filter((g): g is string => !!g);
    if (clusterOnly.length) throw new UsageError(`${clusterOnly.join(', ')} ${clusterOnly.length > 1 ? 'belong' : 'belongs'} to cluster upgrades, not to --kind agent-update; nothing was sent`, ['e.g. edgefleet rollouts create --kind agent-update --version 0.2.0 --site "shop-*" --canary 1']);
    if (o.version === undefined) throw new UsageError('--kind agent-update needs --version <V>: the published agent version (GET /v1/agent/manifest); nothing was sent');
  } else if (o.to === undefined) {
    throw new UsageError('--to <version|channel> is required to upgrade clusters (or --kind agent-update --version <V> to update agents); nothing was sent');
  }
  const t = agent ? hostTargets(o) : targets(o);
  if (o.canary !== undefined && o.canaryPercent !== undefined) {
    throw new UsageError('--canary and --canary-percent both size the canary wave; give one; nothing was sent', ['e.g. --canary 2 (two clusters) or --canary-percent 5 (5 % of the targets, rounded up)']);
  }
  if (o.windowStart === undefined && (o.windowMinutes !== undefined || o.windowDays !== undefined)) {
    throw new UsageError('--window-minutes and --window-days need --window-start; nothing was sent', ['e.g. --window-start 02:00 --window-minutes 180 --window-days mon,tue (the site\'s local time)']);
  }
  if (o.windowStart !== undefined && o.windowMinutes === undefined) {
    throw new UsageError('--window-start needs --window-minutes (how long the window stays open, 30 to 1440); nothing was sent', ['e.g. --window-start 02:00 --window-minutes 180']);
  }
  if (o.retryMinutes !== undefined && o.giveUpMinutes !== undefined && o.giveUpMinutes < o.retryMinutes) {
    throw new UsageError(`--give-up-minutes ${o.giveUpMinutes} is shorter than --retry-minutes ${o.retryMinutes}: a deferred cluster would be skipped before it is tried again; nothing was sent`);
  }
  const waves = compact({
    canary: o.canary !== undefined ? { clusters: o.canary } : o.canaryPercent !== undefined ? { percent: o.canaryPercent } : undefined,
    soakMinutes: o.soak,
    promotion: o.manualPromotion ? ('manual' as const) : undefined,
    growth: o.growth,
    maxConcurrent: o.maxConcurrent,
  });
  const abort = compact({ failurePercent: o.abortPercent, failureCount: o.abortCount, minFinished: o.minFinished });
  const deferral = compact({ retryMinutes: o.retryMinutes, giveUpMinutes: o.giveUpMinutes });
  const upgrade = compact({ onFailure: o.onFailure, acknowledgeDowntime: o.acknowledgeDowntime ? true : undefined });
  const maintenanceWindow = o.windowStart !== undefined && o.windowMinutes !== undefined
    ? { start: o.windowStart, durationMinutes: o.windowMinutes, ...(o.windowDays ? { days: o.windowDays } : {}) }
    : undefined;
  const policy = compact({ waves, abort, deferral, upgrade, maintenanceWindow });
  const body = agent
    ? { kind: 'agent-update', ...(o.name !== undefined ? { name: o.name } : {}), targets: t, version: o.version, ...(policy ? { policy } : {}) }
    : {
      ...(o.name !== undefined ? { name: o.name } : {}),
      targets: t,
      to: { version: o.to, ...(o.profile !== undefined ? { name: o.profile } : {}) },
      ...(policy ? { policy } : {}),
    };
  const parsed = createRolloutBody.safeParse(body);
  if (!parsed.success) {
    throw new UsageError('the rollout is not valid; nothing was sent', parsed.error.issues.map((i) => `- ${i.path.join('.') || '(body)'}: ${i.message}`));
  }
  return parsed.data;
}
