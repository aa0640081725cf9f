import { BatchGetCommand, DeleteCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { HOST_LIST_SHARDS, STATE_TABLE } from '../../contracts/tables.js';
import { NotFoundError, ValidationError, VersionMismatchError } from '../../domain/errors.js';
import type { HostRecord, HostWithPresence, Presence } from '../../domain/model.js';
import type { HostChanges, HostFilter, HostRepository, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, encodeCursor, pageFrom, queryFingerprint, shardCursor } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { hostShard, keys } from './keys.js';

type Key = Record<string, unknown>;
/** Per shard: the key to resume after, or `null` when that shard is exhausted. */
type ShardState = (Key | null | 0)[];

/** Index attributes of a host item, derived from the record so they can never drift. */
export function hostItem(h: HostRecord): Record<string, unknown> {
  return {
    ...h,
    ...keys.host(h.id),
    kind: 'host',
    gsi1pk: keys.hostList(h.project, hostShard(h.id)),
    gsi1sk: `${h.status}#${h.id}`,
    ...(h.site ? { gsi2pk: keys.hostSite(h.project, h.site), gsi2sk: h.id } : {}),
    ...(h.clusterId ? { gsi3pk: keys.hostCluster(h.clusterId), gsi3sk: h.id } : {}),
  };
}

export class DynamoHostRepository implements HostRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(host: HostRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: hostItem(host), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `creating host ${host.id}`);
    }
  }

  async get(id: string): Promise<HostWithPresence | undefined> {
    const out = await this.db.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.host(id).pk },
      ConsistentRead: true,
    })).catch((e) => mapDynamoError(e, `reading host ${id}`));
    const items = out.Items ?? [];
    const host = items.find((i) => i.sk === 'HOST');
    if (!host) return undefined;
    const presence = items.find((i) => i.sk === 'PRESENCE');
    return { ...toRecord<HostRecord>(host), presence: (presence?.presence as Presence | undefined) ?? 'offline' };
  }

  async update(id: string, expectedVersion: number, changes: HostChanges, now: string): Promise<HostWithPresence> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError('host-not-found', `host ${id} does not exist`);
    if (current.version !== expectedVersion) throw new VersionMismatchError(`host ${id}`, expectedVersion);
    const { presence, ...record } = current;
    const next: HostRecord = { ...record, ...changes, version: expectedVersion + 1, updatedAt: now };
    const cleaned = Object.fromEntries(Object.entries(next).filter(([, v]) => v !== undefined)) as unknown as HostRecord;
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: hostItem(cleaned),
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': expectedVersion },
      }));
    } catch (e) {
      if (isConditionFailure(e)) throw new VersionMismatchError(`host ${id}`, expectedVersion, { cause: e });
      mapDynamoError(e, `updating host ${id}`);
    }
    return { ...cleaned, presence };
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({
        TableName: this.table, Key: keys.host(id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion },
      }));
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.hostPresence(id) }));
    } catch (e) {
      if (isConditionFailure(e)) throw new VersionMismatchError(`host ${id}`, expectedVersion, { cause: e });
      mapDynamoError(e, `deleting host ${id}`);
    }
  }

  async list(project: string, filter: HostFilter, page: PageRequest): Promise<Page<HostWithPresence>> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':project': project };
    const conditions: string[] = ['#project = :project'];
    names['#project'] = 'project';
    if (filter.tag) {
      names['#tags'] = 'tags';
      names['#tk'] = filter.tag.key;
      values[':tv'] = filter.tag.value;
      conditions.push('#tags.#tk = :tv');
    }
    const f = queryFingerprint(['hosts', project, filter]);

    // Narrow, unsharded indexes first: a cluster's hosts, a site's hosts.
    if (filter.clusterId || filter.site) {
      const index = filter.clusterId ? STATE_TABLE.byCluster : STATE_TABLE.bySecondary;
      const pkValue = filter.clusterId ? keys.hostCluster(filter.clusterId) : keys.hostSite(project, filter.site!);
      if (filter.status) { names['#status'] = 'status'; values[':status'] = filter.status; conditions.push('#status = :status'); }
      if (filter.clusterId && filter.site) { names['#site'] = 'site'; values[':site'] = filter.site; conditions.push('#site = :site'); }
      const out = await this.db.send(new QueryCommand({
        TableName: this.table,
        IndexName: index.name,
        KeyConditionExpression: `${index.partitionKey} = :pk`,
        FilterExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':pk': pkValue },
        Limit: page.limit,
        ExclusiveStartKey: decodeCursor(page.cursor, f),
      })).catch((e) => mapDynamoError(e, 'listing hosts'));
      const found = pageFrom<HostRecord>(out, f);
      return { items: await this.withPresence(found.items), nextCursor: found.nextCursor };
    }

    // The project listing is spread over HOST_LIST_SHARDS partitions: query each, merge by sort key.
    const state: ShardState = decodeCursor(page.cursor, f, shardCursor(HOST_LIST_SHARDS)) ?? new Array(HOST_LIST_SHARDS).fill(0);
    if (!Array.isArray(state) || state.length !== HOST_LIST_SHARDS) {
      throw new ValidationError('invalid-cursor', 'the cursor is not one this API issued; start again without a cursor');
    }
    const prefix = filter.status ? `${filter.status}#` : undefined;
    // Each shard reads a share of the page (not a whole page): 8 shards × 50 would read 400 items.
    const perShard = Math.max(2, Math.ceil((page.limit * 2) / HOST_LIST_SHARDS));
    const results = await Promise.all(state.map(async (resume, shard) => {
      if (resume === null) return { shard, items: [] as Record<string, unknown>[], lek: undefined };
      const input: QueryCommandInput = {
        TableName: this.table,
        IndexName: STATE_TABLE.byProject.name,
        KeyConditionExpression: prefix ? 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :pk',
        FilterExpression: conditions.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: { ...values, ':pk': keys.hostList(project, shard), ...(prefix ? { ':prefix': prefix } : {}) },
        Limit: perShard,
        ExclusiveStartKey: resume === 0 ? undefined : resume,
      };
      const out = await this.db.send(new QueryCommand(input)).catch((e) => mapDynamoError(e, 'listing hosts'));
      return { shard, items: out.Items ?? [], lek: out.LastEvaluatedKey };
    }));

    // Merge in sort-key order, but only up to the lowest point every unfinished shard has
    // reached: beyond it a shard may still hold smaller keys, which belong to the next page.
    const sk = (k: Record<string, unknown> | undefined) => String(k?.gsi1sk ?? '');
    const reached = results.filter((r) => r.lek).map((r) => sk(r.lek));
    const bound = reached.length ? reached.reduce((a, b) => (a < b ? a : b)) : undefined;
    const merged = results
      .flatMap((r) => r.items.map((item) => ({ shard: r.shard, item })))
      .filter((t) => bound === undefined || sk(t.item) <= bound)
      .sort((a, b) => sk(a.item).localeCompare(sk(b.item)));
    const taken = merged.slice(0, page.limit);
    const next: ShardState = state.slice();
    for (const r of results) {
      if (state[r.shard] === null) continue;
      const mine = taken.filter((t) => t.shard === r.shard);
      if (mine.length === r.items.length) {
        // Took everything this shard returned: resume where DynamoDB stopped, or mark it done.
        next[r.shard] = r.lek ? r.lek : null;
      } else if (mine.length > 0) {
        next[r.shard] = pickKey(mine[mine.length - 1]!.item);
      }
    }
    const done = next.every((s) => s === null);
    return {
      items: await this.withPresence(taken.map((t) => toRecord<HostRecord>(t.item))),
      nextCursor: done ? undefined : encodeCursor(f, next),
    };
  }

  private async withPresence(hosts: HostRecord[]): Promise<HostWithPresence[]> {
    if (hosts.length === 0) return [];
    const presence = new Map<string, Presence>();
    for (let i = 0; i < hosts.length; i += 100) {
      let request: Record<string, { Keys: Key[] }> | undefined = {
        [this.table]: { Keys: hosts.slice(i, i + 100).map((h) => keys.hostPresence(h.id)) },
      };
      for (let attempt = 0; request && Object.keys(request).length > 0 && attempt < 5; attempt++) {
        const out = await this.db.send(new BatchGetCommand({ RequestItems: request }))
          .catch((e) => mapDynamoError(e, 'reading host presence'));
        for (const item of out.Responses?.[this.table] ?? []) {
          presence.set(String(item.pk).slice('HOST#'.length), item.presence as Presence);
        }
        request = out.UnprocessedKeys as typeof request;
        if (request && Object.keys(request).length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
    return hosts.map((h) => ({ ...h, presence: presence.get(h.id) ?? 'offline' }));
  }
}

function pickKey(item: Record<string, unknown>): Key {
  return { pk: item.pk, sk: item.sk, gsi1pk: item.gsi1pk, gsi1sk: item.gsi1sk };
}
