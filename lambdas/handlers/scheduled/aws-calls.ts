/**
 * AWS calls of the scheduled functions (see ../aws-calls.ts). The command sweep runs with the
 * device-plane and the workflow wiring: times out commands (failing their tasks), fails operations past their
 * deadline (stopping their executions, resetting hosts of a failed create), starts lost ones.
 */
import { HANDLER_ENV } from '../../contracts/routes.js';
import { alertSecretCalls, COMMAND_PUBLISH_CALLS, DEAD_LETTER_CALLS, RUNTIME_CALLS, tableCalls, workflowCalls, type AwsCall } from '../aws-calls.js';
import { HOST_JOIN_CALLS, WORKFLOW_STATE_ADAPTERS } from '../workflow/aws-calls.js';

export const SCHEDULED_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  'edgefleet-command-sweeper': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS, ...tableCalls(HANDLER_ENV.stateTable, WORKFLOW_STATE_ADAPTERS), ...HOST_JOIN_CALLS, ...COMMAND_PUBLISH_CALLS,
    ...workflowCalls('states:SendTaskFailure'), ...workflowCalls('states:StartExecution'), ...workflowCalls('states:StopExecution'),
  ],
  // The re-notify sweep: due alerts on gsi3 (Query), their rules and the ledger (Get, conditional
  // Put, Delete), the resources' health (BatchGet; a cluster's by Get), the webhook keys, SNS.
  'edgefleet-alert-sweeper': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS,
    ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/alert-store', 'dynamodb/health-store', 'dynamodb/cluster-repository'],
      ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:DeleteItem', 'dynamodb:BatchGetItem']),
    { action: 'dynamodb:Query', resource: `arn:{partition}:dynamodb:{region}:{account}:table/{env:${HANDLER_ENV.stateTable}}/index/gsi3`, via: 'dynamodb/alert-store' },
    ...alertSecretCalls(['secretsmanager:GetSecretValue']),
    { action: 'sns:Publish', resource: `{env:${HANDLER_ENV.alertTopicArn}}`, via: 'sns/sns-publisher' },
  ],
};
