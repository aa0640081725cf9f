import type { AlertRule, LastNotified } from '../../domain/alerts.js';
import type { AlertRuleRepository, DueNotification, NotificationLedger, WebhookResponse, WebhookSender } from '../../ports/alerts.js';
import type { Page, PageRequest } from '../../ports/index.js';

/** Alert rules in memory (unit tests of the dispatcher and the re-notify sweep). */
export class MemoryAlertRuleRepository implements AlertRuleRepository {
  readonly rules = new Map<string, AlertRule>();
  async create(rule: AlertRule): Promise<boolean> {
    if (this.rules.has(rule.id)) return false;
    this.rules.set(rule.id, structuredClone(rule));
    return true;
  }
  async get(id: string): Promise<AlertRule | undefined> {
    const r = this.rules.get(id);
    return r ? structuredClone(r) : undefined;
  }
  async list(project: string, page: PageRequest): Promise<Page<AlertRule>> {
    return { items: (await this.listAll(project, page.limit)) };
  }
  async listAll(project: string, max: number): Promise<AlertRule[]> {
    return [...this.rules.values()].filter((r) => r.project === project).slice(0, max).map((r) => structuredClone(r));
  }
  async delete(id: string): Promise<void> {
    this.rules.delete(id);
  }
}

const same = (a: LastNotified | undefined, b: LastNotified | undefined) => (!a && !b) || (!!a && !!b && a.state === b.state && a.sentAt === b.sentAt);

/** The notification ledger in memory, with the DynamoDB adapter's conditions (state and sentAt). */
export class MemoryNotificationLedger implements NotificationLedger {
  /** `ruleId resource` → entry. */
  readonly entries = new Map<string, LastNotified>();
  private key = (ruleId: string, resource: string) => `${ruleId} ${resource}`;

  async get(ruleId: string, resource: string): Promise<LastNotified | undefined> {
    const e = this.entries.get(this.key(ruleId, resource));
    return e ? { ...e } : undefined;
  }
  async claim(ruleId: string, resource: string, next: LastNotified, expected: LastNotified | undefined): Promise<boolean> {
    const k = this.key(ruleId, resource);
    if (!same(this.entries.get(k), expected)) return false;
    this.entries.set(k, { ...next });
    return true;
  }
  async release(ruleId: string, resource: string, claimed: LastNotified, previous: LastNotified | undefined): Promise<void> {
    const k = this.key(ruleId, resource);
    if (!same(this.entries.get(k), claimed)) return;
    if (previous) this.entries.set(k, { ...previous });
    else this.entries.delete(k);
  }
  async due(now: number, limit: number): Promise<DueNotification[]> {
    return [...this.entries.entries()]
      .filter(([, e]) => e.dueAt !== undefined && e.dueAt <= now)
      .map(([k, e]) => { const [ruleId, resource] = k.split(' ', 2) as [string, string]; return { ...e, ruleId, resource }; })
      .sort((a, b) => (a.dueAt ?? 0) - (b.dueAt ?? 0)).slice(0, limit);
  }
  async drop(ruleId: string, resource: string, expected: LastNotified): Promise<void> {
    const k = this.key(ruleId, resource);
    if (same(this.entries.get(k), expected)) this.entries.delete(k);
  }
}

/** Records every webhook POST and answers with `status` (tests). */
export class RecordingWebhookSender implements WebhookSender {
  readonly sent: { url: string; body: string; headers: Readonly<Record<string, string>> }[] = [];
  status = 204;
  async post(url: string, body: string, headers: Readonly<Record<string, string>>): Promise<WebhookResponse> {
    this.sent.push({ url, body, headers });
    return { status: this.status };
  }
}
