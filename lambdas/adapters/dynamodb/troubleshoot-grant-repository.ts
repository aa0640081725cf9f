import { DeleteCommand, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { z } from 'zod';
import type { TroubleshootGrant } from '../../domain/troubleshoot-grant.js';
import type { Page, PageRequest } from '../../ports/index.js';
import type { TroubleshootGrantRepository } from '../../ports/tunnels.js';
import type { DocClient } from './client.js';
import { decodeCursor, encodeCursor, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';

/** Grants of a project in one partition (`TSGRANT#<project>`), one item per subject. */
const key = (project: string, subject: string) => ({ pk: `TSGRANT#${project}`, sk: `SUBJ#${subject}` });

const stored = z.object({
  id: z.string(), project: z.string(), subject: z.string(), createdAt: z.string(), createdBy: z.string(), expiresAt: z.string().optional(),
});
const grantFrom = (item: Record<string, unknown> | undefined): TroubleshootGrant | undefined => {
  const parsed = stored.safeParse(item);
  if (!parsed.success) return undefined;
  const { expiresAt, ...rest } = parsed.data;
  return { ...rest, ...(expiresAt ? { expiresAt } : {}) };
};

export class DynamoTroubleshootGrantRepository implements TroubleshootGrantRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(g: TroubleshootGrant): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table, ConditionExpression: 'attribute_not_exists(pk)',
        Item: {
          ...g, ...key(g.project, g.subject), kind: 'troubleshoot-grant',
          // Removed by TTL a day after it lapsed (every read checks expiry itself: TTL is late).
          ...(g.expiresAt ? { expiresAtEpoch: Math.floor(Date.parse(g.expiresAt) / 1000) + 86_400 } : {}),
        },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, 'recording a troubleshoot grant');
    }
  }

  async get(project: string, subject: string): Promise<TroubleshootGrant | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key(project, subject), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, 'reading a troubleshoot grant'));
    return grantFrom(out.Item);
  }

  async list(project: string, page: PageRequest): Promise<Page<TroubleshootGrant>> {
    const f = queryFingerprint(['troubleshoot-grants', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `TSGRANT#${project}` },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing troubleshoot grants'));
    return {
      items: (out.Items ?? []).map(grantFrom).filter((g): g is TroubleshootGrant => !!g),
      ...(out.LastEvaluatedKey ? { nextCursor: encodeCursor(f, out.LastEvaluatedKey) } : {}),
    };
  }

  async delete(project: string, subject: string): Promise<boolean> {
    try {
      await this.db.send(new DeleteCommand({ TableName: this.table, Key: key(project, subject), ConditionExpression: 'attribute_exists(pk)' }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, 'removing a troubleshoot grant');
    }
  }
}
