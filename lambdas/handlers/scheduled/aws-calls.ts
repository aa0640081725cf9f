/**
 * AWS calls of the command sweep (see ../aws-calls.ts). It runs with the device-plane and the
 * workflow wiring: times out commands (failing their tasks), fails operations past their
 * deadline (stopping their executions, resetting hosts of a failed create), starts lost ones.
 */
import { HANDLER_ENV } from '../../contracts/routes.js';
import { COMMAND_PUBLISH_CALLS, DEAD_LETTER_CALLS, RUNTIME_CALLS, tableCalls, workflowCalls, type AwsCall } from '../aws-calls.js';
import { HOST_JOIN_CALLS, WORKFLOW_STATE_ADAPTERS } from '../workflow/aws-calls.js';

export const SCHEDULED_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  'edgefleet-command-sweeper': [
    ...RUNTIME_CALLS, ...DEAD_LETTER_CALLS, ...tableCalls(HANDLER_ENV.stateTable, WORKFLOW_STATE_ADAPTERS), ...HOST_JOIN_CALLS, ...COMMAND_PUBLISH_CALLS,
    ...workflowCalls('states:SendTaskFailure'), ...workflowCalls('states:StartExecution'), ...workflowCalls('states:StopExecution'),
  ],
};
