import { createHash } from 'node:crypto';
import { brotliCompressSync, brotliDecompressSync, constants as zlib, gunzipSync, gzipSync } from 'node:zlib';
import { z } from 'zod';
import { GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { UNFINISHED, type CommandRecord } from '../../domain/command.js';
import type { StoredStatus } from '../../domain/device-status.js';
import type { PresenceState } from '../../domain/presence.js';
import { UnavailableError } from '../../domain/errors.js';
import type { CommandStore, PresenceWriter, StatusStore } from '../../ports/device-plane.js';
import { toRecord, type DocClient } from './client.js';
import { isConditionFailure, mapDynamoError } from './errors.js';
import { hostShard, keys } from './keys.js';
import { statusFromItem, statusItem, statusKey } from './status-item.js';
import { HOST_LIST_SHARDS, STATE_TABLE } from '../../contracts/tables.js';

/**
 * Items under the host's partition (pk HOST#<id>): sk STATUS, sk CMD#<commandId>, and a large
 * command's parameters, sk CMDP#<paramsRef> (outside the `CMD#` prefix the command queries read).
 */
export const deviceKeys = {
  status: statusKey,
  command: (hostId: string, commandId: string) => ({ pk: keys.host(hostId).pk, sk: `CMD#${commandId}` }),
  commandParams: (hostId: string, paramsRef: string) => ({ pk: keys.host(hostId).pk, sk: `CMDP#${paramsRef}` }),
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
    return statusFromItem(out.Item);
  }

  async put(hostId: string, status: StoredStatus): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: statusItem(hostId, status),
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

/**
 * Unfinished commands are also indexed by deadline (the KEYS_ONLY open-by-deadline index,
 * spread over HOST_LIST_SHARDS partitions) so a sweep can time out commands whose host never
 * comes back. A finished command drops out of the index: the item is rewritten without those
 * attributes. Keys only: the writes between (sent, accepted, progress) do not touch the index.
 */
export function commandItem(c: CommandRecord): Record<string, unknown> {
  const open = (UNFINISHED as readonly string[]).includes(c.state);
  const { params, ...rest } = c;
  const json = JSON.stringify(params);
  // Parameters stored apart stay there (a record read back carries `params: {}` and the reference).
  const inline = c.paramsRef ? {} : Buffer.byteLength(json, 'utf8') > COMPRESS_PARAMS_BYTES ? { paramsGz: gzipSync(json) } : { params };
  return {
    ...rest, ...deviceKeys.command(c.hostId, c.commandId), kind: 'command', ...inline,
    ...(open ? { gsi4pk: openCommandsPartition(hostShard(c.hostId)), gsi4sk: `${c.deadline}#${c.hostId}#${c.commandId}` } : {}),
  };
}

const openCommandsPartition = (shard: number) => `CMDOPEN#${shard}`;

/**
 * Indexes that list open commands, newest layout first. Before the KEYS_ONLY index existed,
 * open commands were in gsi2 (projection ALL) under the same keys: those are still swept (an
 * item leaves gsi2 at its next write, which no longer carries the gsi2 keys), so an upgrade
 * leaves no command behind. gsi2 can be dropped from this list one command deadline after the
 * upgrade (commands written before it have ended or timed out by then).
 */
const OPEN_COMMAND_INDEXES = [STATE_TABLE.openByDeadline, STATE_TABLE.bySecondary] as const;

/**
 * Parameters above this size (a rendered node cloud-config is ~4 KB) are stored gzipped: a
 * command is written about five times in its life and billed by item size, twice while it is
 * in the deadline index.
 */
export const COMPRESS_PARAMS_BYTES = 1024;

/**
 * A new command's parameters above COMPRESS_PARAMS_BYTES are written once, brotli-compressed,
 * in their own item, and the command item keeps only a reference (`paramsRef`): the command is
 * written four or five times (stored sent, accepted, progress…, finished) and every write is
 * billed by its size, so each write of a cloud-config command costs one unit instead of two.
 * The reference names the command and the content (sha256), so re-writing it on a retry is
 * idempotent and never changes another command's parameters. Only publishing reads them. The
 * item expires (TTL) PARAMS_KEEP_SECONDS after the command's deadline: by then the command has
 * ended (a command past its deadline is timed out before it is ever sent again).
 */
export const PARAMS_KEEP_SECONDS = 7 * 86_400;

export function paramsItem(c: CommandRecord): { ref: string; item: Record<string, unknown> } | undefined {
  const json = JSON.stringify(c.params);
  if (c.paramsRef || Buffer.byteLength(json, 'utf8') <= COMPRESS_PARAMS_BYTES) return undefined;
  const ref = `${c.commandId}#${createHash('sha256').update(json).digest('base64url').slice(0, 16)}`;
  const br = brotliCompressSync(json, { params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: json.length } });
  return { ref, item: { ...deviceKeys.commandParams(c.hostId, ref), br, expiresAtEpoch: Math.floor(Date.parse(c.deadline) / 1000) + PARAMS_KEEP_SECONDS } };
}

const storedParams = z.record(z.string(), z.union([z.string(), z.number(), z.boolean()]));

/** The parameters of a params item (`br`, brotli JSON), checked against the command params' shape. */
export function paramsFromItem(item: Record<string, unknown>, what: string): CommandRecord['params'] {
  const br = item.br;
  if (!(br instanceof Uint8Array)) throw new UnavailableError('command-params-unreadable', `the stored parameters of ${what} have no readable content; the command cannot be sent: issue the step again`);
  const parsed = storedParams.safeParse(JSON.parse(brotliDecompressSync(br).toString('utf8')));
  if (!parsed.success) throw new UnavailableError('command-params-unreadable', `the stored parameters of ${what} are not a parameter map; the command cannot be sent: issue the step again`);
  return parsed.data;
}

export function commandFromItem(item: Record<string, unknown>): CommandRecord {
  const { paramsGz, ...rest } = toRecord<Record<string, unknown>>(item);
  // Stored apart: the record carries the reference and empty params (withParams reads them).
  if (typeof rest.paramsRef === 'string') return { ...rest, params: {} } as unknown as CommandRecord;
  if (!(paramsGz instanceof Uint8Array)) return rest as unknown as CommandRecord;
  return { ...rest, params: JSON.parse(gunzipSync(paramsGz).toString('utf8')) as CommandRecord['params'] } as unknown as CommandRecord;
}

export class DynamoCommandStore implements CommandStore {
  constructor(private readonly db: DocClient, private readonly table: string) {}

  async create(command: CommandRecord): Promise<boolean> {
    const apart = paramsItem(command);
    // The parameters first: a command item never names parameters that are not stored.
    if (apart) {
      await this.db.send(new PutCommand({ TableName: this.table, Item: apart.item }))
        .catch((e) => mapDynamoError(e, `storing the parameters of command ${command.commandId} for host ${command.hostId}`));
    }
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: commandItem(apart ? { ...command, params: {}, paramsRef: apart.ref } : command),
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
    return out.Item ? commandFromItem(out.Item) : undefined;
  }

  async withParams(c: CommandRecord): Promise<CommandRecord> {
    if (!c.paramsRef) return c;
    const what = `command ${c.commandId} (${c.type}) for host ${c.hostId}`;
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: deviceKeys.commandParams(c.hostId, c.paramsRef), ConsistentRead: true }))
      .catch((e) => mapDynamoError(e, `reading the parameters of ${what}`));
    if (!out.Item) {
      throw new UnavailableError('command-params-missing', `the parameters of ${what} (item ${deviceKeys.commandParams(c.hostId, c.paramsRef).sk}) are gone; it cannot be sent. They are kept ${PARAMS_KEEP_SECONDS / 86_400} days past its deadline ${c.deadline}: a command that old times out instead; if it is not past its deadline, issue the step again`);
    }
    return { ...c, params: paramsFromItem(out.Item, what) };
  }

  async update(next: CommandRecord): Promise<boolean> {
    try {
      await this.db.send(new PutCommand({
        TableName: this.table,
        Item: commandItem(next),
        ConditionExpression: 'version = :v',
        ExpressionAttributeValues: { ':v': next.version - 1 },
      }));
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      mapDynamoError(e, `updating command ${next.commandId}`);
    }
  }

  async listOverdue(now: Date, limit: number): Promise<CommandRecord[]> {
    const queries = OPEN_COMMAND_INDEXES.flatMap((index) => Array.from({ length: HOST_LIST_SHARDS }, (_, shard) => this.db.send(new QueryCommand({
      TableName: this.table,
      IndexName: index.name,
      KeyConditionExpression: `${index.partitionKey} = :pk AND ${index.sortKey} < :now`,
      ExpressionAttributeValues: { ':pk': openCommandsPartition(shard), ':now': now.toISOString() },
      ProjectionExpression: 'pk, sk',
      Limit: limit,
    })).catch((e) => mapDynamoError(e, 'listing overdue commands'))));
    const found = new Map<string, { pk: string; sk: string }>();
    for (const out of await Promise.all(queries)) {
      for (const i of out.Items ?? []) {
        if (typeof i.pk === 'string' && typeof i.sk === 'string') found.set(`${i.pk}\0${i.sk}`, { pk: i.pk, sk: i.sk });
      }
    }
    // The index holds keys only (and may lag the table): read each command itself, consistently.
    const commands = await Promise.all([...found.values()].map(async (key) => {
      const out = await this.db.send(new GetCommand({ TableName: this.table, Key: key, ConsistentRead: true }))
        .catch((e) => mapDynamoError(e, `reading overdue command ${key.sk} of ${key.pk}`));
      return out.Item ? commandFromItem(out.Item) : undefined;
    }));
    return commands.filter((c): c is CommandRecord => c !== undefined && (UNFINISHED as readonly string[]).includes(c.state));
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
      items.push(...(out.Items ?? []).map((i) => commandFromItem(i)));
      start = out.LastEvaluatedKey;
    } while (start);
    return items.sort((a, b) => (a.createdAt < b.createdAt ? -1 : a.createdAt > b.createdAt ? 1 : 0));
  }
}
