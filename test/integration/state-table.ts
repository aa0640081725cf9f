/**
 * DynamoDB Local (in memory) with the state table created from the synthesized template: for
 * the store tests that need the table and not the whole local runtime (harness.ts starts that).
 * Stop `db` in afterAll.
 */
import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { tablesFromTemplate } from '../../lib/template-tables.js';
import { ensureTables, startDynamoLocal, type DynamoLocal } from '../../local/dynamodb-local.js';
import { CHECKOUT_TEMPLATE_CACHE, cachedTemplate } from '../../local/template-cache.js';

export interface StateTable {
  readonly db: DynamoLocal;
  /** The state table's name. */
  readonly table: string;
  /** Its CreateTable input from the template (for a test that creates a variant of it). */
  readonly definition: CreateTableCommandInput;
}

export async function startStateTable(): Promise<StateTable> {
  // Java starts while the template is read.
  const starting = startDynamoLocal(undefined);
  const definition = tablesFromTemplate(cachedTemplate(CHECKOUT_TEMPLATE_CACHE)).state;
  const db = await starting;
  try {
    await ensureTables(db.client, [definition]);
  } catch (e) {
    await db.stop(); // the caller never gets `db` to stop in its afterAll
    throw e;
  }
  return { db, table: definition.TableName!, definition };
}
