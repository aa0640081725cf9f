import { PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { HostRecord } from '../../domain/model.js';
import type { RegistrationStore, RegistrationWriteResult } from '../../ports/device-registry.js';
import type { DocClient } from './client.js';
import { mapDynamoError } from './errors.js';
import { hostItem } from './host-repository.js';
import { keys } from './keys.js';

interface CancellationReason { readonly Code?: string }

/**
 * A limited token: its use and the host write in one TransactWriteItems (two devices racing for
 * the last use, one wins). An unlimited token stays out of the host write: every transaction
 * naming one item conflicts with every other one in flight on it (TransactionConflict), which
 * serialized a whole shop-opening storm on the token; its `uses` is counted with ADD afterwards.
 */
export class DynamoRegistrationStore implements RegistrationStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async putHost(host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult> {
    try {
      await this.db.send(new PutCommand({ TableName: this.table, Item: hostItem(clean(host)), ...hostCondition(expectedVersion) }));
      return { ok: true };
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return { ok: false, reason: 'host' };
      return mapDynamoError(e, `registering host ${host.id}`);
    }
  }

  async countUse(tokenId: string): Promise<void> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table, Key: keys.token(tokenId), UpdateExpression: 'ADD #uses :one', ConditionExpression: 'attribute_exists(pk)',
        ExpressionAttributeNames: { '#uses': 'uses' }, ExpressionAttributeValues: { ':one': 1 },
      }));
    } catch (e) {
      if ((e as { name?: string }).name === 'ConditionalCheckFailedException') return; // deleted meanwhile: nothing to count
      mapDynamoError(e, `counting a use of registration token ${tokenId}`);
    }
  }

  async consumeTokenAndPutHost(tokenId: string, now: string, host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult> {
    try {
      await this.db.send(new TransactWriteCommand({
        TransactItems: [
          {
            Update: {
              TableName: this.table,
              Key: keys.token(tokenId),
              UpdateExpression: 'SET #uses = #uses + :one',
              ConditionExpression: 'attribute_exists(pk) AND #revoked = :false AND #expiresAt > :now AND (attribute_not_exists(#maxUses) OR #uses < #maxUses)',
              ExpressionAttributeNames: { '#uses': 'uses', '#revoked': 'revoked', '#expiresAt': 'expiresAt', '#maxUses': 'maxUses' },
              ExpressionAttributeValues: { ':one': 1, ':false': false, ':now': now },
            },
          },
          {
            Put: { TableName: this.table, Item: hostItem(clean(host)), ...hostCondition(expectedVersion) },
          },
        ],
      }));
      return { ok: true };
    } catch (e) {
      if ((e as { name?: string }).name !== 'TransactionCanceledException') mapDynamoError(e, `registering host ${host.id}`);
      const reasons = (e as { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
      if (reasons[0]?.Code === 'ConditionalCheckFailed') return { ok: false, reason: 'token' };
      // A host condition failure or a transaction conflict with a racing registration.
      return { ok: false, reason: 'host' };
    }
  }
}

const clean = (host: HostRecord): HostRecord => Object.fromEntries(Object.entries(host).filter(([, v]) => v !== undefined)) as unknown as HostRecord;

/** Absent when `expectedVersion` is undefined (a new host), else at that version. */
const hostCondition = (expectedVersion: number | undefined) => (expectedVersion === undefined
  ? { ConditionExpression: 'attribute_not_exists(pk)' }
  : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } });
