import { GetCommand, PutCommand, QueryCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contracts/tables.js';
import type { ProfileRecord, ProfileVersionRecord } from '../../domain/model.js';
import type { Page, PageRequest, ProfileRepository } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';

const isCancelled = (e: unknown) => (e as { name?: string })?.name === 'TransactionCanceledException';

export class DynamoProfileRepository implements ProfileRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(p: ProfileRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...p, ...keys.profile(p.project, p.name), kind: 'profile', gsi1pk: keys.profileList(p.project), gsi1sk: p.name },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `creating profile ${p.name}`);
    }
  }

  async get(project: string, name: string): Promise<ProfileRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.profile(project, name), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading profile ${name}`));
    return out.Item ? toRecord<ProfileRecord>(out.Item) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<ProfileRecord>> {
    const f = queryFingerprint(['profiles', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table, IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': keys.profileList(project) },
      Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing profiles'));
    return pageFrom<ProfileRecord>(out, f);
  }

  async createVersion(v: ProfileVersionRecord, opts: { setLatest: boolean }): Promise<boolean> {
    const put = {
      Put: {
        TableName: this.table,
        Item: { ...v, ...keys.profileVersion(v.project, v.name, v.version), kind: 'profile-version' },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    };
    try {
      await this.db.send(new TransactWriteCommand({ TransactItems: [put, this.touchProfile(v, opts.setLatest)] }));
      return true;
    } catch (e) {
      if (isCancelled(e) || isConditionFailure(e)) return false;
      mapDynamoError(e, `creating profile version ${v.name}@${v.version}`);
    }
  }

  /** Keeps the profile's version counter (and latestVersion on publish) in step with its versions. */
  private touchProfile(v: Pick<ProfileVersionRecord, 'project' | 'name' | 'version' | 'createdAt'>, published: boolean) {
    return {
      Update: {
        TableName: this.table,
        Key: keys.profile(v.project, v.name),
        UpdateExpression: published ? 'SET version = version + :one, updatedAt = :now, latestVersion = :v' : 'SET version = version + :one, updatedAt = :now',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':one': 1, ':now': v.createdAt, ...(published ? { ':v': v.version } : {}) },
      },
    };
  }

  async getVersion(project: string, name: string, version: string): Promise<ProfileVersionRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.profileVersion(project, name, version), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading profile version ${name}@${version}`));
    return out.Item ? toRecord<ProfileVersionRecord>(out.Item) : undefined;
  }

  async listVersions(project: string, name: string, page: PageRequest): Promise<Page<ProfileVersionRecord>> {
    const f = queryFingerprint(['profile-versions', project, name]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table,
      KeyConditionExpression: 'pk = :pk AND begins_with(sk, :v)',
      ExpressionAttributeValues: { ':pk': keys.profile(project, name).pk, ':v': 'V#' },
      ScanIndexForward: false, Limit: page.limit, ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing profile versions'));
    return pageFrom<ProfileVersionRecord>(out, f);
  }

  async publishVersion(project: string, name: string, version: string, now: string, opts: { setLatest: boolean }): Promise<ProfileVersionRecord | false> {
    try {
      await this.db.send(new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: keys.profileVersion(project, name, version),
              UpdateExpression: 'SET #status = :published, publishedAt = :now',
              ConditionExpression: 'attribute_exists(pk) AND #status = :draft',
              ExpressionAttributeNames: { '#status': 'status' },
              ExpressionAttributeValues: { ':published': 'published', ':draft': 'draft', ':now': now },
            },
          },
          this.touchProfile({ project, name, version, createdAt: now }, opts.setLatest),
        ],
      }));
    } catch (e) {
      if (isCancelled(e)) return false;
      mapDynamoError(e, `publishing profile version ${name}@${version}`);
    }
    return (await this.getVersion(project, name, version))!;
  }
}

