import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { diagnosticsRecord } from '../../contracts/diagnostics.js';
import type { DiagnosticsRecord } from '../../domain/diagnostics.js';
import { InternalError } from '../../domain/errors.js';
import type { DiagnosticsRepository } from '../../ports/diagnostics.js';
import { toRecord, type DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';

/** Under the host's partition: pk HOST#<hostId>, sk DIAG#<id> (no index: read by id, or all of one host's with a key query). */
export const diagnosticsKey = (hostId: string, id: string) => ({ pk: keys.host(hostId).pk, sk: `DIAG#${id}` });

/** A stored request, checked against its schema: an item that does not fit is named, not guessed at. */
export function diagnosticsFromItem(item: Record<string, unknown>): DiagnosticsRecord {
  const parsed = diagnosticsRecord.safeParse(toRecord<Record<string, unknown>>(item));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
  throw new InternalError('stored-diagnostics-invalid', `stored diagnostics request ${String(item.sk)} of ${String(item.pk)} does not match its schema (${problems})`);
}

export class DynamoDiagnosticsRepository implements DiagnosticsRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(record: DiagnosticsRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: { ...record, ...diagnosticsKey(record.hostId, record.id), kind: 'diagnostics' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `storing diagnostics request ${record.id}`);
    }
  }

  async get(hostId: string, id: string): Promise<DiagnosticsRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: diagnosticsKey(hostId, id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading diagnostics request ${id}`));
    return out.Item ? diagnosticsFromItem(out.Item) : undefined;
  }

  async listByHost(hostId: string, limit: number): Promise<{ items: DiagnosticsRecord[]; more: boolean }> {
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :sk)',
      ExpressionAttributeValues: { ':pk': keys.host(hostId).pk, ':sk': 'DIAG#' }, Limit: limit, ConsistentRead: true,
    })).catch((e) => mapDynamoError(e, `listing the diagnostics requests of host ${hostId}`));
    return { items: (out.Items ?? []).map(diagnosticsFromItem), more: out.LastEvaluatedKey !== undefined };
  }

  async update(next: DiagnosticsRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: { ...next, ...diagnosticsKey(next.hostId, next.id), kind: 'diagnostics' },
        ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': next.version - 1 },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `updating diagnostics request ${next.id}`);
    }
  }
}
