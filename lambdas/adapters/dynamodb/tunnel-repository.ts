import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contracts/tables.js';
import type { TunnelRecord } from '../../domain/tunnel.js';
import type { TunnelRepository } from '../../ports/tunnels.js';
import { toRecord, type DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';

const key = (id: string) => ({ pk: `TUNNEL#${id}`, sk: 'TUNNEL' });
const hostList = (hostId: string) => `TN#${hostId}`;
/** gsi2: the tunnels not recorded closed (a host has at most one, so this is bounded by the fleet). */
const UNCLOSED = 'TUNNELS#UNCLOSED';
/** Closed tunnel records are kept this long after their expiry (the audit log keeps the trail). */
const KEEP_SECONDS = 90 * 86_400;

/** Tunnel records in the state table; the host's tunnels are listed through gsi1 (`TN#<hostId>`). */
export class DynamoTunnelRepository implements TunnelRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  private item(t: TunnelRecord) {
    return {
      ...t, ...key(t.id), kind: 'tunnel', gsi1pk: hostList(t.hostId), gsi1sk: `${t.createdAt}#${t.id}`,
      expiresAtEpoch: Math.floor(Date.parse(t.expiresAt) / 1000) + KEEP_SECONDS,
      // Sparse: only tunnels not closed are on the sweep's list.
      ...(t.state === 'closed' ? {} : { gsi2pk: UNCLOSED, gsi2sk: `${t.expiresAt}#${t.id}` }),
    };
  }

  async create(t: TunnelRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: this.item(t), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, 'recording a tunnel');
    }
  }

  async get(id: string): Promise<TunnelRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, 'reading a tunnel'));
    return out.Item ? toRecord<TunnelRecord>(out.Item) : undefined;
  }

  async listByHost(hostId: string, limit: number): Promise<TunnelRecord[]> {
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': hostList(hostId) },
      ScanIndexForward: false, Limit: limit,
    })).catch((e) => mapDynamoError(e, 'listing tunnels'));
    return (out.Items ?? []).map((i) => toRecord<TunnelRecord>(i));
  }

  async listUnclosed(limit: number): Promise<TunnelRecord[]> {
    const items: TunnelRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: STATE_TABLE.bySecondary.name,
        KeyConditionExpression: 'gsi2pk = :pk', ExpressionAttributeValues: { ':pk': UNCLOSED },
        Limit: limit - items.length, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, 'listing open tunnels'));
      items.push(...(out.Items ?? []).map((i) => toRecord<TunnelRecord>(i)));
      start = out.LastEvaluatedKey;
    } while (start && items.length < limit);
    return items;
  }

  async update(next: TunnelRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: this.item(next),
        ConditionExpression: 'attribute_exists(pk) AND version = :v', ExpressionAttributeValues: { ':v': next.version - 1 },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, 'updating a tunnel');
    }
  }
}
