import { DynamoCommandStore, DynamoPresenceWriter, DynamoStatusStore } from '../../adapters/dynamodb/device-plane-stores.js';
import { makeDocClient, type DocClient } from '../../adapters/dynamodb/client.js';
import { HANDLER_ENV } from '../../contracts/routes.js';
import { UnavailableError } from '../../domain/errors.js';
import type { CommandPublisher } from '../../ports/device-plane.js';
import type { DeviceDeps } from '../../use-cases/device-messages.js';
import { getTracer } from '../observability.js';
import { IotCommandPublisher } from '../../adapters/iot/command-publisher.js';
import { DynamoHostLifecycleReader } from '../../adapters/dynamodb/host-lifecycle-reader.js';
import { DynamoOperationRepository } from '../../adapters/dynamodb/operation-repository.js';
import type { SecretStore, WorkflowEngine } from '../../ports/workflow.js';
import { awsSecretStore, awsWorkflowEngine, workflowConfigFromEnv } from '../workflow/wiring.js';

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

/** For runtimes without a way to publish: fails loudly; commands stay stored (queued). */
export const unavailablePublisher: CommandPublisher = {
  publish: async (hostId) => {
    throw new UnavailableError('command-publisher-unavailable', `cannot publish a command to ${hostId}: no IoT data-plane publisher is configured in this runtime`);
  },
};

let awsDeps: DeviceDeps | undefined;
/** AWS wiring, created lazily on the first invocation (cold start); commands go out through the IoT data plane. */
export function awsDeviceDeps(): DeviceDeps {
  const table = process.env[HANDLER_ENV.stateTable];
  if (!table) throw new Error(`EdgeFleet IoT handler configuration is invalid (${HANDLER_ENV.stateTable} is missing); check the function's environment`);
  const config = workflowConfigFromEnv();
  awsDeps ??= makeDeviceDeps(makeDocClient({}, (c) => getTracer().captureAWSv3Client(c)), table, new IotCommandPublisher(),
    { secrets: awsSecretStore(config), workflows: awsWorkflowEngine(config) });
  return awsDeps;
}
