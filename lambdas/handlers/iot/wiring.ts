import { makeDocClient } from '../../adapters/dynamodb/client.js';
import { HANDLER_ENV } from '../../contracts/routes.js';
import { UnavailableError } from '../../domain/errors.js';
import type { CommandPublisher } from '../../ports/device-plane.js';
import type { DeviceDeps } from '../../use-cases/device-deps.js';
import { getTracer } from '../observability.js';
import { IotCommandPublisher } from '../../adapters/iot/command-publisher.js';
import { awsSecretStore, awsWorkflowEngine, makeDeviceDeps, workflowConfigFromEnv } from '../aws-building-blocks.js';

/** Re-exported for the local runtime, which knows it from here. */
export { makeDeviceDeps } from '../aws-building-blocks.js';

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
