import { GetCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contracts/tables.js';
import type { ClusterRecord, OperationRecord } from '../../domain/model.js';
import type { ClaimFailure, ClusterRepository, OperationRepository, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { mapDynamoError } from './errors.js';
import { keys } from './keys.js';

interface CancellationReason { Code?: string }

export function operationItem(op: OperationRecord): Record<string, unknown> {
  return {
    ...op, ...keys.operation(op.id), kind: 'operation',
    gsi1pk: keys.operationList(op.project), gsi1sk: `${op.startedAt}#${op.id}`,
    gsi2pk: keys.operationTarget(op.target.type, op.target.id), gsi2sk: `${op.startedAt}#${op.id}`,
  };
}

export class DynamoClusterRepository implements ClusterRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async createWithClaims(cluster: ClusterRecord, operation: OperationRecord, expected: Readonly<Record<string, number>>):
    Promise<{ ok: true } | { ok: false; nameTaken?: boolean; failures: ClaimFailure[] }> {
    const hostIds = Object.keys(expected);
    const items = [
      {
        Put: {
          TableName: this.table,
          Item: { ...cluster, ...keys.cluster(cluster.id), kind: 'cluster', gsi1pk: keys.clusterList(cluster.project), gsi1sk: cluster.name },
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
      { Put: { TableName: this.table, Item: operationItem(operation), ConditionExpression: 'attribute_not_exists(pk)' } },
      ...hostIds.map((id) => ({
        Update: {
          TableName: this.table,
          Key: keys.host(id),
          UpdateExpression: 'SET clusterId = :cid, gsi3pk = :g3pk, gsi3sk = :id, version = version + :one, updatedAt = :now',
          ConditionExpression: 'version = :v AND #status = :approved AND attribute_not_exists(clusterId) AND #project = :project',
          ExpressionAttributeNames: { '#status': 'status', '#project': 'project' },
          ExpressionAttributeValues: {
            ':cid': cluster.id, ':g3pk': keys.hostCluster(cluster.id), ':id': id, ':one': 1, ':now': cluster.createdAt,
            ':v': expected[id], ':approved': 'approved', ':project': cluster.project,
          },
        },
      })),
    ];
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return { ok: true };
    } catch (e) {
      if ((e as { name?: string }).name !== 'TransactionCanceledException') mapDynamoError(e, `creating cluster ${cluster.name}`);
      const reasons = ((e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? []);
      const nameTaken = reasons[1]?.Code === 'ConditionalCheckFailed';
      const failures = hostIds
        .map((id, i) => ({ id, code: reasons[i + 3]?.Code }))
        .filter((r) => r.code === 'ConditionalCheckFailed')
        .map((r) => ({ hostId: r.id, reason: 'was claimed, changed or is no longer approved while this cluster was being created' }));
      if (!nameTaken && failures.length === 0 && reasons.some((r) => r.Code === 'TransactionConflict')) {
        return { ok: false, failures: hostIds.map((hostId) => ({ hostId, reason: 'another request was changing the same hosts at the same moment' })) };
      }
      return { ok: false, nameTaken, failures };
    }
  }

  async get(id: string): Promise<ClusterRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.cluster(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading cluster ${id}`));
    return out.Item ? toRecord<ClusterRecord>(out.Item) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<ClusterRecord>> {
    const f = queryFingerprint(['clusters', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': keys.clusterList(project) },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing clusters'));
    return pageFrom<ClusterRecord>(out, f);
  }

  async deleteReleasing(cluster: ClusterRecord, endOperation?: { id: string; reason: string; at: string }): Promise<void> {
    const hostIds = [...cluster.controlPlane.hostIds, ...cluster.workers.flatMap((w) => w.hostIds)];
    const now = endOperation?.at ?? new Date().toISOString();
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      { Delete: { TableName: this.table, Key: keys.cluster(cluster.id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': cluster.version } } },
      { Delete: { TableName: this.table, Key: keys.clusterName(cluster.project, cluster.name) } },
      ...hostIds.map((id) => ({
        Update: {
          TableName: this.table,
          Key: keys.host(id),
          // A host record may have been removed meanwhile; only release hosts still claimed by this cluster.
          UpdateExpression: 'REMOVE clusterId, gsi3pk, gsi3sk SET version = version + :one, updatedAt = :now',
          ConditionExpression: 'clusterId = :cid',
          ExpressionAttributeValues: { ':cid': cluster.id, ':one': 1, ':now': now },
        },
      })),
      ...(endOperation ? [{
        Update: {
          TableName: this.table,
          Key: keys.operation(endOperation.id),
          UpdateExpression: 'SET #status = :cancelled, reason = :reason, endedAt = :now, step = :step',
          ConditionExpression: 'attribute_exists(pk) AND #status IN (:queued, :running, :paused)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':cancelled': 'cancelled', ':reason': endOperation.reason, ':now': now, ':step': 'cancelled', ':queued': 'queued', ':running': 'running', ':paused': 'paused' },
        },
      }] : []),
    ];
    await this.db.send(new TransactWriteCommand({ TransactItems: items })).catch((e) => mapDynamoError(e, `deleting cluster ${cluster.id}`));
  }
}

export class DynamoOperationRepository implements OperationRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async get(id: string): Promise<OperationRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.operation(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading operation ${id}`));
    return out.Item ? toRecord<OperationRecord>(out.Item) : undefined;
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
    return pageFrom<OperationRecord>(out, f);
  }
}
