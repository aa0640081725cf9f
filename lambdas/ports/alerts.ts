import type { AlertRule, LastNotified } from '../domain/alerts.js';
import type { Page, PageRequest } from './index.js';

export interface AlertRuleRepository {
  /** Conditional create: false when the id exists. */
  create(rule: AlertRule): Promise<boolean>;
  get(id: string): Promise<AlertRule | undefined>;
  list(project: string, page: PageRequest): Promise<Page<AlertRule>>;
  /** Every rule of the project, up to `max` (the dispatcher's bounded read). */
  listAll(project: string, max: number): Promise<AlertRule[]>;
  delete(id: string): Promise<void>;
}

/** What was last notified per rule and resource (de-duplication), written with conditions. */
export interface NotificationLedger {
  get(ruleId: string, resource: string): Promise<LastNotified | undefined>;
  /**
   * Records `next` as notified if what is stored is still `expected` (undefined: nothing): the
   * claim made before sending, so two dispatchers never both send. False on a lost race.
   */
  claim(ruleId: string, resource: string, next: LastNotified, expected: LastNotified | undefined): Promise<boolean>;
  /** Puts `previous` back (or removes the entry) after a delivery failed, if `claimed` is still stored. */
  release(ruleId: string, resource: string, claimed: LastNotified, previous: LastNotified | undefined): Promise<void>;
  /**
   * Open alerts whose `dueAt` is at or before `now`, earliest first, at most `limit` (the
   * re-notify sweep's bounded read; what is left is found by the next run).
   */
  due(now: number, limit: number): Promise<DueNotification[]>;
  /** Removes the entry if it is still `expected` (its rule or its resource is gone). */
  drop(ruleId: string, resource: string, expected: LastNotified): Promise<void>;
}

/** An open alert whose re-notify time has come. */
export interface DueNotification extends LastNotified {
  readonly ruleId: string;
  readonly resource: string;
}

export interface WebhookResponse {
  readonly status: number;
}

/** POSTs to a webhook; rejects on a network error, a refused address or the timeout. */
export interface WebhookSender {
  post(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number): Promise<WebhookResponse>;
}

export interface SnsPublisher {
  publish(topicArn: string, subject: string, message: string): Promise<void>;
}
