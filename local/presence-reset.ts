import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import type { DocClient } from '../lambdas/adapters/dynamodb/client.js';
import { DynamoPresenceWriter } from '../lambdas/adapters/dynamodb/device-plane-stores.js';
import { nextPresence } from '../lambdas/domain/presence.js';

/**
 * At start, before the broker accepts connections, every host the last run left online is
 * marked offline as of `at` (the start time), through the same timestamp guard as lifecycle
 * events: a stale event from before the restart cannot bring a host back online, and its next
 * `connected` event (broker time, later than `at`) does. A run that was killed sent no
 * disconnect events, and its sessions are gone: nobody is connected until they reconnect.
 * Local runtime only (a scan of the state table); on AWS, IoT Core's lifecycle events are the truth.
 */
export async function resetPresence(db: DocClient, table: string, at: number): Promise<string[]> {
  const writer = new DynamoPresenceWriter(db, table);
  const reset: string[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(new ScanCommand({
      TableName: table, ExclusiveStartKey: start,
      FilterExpression: 'kind = :k AND presence = :online',
      ExpressionAttributeValues: { ':k': 'presence', ':online': 'online' },
      ProjectionExpression: 'pk, #at', ExpressionAttributeNames: { '#at': 'at' },
    }));
    for (const item of page.Items ?? []) {
      const pk = String(item.pk ?? '');
      if (!pk.startsWith('HOST#')) continue;
      const hostId = pk.slice('HOST#'.length);
      const storedAt = typeof item.at === 'number' ? item.at : 0;
      const next = nextPresence({ presence: 'online', at: storedAt }, { eventType: 'disconnected', at });
      if (next && await writer.apply(hostId, next)) reset.push(hostId);
    }
    start = page.LastEvaluatedKey;
  } while (start);
  return reset;
}
