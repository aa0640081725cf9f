import { HANDLER_ENV } from '../../contracts/routes.js';
import { DynamoAuditLog } from '../../adapters/dynamodb/audit-log.js';
import { makeDocClient, type DocClient } from '../../adapters/dynamodb/client.js';
import { DynamoClusterRepository, DynamoOperationRepository } from '../../adapters/dynamodb/cluster-repository.js';
import { DynamoHostRepository } from '../../adapters/dynamodb/host-repository.js';
import { DynamoProfileRepository } from '../../adapters/dynamodb/profile-repository.js';
import { DynamoTokenRepository } from '../../adapters/dynamodb/token-repository.js';
import type { AuditLog } from '../../ports/index.js';
import type { SecretStore, WorkflowEngine } from '../../ports/workflow.js';
import type { DeviceDeps } from '../../use-cases/device-deps.js';
import type { WorkflowDeps, WorkflowSettings } from '../../use-cases/workflows/deps.js';
import { IotCommandPublisher } from '../../adapters/iot/command-publisher.js';
import {
  awsSecretStore, awsWorkflowEngine, cryptoIds, makeDeviceDeps, notWired, workflowConfigFromEnv,
} from '../aws-building-blocks.js';
import { getTracer } from '../observability.js';

/** Workflow steps record no audit events of their own (the request that started them did). */
const noAudit: AuditLog = { record: notWired('write audit events'), list: notWired('read audit events') };

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
