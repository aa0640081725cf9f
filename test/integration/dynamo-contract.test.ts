/**
 * The repository contract (test/support/repository-contract.ts) against the DynamoDB adapters
 * on DynamoDB Local with the synthesized state table: the same assertions the in-memory
 * adapters pass in the unit tests.
 */
import { DynamoClusterRepository, DynamoOperationRepository } from '../../lambdas/adapters/dynamodb/cluster-repository.js';
import { DynamoPresenceWriter } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import { DynamoHostRepository } from '../../lambdas/adapters/dynamodb/host-repository.js';
import { tablesFromTemplate } from '../../lib/template-tables.js';
import { ensureTables, startDynamoLocal, type DynamoLocal } from '../../local/dynamodb-local.js';
import { CHECKOUT_TEMPLATE_CACHE, cachedTemplate } from '../../local/template-cache.js';
import { repositoryContract, type ContractRepos } from '../support/repository-contract.js';

let db: DynamoLocal;
let repos: ContractRepos;

beforeAll(async () => {
  const starting = startDynamoLocal(undefined);
  const tables = tablesFromTemplate(cachedTemplate(CHECKOUT_TEMPLATE_CACHE));
  db = await starting;
  await ensureTables(db.client, [tables.state]);
  const table = tables.state.TableName!;
  repos = {
    hosts: new DynamoHostRepository(db.client, table),
    operations: new DynamoOperationRepository(db.client, table),
    clusters: new DynamoClusterRepository(db.client, table),
    presence: new DynamoPresenceWriter(db.client, table),
  };
});
afterAll(async () => { await db?.stop(); });

let n = 0;
repositoryContract(() => repos, () => `ddb${Date.now().toString(36)}${++n}`);
