import { createHmac } from 'node:crypto';
import { decideNotify, decideResolved, matchesResource, notifiedEntry, resourceOf, type AlertRule, type NotifyDecision, type NotifyReason } from '../domain/alerts.js';
import type { HealthEvent } from '../domain/health-events.js';
import type { AlertRuleRepository, NotificationLedger, SnsPublisher, WebhookSender } from '../ports/alerts.js';
import type { Clock, IdGenerator } from '../ports/index.js';
import type { SecretStore } from '../ports/workflow.js';
import { MAX_RULES_PER_PROJECT } from './alert-rules.js';
import { reportSwallowed } from './swallowed-failure.js';

export interface DispatchDeps {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly alertRules: Pick<AlertRuleRepository, 'listAll'>;
  readonly ledger: NotificationLedger;
  readonly secrets: Pick<SecretStore, 'get'>;
  readonly webhooks: WebhookSender;
  readonly sns?: SnsPublisher;
  /** Delivery attempts per webhook (the first and the retries). @default WEBHOOK_ATTEMPTS */
  readonly webhookAttempts?: number;
  /** Pause before retry n (1-based), ms. @default 1000 × 2^(n-1) */
  readonly retryDelayMs?: (retry: number) => number;
}

/** One webhook delivery: 3 attempts, each cut off after 5 s, 1 s and 2 s apart: under 20 s in all. */
export const WEBHOOK_ATTEMPTS = 3;
export const WEBHOOK_TIMEOUT_MS = 5000;

export type DeliveryOutcome = NotifyDecision['reason'] | 'delivered' | 'failed' | 'lost-race';
/** `detail` of a delivered one: why it was sent (first, state-changed, renotify-due, resolved). */
export interface Delivery {
  readonly ruleId: string;
  readonly outcome: DeliveryOutcome;
  readonly detail?: string;
}

/** `t=<unix seconds>,v1=<hex HMAC-SHA256(key, "<t>.<body>")>` (the Stripe scheme; README "Alerts"). */
export function signature(key: string, body: string, unixSeconds: number): string {
  return `t=${unixSeconds},v1=${createHmac('sha256', key).update(`${unixSeconds}.${body}`).digest('hex')}`;
}

/**
 * A health change: every rule of its project that matches it is notified, unless the same
 * resource in the same state was notified within the rule's re-notify interval; a rule about
 * the resource that no longer matches its state (e.g. back to healthy) and last notified a state
 * it matches gets one `resolved` notification. The ledger entry is claimed (conditional write)
 * before sending, so concurrent dispatchers of the same event send once; a delivery that fails
 * after its retries puts the entry back. An open alert's entry carries its re-notify time
 * (renotify-alerts.ts sends it again while the state persists).
 */
export async function dispatchHealthEvent(deps: DispatchDeps, event: HealthEvent): Promise<Delivery[]> {
  const rules = (await deps.alertRules.listAll(event.project, MAX_RULES_PER_PROJECT)).filter((r) => matchesResource(r, event));
  const out = await Promise.all(rules.map((rule) => notify(deps, rule, event)));
  return out.filter((d): d is Delivery => d !== undefined);
}

async function notify(deps: DispatchDeps, rule: AlertRule, event: HealthEvent): Promise<Delivery | undefined> {
  const resource = resourceOf(event);
  const previous = await deps.ledger.get(rule.id, resource);
  const now = deps.clock.now().getTime();
  let reason: NotifyReason;
  if (rule.match.states.includes(event.state)) {
    const decision = decideNotify(previous, event.state, now, rule.renotifyMinutes);
    if (!decision.send) return { ruleId: rule.id, outcome: decision.reason };
    reason = decision.reason;
  } else if (decideResolved(rule, previous, event.state)) {
    reason = 'resolved';
  } else {
    return undefined;
  }
  const claimed = notifiedEntry(rule, event.state, now);
  if (!(await deps.ledger.claim(rule.id, resource, claimed, previous))) return { ruleId: rule.id, outcome: 'lost-race' };
  try {
    await sendNotification(deps, rule, reason, event, now);
    return { ruleId: rule.id, outcome: 'delivered', detail: reason };
  } catch (error) {
    await deps.ledger.release(rule.id, resource, claimed, previous);
    reportDeliveryFailure(rule, resource, event.state, error, 'the next health change of the resource is notified again');
    return { ruleId: rule.id, outcome: 'failed', detail: (error as Error).message };
  }
}

/** What notifying needs (the dispatcher's and the re-notify sweep's). */
export type SendDeps = Pick<DispatchDeps, 'ids' | 'clock' | 'secrets' | 'webhooks' | 'sns' | 'webhookAttempts' | 'retryDelayMs'>;

/** Delivers one notification to the rule's target (webhook, signed; or SNS); throws when it could not. */
export async function sendNotification(deps: SendDeps, rule: AlertRule, reason: NotifyReason, event: HealthEvent, now: number): Promise<void> {
  const body = JSON.stringify({ id: deps.ids.newId(), ruleId: rule.id, ruleName: rule.name, reason, sentAt: new Date(now).toISOString(), event });
  if (rule.target.type === 'webhook') await deliverWebhook(deps, rule.target.url, rule.target.secretName, body);
  else {
    if (!deps.sns) throw new Error('this runtime has no SNS publisher');
    const what = reason === 'resolved' ? `${resourceOf(event)} resolved: ${event.state}` : `${resourceOf(event)} is ${event.state}`;
    await deps.sns.publish(rule.target.topicArn, `EdgeFleet: ${what}`.slice(0, 99), body);
  }
}

export function reportDeliveryFailure(rule: AlertRule, resource: string, state: string, error: unknown, next: string): void {
  const where = rule.target.type === 'webhook' ? rule.target.url : rule.target.topicArn;
  reportSwallowed({
    metric: 'AlertDeliveryFailed', error, ruleId: rule.id,
    message: `alert rule ${rule.id} (${rule.name}) could not notify ${where} that ${resource} is ${state}: ${(error as Error).message}`,
    action: `check that the receiver is up and answers 2xx within 5 s (and, for SNS, the topic); ${next}`,
  });
}

async function deliverWebhook(deps: SendDeps, url: string, secretName: string, body: string): Promise<void> {
  const key = await deps.secrets.get(secretName);
  if (key === undefined) throw new Error(`its signing key ${secretName} is missing from the secret store; delete the rule and create it again`);
  const attempts = deps.webhookAttempts ?? WEBHOOK_ATTEMPTS;
  let last = '';
  for (let attempt = 1; attempt <= attempts; attempt++) {
    if (attempt > 1) await new Promise((r) => setTimeout(r, deps.retryDelayMs?.(attempt - 1) ?? 1000 * 2 ** (attempt - 2)));
    const headers = {
      'content-type': 'application/json', 'user-agent': 'EdgeFleet-Alerts/1',
      'edgefleet-signature': signature(key, body, Math.floor(deps.clock.now().getTime() / 1000)),
    };
    try {
      const res = await deps.webhooks.post(url, body, headers, WEBHOOK_TIMEOUT_MS);
      if (res.status >= 200 && res.status < 300) return;
      last = `answered ${res.status}`;
      // A 4xx other than 408/429 will not change on a retry.
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) break;
    } catch (e) {
      last = (e as Error).message;
    }
  }
  throw new Error(`the webhook ${last} (${attempts} attempt${attempts === 1 ? '' : 's'})`);
}
