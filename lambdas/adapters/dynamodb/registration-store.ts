import { TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import type { HostRecord } from '../../domain/model.js';
import type { RegistrationStore, RegistrationWriteResult } from '../../ports/device-registry.js';
import type { DocClient } from './client.js';
import { mapDynamoError } from './errors.js';
import { hostItem } from './host-repository.js';
import { keys } from './keys.js';

interface CancellationReason { readonly Code?: string }

/** Token use and host write in one TransactWriteItems: two devices racing for the last use, one wins. */
export class DynamoRegistrationStore implements RegistrationStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async consumeTokenAndPutHost(tokenId: string, now: string, host: HostRecord, expectedVersion: number | undefined): Promise<RegistrationWriteResult> {
    const clean = Object.fromEntries(Object.entries(host).filter(([, v]) => v !== undefined)) as unknown as HostRecord;
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
            Put: {
              TableName: this.table,
              Item: hostItem(clean),
              ...(expectedVersion === undefined
                ? { ConditionExpression: 'attribute_not_exists(pk)' }
                : { ConditionExpression: '#version = :v', ExpressionAttributeNames: { '#version': 'version' }, ExpressionAttributeValues: { ':v': expectedVersion } }),
            },
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
