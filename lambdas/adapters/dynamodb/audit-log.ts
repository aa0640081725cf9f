import { PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { AUDIT_TABLE } from '../../contracts/tables.js';
import type { AuditRecord } from '../../domain/model.js';
import type { AuditFilter, AuditLog, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, encodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { mapDynamoError } from './errors.js';

const DAY_MS = 86_400_000;
/** Without `since`, a project-wide listing looks back this many days. */
export const DEFAULT_AUDIT_LOOKBACK_DAYS = 7;

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

    // Project-wide: walk day buckets from today back to `since`.
    const now = Date.now();
    const oldest = filter.since ? Date.parse(filter.since) : now - DEFAULT_AUDIT_LOOKBACK_DAYS * DAY_MS;
    let state = decodeCursor<{ day: string; key?: Record<string, unknown> }>(page.cursor, f) ?? { day: new Date(now).toISOString().slice(0, 10) };
    const items: AuditRecord[] = [];
    const oldestDay = new Date(oldest).toISOString().slice(0, 10);
    while (items.length < page.limit) {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: AUDIT_TABLE.byDay.name,
        KeyConditionExpression: 'gsi2pk = :pk AND gsi2sk >= :since',
        ExpressionAttributeValues: { ':pk': `D#${project}#${state.day}`, ':since': since },
        ScanIndexForward: false, Limit: page.limit - items.length, ExclusiveStartKey: state.key,
      })).catch((e) => mapDynamoError(e, 'listing audit events'));
      items.push(...(out.Items ?? []).map((i) => toRecord<AuditRecord>(i)));
      if (out.LastEvaluatedKey) {
        state = { day: state.day, key: out.LastEvaluatedKey };
        continue;
      }
      if (state.day <= oldestDay) return { items };
      state = { day: new Date(Date.parse(state.day) - DAY_MS).toISOString().slice(0, 10) };
    }
    return { items, nextCursor: encodeCursor(f, state) };
  }
}
