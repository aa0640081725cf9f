import { PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { operationRecord } from '../../contracts/operations.js';
import { STATE_TABLE } from '../../contracts/tables.js';
import { UNFINISHED } from '../../domain/command.js';
import { InternalError } from '../../domain/errors.js';
import type { HostProgress, OperationRecord, OperationStatus } from '../../domain/model.js';
import type { OperationChanges, OperationFilter, OperationRepository, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';
import { deviceKeys } from './device-plane-stores.js';

/** Statuses that keep an operation in the open index (keys.operationsOpen). */
export const OPEN_OPERATION_STATUSES: readonly OperationStatus[] = ['queued', 'running', 'paused'];
export const isOpenOperation = (status: OperationStatus): boolean => OPEN_OPERATION_STATUSES.includes(status);

/**
 * Command states a host row does not store when it already points at the command (the row
 * keeps `commandHostId` + `progress.commandId`): they are read from the command. Queued and
 * sent never reach a row from a command change. Ended states (LIVE_STATES less these) are
 * read from the command too while the operation is open, and written into the row when it
 * ends (settleHostRows) or, for a command that ends later, then: a finished operation is read
 * without touching its commands.
 */
const DERIVED_STATES: ReadonlySet<string> = new Set(['accepted', 'progress']);
/** Command states a pointing row takes from its command on read. */
const LIVE_STATES: ReadonlySet<string> = new Set(['accepted', 'progress', 'succeeded', 'failed', 'timed-out', 'superseded']);

/** The command an unfinished host row points at, if any. */
function pointer(item: Record<string, unknown>): { hostId: string; commandId: string } | undefined {
  if (typeof item.sk !== 'string' || !item.sk.startsWith('HOST#') || typeof item.commandHostId !== 'string') return undefined;
  const progress = asMap(item.progress);
  if (typeof progress.commandId !== 'string' || !(UNFINISHED as readonly unknown[]).includes(progress.status)) return undefined;
  return { hostId: item.commandHostId, commandId: progress.commandId };
}

/**
 * Where open operations are listed: the KEYS_ONLY open-by-deadline index (gsi4, `OPOPEN`), so
 * an update of an open operation's head (its step, status) does not pay an index copy there;
 * and gsi3 for operations opened before (they leave it when they end). gsi3 can be dropped from
 * this list once no operation started before the upgrade is open.
 */
const OPEN_OPERATION_INDEXES = [STATE_TABLE.openByDeadline, STATE_TABLE.byCluster] as const;
/** Removed from the head when an operation ends (both layouts). */
export const OPEN_INDEX_ATTRIBUTES = 'gsi4pk, gsi4sk, gsi3pk, gsi3sk';

/** Operations whose items are read at the same time when a list or the open index is filled in. */
const READ_CONCURRENCY = 10;

/**
 * An operation is stored as up to three kinds of items under `OP#<id>`, so that what changes
 * often is small and what is large is written once:
 * - `OP`, the head: status, step, reason, times… and the index keys (project list, target list,
 *   open index). An update rewrites only the head and its index copies.
 * - `PLAN`: the input (an upgrade's whole plan) and the hosts' rows at creation. Written with
 *   the head, rewritten only when the input changes (rare), in no index.
 * - `HOST#<hostId>`: one host's progress, one small item (one write unit a write), in no index.
 * A Query of the partition reads them back as one record. Items written before this layout
 * (`input` and `hosts` on the head) read the same.
 */
export function operationItems(op: OperationRecord): Record<string, unknown>[] {
  const head = Object.fromEntries(Object.entries(op).filter(([k]) => k !== 'input' && k !== 'hosts'));
  const input = 'input' in op ? op.input : undefined;
  const plan = input !== undefined || Object.keys(op.hosts).length > 0
    ? [{ ...keys.operationPlan(op.id), kind: 'operation-plan', hosts: op.hosts, ...(input !== undefined ? { input } : {}) }]
    : [];
  return [{
    ...head, ...keys.operation(op.id), kind: 'operation',
    ...(isOpenOperation(op.status) ? { gsi4pk: keys.operationsOpen, gsi4sk: keys.operationOpenSort(op.startedAt, op.id) } : {}),
  }, listingItem(op), ...plan];
}

/**
 * The item that lists an operation in its project (gsi1) and under its target (gsi2): written
 * once with the head and never updated, with only what a listing filters on. Both indexes
 * project ALL, so index keys on the head made every head update (status, step, reason) pay two
 * more writes. A listing reads the ids from here and each operation from its partition.
 * (Operations created before carry these keys on the head; they are listed the same way.)
 */
export function listingItem(op: OperationRecord): Record<string, unknown> {
  return {
    ...keys.operationListing(op.id), kind: 'operation-listing', id: op.id, project: op.project, type: op.type,
    gsi1pk: keys.operationList(op.project), gsi1sk: `${op.startedAt}#${op.id}`,
    gsi2pk: keys.operationTarget(op.target.type, op.target.id), gsi2sk: `${op.startedAt}#${op.id}`,
  };
}

/** The items of `op` a creating transaction writes: all but the listing item (see putListing). */
export const transactedOperationItems = (op: OperationRecord): Record<string, unknown>[] =>
  operationItems(op).filter((i) => i.sk !== keys.operationListing(op.id).sk);

const asMap = (v: unknown): Record<string, unknown> => (v && typeof v === 'object' && !Array.isArray(v) ? { ...v } : {});

/** The record of an operation's items (head, plan, host rows), or undefined when there is no head. */
export function operationFromItems(items: readonly Record<string, unknown>[]): OperationRecord | undefined {
  const head = items.find((i) => i.sk === 'OP');
  if (!head) return undefined;
  const plan = items.find((i) => i.sk === 'PLAN');
  const hosts: Record<string, unknown> = { ...asMap(head.hosts), ...asMap(plan?.hosts) };
  for (const i of items) {
    if (typeof i.sk === 'string' && i.sk.startsWith('HOST#') && typeof i.hostId === 'string') hosts[i.hostId] = i.progress;
  }
  const input = plan?.input ?? head.input;
  return operationFromItem({ ...head, hosts, ...(input !== undefined ? { input } : {}) });
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
    return operationFromItems(await this.items(id));
  }

  async list(project: string, target: { type: string; id: string } | undefined, page: PageRequest, filter: OperationFilter = {}): Promise<Page<OperationRecord>> {
    const f = queryFingerprint(['operations', project, target, filter.status, filter.type]);
    const index = target ? STATE_TABLE.bySecondary : STATE_TABLE.byProject;
    // DynamoDB filters a page after reading it: a filtered page may hold fewer than `limit` (the cursor goes on).
    // The listing item does not carry the status (it is never updated): a status filter is
    // applied the same way, to the page's operations once read.
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: index.name,
      KeyConditionExpression: `${index.partitionKey} = :pk`,
      FilterExpression: ['#project = :project', ...(filter.type ? ['#type = :type'] : [])].join(' AND '),
      ExpressionAttributeNames: { '#project': 'project', ...(filter.type ? { '#type': 'type' } : {}) },
      ExpressionAttributeValues: {
        ':pk': target ? keys.operationTarget(target.type, target.id) : keys.operationList(project), ':project': project,
        ...(filter.type ? { ':type': filter.type } : {}),
      },
      ScanIndexForward: false, Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing operations'));
    const items = await this.complete(out.Items ?? []);
    return {
      items: filter.status ? items.filter((o) => o.status === filter.status) : items,
      nextCursor: out.LastEvaluatedKey ? encodeCursor(f, out.LastEvaluatedKey) : undefined,
    };
  }

  async update(id: string, changes: OperationChanges, ifStatusIn: readonly OperationStatus[], now: string): Promise<OperationRecord | undefined> {
    if (ifStatusIn.length === 0) return undefined;
    const { input, ...headChanges } = changes;
    const ends = changes.status !== undefined && !isOpenOperation(changes.status);
    const parts: ExpressionParts = { names: { '#status': 'status' }, values: {} };
    const fields: Record<string, unknown> = { ...headChanges, updatedAt: now };
    if (ends && changes.endedAt === undefined) fields.endedAt = now;
    const set = assign(fields, parts, 'f');
    const allowed = ifStatusIn.map((s, i) => { parts.values[`:if${i}`] = s; return `:if${i}`; });
    const head = {
      TableName: this.table,
      Key: keys.operation(id),
      UpdateExpression: `SET ${set.join(', ')}${ends ? ` REMOVE ${OPEN_INDEX_ATTRIBUTES}` : ''}`,
      ConditionExpression: `#status IN (${allowed.join(', ')})`,
      ExpressionAttributeNames: parts.names,
      ExpressionAttributeValues: parts.values,
    };
    try {
      // A new input goes to the plan item in the same transaction (rare: a rollback's bookkeeping).
      if (input === undefined) await this.db.send(new UpdateCommand(head));
      else {
        await this.db.send(new TransactWriteCommand({
          TransactItems: [{ Update: head }, {
            Update: {
              TableName: this.table, Key: keys.operationPlan(id),
              UpdateExpression: 'SET #input = :input, kind = if_not_exists(kind, :kind)',
              ExpressionAttributeNames: { '#input': 'input' }, ExpressionAttributeValues: { ':input': input, ':kind': 'operation-plan' },
            },
          }],
        }));
      }
    } catch (e) {
      if (isConditionFailure(e) || isCancelledByCondition(e)) return undefined;
      mapDynamoError(e, `updating operation ${id}`);
    }
    const raw = await this.rawItems(id);
    const items = await this.withLiveProgress(raw);
    if (ends) await this.settleHostRows(id, raw, items);
    const record = operationFromItems(items);
    if (!record) return undefined;
    // Re-opened (e.g. a finished operation allowed back to running): put it back in the index.
    if (isOpenOperation(record.status) && items.find((i) => i.sk === 'OP')?.gsi4pk === undefined) await this.reindexOpen(record);
    return record;
  }

  async setHost(id: string, hostId: string, progress: HostProgress, commandHostId?: string): Promise<void> {
    const key = keys.operationHost(id, hostId);
    // A command's states are read from the command (see withLiveProgress) when the row already
    // points at it: half a read unit here instead of a write. Eventually consistent is enough:
    // a row not seen yet only means the progress is written as before.
    const derived = DERIVED_STATES.has(progress.status);
    if (commandHostId && progress.commandId && (derived || LIVE_STATES.has(progress.status))) {
      const row = await this.queryOne(key, `reading the progress of host ${hostId} in operation ${id}`, false);
      const at = row ? pointer(row) : undefined;
      // An ended state is written only once the operation has ended (settleHostRows writes the
      // ones that ended before): while it is open, the host's next command replaces the row
      // anyway. The head is read consistently after the command's write, so an operation that
      // ends after this read settles the row itself.
      if (at?.commandId === progress.commandId && at.hostId === commandHostId && (derived || await this.isOpen(id))) return;
    }
    await this.putHostRow(id, hostId, progress, commandHostId);
  }

  /**
   * Its own item: parallel writers for different hosts never overwrite each other, and the
   * operation's head and plan are not rewritten. A row for an operation that is gone is never
   * read (a record needs its head).
   */
  private async putHostRow(id: string, hostId: string, progress: unknown, commandHostId?: string): Promise<void> {
    await this.db.send(new PutCommand({
      TableName: this.table,
      Item: { ...keys.operationHost(id, hostId), kind: 'operation-host', hostId, progress, ...(commandHostId ? { commandHostId } : {}) },
    })).catch((e) => mapDynamoError(e, `recording the progress of host ${hostId} in operation ${id}`));
  }

  /** Whether the operation's head says it is open (read consistently; a missing head is not open). */
  private async isOpen(id: string): Promise<boolean> {
    const head = await this.queryOne(keys.operation(id), `reading operation ${id}`);
    return typeof head?.status === 'string' && (OPEN_OPERATION_STATUSES as readonly string[]).includes(head.status);
  }

  /**
   * An ended operation's host rows that still point at a command the device has finished take
   * its final state now (one write each, the same a command's end used to write): a finished
   * operation is read without reading its commands. `items` are as read after the end (with
   * the commands' live state). Idempotent; a concurrent command end writes the same row.
   */
  private async settleHostRows(id: string, raw: readonly Record<string, unknown>[], live: readonly Record<string, unknown>[]): Promise<void> {
    await Promise.all(raw.map(async (item, i) => {
      const at = pointer(item);
      const now = live[i];
      if (!at || !now || typeof now.hostId !== 'string') return;
      const progress = asMap(now.progress);
      if (typeof progress.status !== 'string' || (UNFINISHED as readonly string[]).includes(progress.status)) return;
      await this.putHostRow(id, now.hostId, progress, at.hostId);
    }));
  }

  /**
   * Host rows that point at a command still unfinished in the row take that command's state
   * when the device has moved it on (accepted, progress, or ended before its row was written):
   * the same progress the command's change would have written (see commandChanged). A command
   * that is gone leaves the row as written.
   */
  private async withLiveProgress(items: Record<string, unknown>[]): Promise<Record<string, unknown>[]> {
    return Promise.all(items.map(async (item) => {
      const at = pointer(item);
      if (!at) return item;
      const c = await this.queryOne(deviceKeys.command(at.hostId, at.commandId), `reading command ${at.commandId} of host ${at.hostId}`);
      if (!c || typeof c.state !== 'string' || !LIVE_STATES.has(c.state)) return item;
      const detail = typeof c.detail === 'string' ? c.detail : c.reason === 'deadline-passed' ? `did not finish before ${String(c.deadline)}` : c.reason;
      const progress = {
        status: c.state, commandId: at.commandId, ...(typeof c.updatedAt === 'string' ? { at: c.updatedAt } : {}),
        ...(typeof c.workflowStep === 'string' ? { step: c.workflowStep } : {}), ...(typeof detail === 'string' && detail ? { detail } : {}),
      };
      return { ...item, progress };
    }));
  }

  /** One item by its key, read consistently (a Query, which every function reading operations may send). */
  private async queryOne(key: { pk: string; sk: string }, what: string, consistent = true): Promise<Record<string, unknown> | undefined> {
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND sk = :sk',
      ExpressionAttributeValues: { ':pk': key.pk, ':sk': key.sk }, ConsistentRead: consistent,
    })).catch((e) => mapDynamoError(e, what));
    return out.Items?.[0];
  }

  async create(op: OperationRecord): Promise<boolean> {
    try {
      await this.db.send(new TransactWriteCommand({
        TransactItems: operationItems(op).map((Item) => ({ Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' } })),
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e) || isCancelledByCondition(e)) return false;
      return mapDynamoError(e, `recording operation ${op.id}`);
    }
  }

  async listForTarget(target: { type: string; id: string }, limit: number): Promise<OperationRecord[]> {
    if (limit <= 0) return [];
    const index = STATE_TABLE.bySecondary;
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: index.name,
      KeyConditionExpression: `${index.partitionKey} = :pk`,
      ExpressionAttributeValues: { ':pk': keys.operationTarget(target.type, target.id) },
      ScanIndexForward: false, Limit: limit,
    })).catch((e) => mapDynamoError(e, `listing the operations of ${target.type} ${target.id}`));
    return this.complete(out.Items ?? []);
  }

  async listOpen(limit: number): Promise<OperationRecord[]> {
    if (limit <= 0) return [];
    // Oldest first over both indexes (an operation is in one of them), then the first `limit`.
    const found = new Map<string, string>();
    for (const index of OPEN_OPERATION_INDEXES) {
      let start: Record<string, unknown> | undefined;
      let taken = 0;
      do {
        const out = await this.db.send(new QueryCommand({
          TableName: this.table, IndexName: index.name,
          KeyConditionExpression: `${index.partitionKey} = :pk`,
          ExpressionAttributeValues: { ':pk': keys.operationsOpen },
          ProjectionExpression: `pk, ${index.sortKey}`,
          ScanIndexForward: true, Limit: limit - taken, ExclusiveStartKey: start,
        })).catch((e) => mapDynamoError(e, 'listing open operations'));
        for (const i of out.Items ?? []) {
          const sort = i[index.sortKey];
          if (typeof i.pk === 'string' && typeof sort === 'string') found.set(i.pk.slice('OP#'.length), sort);
        }
        taken += out.Items?.length ?? 0;
        start = out.LastEvaluatedKey;
      } while (start && taken < limit);
    }
    const oldest = [...found].sort((a, b) => (a[1] < b[1] ? -1 : a[1] > b[1] ? 1 : 0)).slice(0, limit);
    return this.complete(oldest.map(([id]) => ({ id })));
  }

  /** Every item of operation `id` (head, plan, host rows with their commands' live state), read consistently. */
  private async items(id: string): Promise<Record<string, unknown>[]> {
    return this.withLiveProgress(await this.rawItems(id));
  }

  /** Every item of operation `id` as stored, read consistently. */
  private async rawItems(id: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': keys.operation(id).pk }, ConsistentRead: true, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, `reading operation ${id}`));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** Full records for heads found in an index: each read again with its plan and host rows (one that vanished in between is left out). */
  private async complete(heads: readonly Record<string, unknown>[]): Promise<OperationRecord[]> {
    const out: (OperationRecord | undefined)[] = new Array(heads.length);
    let next = 0;
    const worker = async () => {
      while (next < heads.length) {
        const i = next++;
        out[i] = operationFromItems(await this.items(String(heads[i]!.id)));
      }
    };
    await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, heads.length) }, worker));
    return out.filter((o): o is OperationRecord => o !== undefined);
  }

  private async reindexOpen(op: OperationRecord): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: keys.operation(op.id),
      UpdateExpression: 'SET gsi4pk = :pk, gsi4sk = :sk',
      ConditionExpression: '#status IN (:queued, :running, :paused)',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':pk': keys.operationsOpen, ':sk': keys.operationOpenSort(op.startedAt, op.id), ':queued': 'queued', ':running': 'running', ':paused': 'paused' },
    })).catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `indexing open operation ${op.id}`); });
  }
}

/** A transaction cancelled because one of its conditions failed (not a conflict). */
function isCancelledByCondition(e: unknown): boolean {
  return (e as { name?: string }).name === 'TransactionCanceledException'
    && ((e as { CancellationReasons?: { Code?: string }[] }).CancellationReasons ?? []).some((r) => r.Code === 'ConditionalCheckFailed');
}
