import { DeleteCommand, PutCommand, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import { HOST_LIST_SHARDS, STATE_TABLE } from '../../contracts/tables.js';
import { NotFoundError, ValidationError, VersionMismatchError } from '../../domain/errors.js';
import type { HostRecord, HostWithPresence } from '../../domain/model.js';
import { batchGet, healthKeys, parseHostHealth } from './health-store.js';
import type { HostChanges, HostFilter, HostRepository, Page, PageRequest } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, encodeCursor, pageFrom, queryFingerprint, shardCursor } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { hostShard, keys } from './keys.js';
import { statusFromItem, statusKey } from './status-item.js';

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
    return joined(toRecord<HostRecord>(host), (sk) => items.find((i) => i.sk === sk));
  }

  async update(id: string, expectedVersion: number, changes: HostChanges, now: string): Promise<HostWithPresence> {
    const current = await this.get(id);
    if (!current) throw new NotFoundError('host-not-found', `host ${id} does not exist`);
    if (current.version !== expectedVersion) throw new VersionMismatchError(`host ${id}`, expectedVersion);
    const { presence, health: _h, reported: _r, ...record } = current;
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
    return { ...cleaned, presence, ...(current.health ? { health: current.health } : {}), ...(current.reported ? { reported: current.reported } : {}) };
  }

  async delete(id: string, expectedVersion: number): Promise<void> {
    try {
      await this.db.send(new DeleteCommand({
        TableName: this.table, Key: keys.host(id), ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion },
      }));
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.hostPresence(id) }));
      // Its derived health and last report go with it (a deleted host must not stay in a health listing).
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: healthKeys.host(id) }));
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: statusKey(id) }));
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

    // A health filter reads the health index (the other filters apply to what it names).
    if (filter.health) return this.listByHealth(project, filter, filter.health, page, f);

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
    const prefix = filter.status ? `${filter.status}#` : undefined;
    const found = await this.shardedPage(page, f, 'gsi1sk', (shard) => ({
      TableName: this.table,
      IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: prefix ? 'gsi1pk = :pk AND begins_with(gsi1sk, :prefix)' : 'gsi1pk = :pk',
      FilterExpression: conditions.join(' AND '),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: { ...values, ':pk': keys.hostList(project, shard), ...(prefix ? { ':prefix': prefix } : {}) },
    }));
    return { items: await this.withPresence(found.items.map((i) => toRecord<HostRecord>(i))), nextCursor: found.nextCursor };
  }

  /**
   * `?health=`: the stored health items (gsi2 `HH#<project>#<shard>`, sort `<state>#<hostId>`,
   * domain health stored on change: adapters/dynamodb/health-store.ts) name the hosts, which are
   * then read by key; the other filters apply to what was read (a page may be short).
   */
  private async listByHealth(project: string, filter: HostFilter, health: string, page: PageRequest, f: string): Promise<Page<HostWithPresence>> {
    const found = await this.shardedPage(page, f, 'gsi2sk', (shard) => ({
      TableName: this.table,
      IndexName: STATE_TABLE.bySecondary.name,
      KeyConditionExpression: 'gsi2pk = :pk AND begins_with(gsi2sk, :prefix)',
      ExpressionAttributeValues: { ':pk': healthKeys.list(project, shard), ':prefix': `${health}#` },
    }));
    const ids = found.items.map((i) => String(i.pk).slice('HOST#'.length));
    const byId = new Map((await batchGet(this.db, this.table, ids.map((id) => keys.host(id)), 'reading hosts')).map((i) => [String(i.id), toRecord<HostRecord>(i)]));
    const hosts = ids.map((id) => byId.get(id)).filter((h): h is HostRecord => !!h && h.project === project
      && (filter.status === undefined || h.status === filter.status)
      && (filter.site === undefined || h.site === filter.site)
      && (filter.clusterId === undefined || h.clusterId === filter.clusterId)
      && (filter.tag === undefined || h.tags[filter.tag.key] === filter.tag.value));
    return { items: await this.withPresence(hosts), nextCursor: found.nextCursor };
  }

  /**
   * One page of a listing spread over HOST_LIST_SHARDS index partitions: each shard reads a
   * share of the page, the results merge in sort-key order up to the lowest point every
   * unfinished shard has reached, and the cursor keeps each shard's resume key.
   */
  private async shardedPage(page: PageRequest, f: string, skAttr: 'gsi1sk' | 'gsi2sk', input: (shard: number) => QueryCommandInput):
    Promise<{ items: Record<string, unknown>[]; nextCursor?: string }> {
    const state: ShardState = decodeCursor(page.cursor, f, shardCursor(HOST_LIST_SHARDS)) ?? new Array(HOST_LIST_SHARDS).fill(0);
    if (!Array.isArray(state) || state.length !== HOST_LIST_SHARDS) {
      throw new ValidationError('invalid-cursor', 'the cursor is not one this API issued; start again without a cursor');
    }
    // Each shard reads a share of the page (not a whole page): 8 shards × 50 would read 400 items.
    const perShard = Math.max(2, Math.ceil((page.limit * 2) / HOST_LIST_SHARDS));
    const results = await Promise.all(state.map(async (resume, shard) => {
      if (resume === null) return { shard, items: [] as Record<string, unknown>[], lek: undefined };
      const out = await this.db.send(new QueryCommand({ ...input(shard), Limit: perShard, ExclusiveStartKey: resume === 0 ? undefined : resume }))
        .catch((e) => mapDynamoError(e, 'listing hosts'));
      return { shard, items: out.Items ?? [], lek: out.LastEvaluatedKey };
    }));

    // Merge in sort-key order, but only up to the lowest point every unfinished shard has
    // reached: beyond it a shard may still hold smaller keys, which belong to the next page.
    const sk = (k: Record<string, unknown> | undefined) => String(k?.[skAttr] ?? '');
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
        next[r.shard] = pickKey(mine[mine.length - 1]!.item, skAttr);
      }
    }
    const done = next.every((s) => s === null);
    return { items: taken.map((t) => t.item), ...(done ? {} : { nextCursor: encodeCursor(f, next) }) };
  }

  /** Joins each host's presence, stored health and last status report (one BatchGetItem per 33 hosts). */
  private async withPresence(hosts: HostRecord[]): Promise<HostWithPresence[]> {
    if (hosts.length === 0) return [];
    const items = await batchGet(this.db, this.table,
      hosts.flatMap((h) => [keys.hostPresence(h.id), healthKeys.host(h.id), statusKey(h.id)]), 'reading host presence and health');
    const bySk = new Map(items.map((i) => [`${String(i.pk)}|${String(i.sk)}`, i]));
    return hosts.map((h) => joined(h, (sk) => bySk.get(`${keys.host(h.id).pk}|${sk}`)));
  }
}

/** A host record with its presence, stored health and last stored status report (items of its partition). */
function joined(host: HostRecord, item: (sk: string) => Record<string, unknown> | undefined): HostWithPresence {
  const presence = item('PRESENCE')?.presence;
  const health = parseHostHealth(item('HEALTH'));
  const status = statusFromItem(item('STATUS'));
  return {
    ...host, presence: presence === 'online' ? 'online' : 'offline',
    ...(health ? { health } : {}),
    ...(status ? { reported: { at: status.at, content: { ...status.content } } } : {}),
  };
}

function pickKey(item: Record<string, unknown>, skAttr: 'gsi1sk' | 'gsi2sk'): Key {
  return skAttr === 'gsi1sk'
    ? { pk: item.pk, sk: item.sk, gsi1pk: item.gsi1pk, gsi1sk: item.gsi1sk }
    : { pk: item.pk, sk: item.sk, gsi2pk: item.gsi2pk, gsi2sk: item.gsi2sk };
}
