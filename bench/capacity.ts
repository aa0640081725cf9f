import type { DocClient } from '../lambdas/adapters/dynamodb/client.js';

export interface Capacity {
  read: number;
  write: number;
  /** Calls that wrote (Put, Update, Delete, batch/transact writes). */
  writeCalls: number;
  /** Write units by `<command> <item kind>` (the partition key's prefix), to see where they go. */
  writesByKind: Record<string, number>;
}

function kindOf(commandName: string, input: Record<string, unknown>): string {
  const item = (input.Item ?? input.Key) as { pk?: unknown } | undefined;
  const pk = typeof item?.pk === 'string' ? item.pk.split('#')[0] : 'multi';
  return `${commandName.replace(/Command$/, '')} ${pk}`;
}

/**
 * Counts the DynamoDB capacity units every call of `client` consumes (ReturnConsumedCapacity
 * TOTAL on each call): what the same traffic would be billed on-demand on AWS.
 */
export function trackCapacity(client: DocClient, name = 'benchCapacity'): Capacity {
  const capacity: Capacity = { read: 0, write: 0, writeCalls: 0, writesByKind: {} };
  client.middlewareStack.add((next, context) => async (args) => {
    const writes = /Put|Update|Delete|Write/.test(context.commandName ?? '');
    if (writes) capacity.writeCalls++;
    (args.input as Record<string, unknown>).ReturnConsumedCapacity = 'TOTAL';
    const out = await next(args);
    const cc = (out.output as { ConsumedCapacity?: unknown }).ConsumedCapacity;
    for (const c of (Array.isArray(cc) ? cc : cc ? [cc] : []) as { CapacityUnits?: number; ReadCapacityUnits?: number; WriteCapacityUnits?: number }[]) {
      const units = c.CapacityUnits ?? 0;
      if (c.ReadCapacityUnits !== undefined || c.WriteCapacityUnits !== undefined) {
        capacity.read += c.ReadCapacityUnits ?? 0;
        capacity.write += c.WriteCapacityUnits ?? 0;
      } else if (writes) {
        capacity.write += units;
        const kind = kindOf(context.commandName ?? '', args.input as Record<string, unknown>);
        capacity.writesByKind[kind] = (capacity.writesByKind[kind] ?? 0) + units;
      } else {
        capacity.read += units;
      }
    }
    return out;
  }, { step: 'initialize', name });
  return capacity;
}
