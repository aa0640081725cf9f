/**
 * The AWS API calls each Lambda function makes, and on what: one list per function (found in
 * the synthesized template by its POWERTOOLS_SERVICE_NAME), kept next to the wiring that
 * creates the clients. test/infra/iam-simulation.test.ts evaluates every call against the
 * function's synthesized role with AWS's own authorization data (both directions: every call
 * allowed, every granted action called); test/unit/adapters/adapter-actions.test.ts pins
 * ADAPTER_ACTIONS to the SDK commands each adapter module can send. Plain data, no imports
 * beyond the contracts: nothing here runs in a handler.
 *
 * Resource templates: `{partition}`, `{region}`, `{account}`; `{env:NAME}` is the function's
 * environment variable NAME (e.g. the table name); `{stateMachine:<kind>}` and
 * `{execution:<kind>}` come from its STATE_MACHINE_ARNS; `{logGroup}` is its own log group;
 * `{deadLetterQueue}` its dead-letter queue. Sample ids (h-1, c0ffee…) stand for any.
 */
import { HANDLER_ENV } from '../contracts/routes.js';
import { IDEMPOTENCY_KEY_SECRET, WORKFLOW_ENV, type MachineKind } from '../contracts/workflows.js';

export interface AwsCall {
  readonly action: string;
  readonly resource: string;
  /** Adapter module (key of ADAPTER_ACTIONS) that sends it, or `lambda` for what the Lambda service does with the role. */
  readonly via: AdapterName | 'lambda';
}

/**
 * IAM actions each adapter module sends (SDK command → action; TransactWriteItems items are
 * authorized as PutItem/UpdateItem/DeleteItem/ConditionCheckItem per item).
 */
export const ADAPTER_ACTIONS = {
  'dynamodb/alert-store': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  'dynamodb/audit-log': ['dynamodb:PutItem', 'dynamodb:Query'],
  'dynamodb/cluster-repository': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  'dynamodb/device-plane-stores': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  'dynamodb/diagnostics-repository': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  'dynamodb/host-lifecycle-reader': ['dynamodb:GetItem'],
  'dynamodb/health-store': ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'dynamodb/host-repository': ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  'dynamodb/idempotency-store': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'dynamodb/operation-repository': ['dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  'dynamodb/profile-repository': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  'dynamodb/registration-store': ['dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'dynamodb/registration-turns': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
  'dynamodb/token-repository': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  'events/eventbridge-publisher': ['events:PutEvents'],
  'dynamodb/tunnel-repository': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  'dynamodb/template-store': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  'dynamodb/rollout-store': ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query', 'dynamodb:UpdateItem'],
  'dynamodb/troubleshoot-grant-repository': ['dynamodb:DeleteItem', 'dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:Query'],
  'iot/command-publisher': ['iot:DescribeEndpoint', 'iot:Publish'],
  /** Presigning signs offline (no request): the URL carries these actions of the role. */
  's3/bundle-store': ['s3:GetObject', 's3:PutObject'],
  /** Reads agent/manifest.json (agent and hosts functions); presigns artifact GETs (agent function; offline: the URL carries s3:GetObject of the role). */
  's3/agent-artifact-store': ['s3:GetObject'],
  'kms/agent-signing-key': ['kms:GetPublicKey', 'kms:Sign'],
  'iot/secure-tunneling': ['iot:CloseTunnel', 'iot:DescribeTunnel', 'iot:OpenTunnel'],
  'iot/device-registry': [
    'iot:AttachPolicy', 'iot:AttachThingPrincipal', 'iot:CreateCertificateFromCsr', 'iot:CreateThing', 'iot:DeleteThing',
    'iot:DescribeEndpoint', 'iot:DetachThingPrincipal', 'iot:ListThingPrincipals', 'iot:UpdateCertificate',
  ],
  'secrets/secrets-manager-store': ['secretsmanager:CreateSecret', 'secretsmanager:DeleteSecret', 'secretsmanager:GetSecretValue', 'secretsmanager:PutSecretValue'],
  'sns/sns-publisher': ['sns:Publish'],
  'sfn/workflow-engine': ['states:SendTaskFailure', 'states:SendTaskSuccess', 'states:StartExecution', 'states:StopExecution'],
} as const satisfies Record<string, readonly string[]>;
export type AdapterName = keyof typeof ADAPTER_ACTIONS;

const ARN = 'arn:{partition}';
const table = (env: string) => `${ARN}:dynamodb:{region}:{account}:table/{env:${env}}`;

/** DynamoDB calls of `adapters` on the table named by `env`: Query on the table and its indexes. */
export function tableCalls(env: string, adapters: readonly AdapterName[], only?: readonly string[]): AwsCall[] {
  const out: AwsCall[] = [];
  for (const via of adapters) {
    for (const action of ADAPTER_ACTIONS[via]) {
      if (!action.startsWith('dynamodb:') || (only && !only.includes(action))) continue;
      out.push({ action, resource: table(env), via });
      if (action === 'dynamodb:Query') out.push({ action, resource: `${table(env)}/index/gsi1`, via });
    }
  }
  return out;
}

/** A Query on another index of the table named by `env` (tableCalls covers the table and gsi1). */
export const indexQuery = (env: string, index: string, via: AdapterName): AwsCall => ({ action: 'dynamodb:Query', resource: `${table(env)}/index/${index}`, via });

/** Secure Tunneling on a tunnel (its id is the service's: any). */
export const TUNNEL_CALLS: readonly AwsCall[] = (['iot:CloseTunnel', 'iot:DescribeTunnel'] as const).map((action) => ({
  action, resource: `${ARN}:iot:{region}:{account}:tunnel/0b1e2c3d-aaaa-bbbb-cccc-1234567890ab`, via: 'iot/secure-tunneling' as const,
}));

/** What every function's role is used for by Lambda itself: its log group and X-Ray. */
export const RUNTIME_CALLS: readonly AwsCall[] = [
  { action: 'logs:CreateLogStream', resource: `${ARN}:logs:{region}:{account}:log-group:{logGroup}:log-stream:2026/01/01/[$LATEST]abc`, via: 'lambda' },
  { action: 'logs:PutLogEvents', resource: `${ARN}:logs:{region}:{account}:log-group:{logGroup}:log-stream:2026/01/01/[$LATEST]abc`, via: 'lambda' },
  { action: 'xray:PutTraceSegments', resource: '*', via: 'lambda' },
  { action: 'xray:PutTelemetryRecords', resource: '*', via: 'lambda' },
];

/** Asynchronously invoked functions: Lambda sends events that failed all retries to the dead-letter queue. */
export const DEAD_LETTER_CALLS: readonly AwsCall[] = [{ action: 'sqs:SendMessage', resource: '{deadLetterQueue}', via: 'lambda' }];

export const COMMAND_PUBLISH_CALLS: readonly AwsCall[] = [
  { action: 'iot:DescribeEndpoint', resource: '*', via: 'iot/command-publisher' },
  { action: 'iot:Publish', resource: `${ARN}:iot:{region}:{account}:topic/edgefleet/hosts/h-1/commands`, via: 'iot/command-publisher' },
];

/** Health changes go to the account's default event bus (contracts/events.ts). */
export const HEALTH_EVENT_CALLS: readonly AwsCall[] = [
  { action: 'events:PutEvents', resource: `${ARN}:events:{region}:{account}:event-bus/default`, via: 'events/eventbridge-publisher' },
];

export const secretCalls = (actions: readonly string[]): AwsCall[] => actions.map((action) => ({
  action, resource: `${ARN}:secretsmanager:{region}:{account}:secret:{env:${WORKFLOW_ENV.secretPrefix}}c0ffee-join-token-AbCdEf`, via: 'secrets/secrets-manager-store',
}));

/** Calls on an alert rule's webhook key (`<prefix>alert-rules/<id>/webhook-secret`). */
export const alertSecretCalls = (actions: readonly string[]): AwsCall[] => actions.map((action) => ({
  action, resource: `${ARN}:secretsmanager:{region}:{account}:secret:{env:${WORKFLOW_ENV.secretPrefix}}alert-rules/c0ffee/webhook-secret-AbCdEf`, via: 'secrets/secrets-manager-store',
}));

/** Calls on a cluster's kubeconfig secret (`<prefix>clusters/<id>/kubeconfig`). */
export const kubeconfigSecretCalls = (actions: readonly string[]): AwsCall[] => actions.map((action) => ({
  action, resource: `${ARN}:secretsmanager:{region}:{account}:secret:{env:${WORKFLOW_ENV.secretPrefix}}clusters/c0ffee/kubeconfig-AbCdEf`, via: 'secrets/secrets-manager-store',
}));

/** The Idempotency-Key fingerprint key (routes that take an Idempotency-Key). */
export const FINGERPRINT_KEY_CALLS: readonly AwsCall[] = [{
  action: 'secretsmanager:GetSecretValue', resource: `${ARN}:secretsmanager:{region}:{account}:secret:{env:${WORKFLOW_ENV.secretPrefix}}${IDEMPOTENCY_KEY_SECRET}-AbCdEf`, via: 'secrets/secrets-manager-store',
}];

const KINDS: readonly MachineKind[] = ['create-cluster', 'scale-out', 'scale-in', 'reconfigure', 'delete-cluster', 'upgrade-cluster', 'rollout'];

/**
 * Step Functions calls of the workflow engine: StartExecution on a machine, StopExecution on an
 * execution; SendTaskSuccess/Failure have no resource (the task token names the task): "*".
 */
export function workflowCalls(action: string, kinds: readonly MachineKind[] = KINDS): AwsCall[] {
  if (action === 'states:SendTaskSuccess' || action === 'states:SendTaskFailure') return [{ action, resource: '*', via: 'sfn/workflow-engine' }];
  return kinds.map((kind) => ({
    action, resource: action === 'states:StopExecution' ? `{execution:${kind}}` : `{stateMachine:${kind}}`, via: 'sfn/workflow-engine',
  }));
}

/** The HTTP API's wiring (makeHttpDeps): every repository on the state table, the audit log, the IoT registry. */
const HTTP_STATE_ADAPTERS: readonly AdapterName[] = [
  'dynamodb/token-repository', 'dynamodb/host-repository', 'dynamodb/health-store', 'dynamodb/device-plane-stores', 'dynamodb/profile-repository',
  'dynamodb/cluster-repository', 'dynamodb/operation-repository', 'dynamodb/idempotency-store', 'dynamodb/registration-store', 'dynamodb/registration-turns',
  'dynamodb/tunnel-repository', 'dynamodb/template-store', 'dynamodb/rollout-store',
];
const READS = ['dynamodb:GetItem', 'dynamodb:BatchGetItem', 'dynamodb:Query'];
const state = HANDLER_ENV.stateTable;
const audit = HANDLER_ENV.auditTable;
const appendAudit = tableCalls(audit, ['dynamodb/audit-log'], ['dynamodb:PutItem']);

const DEPROVISION: readonly AwsCall[] = [
  { action: 'iot:UpdateCertificate', resource: `${ARN}:iot:{region}:{account}:cert/c0ffee`, via: 'iot/device-registry' },
  { action: 'iot:ListThingPrincipals', resource: `${ARN}:iot:{region}:{account}:thing/h-1`, via: 'iot/device-registry' },
  { action: 'iot:DetachThingPrincipal', resource: `${ARN}:iot:{region}:{account}:cert/c0ffee`, via: 'iot/device-registry' },
  { action: 'iot:DeleteThing', resource: `${ARN}:iot:{region}:{account}:thing/h-1`, via: 'iot/device-registry' },
];
const PROVISION: readonly AwsCall[] = [
  { action: 'iot:CreateThing', resource: `${ARN}:iot:{region}:{account}:thing/h-1`, via: 'iot/device-registry' },
  { action: 'iot:CreateCertificateFromCsr', resource: '*', via: 'iot/device-registry' },
  { action: 'iot:AttachPolicy', resource: `${ARN}:iot:{region}:{account}:cert/c0ffee`, via: 'iot/device-registry' },
  { action: 'iot:AttachThingPrincipal', resource: `${ARN}:iot:{region}:{account}:cert/c0ffee`, via: 'iot/device-registry' },
  { action: 'iot:UpdateCertificate', resource: `${ARN}:iot:{region}:{account}:cert/c0ffee`, via: 'iot/device-registry' },
  { action: 'iot:DescribeEndpoint', resource: '*', via: 'iot/device-registry' },
  // Retiring the certificates a retried registration left (revoked with UpdateCertificate above).
  { action: 'iot:ListThingPrincipals', resource: `${ARN}:iot:{region}:{account}:thing/h-1`, via: 'iot/device-registry' },
  { action: 'iot:DetachThingPrincipal', resource: `${ARN}:iot:{region}:{account}:cert/c0ffee`, via: 'iot/device-registry' },
];

/** Reads the published agent manifest (that one key of the agent bucket): an agent update, or an agent-update rollout, checks the requested version. */
export const AGENT_MANIFEST_READ: AwsCall = {
  action: 's3:GetObject', resource: `${ARN}:s3:::{env:${HANDLER_ENV.agentManifestBucket}}/agent/manifest.json`, via: 's3/agent-artifact-store',
};

/** Calls on the agent manifest's KMS signing key. */
export const agentKeyCalls = (actions: readonly ('kms:Sign' | 'kms:GetPublicKey')[]): AwsCall[] => actions.map((action) => ({
  action, resource: `{env:${HANDLER_ENV.agentSigningKeyArn}}`, via: 'kms/agent-signing-key',
}));

/** The HTTP API functions, by POWERTOOLS_SERVICE_NAME. */
export const HTTP_AWS_CALLS: Readonly<Record<string, readonly AwsCall[]>> = {
  'edgefleet-api-meta': [...RUNTIME_CALLS],
  'edgefleet-api-tokens': [...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS), ...appendAudit, ...FINGERPRINT_KEY_CALLS],
  // The user-data carries the agent signing key's public half (download mode).
  'edgefleet-api-user-data': [...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS, READS), ...appendAudit, ...agentKeyCalls(['kms:GetPublicKey'])],
  // GET /v1/agent/…: the manifest and the artifacts' presigned GETs under agent/, signed with the agent key.
  'edgefleet-api-agent': [
    ...RUNTIME_CALLS, ...agentKeyCalls(['kms:Sign', 'kms:GetPublicKey']),
    ...['manifest.json', 'edgefleet-agent-linux-arm64'].map((file): AwsCall => ({
      action: 's3:GetObject', resource: `${ARN}:s3:::{env:${HANDLER_ENV.agentArtifactsBucket}}/agent/${file}`, via: 's3/agent-artifact-store',
    })),
  ],
  // Create, approve, reject and decommission derive the host's health (a change is published).
  'edgefleet-api-hosts': [
    ...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS), ...appendAudit, ...DEPROVISION, ...FINGERPRINT_KEY_CALLS, ...HEALTH_EVENT_CALLS,
    // An agent update: the host's open operations (gsi2, by target), then its agent-update command.
    indexQuery(state, 'gsi2', 'dynamodb/operation-repository'), ...COMMAND_PUBLISH_CALLS,
    // ... after checking the requested version against the published manifest (that one key of the agent bucket).
    AGENT_MANIFEST_READ,
  ],
  'edgefleet-api-profiles': [...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS), ...appendAudit, ...FINGERPRINT_KEY_CALLS],
  'edgefleet-api-clusters': [
    ...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS), ...appendAudit, ...FINGERPRINT_KEY_CALLS,
    // Create, scale, reconfigure, upgrade start workflows; pause, cancel, delete-during-create stop them.
    ...workflowCalls('states:StartExecution'), ...workflowCalls('states:StopExecution'),
    // Create and reconfigure store the cluster's secret variables (clusters/<id>/vars/<NAME>).
    ...secretCalls(['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue']),
    // GET /v1/clusters/{id}/kubeconfig.
    ...kubeconfigSecretCalls(['secretsmanager:GetSecretValue']),
    // Deleting a cluster template finds its attached clusters (gsi2).
    { action: 'dynamodb:Query', resource: `${table(state)}/index/gsi2`, via: 'dynamodb/cluster-repository' },
    // POST /v1/rollouts of kind agent-update checks the version against the published manifest.
    AGENT_MANIFEST_READ,
  ],
  'edgefleet-api-operations': [...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS, READS)],
  'edgefleet-api-audit': [...RUNTIME_CALLS, ...tableCalls(audit, ['dynamodb/audit-log'], ['dynamodb:Query'])],
  // Alert rules (and the project's rule count) on the state table; webhook keys created and deleted.
  'edgefleet-api-alerts': [
    ...RUNTIME_CALLS, ...tableCalls(state, [...HTTP_STATE_ADAPTERS, 'dynamodb/alert-store']), ...appendAudit, ...FINGERPRINT_KEY_CALLS,
    ...alertSecretCalls(['secretsmanager:CreateSecret', 'secretsmanager:PutSecretValue', 'secretsmanager:DeleteSecret']),
  ],
  // Asks a host for a bundle (records it, sends the command), presigns its upload and download.
  'edgefleet-api-diagnostics': [
    ...RUNTIME_CALLS, ...tableCalls(state, [...HTTP_STATE_ADAPTERS, 'dynamodb/diagnostics-repository']), ...appendAudit, ...COMMAND_PUBLISH_CALLS,
    ...FINGERPRINT_KEY_CALLS,
    ...(['s3:PutObject', 's3:GetObject'] as const).map((action): AwsCall => ({
      action, resource: `${ARN}:s3:::{env:${HANDLER_ENV.diagnosticsBucket}}/diagnostics/default/h-1/c0ffee.tar.gz`, via: 's3/bundle-store',
    })),
  ],
  // Remote shell: Secure Tunneling (a tunnel's id is the service's), and the troubleshoot-user command.
  'edgefleet-api-tunnels': [
    ...RUNTIME_CALLS, ...tableCalls(state, [...HTTP_STATE_ADAPTERS, 'dynamodb/troubleshoot-grant-repository']), ...appendAudit, ...COMMAND_PUBLISH_CALLS,
    // Revoking a grant finds its holder's open tunnels (gsi2: the tunnels not closed).
    indexQuery(state, 'gsi2', 'dynamodb/tunnel-repository'),
    // OpenTunnel has no resource type (IAM: "*"); the role limits it to the SSH service by condition.
    { action: 'iot:OpenTunnel', resource: '*', via: 'iot/secure-tunneling' },
    ...TUNNEL_CALLS,
  ],
  // Registration provisions (a refused or superseded certificate is revoked: UpdateCertificate).
  // A registration derives the host's health (unknown until it connects; a change is published).
  'edgefleet-api-device': [...RUNTIME_CALLS, ...tableCalls(state, HTTP_STATE_ADAPTERS), ...appendAudit, ...PROVISION, ...HEALTH_EVENT_CALLS],
};
