import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { EdgeFleetApi, type EdgeFleetApiProps, type JwtIssuerConfig } from './constructs/api.js';
import { DataTables, type DataTablesProps } from './constructs/data-tables.js';
import { ClusterWorkflows, machineSpecs, type ClusterWorkflowsProps } from './constructs/cluster-workflows.js';
import { Alerts } from './constructs/alerts.js';
import { HANDLER_ENV } from './api-routes.js';
import { grantCommandPublish, IotRules } from './constructs/iot-rules.js';
import { TunnelSweep } from './constructs/secure-tunneling.js';
import { DiagnosticsBucket, type DiagnosticsBucketProps } from './constructs/diagnostics-bucket.js';
import { cliSignInEnvironment, consoleSignInPlan } from './constructs/operator-identity.js';
import { ConsoleSite, consoleHosted, type ConsoleSiteProps } from './constructs/console-site.js';
import { AUTH_ENV } from '../lambdas/contracts/auth-config.js';
import { acknowledgeNag } from './nag.js';
import { bindTable } from './constructs/edge-function.js';
import { WORKFLOW_ENV } from '../lambdas/contracts/workflows.js';
import { AgentArtifacts } from './constructs/agent-artifacts.js';

/** Context keys read by the stack (e.g. `cdk synth -c edgefleet:jwtIssuer=https://…`). */
export const CONTEXT_KEYS = {
  stackName: 'edgefleet:stackName',
  jwtIssuer: 'edgefleet:jwtIssuer',
  /** Comma-separated list of audiences. */
  jwtAudience: 'edgefleet:jwtAudience',
  /** `true`: synthesize without esbuild bundling (bin/app.ts). */
  skipBundling: 'edgefleet:skipBundling',
  /** The directory of `npm run device:build`'s output to publish (e.g. `dist/device`); unset: no agent is published. */
  agentArtifacts: 'edgefleet:agentArtifacts',
} as const;

export interface EdgeFleetStackProps extends StackProps {
  /** @default - DataTables defaults (retained, deletion protection, 35 days PITR) */
  readonly data?: DataTablesProps;
  /**
   * API settings; `jwt` here wins over the `edgefleet:jwtIssuer`/`edgefleet:jwtAudience` context.
   * @default - EdgeFleetApi defaults, JWT issuer from context or a new Cognito user pool
   */
  readonly api?: Omit<EdgeFleetApiProps, 'stateTable' | 'auditTable'>;
  /** @default - ClusterWorkflows defaults (host timeout 30 min, execution timeout 24 h) */
  readonly workflows?: Omit<ClusterWorkflowsProps, 'stateTable' | 'auditTable'>;
  /** @default - bundles kept 7 days */
  readonly diagnostics?: DiagnosticsBucketProps;
  /**
   * The web console (S3 + CloudFront); `false`: none.
   * @default - console/dist on the distribution's *.cloudfront.net name; none where CloudFront is not offered (GovCloud, ISO)
   */
  readonly console?: Omit<ConsoleSiteProps, 'apiUrl' | 'connectSrc'> | false;
  /** `npm run device:build`'s output directory to publish; wins over the `edgefleet:agentArtifacts` context. @default - nothing published (user-data defaults to baked) */
  readonly agentArtifactsDir?: string;
}

/** The EdgeFleet control plane: data tables, the HTTP API, the IoT rules and the cluster workflows. */
export class EdgeFleetStack extends Stack {
  public readonly data: DataTables;
  public readonly api: EdgeFleetApi;
  public readonly iotRules: IotRules;
  public readonly tunnelSweep: TunnelSweep;
  public readonly workflows: ClusterWorkflows;
  public readonly alerts: Alerts;
  public readonly diagnostics: DiagnosticsBucket;
  public readonly console?: ConsoleSite;
  public readonly agent: AgentArtifacts;

  constructor(scope: Construct, id: string, props: EdgeFleetStackProps = {}) {
    super(scope, id, {
      description: 'EdgeFleet control plane for edge Kubernetes hosts',
      ...props,
    });
    // The ids 'Data', 'StateTable' and 'AuditTable' are a contract with the local runtime
    // (lib/template-tables.ts finds the tables by their aws:cdk:path).
    this.data = new DataTables(this, 'Data', props.data);
    this.api = new EdgeFleetApi(this, 'Api', {
      ...props.api,
      jwt: props.api?.jwt ?? jwtFromContext(this),
      stateTable: this.data.stateTable,
      auditTable: this.data.auditTable,
    });

    this.iotRules = new IotRules(this, 'IotRules', { stateTable: this.data.stateTable });
    // Remote shell: closes tunnels whose grant lapsed, expired or went idle, every minute.
    this.tunnelSweep = new TunnelSweep(this, 'TunnelSweep', {
      stateTable: this.data.stateTable, auditTable: this.data.auditTable, deadLetterQueue: this.iotRules.failedEvents,
    });

    // 'Workflows' and the state machine construct ids are a contract with local/step-functions.ts.
    this.workflows = new ClusterWorkflows(this, 'Workflows', {
      ...props.workflows,
      stateTable: this.data.stateTable,
      auditTable: this.data.auditTable,
    });
    this.wireWorkflows();

    this.alerts = new Alerts(this, 'Alerts', { stateTable: this.data.stateTable, deadLetterQueue: this.iotRules.failedEvents });
    this.workflows.grantAlertSecrets(this.alerts.dispatcher, 'read');
    this.workflows.grantAlertSecrets(this.alerts.sweeper, 'read');
    this.workflows.grantAlertSecrets(this.api.functions.alerts, 'manage');
    this.api.functions.alerts.function.addEnvironment(HANDLER_ENV.alertTopicArn, this.alerts.topicArn);
    new CfnOutput(this, 'AlertTopicArn', { value: this.alerts.topic.topicArn, description: 'SNS topic alert rules may target (subscribe e-mail, SQS, chat bridges to it)' });
    // Diagnostics bundles: the diagnostics routes presign uploads and downloads and send the host its command.
    this.diagnostics = new DiagnosticsBucket(this, 'Diagnostics', props.diagnostics);
    this.diagnostics.grantPresign(this.api.functions.diagnostics);
    grantCommandPublish(this.api.functions.diagnostics);
    // A collect-diagnostics command re-sent on reconnect gets its upload form presigned then (never stored).
    this.diagnostics.grantPresign(this.iotRules.functions['pending-commands'], ['s3:PutObject']);
    // The agent's signed artifacts (S3 + a KMS key) behind GET /v1/agent/…; the user-data carries the key's public half.
    const agentDir = props.agentArtifactsDir ?? (this.node.tryGetContext(CONTEXT_KEYS.agentArtifacts) as string | undefined);
    this.agent = new AgentArtifacts(this, 'Agent', {
      httpApi: this.api.httpApi, logRetention: props.api?.functionLogRetention, logLevel: props.api?.logLevel, ...(agentDir ? { artifactsDir: String(agentDir) } : {}),
    });
    this.agent.grantPublicKey(this.api.functions['user-data']);
    // POST /v1/hosts/{hostId}/agent-update checks the published version: agent/manifest.json only.
    this.agent.grantManifestRead(this.api.functions.hosts);
    // So do agent-update rollouts: at POST /v1/rollouts (clusters function) and in each tick (workflow step function).
    this.agent.grantManifestRead(this.api.functions.clusters);
    this.agent.grantManifestRead(this.workflows.functions.step);

    new CfnOutput(this, 'ApiUrl', { value: this.api.url, description: 'Base URL of the HTTP API' });
    new CfnOutput(this, 'StateTableName', { value: this.data.stateTable.tableName });
    new CfnOutput(this, 'AuditTableName', { value: this.data.auditTable.tableName });
    new CfnOutput(this, 'JwtIssuer', { value: this.api.jwtIssuer, description: 'Accepted JWT issuer (iss)' });
    new CfnOutput(this, 'FailedEventsQueueUrl', {
      value: this.iotRules.failedEvents.queueUrl,
      description: 'Device messages and sweep runs that failed after their retries (kept 14 days); alarm on its depth',
    });
    new CfnOutput(this, 'DiagnosticsBucketName', { value: this.diagnostics.bucket.bucketName, description: 'Diagnostics bundles (presigned upload and download; expire after days)' });
    new CfnOutput(this, 'DevicePolicyName', { value: this.api.devices.policyName, description: 'IoT policy attached to every device certificate' });
    for (const [kind, spec] of machineSpecs()) {
      new CfnOutput(this, `${spec.constructId}StateMachineArn`, { value: this.workflows.stateMachines[kind].stateMachineArn, description: `State machine of ${kind}` });
    }
    if (this.api.identity) {
      new CfnOutput(this, 'UserPoolId', { value: this.api.identity.userPool.userPoolId });
      new CfnOutput(this, 'UserPoolClientId', { value: this.api.identity.client.userPoolClientId });
      new CfnOutput(this, 'LoginDomain', { value: this.api.identity.domainUrl, description: 'Managed login pages of the user pool' });
    }
    // `edgefleet login --url <ApiUrl>` reads these from GET /v1/auth/config.
    const signIn = cliSignInEnvironment(this, this.api.jwtIssuer, this.api.jwtAudience, this.api.identity);
    for (const [k, v] of Object.entries(signIn)) this.api.functions.meta.function.addEnvironment(k, v);
    // The web console (S3 + CloudFront); it signs in with its own client (GET /v1/auth/config's `console`).
    if (props.console !== false && consoleHosted(this)) {
      const consoleSignIn = consoleSignInPlan(this, this.api.jwtIssuer, signIn, this.api.identity);
      this.console = new ConsoleSite(this, 'Console', { ...props.console, apiUrl: this.api.url, connectSrc: consoleSignIn.connectSrc });
      this.api.functions.meta.function.addEnvironment(AUTH_ENV.console, this.toJsonString(consoleSignIn.settings(this.console.url)));
      new CfnOutput(this, 'ConsoleUrl', { value: this.console.url, description: 'The web console (sign in with the user pool or the OIDC issuer)' });
    }
    new CfnOutput(this, 'CliClientId', { value: signIn[AUTH_ENV.clientId]!, description: 'Public OIDC client that `edgefleet login` signs in with (PKCE, loopback redirect)' });
    new CfnOutput(this, 'LoginCommand', { value: `edgefleet login --url ${this.api.url}`, description: 'How an operator signs in' });
  }

  /**
   * Who may do what with the workflows: the clusters API starts them; the results handler
   * completes host tasks; the pending-commands handler re-sends commands (reading the join
   * token) and fails the tasks of expired ones; the command sweeper fails timed-out tasks,
   * stops overdue executions and restarts lost ones.
   */
  private wireWorkflows(): void {
    const wf = this.workflows;
    const clusters = this.api.functions.clusters;
    wf.grantStart(clusters.function);
    // Pause and cancel of an upgrade, and deleting a cluster whose create still runs, stop executions.
    wf.grantStop(clusters.function);
    // Create and reconfigure store a cluster's secret profile variables.
    wf.grantSecretWrite(clusters);
    for (const [k, v] of Object.entries(wf.environment())) clusters.function.addEnvironment(k, v);
    // GET /v1/clusters/{id}/kubeconfig reads it; the results handler stores what the init node returns.
    wf.grantKubeconfig(clusters, 'read');

    // Routes that take an Idempotency-Key fingerprint requests with the deployment's HMAC key.
    for (const group of IDEMPOTENT_GROUPS) wf.grantFingerprintKey(this.api.functions[group]);

    const results = this.iotRules.functions.results;
    wf.grantTaskResponse(results);
    wf.grantKubeconfig(results, 'write');
    results.function.addEnvironment(WORKFLOW_ENV.stateMachines, wf.environment()[WORKFLOW_ENV.stateMachines]!);

    // Re-sends stored commands (join tokens filled in) and times out overdue ones (fails their tasks).
    const pending = this.iotRules.functions['pending-commands'];
    wf.grantTaskResponse(pending, { failureOnly: true });
    wf.grantSecretRead(pending);
    for (const [k, v] of Object.entries(wf.environment())) pending.function.addEnvironment(k, v);

    // Zero-touch: a site host's connect or disconnect checks its site; the check builds the site's
    // cluster from its template (create) or adds new hosts as workers (scale-out), audited, and
    // copies the template's secret variables to the cluster's (read, then written).
    const presence = this.iotRules.functions.presence;
    wf.grantStartOf(presence.function, ['create-cluster', 'scale-out']);
    wf.grantSecretRead(presence);
    wf.grantSecretWrite(presence);
    for (const [k, v] of Object.entries(wf.environment())) presence.function.addEnvironment(k, v);
    bindTable(presence, this.data.auditTable, HANDLER_ENV.auditTable, 'write', { appendOnly: true });

    const sweeper = this.iotRules.commandSweeper;
    wf.grantStart(sweeper.function);
    wf.grantStop(sweeper.function);
    wf.grantTaskResponse(sweeper, { failureOnly: true });
    for (const [k, v] of Object.entries(wf.environment())) sweeper.function.addEnvironment(k, v);
    for (const finding of wf.stopFindings()) {
      for (const role of [sweeper.role, clusters.role]) {
        acknowledgeNag(role, finding,
          'StopExecution is granted per execution; executions are named after operations, so the wildcard is the execution name under this one state machine.');
      }
    }
  }
}

/** The API groups with routes that honour Idempotency-Key (a unit test holds this equal to the handlers' route specs). */
export const IDEMPOTENT_GROUPS = ['tokens', 'hosts', 'profiles', 'clusters', 'diagnostics', 'alerts'] as const;

/** Reads an external issuer from context; both keys or neither. */
export function jwtFromContext(scope: Construct): JwtIssuerConfig | undefined {
  const issuer = scope.node.tryGetContext(CONTEXT_KEYS.jwtIssuer) as unknown;
  const audience = scope.node.tryGetContext(CONTEXT_KEYS.jwtAudience) as unknown;
  const present = (v: unknown) => v !== undefined && v !== null && v !== '';
  if (!present(issuer) && !present(audience)) return undefined;
  if (!present(issuer) || !present(audience)) {
    throw new Error(`Set both ${CONTEXT_KEYS.jwtIssuer} and ${CONTEXT_KEYS.jwtAudience}, or neither`);
  }
  if (typeof issuer !== 'string') throw new Error(`${CONTEXT_KEYS.jwtIssuer} must be a string`);
  const list = Array.isArray(audience) ? audience.map(String) : String(audience).split(',');
  return { issuer: issuer.trim(), audience: list.map((a) => a.trim()).filter((a) => a.length > 0) };
}
