import type { HostStatus } from './host-lifecycle.js';
import type { PackStatus } from './packs.js';

/**
 * A host's health, derived from what it last reported (its stored status), its presence
 * (lifecycle events) and its lifecycle status. Pure: the status and presence handlers call it
 * after a write and store the result only when it differs (health.ts in use-cases).
 */

export type HostHealthState = 'healthy' | 'unhealthy' | 'unknown';

export interface HostHealth {
  readonly state: HostHealthState;
  /** Why, for an operator: empty when healthy. */
  readonly reasons: readonly string[];
}

/** A host's health as stored (one item per host, written only when it changes). */
export interface StoredHostHealth extends HostHealth {
  /** When the host entered this state (ISO). */
  readonly since: string;
  /** When this health was derived (ISO). */
  readonly changedAt: string;
  /** Whether the host was online when derived (clusters: unreachable when no control-plane node is). */
  readonly online: boolean;
  /** Bumped on every write: the optimistic-concurrency guard of concurrent handlers. */
  readonly rev: number;
}

/** Below this much free space on the state partition (active + passive + transition images) a host is unhealthy. */
export const MIN_STATE_FREE_MB = 2048;
/** At most this many reasons are kept (the rest are summarised): one report cannot grow the item without bound. */
export const MAX_REASONS = 10;

/** What the health derivation reads of the last stored status report (contracts/mqtt.ts statusMessage). */
export interface ReportedState {
  readonly boot?: { readonly state?: 'active' | 'passive' | 'recovery' | 'unknown' };
  readonly kubernetes?: { readonly ready?: boolean; readonly role?: string; readonly cordoned?: boolean };
  readonly storage?: { readonly stateFreeMb?: number };
  readonly packs?: readonly PackStatus[];
}

export interface HostHealthInput {
  readonly status: HostStatus;
  readonly clusterId?: string;
  /** Absent: the host never connected. */
  readonly presence?: { readonly presence: 'online' | 'offline'; readonly at: number };
  /** Absent: the host never sent a status report. */
  readonly reported?: ReportedState;
}

/** Lifecycle states in which a host is expected to connect and report. */
const REPORTING: ReadonlySet<HostStatus> = new Set<HostStatus>(['approved', 'in-cluster']);

const mib = (mb: number) => (mb >= 1024 ? `${(mb / 1024).toFixed(1)} GiB` : `${mb} MiB`);

export function capReasons(reasons: readonly string[]): string[] {
  if (reasons.length <= MAX_REASONS) return [...reasons];
  return [...reasons.slice(0, MAX_REASONS - 1), `and ${reasons.length - MAX_REASONS + 1} more`];
}

export function deriveHostHealth(h: HostHealthInput): HostHealth {
  if (!REPORTING.has(h.status)) return { state: 'unknown', reasons: [`host is ${h.status}: it is not expected to report`] };
  if (!h.presence) return { state: 'unknown', reasons: ['never connected'] };
  if (h.presence.presence === 'offline') return { state: 'unhealthy', reasons: [`offline since ${new Date(h.presence.at).toISOString()}`] };
  if (!h.reported) return { state: 'unknown', reasons: ['online, no status report yet'] };
  const r = h.reported;
  const reasons: string[] = [];
  if (r.boot?.state === 'passive') reasons.push('booted into passive (fallback): the active image failed to boot');
  else if (r.boot?.state === 'recovery') reasons.push('booted into recovery');
  if (r.kubernetes && !r.kubernetes.ready) reasons.push('Kubernetes NotReady');
  else if (!r.kubernetes && h.status === 'in-cluster') reasons.push('in a cluster but reports no Kubernetes node');
  const free = r.storage?.stateFreeMb;
  if (free !== undefined && free < MIN_STATE_FREE_MB) reasons.push(`state partition has ${mib(free)} free (needs ${mib(MIN_STATE_FREE_MB)})`);
  for (const p of r.packs ?? []) {
    if (p.state === 'error') reasons.push(`pack ${p.name} error${p.reason ? `: ${p.reason}` : ''}`);
  }
  return reasons.length ? { state: 'unhealthy', reasons: capReasons(reasons) } : { state: 'healthy', reasons: [] };
}

/** Whether a stored health says the same as a derived one (then nothing is written). */
export function sameHealth(a: HostHealth | undefined, b: HostHealth): boolean {
  return !!a && a.state === b.state && a.reasons.length === b.reasons.length && a.reasons.every((r, i) => r === b.reasons[i]);
}
