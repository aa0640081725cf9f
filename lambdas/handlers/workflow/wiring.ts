import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { z } from 'zod';
import { HANDLER_ENV } from '../../contracts/routes.js';
import { WORKFLOW_ENV, workflowKind, type WorkflowKind } from '../../contracts/workflows.js';
import { DynamoAuditLog } from '../../adapters/dynamodb/audit-log.js';
import { makeDocClient, type DocClient } from '../../adapters/dynamodb/client.js';
import { DynamoClusterRepository, DynamoOperationRepository } from '../../adapters/dynamodb/cluster-repository.js';
import { DynamoHostRepository } from '../../adapters/dynamodb/host-repository.js';
import { DynamoProfileRepository } from '../../adapters/dynamodb/profile-repository.js';
import { DynamoTokenRepository } from '../../adapters/dynamodb/token-repository.js';
import { SecretsManagerSecretStore } from '../../adapters/secrets/secrets-manager-store.js';
import { SfnWorkflowEngine } from '../../adapters/sfn/workflow-engine.js';
import { UnavailableError } from '../../domain/errors.js';
import type { AuditLog } from '../../ports/index.js';
import type { SecretStore, WorkflowEngine } from '../../ports/workflow.js';
import type { DeviceDeps } from '../../use-cases/device-messages.js';
import { DEFAULT_WORKFLOW_SETTINGS, type WorkflowDeps, type WorkflowSettings } from '../../use-cases/workflows/deps.js';
import { IotCommandPublisher } from '../../adapters/iot/command-publisher.js';
import { makeDeviceDeps } from '../iot/wiring.js';
import { cryptoIds } from '../wiring.js';
import { getTracer } from '../observability.js';

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

const notWired = (what: string) => async (): Promise<never> => {
  throw new UnavailableError('workflows-not-configured', `this function cannot ${what}: it has no state machine configuration (${WORKFLOW_ENV.stateMachines})`);
};

/** For functions without the state machines: starting fails (the operation stays queued for the sweep). */
export const unwiredEngine: WorkflowEngine = {
  start: notWired('start workflows'), sendTaskSuccess: notWired('complete workflow tasks'),
  sendTaskFailure: notWired('complete workflow tasks'), stop: notWired('stop workflows'),
};

export const unwiredSecrets: SecretStore = { ensure: notWired('create secrets'), get: notWired('read secrets'), delete: notWired('delete secrets') };

/** Workflow steps record no audit events of their own (the request that started them did). */
const noAudit: AuditLog = { record: notWired('write audit events'), list: notWired('read audit events') };

export function awsWorkflowEngine(config: WorkflowConfig): WorkflowEngine {
  return config.stateMachineArns ? new SfnWorkflowEngine(new SFNClient({ maxAttempts: 5 }), config.stateMachineArns) : unwiredEngine;
}

export function awsSecretStore(config: WorkflowConfig): SecretStore {
  return config.secretPrefix ? new SecretsManagerSecretStore(new SecretsManagerClient({ maxAttempts: 5 }), config.secretPrefix) : unwiredSecrets;
}

/** Every port a workflow step needs, on one DynamoDB table plus the command channel. */
export function makeWorkflowDeps(db: DocClient, tables: { state: string; audit?: string }, device: DeviceDeps,
  extra: { secrets: SecretStore; workflows: WorkflowEngine; settings: WorkflowSettings }): WorkflowDeps {
  return {
    ...device,
    ids: cryptoIds,
    tokens: new DynamoTokenRepository(db, tables.state),
    hosts: new DynamoHostRepository(db, tables.state),
    profiles: new DynamoProfileRepository(db, tables.state),
    clusters: new DynamoClusterRepository(db, tables.state),
    operations: new DynamoOperationRepository(db, tables.state),
    audit: tables.audit ? new DynamoAuditLog(db, tables.audit, 365) : noAudit,
    ...extra,
  };
}

let awsDeps: WorkflowDeps | undefined;
/** AWS wiring (cold start): DynamoDB, the IoT data plane, Secrets Manager, Step Functions. */
export function awsWorkflowDeps(): WorkflowDeps {
  if (awsDeps) return awsDeps;
  const table = process.env[HANDLER_ENV.stateTable];
  if (!table) throw new Error(`EdgeFleet workflow handler configuration is invalid (${HANDLER_ENV.stateTable} is missing); check the function's environment`);
  const config = workflowConfigFromEnv();
  const db = makeDocClient({}, (c) => getTracer().captureAWSv3Client(c));
  const secrets = awsSecretStore(config);
  const workflows = awsWorkflowEngine(config);
  const device = makeDeviceDeps(db, table, new IotCommandPublisher(), { secrets, workflows });
  awsDeps = makeWorkflowDeps(db, { state: table, ...(process.env[HANDLER_ENV.auditTable] ? { audit: process.env[HANDLER_ENV.auditTable] } : {}) },
    device, { secrets, workflows, settings: config.settings });
  return awsDeps;
}
