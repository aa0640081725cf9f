import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { createAlertRuleBody } from '../../contracts/alerts.js';
import { HOST_LIST_SHARDS, STATE_TABLE } from '../../contracts/tables.js';
import type { AlertRule, LastNotified } from '../../domain/alerts.js';
import type { AlertRuleRepository, DueNotification, NotificationLedger } from '../../ports/alerts.js';
import type { Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { hostShard } from './keys.js';

/** A ledger entry as the port knows it (no absent-but-undefined fields). */
const entryOf = (e: { state: string; sentAt: number; dueAt?: number | undefined }): LastNotified =>
  ({ state: e.state, sentAt: e.sentAt, ...(e.dueAt === undefined ? {} : { dueAt: e.dueAt }) });

/**
 * Alert rules (pk ALERTRULE#<id>, listed on gsi1 `AR#<project>` by creation) and the
 * notification ledger (pk ALERTSENT#<ruleId>, sk the resource): what was last notified, so the
 * same resource in the same state is not notified twice within the re-notify interval.
 */
const ruleKey = (id: string) => ({ pk: `ALERTRULE#${id}`, sk: 'RULE' });
const ruleList = (project: string) => `AR#${project}`;
const ledgerKey = (ruleId: string, resource: string) => ({ pk: `ALERTSENT#${ruleId}`, sk: resource });
/**
 * Open alerts (a `dueAt`) are in the sparse gsi3 under `ALERTDUE#<shard>` (HOST_LIST_SHARDS
 * partitions: a site's power cut opens thousands at once), sorted by due time; a resolved entry
 * is written without the keys and leaves the index.
 */
const duePartition = (shard: number) => `ALERTDUE#${shard}`;
const dueSort = (dueAt: number, ruleId: string, resource: string) => `${String(dueAt).padStart(15, '0')}#${ruleId}#${resource}`;

/** A stored rule, read through its schema (the webhook's secret is never on the item: only its name). */
const storedRule = z.object({
  id: z.string(), project: z.string(), name: z.string(), match: createAlertRuleBody.shape.match,
  target: z.discriminatedUnion('type', [
    z.object({ type: z.literal('webhook'), url: z.string(), secretName: z.string() }),
    z.object({ type: z.literal('sns'), topicArn: z.string() }),
  ]),
  renotifyMinutes: z.number().int(), createdAt: z.string(), createdBy: z.string(),
});
const ruleFrom = (item: Record<string, unknown>): AlertRule | undefined => {
  const parsed = storedRule.safeParse(toRecord(item));
  return parsed.success ? parsed.data : undefined;
};
const notified = z.object({ state: z.string(), sentAt: z.number(), dueAt: z.number().optional() });
const dueEntry = notified.extend({ pk: z.string().startsWith('ALERTSENT#'), sk: z.string() });

export class DynamoAlertRuleRepository implements AlertRuleRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(rule: AlertRule): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...rule, ...ruleKey(rule.id), kind: 'alert-rule', gsi1pk: ruleList(rule.project), gsi1sk: `${rule.createdAt}#${rule.id}` },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `creating alert rule ${rule.id}`);
    }
  }

  async get(id: string): Promise<AlertRule | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: ruleKey(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading alert rule ${id}`));
    return out.Item ? ruleFrom(out.Item) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<AlertRule>> {
    const f = queryFingerprint(['alert-rules', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': ruleList(project) },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing alert rules'));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map(ruleFrom).filter((r): r is AlertRule => !!r), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }

  async listAll(project: string, max: number): Promise<AlertRule[]> {
    const rules: AlertRule[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: STATE_TABLE.byProject.name,
        KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': ruleList(project) },
        Limit: max - rules.length, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, 'listing alert rules'));
      for (const item of out.Items ?? []) {
        const r = ruleFrom(item);
        if (r) rules.push(r);
      }
      start = out.LastEvaluatedKey;
    } while (start && rules.length < max);
    return rules;
  }

  async delete(id: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: ruleKey(id) })).catch((e) => mapDynamoError(e, `deleting alert rule ${id}`));
  }
}

export class DynamoNotificationLedger implements NotificationLedger {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async get(ruleId: string, resource: string): Promise<LastNotified | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: ledgerKey(ruleId, resource), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading what alert rule ${ruleId} notified`));
    const parsed = out.Item ? notified.safeParse(out.Item) : undefined;
    return parsed?.success ? entryOf(parsed.data) : undefined;
  }

  async due(now: number, limit: number): Promise<DueNotification[]> {
    const shards = await Promise.all(Array.from({ length: HOST_LIST_SHARDS }, (_, shard) => this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byCluster.name,
      KeyConditionExpression: 'gsi3pk = :pk AND gsi3sk <= :now',
      ExpressionAttributeValues: { ':pk': duePartition(shard), ':now': `${String(now).padStart(15, '0')}#~` },
      Limit: limit,
    })).catch((e) => mapDynamoError(e, 'listing the alerts due to be notified again'))));
    const found: DueNotification[] = [];
    for (const out of shards) {
      for (const item of out.Items ?? []) {
        const parsed = dueEntry.safeParse(item);
        if (parsed.success && parsed.data.dueAt !== undefined) {
          const { pk, sk, ...entry } = parsed.data;
          found.push({ ...entryOf(entry), ruleId: pk.slice('ALERTSENT#'.length), resource: sk });
        }
      }
    }
    return found.sort((a, b) => (a.dueAt ?? 0) - (b.dueAt ?? 0)).slice(0, limit);
  }

  async drop(ruleId: string, resource: string, expected: LastNotified): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({
        TableName: this.table, Key: ledgerKey(ruleId, resource),
        ConditionExpression: '#state = :s AND sentAt = :t', ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':s': expected.state, ':t': expected.sentAt },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) mapDynamoError(e, `dropping what alert rule ${ruleId} notified about ${resource}`);
    }
  }

  async claim(ruleId: string, resource: string, next: LastNotified, expected: LastNotified | undefined): Promise<boolean> {
    return this.conditionalPut(ruleId, resource, next, expected);
  }

  async release(ruleId: string, resource: string, claimed: LastNotified, previous: LastNotified | undefined): Promise<void> {
    if (previous) {
      await this.conditionalPut(ruleId, resource, previous, claimed);
      return;
    }
    try {
      await this.db.send(new DeleteCommand({
        TableName: this.table, Key: ledgerKey(ruleId, resource),
        ConditionExpression: '#state = :s AND sentAt = :t', ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':s': claimed.state, ':t': claimed.sentAt },
      }));
    } catch (e) {
      if (!isConditionFailure(e)) mapDynamoError(e, `releasing the notification of alert rule ${ruleId}`);
    }
  }

  private async conditionalPut(ruleId: string, resource: string, next: LastNotified, expected: LastNotified | undefined): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: {
          ...ledgerKey(ruleId, resource), kind: 'alert-sent', state: next.state, sentAt: next.sentAt,
          ...(next.dueAt === undefined ? {} : {
            dueAt: next.dueAt, gsi3pk: duePartition(hostShard(`${ruleId}#${resource}`)), gsi3sk: dueSort(next.dueAt, ruleId, resource),
          }),
        },
        ConditionExpression: expected ? '#state = :s AND sentAt = :t' : 'attribute_not_exists(pk)',
        ...(expected ? { ExpressionAttributeNames: { '#state': 'state' }, ExpressionAttributeValues: { ':s': expected.state, ':t': expected.sentAt } } : {}),
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `recording the notification of alert rule ${ruleId}`);
    }
  }
}
