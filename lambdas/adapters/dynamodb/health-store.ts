import { BatchGetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { storedClusterHealth, storedHostHealth } from '../../contracts/health.js';
import type { ClusterRecord, HostRecord } from '../../domain/model.js';
import type { PresenceState } from '../../domain/presence.js';
import type { HealthStore, HostHealthSnapshot, StoredClusterHealth, StoredHostHealth } from '../../ports/health.js';
import { toRecord, type DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { hostShard, keys } from './keys.js';
import { statusFromItem, statusKey } from './status-item.js';

/**
 * Why health is STORED (and not derived when read): `GET /v1/hosts?health=unhealthy` must stay
 * one bounded, paginated query over 10,000 hosts, and a derivation at read time would have to
 * read every host's status and presence to find the unhealthy ones. So the status and presence
 * handlers derive health after each write they make (already change-only) and store it only
 * when it differs — a conditional write on `rev`; an idle healthy fleet writes nothing.
 *
 * A host's health is its own item (pk HOST#<id>, sk HEALTH), not an attribute of the host
 * item: the host item is replaced whole by operator updates (optimistic on `version`), which
 * would overwrite a concurrent health write. The item carries index keys on gsi2:
 * `HH#<project>#<shard>` (HOST_LIST_SHARDS partitions per project, like the host listing) and
 * `<state>#<hostId>`, so a health filter is a begins_with query per shard.
 * A cluster's health is an attribute of the cluster item (`health`), written with an
 * UpdateCommand that touches nothing else; the cluster listing filters on it.
 */
export const healthKeys = {
  host: (hostId: string) => ({ pk: keys.host(hostId).pk, sk: 'HEALTH' }),
  list: (project: string, shard: number) => `HH#${project}#${shard}`,
  sort: (state: string, hostId: string) => `${state}#${hostId}`,
};

type Key = Record<string, unknown>;

/** BatchGetItem (consistent) of up to any number of keys, 100 at a time, retrying unprocessed keys. */
export async function batchGet(db: DocClient, table: string, all: readonly Key[], what: string): Promise<Record<string, unknown>[]> {
  const items: Record<string, unknown>[] = [];
  for (let i = 0; i < all.length; i += 100) {
    let request: Record<string, { Keys: Key[]; ConsistentRead: boolean }> | undefined = { [table]: { Keys: all.slice(i, i + 100), ConsistentRead: true } };
    for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 6; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      const out = await db.send(new BatchGetCommand({ RequestItems: request })).catch((e) => mapDynamoError(e, what));
      items.push(...(out.Responses?.[table] ?? []));
      request = out.UnprocessedKeys as typeof request;
    }
  }
  return items;
}

const hostIdOf = (item: Record<string, unknown>) => String(item.pk).slice('HOST#'.length);

export function parseHostHealth(item: Record<string, unknown> | undefined): StoredHostHealth | undefined {
  const parsed = item ? storedHostHealth.safeParse(toRecord(item)) : undefined;
  return parsed?.success ? parsed.data : undefined;
}

export function parseClusterHealth(value: unknown): StoredClusterHealth | undefined {
  const parsed = storedClusterHealth.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

export class DynamoHealthStore implements HealthStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async hostSnapshot(hostId: string): Promise<HostHealthSnapshot | undefined> {
    const items = await batchGet(this.db, this.table, [keys.host(hostId), keys.hostPresence(hostId), statusKey(hostId), healthKeys.host(hostId)],
      `reading the health inputs of host ${hostId}`);
    const by = (sk: string) => items.find((i) => i.sk === sk);
    const host = by('HOST');
    if (!host) return undefined;
    const presence = by('PRESENCE');
    const status = statusFromItem(by('STATUS'));
    const health = parseHostHealth(by('HEALTH'));
    return {
      host: toRecord<HostRecord>(host),
      ...(presence && (presence.presence === 'online' || presence.presence === 'offline') && typeof presence.at === 'number'
        ? { presence: { presence: presence.presence, at: presence.at } satisfies PresenceState } : {}),
      ...(status ? { status } : {}),
      ...(health ? { health } : {}),
    };
  }

  async putHostHealth(host: HostRecord, health: StoredHostHealth, expectedRev: number | undefined): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: {
          ...health, ...healthKeys.host(host.id), kind: 'health', project: host.project,
          gsi2pk: healthKeys.list(host.project, hostShard(host.id)), gsi2sk: healthKeys.sort(health.state, host.id),
        },
        ConditionExpression: expectedRev === undefined ? 'attribute_not_exists(pk)' : 'rev = :rev',
        ...(expectedRev === undefined ? {} : { ExpressionAttributeValues: { ':rev': expectedRev } }),
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `storing the health of host ${host.id}`);
    }
  }

  async hostHealths(hostIds: readonly string[]): Promise<Map<string, StoredHostHealth>> {
    const items = await batchGet(this.db, this.table, hostIds.map(healthKeys.host), 'reading the health of hosts');
    const out = new Map<string, StoredHostHealth>();
    for (const item of items) {
      const h = parseHostHealth(item);
      if (h) out.set(hostIdOf(item), h);
    }
    return out;
  }

  async putClusterHealth(cluster: ClusterRecord, health: StoredClusterHealth, expectedRev: number | undefined): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.cluster(cluster.id),
        // Neither the version nor updatedAt change: a derived health is not an operator's change.
        UpdateExpression: 'SET health = :h',
        ConditionExpression: expectedRev === undefined ? 'attribute_exists(pk) AND attribute_not_exists(health)' : 'attribute_exists(pk) AND health.rev = :rev',
        ExpressionAttributeValues: { ':h': { ...health, reasons: [...health.reasons] }, ...(expectedRev === undefined ? {} : { ':rev': expectedRev }) },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `storing the health of cluster ${cluster.id}`);
    }
  }
}
