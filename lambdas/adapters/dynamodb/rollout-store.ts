import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { ROLLOUT_ENDED, rolloutRecord, rolloutTarget, TARGET_STATES, targetCounts, type RolloutRecord, type RolloutStatus, type RolloutTarget, type TargetState } from '../../contracts/rollouts.js';
import { STATE_TABLE } from '../../contracts/tables.js';
import { InternalError } from '../../domain/errors.js';
import type { Page, PageRequest } from '../../ports/index.js';
import type { RolloutChange, RolloutStore, RolloutWaveRecord, SiteSettingsRecord, SiteSettingsStore, TargetMove } from '../../ports/rollouts.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';

/**
 * Rollouts in the state table: `ROLLOUT#<id>` holds the rollout (sk `ROLLOUT`, listed on gsi1
 * `RO#<project>` newest first), one item per wave (sk `W#<index>`: counts per state) and one per
 * target (sk `T#<position>`). A target's move and its wave's counts change in one transaction.
 * Listed cluster ids (up to 1,000) sit in their own item (sk `IDS`, written once, read while
 * planning): the rollout item, rewritten on every tick and copied into two indexes, stays small.
 * An open rollout is also on gsi3 `ROOPEN` (oldest first), removed when it ends: what a local
 * restart resumes.
 */
const pk = (id: string) => `ROLLOUT#${id}`;
const pad = (n: number) => String(n).padStart(6, '0');
const rolloutKey = (id: string) => ({ pk: pk(id), sk: 'ROLLOUT' });
const idsKey = (id: string) => ({ pk: pk(id), sk: 'IDS' });
const storedIds = z.object({ clusterIds: z.array(z.string()) });
const waveKey = (id: string, index: number) => ({ pk: pk(id), sk: `W#${pad(index)}` });
const targetKey = (id: string, position: number) => ({ pk: pk(id), sk: `T#${pad(position)}` });
const listKey = (project: string) => `RO#${project}`;
const OPEN = 'ROOPEN';

/** Targets are stored without their wave (known once planning ends); the use cases derive it from the position. */
const storedTarget = rolloutTarget.extend({ wave: z.number().int().default(-1) });
const storedWave = z.object({ index: z.number().int(), start: z.number().int(), size: z.number().int(), counts: targetCounts, startedAt: z.string().optional(), endedAt: z.string().optional() });

function parsed<T>(schema: z.ZodType<T>, item: Record<string, unknown>, what: string): T {
  const out = schema.safeParse(toRecord(item));
  if (!out.success) throw new InternalError('stored-rollout-invalid', `${what} in the state table does not parse: ${out.error.issues.slice(0, 3).map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  return out.data;
}
const strip = (item: Record<string, unknown>) => {
  const { pk: _p, sk: _s, kind: _k, gsi1pk: _g, gsi1sk: _h, gsi3pk: _i, gsi3sk: _j, ...rest } = item;
  return rest;
};

export class DynamoRolloutStore implements RolloutStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(r: RolloutRecord, clusterIds?: readonly string[]): Promise<boolean> {
    try {
      // The ids first (an existing id's item is left alone): once the rollout item exists, its ids do.
      if (clusterIds) {
        await this.db.send(new PutCommand({
          TableName: this.table, Item: { ...idsKey(r.id), kind: 'rollout-ids', clusterIds: [...clusterIds] }, ConditionExpression: 'attribute_not_exists(pk)',
        })).catch((e) => { if (!isConditionFailure(e)) throw e; });
      }
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...r, ...rolloutKey(r.id), kind: 'rollout', gsi1pk: listKey(r.project), gsi1sk: `${r.createdAt}#${r.id}`, ...(ROLLOUT_ENDED.includes(r.status) ? {} : { gsi3pk: OPEN, gsi3sk: `${r.createdAt}#${r.id}` }) },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `creating rollout ${r.id}`);
    }
  }

  async get(id: string): Promise<RolloutRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: rolloutKey(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading rollout ${id}`));
    return out.Item ? parsed(rolloutRecord, strip(out.Item), `rollout ${id}`) : undefined;
  }

  async clusterIds(id: string): Promise<string[]> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: idsKey(id) }))
      .catch((e) => mapDynamoError(e, `reading the cluster ids of rollout ${id}`));
    return out.Item ? parsed(storedIds, strip(out.Item), `the cluster ids of rollout ${id}`).clusterIds : [];
  }

  async list(project: string, page: PageRequest, status?: RolloutStatus): Promise<Page<RolloutRecord>> {
    const f = queryFingerprint(['rollouts', project, status ?? '']);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name, ScanIndexForward: false,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': listKey(project), ...(status ? { ':s': status } : {}) },
      ...(status ? { FilterExpression: '#st = :s', ExpressionAttributeNames: { '#st': 'status' } } : {}),
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing rollouts'));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map((i) => parsed(rolloutRecord, strip(i), 'a rollout')), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }

  async update(id: string, change: RolloutChange, cond: { statusIn: readonly RolloutStatus[]; execution?: string }, now: string): Promise<RolloutRecord | undefined> {
    const names: Record<string, string> = { '#st': 'status', '#u': 'updatedAt', '#v': 'version' };
    const values: Record<string, unknown> = { ':now': now, ':one': 1 };
    const sets = ['#u = :now', '#v = #v + :one'];
    Object.entries(change).forEach(([k, v], i) => {
      if (v === undefined) return;
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      sets.push(`#f${i} = :f${i}`);
    });
    const allowed = cond.statusIn.map((s, i) => { values[`:s${i}`] = s; return `:s${i}`; });
    let condition = `#st IN (${allowed.join(', ')})`;
    if (cond.execution !== undefined) {
      names['#ex'] = 'execution';
      values[':ex'] = cond.execution;
      condition += ' AND #ex = :ex';
    }
    // An ended rollout leaves the open index.
    const ends = change.status !== undefined && ROLLOUT_ENDED.includes(change.status);
    try {
      const out = await this.db.send(new UpdateCommand({
        TableName: this.table, Key: rolloutKey(id), UpdateExpression: `SET ${sets.join(', ')}${ends ? ' REMOVE gsi3pk, gsi3sk' : ''}`,
        ConditionExpression: `attribute_exists(pk) AND ${condition}`, ExpressionAttributeNames: names, ExpressionAttributeValues: values, ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes ? parsed(rolloutRecord, strip(out.Attributes), `rollout ${id}`) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      mapDynamoError(e, `updating rollout ${id}`);
    }
  }

  async listOpen(limit: number): Promise<RolloutRecord[]> {
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byCluster.name, KeyConditionExpression: 'gsi3pk = :pk',
      ExpressionAttributeValues: { ':pk': OPEN }, Limit: limit,
    })).catch((e) => mapDynamoError(e, 'listing open rollouts'));
    return (out.Items ?? []).map((i) => parsed(rolloutRecord, strip(i), 'an open rollout'));
  }

  async addTargets(id: string, targets: readonly RolloutTarget[], plan: { expectedTotal: number; planCursor?: string }, now: string): Promise<boolean> {
    // Each position is written once: a retried planning page finds its targets there (no-op).
    // One PutItem each (no BatchWriteItem: the functions are granted item actions only); a page is at most PLAN_PAGE.
    for (const t of targets) {
      const { wave: _w, ...item } = t;
      await this.db.send(new PutCommand({
        TableName: this.table, Item: { ...item, ...targetKey(id, t.position), kind: 'rollout-target' }, ConditionExpression: 'attribute_not_exists(pk)',
      })).catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `recording the targets of rollout ${id}`); });
    }
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table, Key: rolloutKey(id),
        // TOTAL is a DynamoDB reserved word: named.
        UpdateExpression: plan.planCursor ? 'SET #t = :t, planCursor = :c, updatedAt = :now' : 'SET #t = :t, updatedAt = :now REMOVE planCursor',
        ConditionExpression: '#t = :e', ExpressionAttributeNames: { '#t': 'total' },
        ExpressionAttributeValues: { ':t': plan.expectedTotal + targets.length, ':e': plan.expectedTotal, ':now': now, ...(plan.planCursor ? { ':c': plan.planCursor } : {}) },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `planning rollout ${id}`);
    }
  }

  async putWaves(id: string, waves: readonly RolloutWaveRecord[]): Promise<void> {
    for (const w of waves) {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: { ...w, ...waveKey(id, w.index), kind: 'rollout-wave' }, ConditionExpression: 'attribute_not_exists(pk)',
      })).catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `recording the waves of rollout ${id}`); });
    }
  }

  async waves(id: string): Promise<RolloutWaveRecord[]> {
    return (await this.queryAll(id, 'W#', `the waves of rollout ${id}`)).map((i) => parsed(storedWave, strip(i), `a wave of rollout ${id}`));
  }

  async targetsBetween(id: string, from: number, to: number): Promise<RolloutTarget[]> {
    if (to <= from) return [];
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, ConsistentRead: true,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b',
        ExpressionAttributeValues: { ':pk': pk(id), ':a': `T#${pad(from)}`, ':b': `T#${pad(to - 1)}` }, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, `reading the targets of rollout ${id}`));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.map((i) => parsed(storedTarget, strip(i), `a target of rollout ${id}`));
  }

  async moveTarget(id: string, target: Pick<RolloutTarget, 'position' | 'wave'>, move: TargetMove, now: string): Promise<boolean> {
    const names: Record<string, string> = { '#st': 'state' };
    const values: Record<string, unknown> = { ':from': move.from, ':to': move.to };
    const sets = ['#st = :to'];
    Object.entries(move.set ?? {}).forEach(([k, v], i) => {
      if (v === undefined) return;
      names[`#f${i}`] = k;
      values[`:f${i}`] = v;
      sets.push(`#f${i} = :f${i}`);
    });
    const remove = (move.remove ?? []).filter((r) => !(r in (move.set ?? {})));
    const update = `SET ${sets.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`;
    const same = move.from === move.to;
    const items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']> = [
      { Update: { TableName: this.table, Key: targetKey(id, target.position), UpdateExpression: update, ConditionExpression: '#st = :from', ExpressionAttributeNames: names, ExpressionAttributeValues: values } },
    ];
    if (!same) {
      items.push({ Update: {
        TableName: this.table, Key: waveKey(id, target.wave), UpdateExpression: 'ADD counts.#a :minus, counts.#b :plus',
        ExpressionAttributeNames: { '#a': move.from, '#b': move.to }, ExpressionAttributeValues: { ':minus': -1, ':plus': 1 },
      } });
    }
    if (move.whileRollout) {
      // A no-op update conditioned on the rollout's state (an UpdateItem, which the functions are granted, not a ConditionCheckItem).
      const vals = Object.fromEntries(move.whileRollout.map((s, i) => [`:s${i}`, s]));
      items.push({ Update: {
        TableName: this.table, Key: rolloutKey(id), UpdateExpression: 'SET #u = #u', ConditionExpression: `#st IN (${Object.keys(vals).join(', ')})`,
        ExpressionAttributeNames: { '#st': 'status', '#u': 'updatedAt' }, ExpressionAttributeValues: vals,
      } });
    }
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: items }));
      return true;
    } catch (e) {
      if ((e as { name?: string })?.name === 'TransactionCanceledException') return false;
      mapDynamoError(e, `moving cluster at position ${target.position} of rollout ${id} to ${move.to} (at ${now})`);
    }
  }

  async markWave(id: string, index: number, field: 'startedAt' | 'endedAt', at: string): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table, Key: waveKey(id, index), UpdateExpression: 'SET #f = :at',
      ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(#f)', ExpressionAttributeNames: { '#f': field }, ExpressionAttributeValues: { ':at': at },
    })).catch((e) => { if (!isConditionFailure(e)) mapDynamoError(e, `marking wave ${index} of rollout ${id}`); });
  }

  async listTargets(id: string, filter: { state?: TargetState; range?: { from: number; to: number } }, page: PageRequest): Promise<Page<RolloutTarget>> {
    const f = queryFingerprint(['rollout-targets', id, filter.state ?? '', filter.range ?? '']);
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = { ':pk': pk(id) };
    const filters: string[] = [];
    if (filter.state) { names['#st'] = 'state'; values[':s'] = filter.state; filters.push('#st = :s'); }
    const range = filter.range ? { a: `T#${pad(filter.range.from)}`, b: `T#${pad(Math.max(filter.range.from, filter.range.to - 1))}` } : { a: 'T#', b: 'T#~' };
    Object.assign(values, { ':a': range.a, ':b': range.b });
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk AND sk BETWEEN :a AND :b', ExpressionAttributeValues: values,
      ...(filters.length ? { FilterExpression: filters.join(' AND '), ExpressionAttributeNames: names } : {}),
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, `listing the clusters of rollout ${id}`));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map((i) => parsed(storedTarget, strip(i), `a target of rollout ${id}`)), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }

  private async queryAll(id: string, prefix: string, what: string): Promise<Record<string, unknown>[]> {
    const items: Record<string, unknown>[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, ConsistentRead: true, KeyConditionExpression: 'pk = :pk AND begins_with(sk, :p)',
        ExpressionAttributeValues: { ':pk': pk(id), ':p': prefix }, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, `reading ${what}`));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}

/** Zero counts for every target state. */
export const zeroCounts = () => Object.fromEntries(TARGET_STATES.map((s) => [s, 0])) as Record<TargetState, number>;

/** Site settings: `SITECONF#<project>#<site>` (apart from the zero-touch status item, which the site check rewrites). */
export class DynamoSiteSettingsStore implements SiteSettingsStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}
  private key(project: string, site: string) { return { pk: `SITECONF#${project}#${site}`, sk: 'SITECONF' }; }

  async put(s: SiteSettingsRecord): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { ...s, ...this.key(s.project, s.site), kind: 'site-settings' } }))
      .catch((e) => mapDynamoError(e, `saving the settings of site ${s.site}`));
  }

  async get(project: string, site: string): Promise<SiteSettingsRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: this.key(project, site) }))
      .catch((e) => mapDynamoError(e, `reading the settings of site ${site}`));
    if (!out.Item) return undefined;
    const p = z.object({ project: z.string(), site: z.string(), timezone: z.string(), updatedAt: z.string() }).safeParse(toRecord(out.Item));
    return p.success ? p.data : undefined;
  }
}
