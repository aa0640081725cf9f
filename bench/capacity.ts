import type { DocClient } from '../lambdas/adapters/dynamodb/client.js';

export interface Capacity {
  read: number;
  write: number;
  /** Calls that wrote (Put, Update, Delete, batch/transact writes). */
  writeCalls: number;
  /**
   * Write units by `<command> <item kind>` (the key prefixes, `pk/sk`, e.g. `UpdateItem OP/HOST`),
   * the part paid for the indexes as `<kind> +gsi`, to see where they go.
   */
  writesByKind: Record<string, number>;
  /** Write calls by the same kinds (without the `+gsi` split). */
  writeCallsByKind: Record<string, number>;
}

const prefix = (k: unknown) => (typeof k === 'string' ? /^[A-Za-z_-]*/.exec(k)![0] : '');

/**
 * What a DynamoDB call is about, by the key prefixes it names (`pk/sk`, e.g. `UpdateItem OP/HOST`);
 * a Query by its index and the prefix of its first key value (`Query gsi1 HOSTSITE`), a batch by
 * the prefixes of its first key.
 */
export function kindOf(commandName: string, input: Record<string, unknown>): string {
  const command = commandName.replace(/Command$/, '');
  if (command === 'Query') {
    const values = Object.values((input.ExpressionAttributeValues ?? {}) as Record<string, unknown>);
    return `Query ${typeof input.IndexName === 'string' ? input.IndexName : 'table'} ${prefix(values[0]) || '?'}`;
  }
  if (command === 'BatchGetItem') {
    const first = Object.values((input.RequestItems ?? {}) as Record<string, { Keys?: { pk?: unknown; sk?: unknown }[] }>)[0]?.Keys?.[0];
    return `BatchGetItem ${first ? `${prefix(first.pk)}/${prefix(first.sk)}` : 'multi'}`;
  }
  const item = (input.Item ?? input.Key) as { pk?: unknown; sk?: unknown } | undefined;
  const key = typeof item?.pk === 'string' ? `${prefix(item.pk)}/${prefix(item.sk)}` : 'multi';
  return `${command} ${key}`;
}

/**
 * Counts the DynamoDB capacity units every call of `client` consumes (ReturnConsumedCapacity
 * TOTAL on each call): what the same traffic would be billed on-demand on AWS. Calls made while
 * `ignore()` is true are not counted.
 */
export function trackCapacity(client: DocClient, name = 'benchCapacity', ignore?: () => boolean): Capacity {
  const capacity: Capacity = { read: 0, write: 0, writeCalls: 0, writesByKind: {}, writeCallsByKind: {} };
  client.middlewareStack.add((next, context) => async (args) => {
    // The benchmark's own observation reads (`ignore()` true in their async context) are not the control plane's cost.
    if (ignore?.()) return next(args);
    const writes = /Put|Update|Delete|Write/.test(context.commandName ?? '');
    if (writes) {
      capacity.writeCalls++;
      const kind = kindOf(context.commandName ?? '', args.input as Record<string, unknown>);
      capacity.writeCallsByKind[kind] = (capacity.writeCallsByKind[kind] ?? 0) + 1;
    }
    (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'INDEXES';
    const out = await next(args);
    const cc = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
    type Units = { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number; GlobalSecondaryIndexes?: Record<string, { CapacityUnits?: number }> };
    for (const c of (Array.isArray(cc) ? cc : cc ? [cc] : []) as Units[]) {
      const units = c.CapacityUnits ?? 0;
      if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
        capacity.read += c.ReadCapacityUnits ?? 0;
        capacity.write += c.WriteCapacityUnits ?? 0;
      } else if (writes) {
        capacity.write += units;
        const kind = kindOf(context.commandName ?? '', args.input as Record<string, unknown>);
        const indexUnits = Object.values(c.GlobalSecondaryIndexes ?? {}).reduce((n, i) => n + (i.CapacityUnits ?? 0), 0);
        capacity.writesByKind[kind] = (capacity.writesByKind[kind] ?? 0) + units - indexUnits;
        if (indexUnits > 0) capacity.writesByKind[`${kind} +gsi`] = (capacity.writesByKind[`${kind} +gsi`] ?? 0) + indexUnits;
      } else {
        capacity.read += units;
      }
    }
    return out;
  }, { step: 'initialize', name });
  return capacity;
}
