import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { STATE_TABLE } from '../../contracts/tables.js';
import type { TokenRecord } from '../../domain/model.js';
import type { Page, PageRequest, TokenRepository } from '../../ports/index.js';
import { toRecord, type DocClient } from './client.js';
import { decodeCursor, pageFrom, queryFingerprint } from './cursor.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';
import { ConflictError } from '../../domain/errors.js';

export class DynamoTokenRepository implements TokenRepository {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(token: TokenRecord): Promise<void> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: {
          ...token, ...keys.token(token.id), kind: 'token',
          gsi1pk: keys.tokenList(token.project), gsi1sk: `${token.createdAt}#${token.id}`,
          // DynamoDB deletes expired tokens a while after expiry; usability() still checks on read.
          expiresAtEpoch: Math.floor(Date.parse(token.expiresAt) / 1000) + 30 * 86_400,
        },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
    } catch (e) {
      if (isConditionFailure(e)) throw new ConflictError('token-exists', `registration token ${token.id} already exists`, { cause: e });
      mapDynamoError(e, 'creating a registration token');
    }
  }

  async get(id: string): Promise<TokenRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.token(id), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, 'reading a registration token'));
    return out.Item ? toRecord<TokenRecord>(out.Item) : undefined;
  }

  async list(project: string, page: PageRequest): Promise<Page<TokenRecord>> {
    const f = queryFingerprint(['tokens', project]);
    const out = await this.db.send(new QueryCommand({
      TableName: this.table,
      IndexName: STATE_TABLE.byProject.name,
      KeyConditionExpression: 'gsi1pk = :pk',
      ExpressionAttributeValues: { ':pk': keys.tokenList(project) },
      ScanIndexForward: false,
      Limit: page.limit,
      ExclusiveStartKey: decodeCursor(page.cursor, f),
    })).catch((e) => mapDynamoError(e, 'listing registration tokens'));
    return pageFrom<TokenRecord>(out, f);
  }

  async revoke(id: string): Promise<TokenRecord | undefined> {
    try {
      const out = await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.token(id),
        UpdateExpression: 'SET revoked = :t',
        ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeValues: { ':t': true },
        ReturnValues: 'ALL_NEW',
      }));
      return out.Attributes ? toRecord<TokenRecord>(out.Attributes) : undefined;
    } catch (e) {
      if (isConditionFailure(e)) return undefined;
      mapDynamoError(e, 'revoking a registration token');
    }
  }
}
