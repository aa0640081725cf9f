/**
 * AWS calls of the alert dispatcher (see ../aws-calls.ts for the format and the test that proves
 * them): the rules and the notification ledger on the state table, the webhook keys, SNS Publish
 * on the stack's alert topic; EventBridge invokes it asynchronously (dead-letter queue).
 */
import { HANDLER_ENV } from '../../contracts/routes.js';
import { alertSecretCalls, DEAD_LETTER_CALLS, RUNTIME_CALLS, tableCalls, type AwsCall } from '../aws-calls.js';

export const EVENT_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  'edgefleet-alert-dispatcher': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS, ...tableCalls(HANDLER_ENV.stateTable, ['dynamodb/alert-store']),
    ...alertSecretCalls(['secretsmanager:GetSecretValue']),
    { action: 'sns:Publish', resource: `{env:${HANDLER_ENV.alertTopicArn}}`, via: 'sns/sns-publisher' },
  ],
};
