/**
 * AWS calls of the scheduled functions (see ../aws-calls.ts). The command sweep runs with the
 * device-plane and the workflow wiring: times out commands (failing their tasks), fails operations past their
 * deadline (stopping their executions, resetting hosts of a failed create), starts lost ones.
 */
import { HANDLER_ENV } from '../../contracts/routes.js';
import { STATE_TABLE } from '../../contracts/tables.js';
import {
  alertSecretCalls, COMMAND_PUBLISH_CALLS, DEAD_LETTER_CALLS, indexQuery, RUNTIME_CALLS, tableCalls, TUNNEL_CALLS, workflowCalls, type AwsCall,
} from '../aws-calls.js';
import { HOST_JOIN_CALLS, WORKFLOW_STATE_ADAPTERS } from '../workflow/aws-calls.js';

/** The state-table adapters the tunnel sweep uses, and the only actions it needs of them (no delete). */
const TUNNEL_SWEEP_STATE_ADAPTERS = ['dynamodb/tunnel-repository', 'dynamodb/troubleshoot-grant-repository', 'dynamodb/host-repository', 'dynamodb/device-plane-stores'] as const;
export const TUNNEL_SWEEP_TABLE_ACTIONS = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'];

export const SCHEDULED_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  'edgefleet-command-sweeper': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS, ...tableCalls(HANDLER_ENV.stateTable, WORKFLOW_STATE_ADAPTERS), ...HOST_JOIN_CALLS, ...COMMAND_PUBLISH_CALLS,
    ...workflowCalls('states:SendTaskFailure'), ...workflowCalls('states:StartExecution'), ...workflowCalls('states:StopExecution'),
    // Overdue commands and open operations: the KEYS_ONLY open-by-deadline index, and where
    // they were indexed before it (gsi2 for commands, gsi3 for operations).
    indexQuery(HANDLER_ENV.stateTable, STATE_TABLE.openByDeadline.name, 'dynamodb/device-plane-stores'),
    indexQuery(HANDLER_ENV.stateTable, STATE_TABLE.bySecondary.name, 'dynamodb/device-plane-stores'),
    indexQuery(HANDLER_ENV.stateTable, STATE_TABLE.openByDeadline.name, 'dynamodb/operation-repository'),
    indexQuery(HANDLER_ENV.stateTable, STATE_TABLE.byCluster.name, 'dynamodb/operation-repository'),
  ],
  // The tunnel sweep: unclosed tunnels (gsi2), their openers' grants and hosts, DescribeTunnel and
  // CloseTunnel, the remove-user command, the audit trail (connect, disconnect, close).
  'edgefleet-tunnel-sweeper': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS, ...COMMAND_PUBLISH_CALLS, ...TUNNEL_CALLS,
    ...tableCalls(HANDLER_ENV.stateTable, TUNNEL_SWEEP_STATE_ADAPTERS, TUNNEL_SWEEP_TABLE_ACTIONS),
    indexQuery(HANDLER_ENV.stateTable, 'gsi2', 'dynamodb/tunnel-repository'),
    ...tableCalls(HANDLER_ENV.auditTable, ['dynamodb/audit-log'], ['dynamodb:PutItem']),
  ],
  // The re-notify sweep: due alerts on gsi3 (Query), their rules and the ledger (Get, conditional
  // Put, Delete), the resources' health (BatchGet; a cluster's by Get), the webhook keys, SNS.
  'edgefleet-alert-sweeper': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS,
    ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/alert-store', 'dynamodb/health-store', 'dynamodb/cluster-repository'],
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchGetItem']),
    indexQuery(HANDLER_ENV.stateTable, 'gsi3', 'dynamodb/alert-store'),
    ...alertSecretCalls(['secretsmanager:GetSecretValue']),
    { action: 'sns:Publish', resource: `{env:${HANDLER_ENV.alertTopicArn}}`, via: 'sns/sns-publisher' },
  ],
};
