/**
 * What AWS services do with the roles this stack gives them (the functions' own lists live next
 * to their wiring in lambdas/handlers/**\/aws-calls.ts). Same format; `{function:<service name>}`
 * is the ARN of the function with that POWERTOOLS_SERVICE_NAME, `{errorLogGroup}` the IoT rules'
 * error log group. Proven by test/infra/iam-simulation.test.ts.
 */
export interface ServiceRoleCall {
  readonly action: string;
  readonly resource: string;
}

const ARN = 'arn:{partition}';

/** Keyed by the service principal that assumes the role. */
export const SERVICE_ROLE_CALLS: Readonly<Record<string, readonly ServiceRoleCall[]>> = {
  // Every state machine: its Lambda tasks, vended log delivery to its log group, X-Ray tracing.
  'states.amazonaws.com': [
    { action: 'lambda:InvokeFunction', resource: '{function:edgefleet-workflow-step}' },
    { action: 'lambda:InvokeFunction', resource: '{function:edgefleet-workflow-host-command}' },
    ...['CreateLogDelivery', 'GetLogDelivery', 'UpdateLogDelivery', 'DeleteLogDelivery', 'ListLogDeliveries',
      'PutResourcePolicy', 'DescribeResourcePolicies', 'DescribeLogGroups'].map((a) => ({ action: `logs:${a}`, resource: '*' })),
    ...['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'].map((a) => ({ action: `xray:${a}`, resource: '*' })),
  ],
  // The IoT rules' CloudWatch Logs error action: finds or creates a stream, then writes.
  'iot.amazonaws.com': ['CreateLogStream', 'DescribeLogStreams', 'PutLogEvents'].map((a) => ({
    action: `logs:${a}`, resource: `${ARN}:logs:{region}:{account}:log-group:{errorLogGroup}:log-stream:rule-errors`,
  })),
};
