/**
 * AWS calls of the workflow functions (see ../aws-calls.ts for the format and the test that
 * proves them). awsWorkflowDeps wires every repository on the state table, the audit log
 * (append), the command publisher, Secrets Manager and Step Functions.
 */
import { HANDLER_ENV } from '../../contracts/routes.js';
import {
  AGENT_MANIFEST_READ, COMMAND_PUBLISH_CALLS, RUNTIME_CALLS, secretCalls, tableCalls, workflowCalls, type AdapterName, type AwsCall,
} from '../aws-calls.js';
import { DEVICE_PLANE_ADAPTERS } from '../iot/aws-calls.js';

export const WORKFLOW_STATE_ADAPTERS: readonly AdapterName[] = [
  ...DEVICE_PLANE_ADAPTERS, 'dynamodb/token-repository', 'dynamodb/host-repository', 'dynamodb/profile-repository',
  'dynamodb/cluster-repository', 'dynamodb/operation-repository', 'dynamodb/rollout-store', 'dynamodb/template-store',
];
/** The host repository joins each host's presence, health and last report with the health store's BatchGetItem. */
export const HOST_JOIN_CALLS: readonly AwsCall[] = tableCalls(HANDLER_ENV.stateTable, ['dynamodb/health-store'], ['dynamodb:BatchGetItem']);
const base: readonly AwsCall[] = [
  ...RUNTIME_CALLS, ...tableCalls(HANDLER_ENV.stateTable, WORKFLOW_STATE_ADAPTERS), ...HOST_JOIN_CALLS,
  ...tableCalls(HANDLER_ENV.auditTable, ['dynamodb/audit-log'], ['dynamodb:PutItem']),
];

export const WORKFLOW_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  // Begin creates the cluster's join-token secret, Finish of a delete removes it; a failed
  // create or scale-out resets its hosts (commands); a failed upgrade starts its rollback.
  'edgefleet-workflow-step': [
    ...base, ...COMMAND_PUBLISH_CALLS,
    ...secretCalls(['secretsmanager:CreateSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:DeleteSecret']),
    // A failed upgrade starts its rollback; a rollout tick starts cluster upgrades and continues the rollout as a new execution.
    ...workflowCalls('states:StartExecution', ['upgrade-cluster', 'rollout']),
    // An agent-update rollout's tick checks each host's version against the published manifest.
    AGENT_MANIFEST_READ,
  ],
  // Sends one host its command (join token from the secret) and may complete its own task.
  'edgefleet-workflow-host-command': [
    ...base, ...COMMAND_PUBLISH_CALLS, ...secretCalls(['secretsmanager:GetSecretValue']),
    ...workflowCalls('states:SendTaskSuccess'), ...workflowCalls('states:SendTaskFailure'),
  ],
};
