import { DeleteCommand, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { IdempotencyBegin, IdempotencyStore } from '../../ports/index.js';
import type { DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';

/** Responses are kept for a day; an abandoned in-progress reservation frees itself after a minute. */
const KEEP_SECONDS = 86_400;
const LOCK_SECONDS = 60;

export class DynamoIdempotencyStore implements IdempotencyStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async begin(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin> {
    const nowS = Math.floor(now.getTime() / 1000);
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...keys.idempotency(key), kind: 'idempotency', fingerprint, state: 'in-progress', lockedUntil: nowS + LOCK_SECONDS, expiresAtEpoch: nowS + KEEP_SECONDS },
        // Free, expired (TTL deletion lags), or an abandoned reservation.
        ConditionExpression: 'attribute_not_exists(pk) OR expiresAtEpoch < :now OR (#state = :progress AND lockedUntil < :now)',
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':now': nowS, ':progress': 'in-progress' },
      }));
      return { state: 'new' };
    } catch (e) {
      if (!isConditionFailure(e)) mapDynamoError(e, 'reserving an idempotency key');
    }
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: keys.idempotency(key), ConsistentRead: true }));
    const item = out.Item;
    if (!item) return this.begin(key, fingerprint, now);
    if (item.fingerprint !== fingerprint) return { state: 'mismatch' };
    if (item.state !== 'done') return { state: 'in-progress' };
    return { state: 'replay', status: item.status, body: item.body, headers: item.headers ?? {} };
  }

  async complete(key: string, response: { status: number; body: string; headers: Record<string, string> }, now: Date): Promise<void> {
    await this.db.send(new UpdateCommand({
      TableName: this.table,
      Key: keys.idempotency(key),
      UpdateExpression: 'SET #state = :done, #status = :status, body = :body, headers = :headers, expiresAtEpoch = :exp',
      ExpressionAttributeNames: { '#state': 'state', '#status': 'status' },
      ExpressionAttributeValues: { ':done': 'done', ':status': response.status, ':body': response.body, ':headers': response.headers, ':exp': Math.floor(now.getTime() / 1000) + KEEP_SECONDS },
    })).catch((e) => mapDynamoError(e, 'recording an idempotent response'));
  }

  async release(key: string): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: keys.idempotency(key) })).catch(() => undefined);
  }
}
