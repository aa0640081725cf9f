import { z } from 'zod';
import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE } from '../../contracts/tables.js';
import type { AuditRecord } from '../../domain/model.js';
import type { AuditFilter, AuditLog, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, dynamoKey, encodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { auditWindow, DAY_MS, daysToRead } from '../../domain/audit-window.js';
import { ValidationError } from '../../domain/errors.js';
import { mapDynamoError } from './errors.js';

/** A project-wide walk's position: the day partition it is in, and where in it. */
const auditDayCursor = z.strictObject({
  day: z.string().regex(/^\d{4}-\d{2}-\d{2}$/).refine((d) => Number.isFinite(Date.parse(`${d}T00:00:00Z`)), 'not a day'),
  key: dynamoKey.optional(),
});

/**
 * Audit events: by resource (table key), by actor (gsi1), by project and day (gsi2).
 * Events are append-only and expire after the retention period (TTL).
 */
export class DynamoAuditLog implements AuditLog {
  constructor(private readonly db: DocClient, private readonly table: string, private readonly retentionDays = 365) {}

  async record(e: AuditRecord): Promise<void> {
    const sk = `${e.time}#${e.id}`;
    await this.db.send(new PutCommand({
      TableName: this.table,
      Item: {
        ...e,
        pk: `R#${e.project}#${e.resource}`, sk,
        gsi1pk: `A#${e.project}#${e.actor}`, gsi1sk: sk,
        gsi2pk: `D#${e.project}#${e.time.slice(0, 10)}`, gsi2sk: sk,
        expiresAtEpoch: Math.floor(Date.parse(e.time) / 1000) + this.retentionDays * 86_400,
      },
    })).catch((err) => mapDynamoError(err, 'writing an audit event'));
  }

  async list(project: string, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
    const f = queryFingerprint(['audit', project, filter]);
    const now = Date.now();
    const window = auditWindow(filter.since, now, this.retentionDays);
    if (!window.ok) throw new ValidationError(window.code, window.reason, { errors: [{ path: 'query.since', message: `on or after ${window.earliest}` }] });
    const since = filter.since ?? '0000';
    if (filter.resource || filter.actor) {
      const byResource = filter.resource !== undefined;
      const input: QueryCommandInput = {
        TableName: this.table,
        ...(byResource ? {} : { IndexName: AUDIT_TABLE.byActor.name }),
        KeyConditionExpression: byResource ? 'pk = :pk AND sk >= :since' : 'gsi1pk = :pk AND gsi1sk >= :since',
        ExpressionAttributeValues: {
          ':pk': byResource ? `R#${project}#${filter.resource}` : `A#${project}#${filter.actor}`,
          ':since': since,
          ...(byResource && filter.actor ? { ':actor': filter.actor } : {}),
        },
        ...(byResource && filter.actor ? { FilterExpression: 'actor = :actor' } : {}),
        ScanIndexForward: false, Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
      };
      const out = await this.db.send(new QueryCommand(input)).catch((e) => mapDynamoError(e, 'listing audit events'));
      return pageFrom<AuditRecord>(out, f);
    }

    // Project-wide: walk day buckets from the cursor's day (today first) back to `since`,
    // at most AUDIT_DAYS_PER_REQUEST of them per request; the cursor continues the walk.
    const state = decodeCursor(page.cursor, f, auditDayCursor) ?? { day: new Date(now).toISOString().slice(0, 10) };
    const days = daysToRead(state.day, window.oldest);
    const items: AuditRecord[] = [];
    let key: Record<string, unknown> | undefined = state.key;
    let i = 0;
    while (i < days.length) {
      const day = days[i]!;
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: AUDIT_TABLE.byDay.name,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :since',
        ExpressionAttributeValues: { ':pk': `D#${project}#${day}`, ':since': since },
        ScanIndexForward: false, Limit: page.limit - items.length, ExclusiveStartKey: key,
      })).catch((e) => mapDynamoError(e, 'listing audit events'));
      items.push(...(out.Items ?? []).map((item) => toRecord<AuditRecord>(item)));
      key = out.LastEvaluatedKey;
      if (!key) i++;
      if (items.length >= page.limit) {
        if (key) return { items, nextCursor: encodeCursor(f, { day, key }) };
        break;
      }
    }
    // The next unread day: the rest of this request's days, or the day before its last one.
    const next = i < days.length ? days[i]! : new Date(Date.parse(`${days.at(-1) ?? state.day}T00:00:00Z`) - DAY_MS).toISOString().slice(0, 10);
    const done = days.length === 0 || next < new Date(window.oldest).toISOString().slice(0, 10);
    return done ? { items } : { items, nextCursor: encodeCursor(f, { day: next }) };
  }
}
