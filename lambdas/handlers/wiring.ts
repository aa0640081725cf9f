import { z } from 'zod';
import { HANDLER_ENV } from '../contracts/routes.js';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log.js';
import { makeDocClient, type DocClient } from '../adapters/dynamodb/client.js';
import { DynamoClusterRepository, DynamoOperationRepository } from '../adapters/dynamodb/cluster-repository.js';
import { DynamoHostRepository } from '../adapters/dynamodb/host-repository.js';
import { DynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store.js';
import { DynamoProfileRepository } from '../adapters/dynamodb/profile-repository.js';
import { DynamoTokenRepository } from '../adapters/dynamodb/token-repository.js';
import { DynamoRegistrationStore } from '../adapters/dynamodb/registration-store.js';
import { IotDeviceRegistry } from '../adapters/iot/device-registry.js';
import { x509CsrInspector } from '../adapters/x509/csr-inspector.js';
import { IoTClient } from '@aws-sdk/client-iot';
import type { IdempotencyStore } from '../ports/index.js';
import type { CsrInspector, DeviceRegistry, RegistrationStore } from '../ports/device-registry.js';
import { getTracer } from './observability.js';
import type { UpgradeDeps } from '../use-cases/upgrades.js';
import { DynamoStatusStore } from '../adapters/dynamodb/device-plane-stores.js';
import type { WorkflowEngine } from '../ports/workflow.js';
import { awsWorkflowEngine, cryptoIds, workflowConfigFromEnv, unwiredEngine } from './aws-building-blocks.js';
import { DEFAULT_WORKFLOW_SETTINGS, type WorkflowSettings } from '../use-cases/workflows/deps.js';

export interface HttpConfig {
  readonly stateTable: string;
  readonly auditTable: string;
  /** Public base URL of this API (written into user-data for the agents). */
  readonly apiUrl: string;
  readonly auditRetentionDays: number;
  /** IoT device policy name (functions that provision or decommission devices). */
  readonly iotPolicyName?: string;
}

export interface HttpDeps extends UpgradeDeps {
  readonly idempotency: IdempotencyStore;
  readonly config: HttpConfig;
  readonly registry: DeviceRegistry;
  readonly csr: CsrInspector;
  readonly registrations: RegistrationStore;
}

const envSchema = z.object({
  [HANDLER_ENV.stateTable]: z.string().min(3),
  [HANDLER_ENV.auditTable]: z.string().min(3),
  [HANDLER_ENV.apiUrl]: z.string().url(),
  [HANDLER_ENV.auditRetentionDays]: z.coerce.number().int().min(1).max(3650).default(365),
  [HANDLER_ENV.iotPolicyName]: z.string().min(1).optional(),
});

/** Parses the handler configuration once; a missing variable fails the cold start loudly. */
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): HttpConfig {
  const parsed = envSchema.safeParse(env);
  if (!parsed.success) {
    const missing = parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
    throw new Error(`EdgeFleet handler configuration is invalid (${missing}); check the function's environment`);
  }
  const e = parsed.data;
  return {
    stateTable: e[HANDLER_ENV.stateTable] as string,
    auditTable: e[HANDLER_ENV.auditTable] as string,
    apiUrl: (e[HANDLER_ENV.apiUrl] as string).replace(/\/$/, ''),
    auditRetentionDays: e[HANDLER_ENV.auditRetentionDays] as number,
    ...(e[HANDLER_ENV.iotPolicyName] ? { iotPolicyName: e[HANDLER_ENV.iotPolicyName] as string } : {}),
  };
}

/** Wires every port to DynamoDB. The local runtime passes its own client (DynamoDB Local). */
export function makeHttpDeps(db: DocClient, config: HttpConfig,
  overrides: Partial<Pick<HttpDeps, 'clock' | 'ids' | 'registry'>> & { workflows?: WorkflowEngine; workflowSettings?: WorkflowSettings } = {}): HttpDeps {
  return {
    workflows: overrides.workflows ?? unwiredEngine,
    workflowSettings: overrides.workflowSettings ?? DEFAULT_WORKFLOW_SETTINGS,
    clock: overrides.clock ?? { now: () => new Date() },
    ids: overrides.ids ?? cryptoIds,
    tokens: new DynamoTokenRepository(db, config.stateTable),
    hosts: new DynamoHostRepository(db, config.stateTable),
    status: new DynamoStatusStore(db, config.stateTable),
    profiles: new DynamoProfileRepository(db, config.stateTable),
    clusters: new DynamoClusterRepository(db, config.stateTable),
    operations: new DynamoOperationRepository(db, config.stateTable),
    audit: new DynamoAuditLog(db, config.auditTable, config.auditRetentionDays),
    idempotency: new DynamoIdempotencyStore(db, config.stateTable),
    config,
    // The IoT client sends nothing until a device is provisioned or decommissioned.
    registry: overrides.registry ?? new IotDeviceRegistry(new IoTClient({ maxAttempts: 5 }), { policyName: config.iotPolicyName ?? '' }),
    csr: x509CsrInspector,
    registrations: new DynamoRegistrationStore(db, config.stateTable),
  };
}

let awsDeps: HttpDeps | undefined;
/** AWS wiring, created lazily on the first invocation (cold start). */
export function awsHttpDeps(): HttpDeps {
  const wf = workflowConfigFromEnv();
  awsDeps ??= makeHttpDeps(makeDocClient({}, (c) => getTracer().captureAWSv3Client(c)), configFromEnv(),
    { workflows: awsWorkflowEngine(wf), workflowSettings: wf.settings });
  return awsDeps;
}
