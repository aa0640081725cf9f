/**
 * AWS calls of the IoT rule handlers (see ../aws-calls.ts for the format and the test that
 * proves them against the synthesized roles). The wiring (makeDeviceDeps, in
 * ../aws-building-blocks.ts) gives each handler the device-plane stores, the operation
 * repository and the host lifecycle reader on the state table, the command publisher, and —
 * where its environment has them — the workflow engine and the secret store.
 */
import { HANDLER_ENV } from '../../contracts/routes.js';
import {
  COMMAND_PUBLISH_CALLS, DEAD_LETTER_CALLS, HEALTH_EVENT_CALLS, indexQuery, kubeconfigSecretCalls, RUNTIME_CALLS, secretCalls, tableCalls, workflowCalls, type AdapterName, type AwsCall,
} from '../aws-calls.js';

export const DEVICE_PLANE_ADAPTERS: readonly AdapterName[] = [
  'dynamodb/device-plane-stores', 'dynamodb/operation-repository', 'dynamodb/host-lifecycle-reader',
  // A collect-diagnostics result (or timeout) moves its request along.
  'dynamodb/diagnostics-repository',
];
const base: readonly AwsCall[] = [...RUNTIME_CALLS, ...DEAD_LETTER_CALLS, ...tableCalls(HANDLER_ENV.stateTable, DEVICE_PLANE_ADAPTERS)];

/**
 * After a status or presence write: the host's health inputs read at once (BatchGetItem), its
 * health and its cluster's stored on change (health store), the cluster read, the change published.
 */
const health: readonly AwsCall[] = [
  ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/health-store']), ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/cluster-repository'], ['dynamodb:GetItem']),
  ...HEALTH_EVENT_CALLS,
];

export const IOT_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  // The init node's packs are stored on its cluster (a read and a conditional update).
  // A reported agent version ends the host's agent update waiting for it (its operations: gsi2, by target).
  'edgefleet-iot-status': [
    ...base, ...health, ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/cluster-repository'], ['dynamodb:GetItem', 'dynamodb:UpdateItem']),
    indexQuery(HANDLER_ENV.stateTable, 'gsi2', 'dynamodb/operation-repository'),
  ],
  // Zero-touch: the site's hosts (gsi2), the project's templates and sites (gsi1), the site's
  // cluster built (one transaction) or scaled out, the workflow started, audited; the template's
  // secret variables read and written as the cluster's.
  'edgefleet-iot-presence': [
    ...base, ...health,
    ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/cluster-repository', 'dynamodb/profile-repository', 'dynamodb/template-store'], ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:Query']),
    { action: 'dynamodb:Query', resource: `arn:{partition}:dynamodb:{region}:{account}:table/{env:${HANDLER_ENV.stateTable}}/index/gsi2`, via: 'dynamodb/host-repository' },
    ...tableCalls(HANDLER_ENV.auditTable, ['dynamodb/audit-log'], ['dynamodb:PutItem']),
    ...workflowCalls('states:StartExecution', ['create-cluster', 'scale-out']),
    ...secretCalls(['secretsmanager:GetSecretValue', 'secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue']),
  ],
  // A host's result completes (or fails) the workflow task waiting on it.
  // An init node's kubeconfig goes to its secret (PutSecretValue; CreateSecret the first time) and the cluster records when.
  'edgefleet-iot-results': [
    ...base, ...workflowCalls('states:SendTaskSuccess'), ...workflowCalls('states:SendTaskFailure'),
    ...kubeconfigSecretCalls(['secretsmanager:PutSecretValue', 'secretsmanager:CreateSecret']),
    ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/cluster-repository'], ['dynamodb:UpdateItem']),
  ],
  // Re-sends stored commands (join tokens filled in from their secret); fails the tasks of expired ones.
  'edgefleet-iot-pending-commands': [
    ...base, ...COMMAND_PUBLISH_CALLS, ...secretCalls(['secretsmanager:GetSecretValue']), ...workflowCalls('states:SendTaskFailure'),
    // A re-sent collect-diagnostics command gets a fresh presigned upload form.
    { action: 's3:PutObject', resource: `arn:{partition}:s3:::{env:${HANDLER_ENV.diagnosticsBucket}}/diagnostics/default/h-1/c0ffee.tar.gz`, via: 's3/bundle-store' },
  ],
};
