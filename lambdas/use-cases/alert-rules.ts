import type { z } from 'zod';
import type { createAlertRuleBody } from '../contracts/alerts.js';
import { checkWebhookUrl, DEFAULT_RENOTIFY_MINUTES, type AlertRule, type AlertTarget } from '../domain/alerts.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import type { AlertRuleRepository } from '../ports/alerts.js';
import type { Page, PageRequest } from '../ports/index.js';
import type { SecretStore } from '../ports/workflow.js';
import { mutate, read, visible, type Deps, type RequestContext } from './context.js';

export interface AlertRuleDeps extends Pick<Deps, 'clock' | 'ids' | 'audit'> {
  readonly alertRules: AlertRuleRepository;
  readonly secrets: Pick<SecretStore, 'put' | 'delete'>;
  /** Where webhooks may point and which SNS topic a rule may name (the runtime decides). */
  readonly alerting: AlertingSettings;
}

export interface AlertingSettings {
  /** Locally: http://127.0.0.1 and localhost receivers are allowed. On AWS: false. */
  readonly allowLoopbackWebhooks: boolean;
  /** The stack's alert topic (SNS targets must name it); absent: no SNS targets (the local runtime). */
  readonly snsTopicArn?: string;
}

/** A project has at most this many rules: the dispatcher reads them all for every event. */
export const MAX_RULES_PER_PROJECT = 100;

export type AlertRuleView = Omit<AlertRule, 'target'> & { target: { type: 'webhook'; url: string } | { type: 'sns'; topicArn: string }; secret?: string };

const view = (r: AlertRule): AlertRuleView => ({
  ...r, target: r.target.type === 'webhook' ? { type: 'webhook', url: r.target.url } : { type: 'sns', topicArn: r.target.topicArn },
});
const notFound = (id: string) => () => new NotFoundError('alert-rule-not-found', `alert rule ${id} does not exist in this project; list them with GET /v1/alert-rules`);
const secretName = (id: string) => `alert-rules/${id}/webhook-secret`;

function target(deps: AlertRuleDeps, id: string, t: z.infer<typeof createAlertRuleBody>['target']): AlertTarget {
  if (t.type === 'webhook') {
    const verdict = checkWebhookUrl(t.url, { allowLoopback: deps.alerting.allowLoopbackWebhooks });
    if (!verdict.ok) {
      const message = `the webhook URL ${verdict.reason}${deps.alerting.allowLoopbackWebhooks ? '' : ' (https to a public address; see "Alerts" in the README)'}`;
      throw new ValidationError('invalid-webhook-url', message, { errors: [{ path: 'target.url', message }] });
    }
    return { type: 'webhook', url: verdict.url.toString(), secretName: secretName(id) };
  }
  if (!deps.alerting.snsTopicArn) {
    const message = 'SNS targets are not available in this runtime (the local control plane has no SNS); use a webhook';
    throw new ValidationError('sns-unavailable', message, { errors: [{ path: 'target.type', message }] });
  }
  if (t.topicArn !== deps.alerting.snsTopicArn) {
    const message = `must be the stack's alert topic ${deps.alerting.snsTopicArn} (output AlertTopicArn); subscribe your e-mail or queue to it`;
    throw new ValidationError('sns-topic-not-allowed', `the topic ${message}`, { errors: [{ path: 'target.topicArn', message }] });
  }
  return { type: 'sns', topicArn: t.topicArn };
}

/** create-alert-rule: a webhook rule's HMAC key is generated here, kept in the secret store and shown once. */
export async function createAlertRule(deps: AlertRuleDeps, ctx: RequestContext, input: z.infer<typeof createAlertRuleBody>): Promise<AlertRuleView> {
  return mutate(deps, ctx, {
    action: 'alerts:manage', audit: 'alert-rule.create', resource: 'alert-rule/*',
    run: async () => {
      const id = deps.ids.newId();
      const t = target(deps, id, input.target);
      if ((await deps.alertRules.listAll(ctx.project, MAX_RULES_PER_PROJECT)).length >= MAX_RULES_PER_PROJECT) {
        throw new ConflictError('too-many-alert-rules', `project ${ctx.project} has ${MAX_RULES_PER_PROJECT} alert rules, the most it may have; delete one first`);
      }
      const rule: AlertRule = {
        id, project: ctx.project, name: input.name, match: input.match, target: t,
        renotifyMinutes: input.renotifyMinutes ?? DEFAULT_RENOTIFY_MINUTES, createdAt: deps.clock.now().toISOString(), createdBy: ctx.principal.subject,
      };
      const secret = t.type === 'webhook' ? deps.ids.secret(32) : undefined;
      // The key first: a rule never exists without the key its deliveries are signed with.
      if (t.type === 'webhook' && secret) await deps.secrets.put(t.secretName, secret);
      if (!(await deps.alertRules.create(rule))) throw new ConflictError('alert-rule-exists', `alert rule ${id} exists; retry`);
      return { ...view(rule), ...(secret ? { secret } : {}) };
    },
    describe: (r) => ({ resource: `alert-rule/${r.id}`, detail: `${r.name} → ${r.target.type === 'webhook' ? r.target.url : r.target.topicArn}` }),
  });
}

export async function getAlertRule(deps: AlertRuleDeps, ctx: RequestContext, id: string): Promise<AlertRuleView> {
  read(ctx, 'alerts:read');
  return view(visible(ctx, await deps.alertRules.get(id), notFound(id)));
}

export async function listAlertRules(deps: AlertRuleDeps, ctx: RequestContext, page: PageRequest): Promise<Page<AlertRuleView>> {
  read(ctx, 'alerts:read');
  const out = await deps.alertRules.list(ctx.project, page);
  return { ...out, items: out.items.map(view) };
}

/** delete-alert-rule: the rule and its webhook key. */
export async function deleteAlertRule(deps: AlertRuleDeps, ctx: RequestContext, id: string): Promise<void> {
  await mutate(deps, ctx, {
    action: 'alerts:manage', audit: 'alert-rule.delete', resource: `alert-rule/${id}`,
    run: async () => {
      const rule = visible(ctx, await deps.alertRules.get(id), notFound(id));
      await deps.alertRules.delete(id);
      if (rule.target.type === 'webhook') await deps.secrets.delete(rule.target.secretName);
      return rule;
    },
  });
}
