/**
 * The repository contract (test/support/repository-contract.ts) against the DynamoDB adapters
 * on DynamoDB Local with the synthesized state table: the same assertions the in-memory
 * adapters pass in the unit tests; the rollout store contract (test/support/rollout-store-contract.ts) and the
 * registration turns contract (test/support/registration-turns-contract.ts).
 */
import { DynamoClusterRepository, DynamoOperationRepository } from '../../lambdas/adapters/dynamodb/cluster-repository.js';
import { DynamoPresenceWriter } from '../../lambdas/adapters/dynamodb/device-plane-stores.js';
import { DynamoHostRepository } from '../../lambdas/adapters/dynamodb/host-repository.js';
import { DynamoRolloutStore } from '../../lambdas/adapters/dynamodb/rollout-store.js';
import { DynamoRegistrationTurns } from '../../lambdas/adapters/dynamodb/registration-turns.js';
import type { RegistrationTurns } from '../../lambdas/ports/device-registry.js';
import type { RolloutStore } from '../../lambdas/ports/rollouts.js';
import type { DynamoLocal } from '../../local/dynamodb-local.js';
import { repositoryContract, type ContractRepos } from '../support/repository-contract.js';
import { rolloutStoreContract } from '../support/rollout-store-contract.js';
import { registrationTurnsContract } from '../support/registration-turns-contract.js';
import { startStateTable } from './state-table.js';

let db: DynamoLocal;
let repos: ContractRepos;
let rollouts: RolloutStore;
let turns: RegistrationTurns;

beforeAll(async () => {
  const started = await startStateTable();
  db = started.db;
  const table = started.table;
  repos = {
    hosts: new DynamoHostRepository(db.client, table),
    operations: new DynamoOperationRepository(db.client, table),
    clusters: new DynamoClusterRepository(db.client, table),
    presence: new DynamoPresenceWriter(db.client, table),
  };
  rollouts = new DynamoRolloutStore(db.client, table);
  turns = new DynamoRegistrationTurns(db.client, table);
});
afterAll(async () => { await db?.stop(); });

let n = 0;
repositoryContract(() => repos, () => `ddb${Date.now().toString(36)}${++n}`);
rolloutStoreContract(() => rollouts, () => `ddb-ro${Date.now().toString(36)}${++n}`);
registrationTurnsContract(() => turns, () => `ddb-turn${Date.now().toString(36)}${++n}`);
