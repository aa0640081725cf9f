import { decideSweep, matchesResource, notifiedEntry, type AlertRule } from '../domain/alerts.js';
import type { ClusterHealthState } from '../domain/cluster-health.js';
import { clusterHealthEvent, hostHealthEvent, type HealthEvent } from '../domain/health-events.js';
import type { HostHealthState } from '../domain/host-health.js';
import type { AlertRuleRepository, DueNotification, NotificationLedger } from '../ports/alerts.js';
import type { HealthStore } from '../ports/health.js';
import type { ClusterRepository } from '../ports/index.js';
import { reportDeliveryFailure, sendNotification, type SendDeps } from './dispatch-alerts.js';

/** What the re-notify sweep needs: the rules, the ledger, the resources' stored health, and a way to send. */
export interface AlertSweepDeps extends SendDeps {
  readonly alertRules: Pick<AlertRuleRepository, 'get'>;
  readonly ledger: NotificationLedger;
  readonly health: Pick<HealthStore, 'hostSnapshot'>;
  readonly clusters: Pick<ClusterRepository, 'get'>;
}

/**
 * At most this many due alerts per run, 25 at a time: a webhook takes at most ~18 s (3 attempts
 * of 5 s, 1 s and 2 s apart), so a run ends within its 50 s timeout; what is left stays due and
 * the next run (a minute later) takes it, earliest first.
 */
export const SWEEP_MAX_ALERTS = 50;
const PARALLEL = 25;

export interface SweptAlert {
  readonly ruleId: string;
  readonly resource: string;
  readonly outcome: 'renotify-due' | 'state-changed' | 'resolved' | 'wait' | 'dropped' | 'lost-race' | 'failed';
}

const HOST_STATES: readonly HostHealthState[] = ['healthy', 'unhealthy', 'unknown'];
const CLUSTER_STATES: readonly ClusterHealthState[] = ['healthy', 'degraded', 'unreachable', 'unknown'];

/** The resource's health now, as the event a notification carries (undefined: it or its health is gone). */
async function currentEvent(deps: AlertSweepDeps, resource: string, previous: string, at: string): Promise<HealthEvent | undefined> {
  const slash = resource.indexOf('/');
  const kind = resource.slice(0, slash);
  const id = resource.slice(slash + 1);
  if (kind === 'host') {
    const snap = await deps.health.hostSnapshot(id);
    if (!snap?.health) return undefined;
    const prev = HOST_STATES.find((s) => s === previous);
    return hostHealthEvent(snap.host, snap.health, at, prev !== snap.health.state ? prev : undefined);
  }
  if (kind === 'cluster') {
    const cluster = await deps.clusters.get(id);
    if (!cluster?.health) return undefined;
    const prev = CLUSTER_STATES.find((s) => s === previous);
    return clusterHealthEvent(cluster, cluster.health, at, prev !== cluster.health.state ? prev : undefined);
  }
  return undefined;
}

/**
 * The re-notify sweep (every minute: an EventBridge schedule on AWS, a timer locally): every
 * open alert whose re-notify time has come is sent again if its resource is still in the state
 * last notified (`renotify-due`), as `resolved` if it left the states its rule matches (a change
 * the event path did not deliver), or as `state-changed`. Each send is claimed first with a
 * conditional write on the entry's state and sentAt, so two sweeps (or a sweep and the event
 * dispatcher) never deliver the same one twice. A failed delivery keeps its claim: it is tried
 * again after the rule's interval, not every minute.
 */
export async function renotifyOpenAlerts(deps: AlertSweepDeps, max = SWEEP_MAX_ALERTS): Promise<SweptAlert[]> {
  const due = await deps.ledger.due(deps.clock.now().getTime(), max);
  const out: SweptAlert[] = [];
  const rules = new Map<string, Promise<AlertRule | undefined>>();
  const ruleOf = (id: string) => {
    if (!rules.has(id)) rules.set(id, deps.alertRules.get(id));
    return rules.get(id)!;
  };
  for (let i = 0; i < due.length; i += PARALLEL) {
    out.push(...await Promise.all(due.slice(i, i + PARALLEL).map((entry) => sweepOne(deps, entry, ruleOf))));
  }
  return out;
}

async function sweepOne(deps: AlertSweepDeps, entry: DueNotification, ruleOf: (id: string) => Promise<AlertRule | undefined>): Promise<SweptAlert> {
  const { ruleId, resource } = entry;
  const now = deps.clock.now().getTime();
  const rule = await ruleOf(ruleId);
  const event = await currentEvent(deps, resource, entry.state, new Date(now).toISOString());
  const decision = decideSweep(entry, rule, event && rule ? { state: event.state, matchesResource: matchesResource(rule, event) } : undefined, now);
  if (decision.action === 'wait') return { ruleId, resource, outcome: 'wait' };
  if (decision.action === 'drop' || !rule || !event) {
    await deps.ledger.drop(ruleId, resource, entry);
    return { ruleId, resource, outcome: 'dropped' };
  }
  const claimed = notifiedEntry(rule, event.state, now);
  if (!(await deps.ledger.claim(ruleId, resource, claimed, entry))) return { ruleId, resource, outcome: 'lost-race' };
  try {
    await sendNotification(deps, rule, decision.reason, event, now);
    return { ruleId, resource, outcome: decision.reason };
  } catch (error) {
    reportDeliveryFailure(rule, resource, event.state, error, `it is tried again in ${rule.renotifyMinutes} minutes while ${resource} stays ${event.state}`);
    return { ruleId, resource, outcome: 'failed' };
  }
}
