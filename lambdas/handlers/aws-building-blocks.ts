/**
 * Small pieces of the composition root (./composition-root.ts): ids, the Step Functions engine
 * and the Secrets Manager store from the configuration (or stand-ins that fail loudly when the
 * function has no configuration for them), and a publisher for runtimes without one.
 *
 * Nothing here creates a client at import time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { WORKFLOW_ENV } from '../contracts/workflows.js';
import { SecretsManagerSecretStore } from '../adapters/secrets/secrets-manager-store.js';
import { SfnWorkflowEngine } from '../adapters/sfn/workflow-engine.js';
import { UnavailableError } from '../domain/errors.js';
import type { IdGenerator } from '../ports/index.js';
import type { CommandPublisher } from '../ports/device-plane.js';
import type { SecretStore, WorkflowEngine } from '../ports/workflow.js';
import type { EdgeFleetConfig } from './config.js';

export const cryptoIds: IdGenerator = {
  newId: () => randomUUID().replace(/-/g, '').slice(0, 16),
  secret: (bytes) => randomBytes(bytes).toString('base64url'),
};

/** A port method of a function that lacks the configuration for it: fails with UnavailableError. */
export const notWired = (what: string) => async (): Promise<never> => {
  throw new UnavailableError('workflows-not-configured', `this function cannot ${what}: it has no state machine configuration (${WORKFLOW_ENV.stateMachines})`);
};

/** For functions without the state machines: starting fails (the operation stays queued for the sweep). */
export const unwiredEngine: WorkflowEngine = {
  start: notWired('start workflows'), sendTaskSuccess: notWired('complete workflow tasks'),
  sendTaskFailure: notWired('complete workflow tasks'), stop: notWired('stop workflows'),
};

export const unwiredSecrets: SecretStore = { ensure: notWired('create secrets'), get: notWired('read secrets'), put: notWired('write secrets'), delete: notWired('delete secrets') };

/** For runtimes without a way to publish: fails loudly; commands stay stored (queued). */
export const unavailablePublisher: CommandPublisher = {
  publish: async (hostId) => {
    throw new UnavailableError('command-publisher-unavailable', `cannot publish a command to ${hostId}: no IoT data-plane publisher is configured in this runtime`);
  },
};

export function awsWorkflowEngine(config: Pick<EdgeFleetConfig, 'stateMachineArns'>): WorkflowEngine {
  return config.stateMachineArns ? new SfnWorkflowEngine(new SFNClient({ maxAttempts: 5 }), config.stateMachineArns) : unwiredEngine;
}

export function awsSecretStore(config: Pick<EdgeFleetConfig, 'secretPrefix'>): SecretStore {
  return config.secretPrefix ? new SecretsManagerSecretStore(new SecretsManagerClient({ maxAttempts: 5 }), config.secretPrefix) : unwiredSecrets;
}
