import { deriveClusterHealth, type ClusterHealth, type MemberHealth } from '../domain/cluster-health.js';
import { deriveHostHealth, sameHealth, type HostHealth, type ReportedState } from '../domain/host-health.js';
import { clusterHealthEvent, hostHealthEvent } from '../domain/health-events.js';
import type { HostStatus } from '../domain/host-lifecycle.js';
import type { PackStatus } from '../domain/packs.js';
import type { Clock, ClusterRepository } from '../ports/index.js';
import type { EventPublisher, HealthStore, HostHealthSnapshot, StoredClusterHealth, StoredHostHealth } from '../ports/health.js';
import { reportSwallowed } from './swallowed-failure.js';

/** What health derivation needs (part of DeviceDeps: the status and presence handlers call it). */
export interface HealthDeps {
  readonly clock: Clock;
  readonly store: HealthStore;
  readonly events: EventPublisher;
  readonly clusters: Pick<ClusterRepository, 'get'>;
}

/** Concurrent handlers of one host (status and presence) race on `rev`: the loser derives again. */
const ATTEMPTS = 4;

const PACK_STATES: readonly PackStatus['state'][] = ['pending', 'installing', 'ready', 'error'];
const BOOT_STATES: readonly NonNullable<NonNullable<ReportedState['boot']>['state']>[] = ['active', 'passive', 'recovery', 'unknown'];
const packState = (s: unknown) => PACK_STATES.find((k) => k === s);
const bootState = (s: unknown) => BOOT_STATES.find((k) => k === s);

/** The fields health reads, taken from the stored report by shape (a stored report is the device's, validated on arrival). */
export function reportedOf(content: Readonly<Record<string, unknown>>): ReportedState {
  const obj = (v: unknown): Record<string, unknown> | undefined => (v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v)) : undefined);
  const boot = obj(content.boot);
  const k8s = obj(content.kubernetes);
  const storage = obj(content.storage);
  const packs: PackStatus[] = [];
  for (const p of Array.isArray(content.packs) ? content.packs : []) {
    const o = obj(p);
    const state = packState(o?.state);
    if (o && state && typeof o.name === 'string' && (o.type === 'cni' || o.type === 'csi' || o.type === 'addon')) {
      packs.push({ name: o.name, type: o.type, state, ...(typeof o.reason === 'string' ? { reason: o.reason } : {}) });
    }
  }
  return {
    ...(bootState(boot?.state) ? { boot: { state: bootState(boot?.state) } } : {}),
    ...(k8s ? { kubernetes: { ready: k8s.ready === true, ...(typeof k8s.role === 'string' ? { role: k8s.role } : {}) } } : {}),
    ...(storage && typeof storage.stateFreeMb === 'number' ? { storage: { stateFreeMb: storage.stateFreeMb } } : {}),
    ...(packs.length ? { packs } : {}),
  };
}

/** The health of a snapshot, as the API shows it when none is stored yet and as the handlers store it. */
export function healthOf(s: Pick<HostHealthSnapshot, 'presence' | 'status'> & { host: { status: HostStatus; clusterId?: string } }): HostHealth {
  return deriveHostHealth({
    status: s.host.status, ...(s.host.clusterId ? { clusterId: s.host.clusterId } : {}),
    ...(s.presence ? { presence: s.presence } : {}), ...(s.status ? { reported: reportedOf(s.status.content) } : {}),
  });
}

async function publish(deps: HealthDeps, event: Parameters<EventPublisher['publish']>[0]): Promise<void> {
  try {
    await deps.events.publish(event);
  } catch (error) {
    const id = event.kind === 'host' ? event.hostId : event.clusterId;
    reportSwallowed({
      metric: 'HealthEventPublishFailed', error, ...(event.kind === 'host' ? { hostId: id } : { clusterId: id }),
      message: `the health of ${event.kind} ${id} changed to ${event.state} and was stored, but the event was not published: no alert goes out for this change`,
      action: 'check the event bus and the function\'s events:PutEvents permission; GET the resource to see its health',
    });
  }
}

/**
 * After a status or presence write: derive the host's health, store it when it changed
 * (conditional on `rev`), publish the change, then refresh its cluster. An unchanged health
 * writes nothing. Returns the new health when it changed.
 *
 * `known`: the caller's complete view of the host's inputs, used instead of the first read —
 * only where nothing else can exist yet (a host just created, with no presence, status or
 * health). Were one written meanwhile, the health write's condition fails and the loop reads.
 */
export async function refreshHostHealth(deps: HealthDeps, hostId: string, known?: HostHealthSnapshot): Promise<HostHealth | undefined> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const snap = attempt === 0 && known ? known : await deps.store.hostSnapshot(hostId);
    if (!snap) return undefined;
    const derived = healthOf(snap);
    const online = snap.presence?.presence === 'online';
    if (sameHealth(snap.health, derived) && snap.health?.online === online) return undefined;
    const now = deps.clock.now().toISOString();
    const next: StoredHostHealth = {
      ...derived, reasons: [...derived.reasons], online, changedAt: now, rev: (snap.health?.rev ?? 0) + 1,
      since: snap.health && snap.health.state === derived.state ? snap.health.since : now,
    };
    if (!(await deps.store.putHostHealth(snap.host, next, snap.health?.rev))) continue;
    if (snap.health?.state !== next.state || !sameHealth(snap.health, derived)) {
      await publish(deps, hostHealthEvent(snap.host, next, now, snap.health?.state));
    }
    if (snap.host.clusterId) await refreshClusterHealth(deps, snap.host.clusterId);
    return derived;
  }
  return undefined;
}

/**
 * After a lifecycle change made through the API or registration (created, registered, approved,
 * rejected, decommissioned): the host's health follows its new status even before it ever
 * connects (`unknown`: "never connected", "host is pending: …"), so `?health=unknown` finds it.
 * Best effort: the change itself is done; a failed derivation is reported, and the next presence
 * or status write derives it again.
 */
export async function refreshAfterLifecycle(deps: HealthDeps | undefined, hostId: string, known?: HostHealthSnapshot): Promise<void> {
  if (!deps) return;
  await refreshHostHealth(deps, hostId, known).catch((error: unknown) => reportSwallowed({
    metric: 'HealthNotDerived', message: `the health of host ${hostId} was not derived after its lifecycle change`,
    action: 'none needed: the host\'s next status report or connection derives it again', error, hostId,
  }));
}

/** Derives the cluster's health from its members' stored health and its packs; stores and publishes a change. */
export async function refreshClusterHealth(deps: HealthDeps, clusterId: string): Promise<ClusterHealth | undefined> {
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const cluster = await deps.clusters.get(clusterId);
    if (!cluster) return undefined;
    const cp = new Set(cluster.controlPlane.hostIds);
    const ids = [...cluster.controlPlane.hostIds, ...cluster.workers.flatMap((w) => w.hostIds)];
    const healths = await deps.store.hostHealths(ids);
    const members: MemberHealth[] = ids.map((hostId) => {
      const h = healths.get(hostId);
      return { hostId, controlPlane: cp.has(hostId), ...(h ? { health: { state: h.state, reasons: h.reasons, online: h.online } } : {}) };
    });
    const derived = deriveClusterHealth(members, cluster.packs ?? []);
    const stored = cluster.health;
    if (stored && stored.state === derived.state && stored.reasons.length === derived.reasons.length && stored.reasons.every((r, i) => r === derived.reasons[i])) return undefined;
    const now = deps.clock.now().toISOString();
    const next: StoredClusterHealth = {
      ...derived, reasons: [...derived.reasons], changedAt: now, rev: (stored?.rev ?? 0) + 1,
      since: stored && stored.state === derived.state ? stored.since : now,
    };
    if (!(await deps.store.putClusterHealth(cluster, next, stored?.rev))) continue;
    await publish(deps, clusterHealthEvent(cluster, next, now, stored?.state));
    return derived;
  }
  return undefined;
}

/**
 * After a cluster's membership or its hosts' lifecycle changed (a workflow ended: hosts joined,
 * were added, removed or released): each host's health (its lifecycle status is an input), then
 * the cluster's (its members are), each stored and published only when it changed. A failure is
 * reported, not thrown: the operation's own writes are done, and the next report derives again.
 */
export async function refreshAfterMembership(deps: HealthDeps | undefined, clusterId: string, hostIds: readonly string[]): Promise<void> {
  if (!deps) return;
  try {
    for (const id of hostIds) await refreshHostHealth(deps, id);
    await refreshClusterHealth(deps, clusterId);
  } catch (error) {
    reportSwallowed({
      metric: 'HealthRefreshFailed', error, clusterId,
      message: `the members of cluster ${clusterId} changed but its derived health (or its hosts') was not updated; the API may show an older health until the next report`,
      action: 'check the state table\'s availability and the function\'s permissions; the next status or presence change of a member derives it again',
    });
  }
}
