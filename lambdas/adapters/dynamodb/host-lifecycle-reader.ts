import { GetCommand } from '@aws-sdk/lib-dynamodb';
import type { HostLifecycleReader } from '../../domain/device-admission.js';
import type { HostStatus } from '../../domain/host-lifecycle.js';
import type { DocClient } from './client.js';
import { mapDynamoError } from './errors.js';
import { keys } from './keys.js';

const STATUSES: readonly HostStatus[] = ['pre-registered', 'pending', 'approved', 'rejected', 'in-cluster', 'decommissioned'];
const isHostStatus = (s: unknown): s is HostStatus => STATUSES.some((known) => known === s);

/**
 * One strongly consistent GetItem of the host item's `status` per device message (a host
 * decommissioned a moment ago must not get one more message through).
 */
export class DynamoHostLifecycleReader implements HostLifecycleReader {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async lifecycle(hostId: string): Promise<{ status: HostStatus; clusterId?: string } | undefined> {
    const out = await this.db.send(new GetCommand({
      TableName: this.table, Key: keys.host(hostId), ConsistentRead: true,
      ProjectionExpression: '#status, clusterId', ExpressionAttributeNames: { '#status': 'status' },
    })).catch((e) => mapDynamoError(e, `reading the status of host ${hostId}`));
    const status = out.Item?.status;
    if (out.Item === undefined) return undefined;
    const clusterId = typeof out.Item.clusterId === 'string' ? { clusterId: out.Item.clusterId } : {};
    // A host item without a known status is treated like a retired one (nothing gets through).
    return isHostStatus(status) ? { status, ...clusterId } : { status: 'decommissioned' };
  }
}
