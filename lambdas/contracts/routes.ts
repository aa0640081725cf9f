/**
 * The HTTP route table: one definition read by the CDK API construct (routes, integrations,
 * authorizer, grants) and by the local runtime's HTTP server. Plain data; no CDK imports, so
 * `local/` can use it without synthesizing.
 */
export type ApiGroup = 'meta' | 'tokens' | 'user-data' | 'hosts' | 'profiles' | 'clusters' | 'operations' | 'audit' | 'device' | 'tunnels' | 'alerts'
  | 'diagnostics';
export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';
export type TableAccess = 'none' | 'read' | 'write' | 'readwrite';

export interface ApiRoute {
  readonly method: HttpMethod;
  /** API Gateway path with `{param}` placeholders. */
  readonly path: string;
  readonly group: ApiGroup;
  /** `jwt`: the JWT authorizer runs first; `none`: public (health, OpenAPI document). */
  readonly auth: 'jwt' | 'none';
}

export interface ApiGroupSpec {
  /** Handler module, relative to the repository root; it exports `handler`. */
  readonly entry: string;
  readonly stateTable: TableAccess;
  readonly auditTable: TableAccess;
  /** Request bodies above this many bytes are refused with 413 before parsing. */
  readonly maxBodyBytes: number;
  /** @default 10 */
  readonly timeoutSeconds?: number;
  /** @default 512 */
  readonly memoryMb?: number;
}

const KB = 1024;

export const API_GROUPS: Readonly<Record<ApiGroup, ApiGroupSpec>> = {
  meta: { entry: 'lambdas/handlers/http/meta.ts', stateTable: 'none', auditTable: 'none', maxBodyBytes: 0 },
  tokens: { entry: 'lambdas/handlers/http/tokens.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 16 * KB },
  'user-data': { entry: 'lambdas/handlers/http/user-data.ts', stateTable: 'read', auditTable: 'write', maxBodyBytes: 64 * KB },
  hosts: { entry: 'lambdas/handlers/http/hosts.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 4096 * KB, timeoutSeconds: 29, memoryMb: 1024 },
  profiles: { entry: 'lambdas/handlers/http/profiles.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 512 * KB },
  clusters: { entry: 'lambdas/handlers/http/clusters.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 64 * KB },
  operations: { entry: 'lambdas/handlers/http/operations.ts', stateTable: 'read', auditTable: 'none', maxBodyBytes: 0 },
  audit: { entry: 'lambdas/handlers/http/audit.ts', stateTable: 'none', auditTable: 'read', maxBodyBytes: 0 },
  device: { entry: 'lambdas/handlers/http/device.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 32 * KB },
  alerts: { entry: 'lambdas/handlers/http/alert-rules.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 16 * KB },
  /** Its own function: the only one that may presign bundle uploads and downloads (s3 on the bundle prefix). */
  diagnostics: { entry: 'lambdas/handlers/http/diagnostics.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 4 * KB },
  /** Remote shell: Secure Tunneling (OpenTunnel, CloseTunnel) and the troubleshoot-user command. */
  tunnels: { entry: 'lambdas/handlers/http/tunnels.ts', stateTable: 'readwrite', auditTable: 'write', maxBodyBytes: 8 * KB },
};

const r = (method: HttpMethod, path: string, group: ApiGroup, auth: 'jwt' | 'none' = 'jwt'): ApiRoute => ({ method, path, group, auth });

export const API_ROUTES: readonly ApiRoute[] = [
  r('GET', '/healthz', 'meta', 'none'),
  r('GET', '/v1/openapi.json', 'meta', 'none'),
  r('GET', '/v1/auth/config', 'meta', 'none'),

  r('POST', '/v1/registration-tokens', 'tokens'),
  r('GET', '/v1/registration-tokens', 'tokens'),
  r('GET', '/v1/registration-tokens/{id}', 'tokens'),
  r('DELETE', '/v1/registration-tokens/{id}', 'tokens'),

  r('POST', '/v1/user-data', 'user-data'),

  r('POST', '/v1/hosts', 'hosts'),
  r('POST', '/v1/hosts/batch', 'hosts'),
  r('GET', '/v1/hosts', 'hosts'),
  r('GET', '/v1/hosts/{hostId}', 'hosts'),
  r('PATCH', '/v1/hosts/{hostId}', 'hosts'),
  r('DELETE', '/v1/hosts/{hostId}', 'hosts'),
  r('POST', '/v1/hosts/{hostId}/approve', 'hosts'),
  r('POST', '/v1/hosts/{hostId}/reject', 'hosts'),
  r('POST', '/v1/hosts/{hostId}/decommission', 'hosts'),
  r('POST', '/v1/hosts/{hostId}/tunnels', 'tunnels'),
  r('GET', '/v1/hosts/{hostId}/tunnels', 'tunnels'),
  r('DELETE', '/v1/hosts/{hostId}/tunnels/{tunnelId}', 'tunnels'),
  r('POST', '/v1/hosts/{hostId}/tunnels/{tunnelId}/approve', 'tunnels'),
  r('POST', '/v1/hosts/{hostId}/tunnels/{tunnelId}/start', 'tunnels'),
  r('POST', '/v1/troubleshoot-grants', 'tunnels'),
  r('GET', '/v1/troubleshoot-grants', 'tunnels'),
  r('DELETE', '/v1/troubleshoot-grants/{grantId}', 'tunnels'),
  r('GET', '/v1/troubleshoot-settings', 'tunnels'),
  r('PATCH', '/v1/troubleshoot-settings', 'tunnels'),

  r('POST', '/v1/profiles', 'profiles'),
  r('GET', '/v1/profiles', 'profiles'),
  r('GET', '/v1/profiles/{name}', 'profiles'),
  r('POST', '/v1/profiles/{name}/versions', 'profiles'),
  r('GET', '/v1/profiles/{name}/versions', 'profiles'),
  r('GET', '/v1/profiles/{name}/versions/{version}', 'profiles'),
  r('POST', '/v1/profiles/{name}/versions/{version}/publish', 'profiles'),

  r('POST', '/v1/clusters', 'clusters'),
  r('GET', '/v1/clusters', 'clusters'),
  r('GET', '/v1/clusters/{clusterId}', 'clusters'),
  r('GET', '/v1/clusters/{clusterId}/kubeconfig', 'clusters'),
  r('DELETE', '/v1/clusters/{clusterId}', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/scale', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/reconfigure', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/upgrades', 'clusters'),
  r('GET', '/v1/clusters/{clusterId}/upgrades/{upgradeId}', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/upgrades/{upgradeId}/pause', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/upgrades/{upgradeId}/resume', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/upgrades/{upgradeId}/cancel', 'clusters'),
  r('POST', '/v1/clusters/{clusterId}/detach', 'clusters'),
  r('POST', '/v1/cluster-templates', 'clusters'),
  r('GET', '/v1/cluster-templates', 'clusters'),
  r('GET', '/v1/cluster-templates/{templateId}', 'clusters'),
  r('PATCH', '/v1/cluster-templates/{templateId}', 'clusters'),
  r('DELETE', '/v1/cluster-templates/{templateId}', 'clusters'),
  r('GET', '/v1/sites', 'clusters'),
  r('PATCH', '/v1/sites/{site}', 'clusters'),
  r('POST', '/v1/rollouts', 'clusters'),
  r('GET', '/v1/rollouts', 'clusters'),
  r('GET', '/v1/rollouts/{rolloutId}', 'clusters'),
  r('GET', '/v1/rollouts/{rolloutId}/clusters', 'clusters'),
  r('POST', '/v1/rollouts/{rolloutId}/pause', 'clusters'),
  r('POST', '/v1/rollouts/{rolloutId}/resume', 'clusters'),
  r('POST', '/v1/rollouts/{rolloutId}/cancel', 'clusters'),
  r('POST', '/v1/rollouts/{rolloutId}/promote', 'clusters'),

  r('GET', '/v1/operations', 'operations'),
  r('GET', '/v1/operations/{operationId}', 'operations'),

  r('GET', '/v1/audit-events', 'audit'),

  r('POST', '/v1/alert-rules', 'alerts'),
  r('GET', '/v1/alert-rules', 'alerts'),
  r('GET', '/v1/alert-rules/{ruleId}', 'alerts'),
  r('DELETE', '/v1/alert-rules/{ruleId}', 'alerts'),

  r('POST', '/v1/device/register', 'device', 'none'),

  r('POST', '/v1/hosts/{hostId}/agent-update', 'hosts'),
  r('POST', '/v1/hosts/{hostId}/diagnostics', 'diagnostics'),
  r('GET', '/v1/hosts/{hostId}/diagnostics', 'diagnostics'),
  r('GET', '/v1/hosts/{hostId}/diagnostics/{diagnosticsId}', 'diagnostics'),
];

export const routeKey = (route: Pick<ApiRoute, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** Environment variable names the handlers read (parsed once with zod at cold start). */
export const HANDLER_ENV = {
  stateTable: 'STATE_TABLE_NAME',
  auditTable: 'AUDIT_TABLE_NAME',
  apiUrl: 'EDGEFLEET_API_URL',
  auditRetentionDays: 'AUDIT_RETENTION_DAYS',
  /** Name of the IoT device policy attached to every device certificate (device and hosts groups). */
  iotPolicyName: 'IOT_POLICY_NAME',
  /** The stack's SNS alert topic: the one topic an alert rule's SNS target may name (alerts group, dispatcher). */
  alertTopicArn: 'ALERT_TOPIC_ARN',
  /** The S3 bucket of diagnostics bundles (the diagnostics routes presign uploads and downloads in it). */
  diagnosticsBucket: 'DIAGNOSTICS_BUCKET',
  /** Registrations admitted to the IoT registry per second (device group); unset: unlimited. */
  registerAdmissionPerSecond: 'REGISTER_ADMISSION_PER_SECOND',
  /** The S3 bucket of the agent's artifacts (keys under agent/; the agent routes read and presign there). */
  agentArtifactsBucket: 'AGENT_ARTIFACTS_BUCKET',
  /** The KMS asymmetric key (ECC_NIST_P256, SIGN_VERIFY) that signs the agent manifest (agent routes; user-data reads its public key). */
  agentSigningKeyArn: 'AGENT_SIGNING_KEY_ARN',
  /** "true" when the stack published the agent (npm run device:build's output): download becomes the user-data's default. */
  agentPublished: 'AGENT_PUBLISHED',
  /**
   * The agent bucket whose `agent/manifest.json` this function reads, and nothing else of it (the hosts
   * group: an agent update checks the published version). Set together with that one-key grant.
   */
  agentManifestBucket: 'AGENT_MANIFEST_BUCKET',
} as const;
