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
const MACHINE_OBSERVABILITY: readonly ServiceRoleCall[] = [
  ...['CreateLogDelivery', 'GetLogDelivery', 'UpdateLogDelivery', 'DeleteLogDelivery', 'ListLogDeliveries',
    'PutResourcePolicy', 'DescribeResourcePolicies', 'DescribeLogGroups'].map((a) => ({ action: `logs:${a}`, resource: '*' })),
  ...['PutTraceSegments', 'PutTelemetryRecords', 'GetSamplingRules', 'GetSamplingTargets'].map((a) => ({ action: `xray:${a}`, resource: '*' })),
];

/** The key of a service role's calls: the service, except the rollout machine (`states.amazonaws.com:rollout`), whose only task is the step function. */
export const serviceRoleKey = (roleLogicalId: string, service: string): string =>
  service === 'states.amazonaws.com' && roleLogicalId.startsWith('WorkflowsRolloutRole') ? `${service}:rollout` : service;

export const SERVICE_ROLE_CALLS: Readonly<Record<string, readonly ServiceRoleCall[]>> = {
  // Every cluster workflow machine: its Lambda tasks, vended log delivery to its log group, X-Ray tracing.
  'states.amazonaws.com': [
    { action: 'lambda:InvokeFunction', resource: '{function:edgefleet-workflow-step}' },
    { action: 'lambda:InvokeFunction', resource: '{function:edgefleet-workflow-host-command}' },
    ...MACHINE_OBSERVABILITY,
  ],
  // The rollout machine: only the step function (its tick and fail).
  'states.amazonaws.com:rollout': [
    { action: 'lambda:InvokeFunction', resource: '{function:edgefleet-workflow-step}' },
    ...MACHINE_OBSERVABILITY,
  ],
  // The IoT rules' CloudWatch Logs error action: finds or creates a stream, then writes.
  'iot.amazonaws.com': ['CreateLogStream', 'DescribeLogStreams', 'PutLogEvents'].map((a) => ({
    action: `logs:${a}`, resource: `${ARN}:logs:{region}:{account}:log-group:{errorLogGroup}:log-stream:rule-errors`,
  })),
};

/**
 * The web console's BucketDeployment handler (aws-cdk-lib's function, no POWERTOOLS_SERVICE_NAME;
 * lib/constructs/console-site.ts): reads each source zip (`{asset}`: one call per source), syncs
 * the console bucket (list, put, delete stale files), invalidates its distribution, logs to its
 * own log group. Proven by test/infra/iam-simulation.test.ts.
 */
export const CONSOLE_DEPLOYMENT_CALLS: readonly ServiceRoleCall[] = [
  { action: 's3:GetObject', resource: '{asset}' },
  { action: 's3:ListBucket', resource: `${ARN}:s3:::{consoleBucket}` },
  { action: 's3:PutObject', resource: `${ARN}:s3:::{consoleBucket}/index.html` },
  { action: 's3:DeleteObject', resource: `${ARN}:s3:::{consoleBucket}/assets/index-old.js` },
  ...['CreateInvalidation', 'GetInvalidation'].map((a) => ({ action: `cloudfront:${a}`, resource: `${ARN}:cloudfront::{account}:distribution/{distribution}` })),
  ...['CreateLogStream', 'PutLogEvents'].map((a) => ({ action: `logs:${a}`, resource: `${ARN}:logs:{region}:{account}:log-group:{logGroup}:log-stream:2026/12/01/[$LATEST]abc` })),
];
