/**
 * The pieces the three wirings (HTTP ./wiring.ts, IoT ./iot/wiring.ts, workflow
 * ./workflow/wiring.ts) share: ids, the workflow configuration from the environment, the
 * Step Functions engine and the Secrets Manager store (or their unwired stand-ins), and the
 * device-plane ports. It imports none of the wiring files, so they never import each other.
 *
 * Nothing here creates a client at import time: each function that calls one of these gets
 * the client in its own bundle, and its calls stay listed in the aws-calls.ts of its folder.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { WORKFLOW_ENV, workflowKind, type WorkflowKind } from '../contracts/workflows.js';
import type { DocClient } from '../adapters/dynamodb/client.js';
import { DynamoCommandStore, DynamoPresenceWriter, DynamoStatusStore } from '../adapters/dynamodb/device-plane-stores.js';
import { DynamoHostLifecycleReader } from '../adapters/dynamodb/host-lifecycle-reader.js';
import { DynamoOperationRepository } from '../adapters/dynamodb/operation-repository.js';
import { SecretsManagerSecretStore } from '../adapters/secrets/secrets-manager-store.js';
import { SfnWorkflowEngine } from '../adapters/sfn/workflow-engine.js';
import { UnavailableError } from '../domain/errors.js';
import type { IdGenerator } from '../ports/index.js';
import type { CommandPublisher } from '../ports/device-plane.js';
import type { SecretStore, WorkflowEngine } from '../ports/workflow.js';
import type { DeviceDeps } from '../use-cases/device-deps.js';
import { DEFAULT_WORKFLOW_SETTINGS, type WorkflowSettings } from '../use-cases/workflows/deps.js';

export const cryptoIds: IdGenerator = {
  newId: () => randomUUID().replace(/-/g, '').slice(0, 16),
  secret: (bytes) => randomBytes(bytes).toString('base64url'),
};

export interface WorkflowConfig {
  readonly stateMachineArns?: Readonly<Record<WorkflowKind, string>>;
  readonly secretPrefix?: string;
  readonly settings: WorkflowSettings;
}

const arnMap = z.string().transform((s, ctx) => {
  try {
    return z.record(workflowKind, z.string().startsWith('arn:')).parse(JSON.parse(s));
  } catch {
    ctx.addIssue({ code: 'custom', message: 'must be a JSON object {kind: stateMachineArn} covering every workflow' });
    return z.NEVER;
  }
});

const envSchema = z.object({
  [WORKFLOW_ENV.stateMachines]: arnMap.optional(),
  [WORKFLOW_ENV.secretPrefix]: z.string().min(1).max(200).optional(),
  [WORKFLOW_ENV.hostTimeoutSeconds]: z.coerce.number().int().min(10).max(86_400).optional(),
});

/** Parsed once at cold start; an invalid value fails loudly. Absent values: workflows are not wired in this function. */
export function workflowConfigFromEnv(env: NodeJS.ProcessEnv = process.env): WorkflowConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    throw new Error(`EdgeFleet workflow configuration is invalid (${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}); check the function's environment`);
  }
  const e = parsed.data;
  const arns = e[WORKFLOW_ENV.stateMachines] as Record<WorkflowKind, string> | undefined;
  const prefix = e[WORKFLOW_ENV.secretPrefix] as string | undefined;
  const timeout = e[WORKFLOW_ENV.hostTimeoutSeconds] as number | undefined;
  return {
    ...(arns ? { stateMachineArns: arns } : {}),
    ...(prefix ? { secretPrefix: prefix } : {}),
    settings: { hostTimeoutSeconds: timeout ?? DEFAULT_WORKFLOW_SETTINGS.hostTimeoutSeconds },
  };
}

/** A port method of a function that lacks the configuration for it: fails with UnavailableError. */
export const notWired = (what: string) => async (): Promise<never> => {
  throw new UnavailableError('workflows-not-configured', `this function cannot ${what}: it has no state machine configuration (${WORKFLOW_ENV.stateMachines})`);
};

/** For functions without the state machines: starting fails (the operation stays queued for the sweep). */
export const unwiredEngine: WorkflowEngine = {
  start: notWired('start workflows'), sendTaskSuccess: notWired('complete workflow tasks'),
  sendTaskFailure: notWired('complete workflow tasks'), stop: notWired('stop workflows'),
};

export const unwiredSecrets: SecretStore = { ensure: notWired('create secrets'), get: notWired('read secrets'), delete: notWired('delete secrets') };

export function awsWorkflowEngine(config: WorkflowConfig): WorkflowEngine {
  return config.stateMachineArns ? new SfnWorkflowEngine(new SFNClient({ maxAttempts: 5 }), config.stateMachineArns) : unwiredEngine;
}

export function awsSecretStore(config: WorkflowConfig): SecretStore {
  return config.secretPrefix ? new SecretsManagerSecretStore(new SecretsManagerClient({ maxAttempts: 5 }), config.secretPrefix) : unwiredSecrets;
}

/** Wires the MQTT-plane ports to DynamoDB; the publisher comes from the runtime (local broker or AWS). */
export function makeDeviceDeps(db: DocClient, stateTable: string, publisher: CommandPublisher,
  workflow: { secrets?: SecretStore; workflows?: WorkflowEngine } = {}): DeviceDeps {
  return {
    clock: { now: () => new Date() },
    presence: new DynamoPresenceWriter(db, stateTable),
    status: new DynamoStatusStore(db, stateTable),
    commands: new DynamoCommandStore(db, stateTable),
    operations: new DynamoOperationRepository(db, stateTable),
    publisher,
    hostLifecycle: new DynamoHostLifecycleReader(db, stateTable),
    ...(workflow.secrets ? { secrets: workflow.secrets } : {}),
    ...(workflow.workflows ? { workflows: workflow.workflows } : {}),
  };
}
