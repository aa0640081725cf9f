import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import { clusterTemplate, siteStatus } from '../../contracts/templates.js';
import { STATE_TABLE } from '../../contracts/tables.js';
import type { TemplateRecord } from '../../domain/templates.js';
import type { Page, PageRequest } from '../../ports/index.js';
import type { SiteStatusRecord, SiteStatusStore, TemplateRepository } from '../../ports/templates.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';

/**
 * Cluster templates (pk TEMPLATE#<project>#<name>, listed on gsi1 `TP#<project>` by name) and
 * site statuses (pk SITE#<project>#<site>, listed on gsi1 `SI#<project>` by site).
 */
const templateKey = (project: string, id: string) => ({ pk: `TEMPLATE#${project}#${id}`, sk: 'TEMPLATE' });
const templateList = (project: string) => `TP#${project}`;
const siteKey = (project: string, site: string) => ({ pk: `SITE#${project}#${site}`, sk: 'SITE' });
const siteList = (project: string) => `SI#${project}`;

/** A stored template read through its schema (an item that does not parse is skipped, never cast). */
const storedTemplate = clusterTemplate.extend({ secretVariables: z.array(z.string()).optional() });
const templateFrom = (item: Record<string, unknown>): TemplateRecord | undefined => {
  const parsed = storedTemplate.safeParse(toRecord(item));
  return parsed.success ? parsed.data : undefined;
};
const storedSite = siteStatus.extend({ project: z.string(), checkedAt: z.string() });
const siteFrom = (item: Record<string, unknown>): SiteStatusRecord | undefined => {
  const parsed = storedSite.safeParse(toRecord(item));
  return parsed.success ? parsed.data : undefined;
};

export class DynamoTemplateRepository implements TemplateRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  private item(t: TemplateRecord) {
    return { ...t, ...templateKey(t.project, t.id), kind: 'cluster-template', gsi1pk: templateList(t.project), gsi1sk: t.name };
  }

  async create(t: TemplateRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: this.item(t), ConditionExpression: 'attribute_not_exists(pk)' }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `creating cluster template ${t.name}`);
    }
  }

  async get(project: string, id: string): Promise<TemplateRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: templateKey(project, id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading cluster template ${id}`));
    return out.Item ? templateFrom(out.Item) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<TemplateRecord>> {
    const f = queryFingerprint(['cluster-templates', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': templateList(project) },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing cluster templates'));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map(templateFrom).filter((t): t is TemplateRecord => !!t), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }

  async listAll(project: string, max: number): Promise<TemplateRecord[]> {
    const all: TemplateRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table, IndexName: STATE_TABLE.byProject.name,
        KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': templateList(project) },
        Limit: max - all.length, ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, 'listing cluster templates'));
      for (const item of out.Items ?? []) {
        const t = templateFrom(item);
        if (t) all.push(t);
      }
      start = out.LastEvaluatedKey;
    } while (start && all.length < max);
    return all;
  }

  async replace(t: TemplateRecord, expectedVersion: number): Promise<TemplateRecord | undefined> {
    const next = { ...t, version: expectedVersion + 1 };
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, Item: this.item(next),
        ConditionExpression: 'attribute_exists(pk) AND version = :v', ExpressionAttributeValues: { ':v': expectedVersion },
      }));
      return next;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      mapDynamoError(e, `changing cluster template ${t.name}`);
    }
  }

  async delete(project: string, id: string, expectedVersion: number): Promise<boolean> {
    try {
      await this.db.send(new DeleteCommand({
        TableName: this.table, Key: templateKey(project, id),
        ConditionExpression: 'version = :v', ExpressionAttributeValues: { ':v': expectedVersion },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `deleting cluster template ${id}`);
    }
  }
}

export class DynamoSiteStatusStore implements SiteStatusStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async get(project: string, site: string): Promise<SiteStatusRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: siteKey(project, site) }))
      .catch((e) => mapDynamoError(e, `reading the status of site ${site}`));
    return out.Item ? siteFrom(out.Item) : undefined;
  }

  async put(s: SiteStatusRecord): Promise<void> {
    await this.db.send(new PutCommand({
      TableName: this.table, Item: { ...s, ...siteKey(s.project, s.site), kind: 'site', gsi1pk: siteList(s.project), gsi1sk: s.site },
    })).catch((e) => mapDynamoError(e, `recording site ${s.site}`));
  }

  async list(project: string, page: PageRequest): Promise<Page<SiteStatusRecord>> {
    const f = queryFingerprint(['sites', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': siteList(project) },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing sites'));
    const found = pageFrom<Record<string, unknown>>(out, f);
    return { items: found.items.map(siteFrom).filter((s): s is SiteStatusRecord => !!s), ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
  }
}
