import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UNFINISHED, type CommandRecord } from '../../domain/command.js';
import type { StoredStatus } from '../../domain/device-status.js';
import type { PresenceState } from '../../domain/presence.js';
import type { CommandStore, PresenceWriter, StatusStore } from '../../ports/device-plane.js';
import { toRecord, type DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { keys } from './keys.js';

/** Items under the host's partition (pk HOST#<id>): sk STATUS, and sk CMD#<commandId>. */
export const deviceKeys = {
  status: (hostId: string) => ({ pk: keys.host(hostId).pk, sk: 'STATUS' }),
  command: (hostId: string, commandId: string) => ({ pk: keys.host(hostId).pk, sk: `CMD#${commandId}` }),
};

/** Presence item (sk PRESENCE, read by the host repository as `presence`), guarded by `at`. */
export class DynamoPresenceWriter implements PresenceWriter {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async apply(hostId: string, state: PresenceState): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand({
        TableName: this.table,
        Key: keys.hostPresence(hostId),
        UpdateExpression: 'SET presence = :p, #at = :at, kind = :k, updatedAt = :u' + (state.sessionIdentifier ? ', sessionIdentifier = :s' : ' REMOVE sessionIdentifier'),
        ConditionExpression: 'attribute_not_exists(#at) OR #at < :at',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: {
          ':p': state.presence, ':at': state.at, ':k': 'presence', ':u': new Date(state.at).toISOString(),
          ...(state.sessionIdentifier ? { ':s': state.sessionIdentifier } : {}),
        },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `recording the presence of host ${hostId}`);
    }
  }
}

export class DynamoStatusStore implements StatusStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async get(hostId: string): Promise<StoredStatus | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: deviceKeys.status(hostId), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading the status of host ${hostId}`));
    return out.Item ? toRecord<StoredStatus>(out.Item) : undefined;
  }

  async put(hostId: string, status: StoredStatus): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...status, ...deviceKeys.status(hostId), kind: 'status' },
        ConditionExpression: 'attribute_not_exists(#at) OR #at < :at OR (#at = :at AND seq < :seq)',
        ExpressionAttributeNames: { '#at': 'at' },
        ExpressionAttributeValues: { ':at': status.at, ':seq': status.seq },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `storing the status of host ${hostId}`);
    }
  }
}

export class DynamoCommandStore implements CommandStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(command: CommandRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...command, ...deviceKeys.command(command.hostId, command.commandId), kind: 'command' },
        ConditionExpression: 'attribute_not_exists(pk)',
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `storing command ${command.commandId}`);
    }
  }

  async get(hostId: string, commandId: string): Promise<CommandRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: deviceKeys.command(hostId, commandId), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading command ${commandId}`));
    return out.Item ? toRecord<CommandRecord>(out.Item) : undefined;
  }

  async update(next: CommandRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: { ...next, ...deviceKeys.command(next.hostId, next.commandId), kind: 'command' },
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': next.version - 1 },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `updating command ${next.commandId}`);
    }
  }

  async listUnfinished(hostId: string): Promise<CommandRecord[]> {
    const states = Object.fromEntries(UNFINISHED.map((s, i) => [`:s${i}`, s]));
    const items: CommandRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :cmd)',
        FilterExpression: `#state IN (${Object.keys(states).join(', ')})`,
        ExpressionAttributeNames: { '#state': 'state' },
        ExpressionAttributeValues: { ':pk': keys.host(hostId).pk, ':cmd': 'CMD#', ...states },
        ConsistentRead: true,
        ExclusiveStartKey: start,
      })).catch((e) => mapDynamoError(e, `listing the commands of host ${hostId}`));
      items.push(...(out.Items ?? []).map((i) => toRecord<CommandRecord>(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }
}
