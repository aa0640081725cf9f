import { GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { operationRecord } from '../../contracts/operations.js';
import { STATE_TABLE } from '../../contracts/tables.js';
import { InternalError } from '../../domain/errors.js';
import type { HostProgress, OperationRecord, OperationStatus } from '../../domain/model.js';
import type { OperationChanges, OperationRepository, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';

/** Statuses that keep an operation in the open index (keys.operationsOpen). */
export const OPEN_OPERATION_STATUSES: readonly OperationStatus[] = ['queued', 'running', 'paused'];
export const isOpenOperation = (status: OperationStatus): boolean => OPEN_OPERATION_STATUSES.includes(status);

export function operationItem(op: OperationRecord): Record<string, unknown> {
  return {
    ...op, ...keys.operation(op.id), kind: 'operation',
    gsi1pk: keys.operationList(op.project), gsi1sk: `${op.startedAt}#${op.id}`,
    gsi2pk: keys.operationTarget(op.target.type, op.target.id), gsi2sk: `${op.startedAt}#${op.id}`,
    ...(isOpenOperation(op.status) ? { gsi3pk: keys.operationsOpen, gsi3sk: keys.operationOpenSort(op.startedAt, op.id) } : {}),
  };
}

/**
 * An operation as read from the table, checked once against the operation schema: a stored
 * item that does not fit is an error that names the operation and the fields, here, instead of
 * a wrong value further on.
 */
export function operationFromItem(item: Record<string, unknown>): OperationRecord {
  const parsed = operationRecord.safeParse(toRecord<Record<string, unknown>>(item));
  if (parsed.success) return parsed.data;
  const problems = parsed.error.issues.map((i) => `${i.path.join('.') || '(item)'}: ${i.message}`).join('; ');
  throw new InternalError('stored-operation-invalid', `stored operation ${String(item.id ?? item.pk)} does not match the operation schema (${problems})`);
}

/** Names and values of an update expression, built up by `assign` and `placeholder`. */
export interface ExpressionParts {
  readonly names: Record<string, string>;
  readonly values: Record<string, unknown>;
}

/**
 * `#a = :a` clauses for every defined field (attribute names always go through placeholders:
 * `status`, `name` and friends are reserved words). Undefined fields are left untouched.
 */
export function assign(fields: Readonly<Record<string, unknown>>, parts: ExpressionParts, prefix: string): string[] {
  const clauses: string[] = [];
  let i = 0;
  for (const [field, value] of Object.entries(fields)) {
    if (value === undefined) continue;
    const n = `#${prefix}${i}`;
    const v = `:${prefix}${i}`;
    parts.names[n] = field;
    parts.values[v] = value;
    clauses.push(`${n} = ${v}`);
    i++;
  }
  return clauses;
}

export class DynamoOperationRepository implements OperationRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async get(id: string): Promise<OperationRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.operation(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading operation ${id}`));
    return out.Item ? operationFromItem(out.Item) : undefined;
  }

  async list(project: string, target: { type: string; id: string } | undefined, page: PageRequest): Promise<Page<OperationRecord>> {
    const f = queryFingerprint(['operations', project, target]);
    const index = target ? STATE_TABLE.bySecondary : STATE_TABLE.byProject;
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: index.name,
      KeyConditionExpression: `${index.partitionKey} = :pk`,
      FilterExpression: '#project = :project',
      ExpressionAttributeNames: { '#project': 'project' },
      ExpressionAttributeValues: { ':pk': target ? keys.operationTarget(target.type, target.id) : keys.operationList(project), ':project': project },
      ScanIndexForward: false, Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing operations'));
    return {
      items: (out.Items ?? []).map(operationFromItem),
      nextCursor: out.LastEvaluatedKey ? encodeCursor(f, out.LastEvaluatedKey) : undefined,
    };
  }

  async update(id: string, changes: OperationChanges, ifStatusIn: readonly OperationStatus[], now: string): Promise<OperationRecord | undefined> {
    if (ifStatusIn.length === 0) return undefined;
    const ends = changes.status !== undefined && !isOpenOperation(changes.status);
    const parts: ExpressionParts = { names: { '#status': 'status' }, values: {} };
    const fields: Record<string, unknown> = { ...changes, updatedAt: now };
    if (ends && changes.endedAt === undefined) fields.endedAt = now;
    const set = assign(fields, parts, 'f');
    const allowed = ifStatusIn.map((s, i) => { parts.values[`:if${i}`] = s; return `:if${i}`; });
    try {
      const out = await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.operation(id),
        UpdateExpression: `SET ${set.join(', ')}${ends ? ' REMOVE gsi3pk, gsi3sk' : ''}`,
        ConditionExpression: `#status IN (${allowed.join(', ')})`,
        ExpressionAttributeNames: parts.names,
        ExpressionAttributeValues: parts.values,
        ReturnValues: 'ALL_NEW',
      }));
      const item = out.Attributes ?? {};
      const record = operationFromItem(item);
      // Re-opened (e.g. a finished operation allowed back to running): put it back in the index.
      if (isOpenOperation(record.status) && item.gsi3pk === undefined) await this.reindexOpen(record);
      return record;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      mapDynamoError(e, `updating operation ${id}`);
    }
  }

  async setHost(id: string, hostId: string, progress: HostProgress): Promise<void> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.operation(id),
        // One map entry per host: parallel writers for different hosts never overwrite each other.
        UpdateExpression: 'SET #hosts.#h = :p',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#hosts': 'hosts', '#h': hostId },
        ExpressionAttributeValues: { ':p': progress },
      }));
    } catch (e) {
      if (isConditionFailure(e)) return; // the operation is gone: nothing to record against
      mapDynamoError(e, `recording the progress of host ${hostId} in operation ${id}`);
    }
  }

  async listOpen(limit: number): Promise<OperationRecord[]> {
    if (limit <= 0) return [];
    const found: OperationRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: STATE_TABLE.byCluster.name,
        KeyConditionExpression: `${STATE_TABLE.byCluster.partitionKey} = :pk`,
        ExpressionAttributeValues: { ':pk': keys.operationsOpen },
        ScanIndexForward: true, Limit: limit - found.length, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, 'listing open operations'));
      found.push(...(out.Items ?? []).map(operationFromItem));
      start = out.LastEvaluatedKey;
    } while (start && found.length < limit);
    return found;
  }

  private async reindexOpen(op: OperationRecord): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: keys.operation(op.id),
      UpdateExpression: 'SET gsi3pk = :pk, gsi3sk = :sk',
      ConditionExpression: '#status IN (:queued, :running, :paused)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': keys.operationsOpen, ':sk': keys.operationOpenSort(op.startedAt, op.id), ':queued': 'queued', ':running': 'running', ':paused': 'paused' },
    })).catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `indexing open operation ${op.id}`); });
  }
}
