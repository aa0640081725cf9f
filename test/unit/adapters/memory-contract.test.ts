import { memoryAdapters } from '../../../lambdas/adapters/memory/index.js';
import { repositoryContract } from '../../support/repository-contract.js';
import { rolloutStoreContract } from '../../support/rollout-store-contract.js';
import { registrationTurnsContract } from '../../support/registration-turns-contract.js';
import { MemoryRegistrationTurns } from '../../../lambdas/adapters/memory/device-plane-stores.js';

/** The in-memory repositories keep the DynamoDB adapters' contract (the same assertions run on DynamoDB Local in test/integration). */
let n = 0;
repositoryContract(() => memoryAdapters(), () => `mem${++n}`);
rolloutStoreContract(() => memoryAdapters().rollouts, () => `mem-ro${++n}`);
const memoryTurns = new MemoryRegistrationTurns();
registrationTurnsContract(() => memoryTurns, () => `mem-turn${++n}`);
