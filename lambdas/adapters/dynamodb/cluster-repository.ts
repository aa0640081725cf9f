import { DeleteCommand, GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contracts/tables.js';
import { ConflictError } from '../../domain/errors.js';
import type { HostStatus } from '../../domain/host-lifecycle.js';
import type { ClusterRecord, OperationRecord } from '../../domain/model.js';
import type { PackStatus } from '../../domain/packs.js';
import type { ClaimFailure, ClusterChanges, ClusterFilter, ClusterRepository, Page, PageRequest } from '../../ports/index.js';
import { parseClusterHealth } from './health-store.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';
import { assign, listingItem, OPEN_INDEX_ATTRIBUTES, transactedOperationItems, type ExpressionParts } from './operation-repository.js';

/** A cluster item as a record; its derived health is read through its schema (dropped when it does not parse). */
function clusterFrom(item: Record<string, unknown>): ClusterRecord {
  const { health, ...rest } = toRecord<Record<string, unknown>>(item);
  const parsed = parseClusterHealth(health);
  return { ...toRecord<ClusterRecord>(rest), ...(parsed ? { health: parsed } : {}) };
}

export { DynamoOperationRepository, operationItems } from './operation-repository.js';

type TransactItems = NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>;
interface CancellationReason { Code?: string }

/** Host writes run this many at a time (conditional per-host updates, not one transaction). */
const HOST_WRITE_CONCURRENCY = 10;

/** The cancellation reasons of a cancelled transaction (one per item, in order), or undefined for any other error. */
function cancellationReasons(e: unknown): readonly CancellationReason[] | undefined {
  if ((e as { name?: string }).name !== 'TransactionCanceledException') return undefined;
  return (e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
}

const failed = (r: CancellationReason | undefined) => r?.Code === 'ConditionalCheckFailed';

/** The transaction item that claims `hostId` for a cluster: still at `version`, approved, unclaimed, same project. */
function claimItem(table: string, hostId: string, cluster: Pick<ClusterRecord, 'id' | 'project'>, version: number | undefined, now: string): TransactItems[number] {
  return {
    Update: {
      TableName: table,
      Key: keys.host(hostId),
      UpdateExpression: 'SET clusterId = :cid, gsi3pk = :g3pk, gsi3sk = :id, version = version + :one, updatedAt = :now',
      ConditionExpression: 'version = :v AND #status = :approved AND attribute_not_exists(clusterId) AND #project = :project',
      ExpressionAttributeNames: { '#status': 'status', '#project': 'project' },
      ExpressionAttributeValues: {
        ':cid': cluster.id, ':g3pk': keys.hostCluster(cluster.id), ':id': hostId, ':one': 1, ':now': now,
        ':v': version, ':approved': 'approved', ':project': cluster.project,
      },
    },
  };
}

/**
 * Per-host failures of the claim items at `offset…` of a cancelled transaction. When nothing
 * failed its condition but a write conflicted, every host is reported (the caller may retry).
 */
function claimFailures(hostIds: readonly string[], reasons: readonly CancellationReason[], offset: number, during: string): ClaimFailure[] {
  const lost = hostIds
    .filter((_, i) => failed(reasons[i + offset]))
    .map((hostId) => ({ hostId, reason: `was claimed, changed or is no longer approved while ${during}` }));
  if (lost.length === 0 && !reasons.some(failed) && reasons.some((r) => r.Code === 'TransactionConflict')) {
    return hostIds.map((hostId) => ({ hostId, reason: 'another request was changing the same hosts at the same moment' }));
  }
  return lost;
}

/**
 * Writes the listing item of an operation about to be created by a transaction, before it: a
 * transaction pays each of its items twice, index copies included. Until the head exists a
 * listing skips the id (a record needs its head); a refused creation removes it again
 * (`dropListing`), and one left by a crash in between is never shown. Unconditional: the
 * operation id is new, and a repeat writes the same item.
 */
async function putListing(db: DocClient, table: string, op: OperationRecord): Promise<void> {
  await db.send(new PutCommand({ TableName: table, Item: listingItem(op) }))
    .catch((e) => mapDynamoError(e, `listing operation ${op.id}`));
}

/** Removes the listing item of an operation whose creation was refused (best effort: a left-over is never shown). */
async function dropListing(db: DocClient, table: string, op: OperationRecord): Promise<void> {
  await db.send(new DeleteCommand({ TableName: table, Key: keys.operationListing(op.id), ConditionExpression: 'attribute_exists(pk)' })).catch(() => undefined);
}

/** The status-dependent index keys of a host item (see hostItem in host-repository.ts). */
function hostStatusKeys(hostId: string, status: HostStatus): { status: HostStatus; gsi1sk: string } {
  return { status, gsi1sk: `${status}#${hostId}` };
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => { while (next < items.length) await fn(items[next++]!); };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class DynamoClusterRepository implements ClusterRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async createWithClaims(cluster: ClusterRecord, operation: OperationRecord, expected: Readonly<Record<string, number>>):
    Promise<{ ok: true } | { ok: false; nameTaken?: boolean; failures: ClaimFailure[] }> {
    const hostIds = Object.keys(expected);
    const opItems = transactedOperationItems(operation).map((Item) => ({ Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' } }));
    const items: TransactItems = [
      {
        Put: {
          TableName: this.table,
          Item: {
            ...cluster, ...keys.cluster(cluster.id), kind: 'cluster', gsi1pk: keys.clusterList(cluster.project), gsi1sk: cluster.name,
            ...(cluster.templateId ? { gsi2pk: keys.clusterTemplate(cluster.project, cluster.templateId), gsi2sk: cluster.id } : {}),
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: { ...keys.clusterName(cluster.project, cluster.name), kind: 'cluster-name', clusterId: cluster.id },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      ...opItems,
      ...hostIds.map((id) => claimItem(this.table, id, cluster, expected[id], cluster.createdAt)),
    ];
    await putListing(this.db, this.table, operation);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (e) {
      // Cancelled (nothing written; the operation id is new): its listing goes too. Any other
      // error may hide a write that happened, so the listing stays.
      const reasons = cancellationReasons(e);
      if (reasons) await dropListing(this.db, this.table, operation);
      if (!reasons) mapDynamoError(e, `creating cluster ${cluster.name}`);
      return { ok: false, nameTaken: failed(reasons[1]), failures: claimFailures(hostIds, reasons, 2 + opItems.length, 'this cluster was being created') };
    }
  }

  async get(id: string): Promise<ClusterRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.cluster(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading cluster ${id}`));
    return out.Item ? clusterFrom(out.Item) : undefined;
  }

  /**
   * A health filter is a FilterExpression on the stored `health.state` (bounded: DynamoDB reads
   * `limit` items and filters those; a page may be short and still have a nextCursor). A
   * cluster whose health was never derived counts as `unknown`.
   */
  async list(project: string, page: PageRequest, filter: ClusterFilter = {}): Promise<Page<ClusterRecord>> {
    const f = queryFingerprint(['clusters', project, ...(filter.health ? [filter.health] : [])]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': keys.clusterList(project), ...(filter.health ? { ':h': filter.health } : {}) },
      ...(filter.health ? {
        FilterExpression: filter.health === 'unknown' ? '(health.#state = :h OR attribute_not_exists(health))' : 'health.#state = :h',
        ExpressionAttributeNames: { '#state': 'state' },
      } : {}),
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing clusters'));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map(clusterFrom), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }

  async deleteReleasing(cluster: ClusterRecord, endOperation?: { id: string; reason: string; at: string }): Promise<void> {
    const now = endOperation?.at ?? new Date().toISOString();
    for (let attempt = 0; ; attempt++) {
      // Only hosts still claimed by it (a failed create or a scale-in may have released some;
      // a cancelled scale-out may have claimed hosts not yet in its topology): the transaction
      // fails as a whole if any item's condition does.
      const claimed = await this.claimedHosts(cluster);
      const items: TransactItems = [
        { Delete: { TableName: this.table, Key: keys.cluster(cluster.id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': cluster.version } } },
        { Delete: { TableName: this.table, Key: keys.clusterName(cluster.project, cluster.name) } },
        ...claimed.map((id) => ({ Update: this.releaseUpdate(cluster.id, id, now) })),
        ...(endOperation ? [{
          Update: {
            TableName: this.table,
            Key: keys.operation(endOperation.id),
            UpdateExpression: `SET #status = :cancelled, reason = :reason, endedAt = :now, updatedAt = :now, step = :step REMOVE ${OPEN_INDEX_ATTRIBUTES}`,
            ConditionExpression: 'attribute_exists(pk) AND #status IN (:queued, :running, :paused)',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':cancelled': 'cancelled', ':reason': endOperation.reason, ':now': now, ':step': 'cancelled', ':queued': 'queued', ':running': 'running', ':paused': 'paused' },
          },
        }] : []),
      ];
      try {
        await this.db.send(new TransactWriteCommand({ TransactItems: items }));
        return;
      } catch (e) {
        const reasons = cancellationReasons(e);
        // A host changed hands between the read and the write: read again (a few times).
        const hostMoved = reasons && !failed(reasons[0]) && !failed(reasons[items.length - 1])
          && reasons.slice(2, 2 + claimed.length).some((r) => failed(r) || r.Code === 'TransactionConflict');
        if (!hostMoved || attempt >= 2) mapDynamoError(e, `deleting cluster ${cluster.id}`);
      }
    }
  }

  /** Hosts whose record says they belong to `cluster`: its topology plus its cluster index, read consistently. */
  private async claimedHosts(cluster: ClusterRecord): Promise<string[]> {
    const candidates = new Set([...cluster.controlPlane.hostIds, ...cluster.workers.flatMap((w) => w.hostIds)]);
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: STATE_TABLE.byCluster.name,
        KeyConditionExpression: `${STATE_TABLE.byCluster.partitionKey} = :pk`,
        ExpressionAttributeValues: { ':pk': keys.hostCluster(cluster.id) },
        ProjectionExpression: 'gsi3sk', ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, `listing the hosts of cluster ${cluster.id}`));
      for (const i of out.Items ?? []) candidates.add(String(i.gsi3sk));
      start = out.LastEvaluatedKey;
    } while (start);
    const claimed: string[] = [];
    await forEachLimited([...candidates], HOST_WRITE_CONCURRENCY, async (id) => {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.host(id), ConsistentRead: true, ProjectionExpression: 'clusterId' }))
        .catch((e) => mapDynamoError(e, `reading host ${id}`));
      if (out.Item?.clusterId === cluster.id) claimed.push(id);
    });
    return claimed;
  }

  async startOperation(cluster: ClusterRecord, operation: OperationRecord, changes: ClusterChanges, claim: Readonly<Record<string, number>> = {}):
    Promise<{ ok: true; cluster: ClusterRecord } | { ok: false; busy?: boolean; stale?: boolean; failures: ClaimFailure[] }> {
    const now = operation.startedAt;
    const hostIds = Object.keys(claim);
    const fields = defined({ ...changes, operationId: operation.id, activeOperationId: operation.id, updatedAt: now });
    const parts: ExpressionParts = { names: {}, values: { ':v': cluster.version, ':one': 1 } };
    const set = assign(fields, parts, 'c');
    const opItems = transactedOperationItems(operation).map((Item) => ({ Put: { TableName: this.table, Item, ConditionExpression: 'attribute_not_exists(pk)' } }));
    const items: TransactItems = [
      {
        Update: {
          TableName: this.table,
          Key: keys.cluster(cluster.id),
          UpdateExpression: `SET ${set.join(', ')}, version = version + :one`,
          ConditionExpression: 'version = :v AND attribute_not_exists(activeOperationId)',
          ExpressionAttributeNames: parts.names,
          ExpressionAttributeValues: parts.values,
        },
      },
      ...opItems,
      ...hostIds.map((id) => claimItem(this.table, id, cluster, claim[id], now)),
    ];
    await putListing(this.db, this.table, operation);
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
    } catch (e) {
      // Cancelled (nothing written; the operation id is new): its listing goes too. Any other
      // error may hide a write that happened, so the listing stays.
      const reasons = cancellationReasons(e);
      if (reasons && !failed(reasons[1])) await dropListing(this.db, this.table, operation);
      if (!reasons) mapDynamoError(e, `starting ${operation.type} on cluster ${cluster.id}`);
      const failures = claimFailures(hostIds, reasons, 1 + opItems.length, `this ${operation.type} was being started`);
      if (failed(reasons[0])) {
        const current = await this.get(cluster.id);
        return { ok: false, busy: !!current?.activeOperationId, stale: !current || current.version !== cluster.version, failures };
      }
      if (failed(reasons[1])) {
        throw new ConflictError('operation-exists', `operation ${operation.id} already exists; start the ${operation.type} again to get a new operation id`, { cause: e });
      }
      if (hostIds.length === 0 && reasons.some((r) => r.Code === 'TransactionConflict')) return { ok: false, stale: true, failures };
      return { ok: false, failures };
    }
    return { ok: true, cluster: { ...cluster, ...fields, version: cluster.version + 1 } as ClusterRecord };
  }

  async recordPacks(clusterId: string, initHostId: string, packs: readonly PackStatus[], at: string): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.cluster(clusterId),
        UpdateExpression: 'SET packs = :packs, packsReportedAt = :at',
        // Only the cluster's init node speaks for its packs, and never an older report over a newer one.
        ConditionExpression: 'attribute_exists(pk) AND controlPlane.hostIds[0] = :init AND (attribute_not_exists(packsReportedAt) OR packsReportedAt <= :at)',
        ExpressionAttributeValues: { ':packs': packs.map((p) => defined({ ...p })), ':at': at, ':init': initHostId },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `recording the packs of cluster ${clusterId}`);
    }
  }

  async updateForOperation(clusterId: string, operationId: string, changes: ClusterChanges, opts: { endOperation: boolean; now: string }): Promise<ClusterRecord | undefined> {
    const parts: ExpressionParts = { names: {}, values: { ':op': operationId, ':one': 1 } };
    const set = assign({ ...changes, updatedAt: opts.now }, parts, 'c');
    try {
      const out = await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.cluster(clusterId),
        UpdateExpression: `SET ${set.join(', ')}, version = version + :one${opts.endOperation ? ' REMOVE activeOperationId' : ''}`,
        ConditionExpression: 'activeOperationId = :op',
        ExpressionAttributeNames: parts.names,
        ExpressionAttributeValues: parts.values,
        ReturnValues: 'ALL_NEW',
      }));
      return toRecord<ClusterRecord>(out.Attributes ?? {});
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      mapDynamoError(e, `updating cluster ${clusterId} for operation ${operationId}`);
    }
  }

  async markJoined(clusterId: string, hostIds: readonly string[], now: string): Promise<void> {
    await forEachLimited(hostIds, HOST_WRITE_CONCURRENCY, async (id) => {
      const { status, gsi1sk } = hostStatusKeys(id, 'in-cluster');
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.host(id),
        UpdateExpression: 'SET #status = :status, gsi1sk = :sk, version = version + :one, updatedAt = :now',
        // Only a claimed, approved host joins: one already in-cluster is left as it is (no
        // version bump), one that lost the claim or changed status meanwhile is skipped.
        ConditionExpression: 'clusterId = :cid AND #status = :approved',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':status': status, ':sk': gsi1sk, ':one': 1, ':now': now, ':cid': clusterId, ':approved': 'approved' },
      })).catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `marking host ${id} as joined to cluster ${clusterId}`); });
    });
  }

  async releaseHosts(clusterId: string, hostIds: readonly string[], now: string): Promise<void> {
    await forEachLimited(hostIds, HOST_WRITE_CONCURRENCY, async (id) => {
      await this.db.send(new UpdateCommand(this.releaseUpdate(clusterId, id, now)))
        .catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `releasing host ${id} from cluster ${clusterId}`); });
    });
  }

  /** Back to the approved pool: no clusterId, out of the cluster's host index, status approved; only if still claimed by `clusterId`. */
  async attachedTo(project: string, templateId: string, limit: number): Promise<ClusterRecord[]> {
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.bySecondary.name,
      KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': keys.clusterTemplate(project, templateId) }, Limit: limit,
    })).catch((e) => mapDynamoError(e, `listing the clusters of template ${templateId}`));
    return (out.Items ?? []).map(clusterFrom);
  }

  async attachedPage(project: string, templateId: string, page: PageRequest): Promise<Page<ClusterRecord>> {
    const f = queryFingerprint(['clusters-of-template', project, templateId]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.bySecondary.name,
      KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': keys.clusterTemplate(project, templateId) },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, `listing the clusters of template ${templateId}`));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map(clusterFrom), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }

  async detach(clusterId: string, expectedVersion: number, now: string): Promise<ClusterRecord | undefined> {
    try {
      const out = await this.db.send(new UpdateCommand({
        TableName: this.table, Key: keys.cluster(clusterId),
        UpdateExpression: 'REMOVE templateId, gsi2pk, gsi2sk SET version = version + :one, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk) AND version = :v',
        ExpressionAttributeValues: { ':one': 1, ':now': now, ':v': expectedVersion }, ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes ? clusterFrom(out.Attributes) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      mapDynamoError(e, `detaching cluster ${clusterId}`);
    }
  }

  private releaseUpdate(clusterId: string, hostId: string, now: string) {
    const { status, gsi1sk } = hostStatusKeys(hostId, 'approved');
    return {
      TableName: this.table,
      Key: keys.host(hostId),
      UpdateExpression: 'REMOVE clusterId, gsi3pk, gsi3sk SET #status = :status, gsi1sk = :sk, version = version + :one, updatedAt = :now',
      ConditionExpression: 'clusterId = :cid',
      ExpressionAttributeNames: { '#status': 'status' },
      ExpressionAttributeValues: { ':cid': clusterId, ':status': status, ':sk': gsi1sk, ':one': 1, ':now': now },
    };
  }
}

function defined<T extends Record<string, unknown>>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}
