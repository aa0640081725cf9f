/**
 * The composition root: every adapter is built here, once, and shared by the HTTP routes, the
 * IoT rule targets, the workflow tasks and the schedule. A runtime brings what differs (the
 * DynamoDB client, the command publisher, the device registry, the workflow engine, the
 * secret store): `awsRoot` the AWS ones, created lazily at cold start; `local/runtime.ts` its
 * own (DynamoDB Local, the local broker, the local CA, aws-local-stepfunctions, files).
 */
import type { AgentArtifactStore, AgentManifestReader, AgentSigningKey } from '../ports/agent-artifacts.js';
import { KMSClient } from '@aws-sdk/client-kms';
import { KmsAgentSigningKey } from '../adapters/kms/agent-signing-key.js';
import { S3AgentArtifactStore } from '../adapters/s3/agent-artifact-store.js';
import { AGENT_KEY_PREFIX } from '../contracts/agent-artifacts.js';
import { manifestReader, type AgentArtifactDeps } from '../use-cases/agent-artifacts.js';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { IoTClient } from '@aws-sdk/client-iot';
import { EventBridgePublisher } from '../adapters/events/eventbridge-publisher.js';
import { DynamoHealthStore } from '../adapters/dynamodb/health-store.js';
import type { EventPublisher } from '../ports/health.js';
import type { HealthDeps } from '../use-cases/refresh-health.js';
import { SNSClient } from '@aws-sdk/client-sns';
import { DynamoAlertRuleRepository, DynamoNotificationLedger } from '../adapters/dynamodb/alert-store.js';
import { HttpWebhookSender } from '../adapters/http/webhook-sender.js';
import { AwsSnsPublisher } from '../adapters/sns/sns-publisher.js';
import type { AlertRuleRepository, SnsPublisher, WebhookSender } from '../ports/alerts.js';
import type { AlertingSettings } from '../use-cases/alert-rules.js';
import type { DispatchDeps } from '../use-cases/dispatch-alerts.js';
import type { AlertSweepDeps } from '../use-cases/renotify-alerts.js';
import { S3Client } from '@aws-sdk/client-s3';
import { IoTSecureTunnelingClient } from '@aws-sdk/client-iotsecuretunneling';
import { DynamoAuditLog } from '../adapters/dynamodb/audit-log.js';
import { makeDocClient, type DocClient } from '../adapters/dynamodb/client.js';
import { DynamoClusterRepository } from '../adapters/dynamodb/cluster-repository.js';
import { DynamoCommandStore, DynamoPresenceWriter, DynamoStatusStore } from '../adapters/dynamodb/device-plane-stores.js';
import { DynamoHostLifecycleReader } from '../adapters/dynamodb/host-lifecycle-reader.js';
import { DynamoHostRepository } from '../adapters/dynamodb/host-repository.js';
import { DynamoIdempotencyStore } from '../adapters/dynamodb/idempotency-store.js';
import { DynamoOperationRepository } from '../adapters/dynamodb/operation-repository.js';
import { DynamoProfileRepository } from '../adapters/dynamodb/profile-repository.js';
import { DynamoRegistrationStore } from '../adapters/dynamodb/registration-store.js';
import { DynamoRegistrationTurns } from '../adapters/dynamodb/registration-turns.js';
import { DynamoTokenRepository } from '../adapters/dynamodb/token-repository.js';
import { DynamoTroubleshootGrantRepository } from '../adapters/dynamodb/troubleshoot-grant-repository.js';
import { DynamoTunnelRepository } from '../adapters/dynamodb/tunnel-repository.js';
import { AwsTunnelService } from '../adapters/iot/secure-tunneling.js';
import { IotCommandPublisher } from '../adapters/iot/command-publisher.js';
import { IotDeviceRegistry } from '../adapters/iot/device-registry.js';
import { DynamoSiteStatusStore, DynamoTemplateRepository } from '../adapters/dynamodb/template-store.js';
import type { SiteStatusStore, TemplateRepository } from '../ports/templates.js';
import type { RolloutStore, SiteSettingsStore } from '../ports/rollouts.js';
import { DynamoRolloutStore, DynamoSiteSettingsStore } from '../adapters/dynamodb/rollout-store.js';
import type { RolloutDeps } from '../use-cases/rollout-deps.js';
import { checkHostSite, type SiteClusterDeps } from '../use-cases/site-clusters.js';
import { x509CsrInspector } from '../adapters/x509/csr-inspector.js';
import { DynamoDiagnosticsRepository } from '../adapters/dynamodb/diagnostics-repository.js';
import { S3BundleStore } from '../adapters/s3/bundle-store.js';
import type { BundleStore, DiagnosticsRepository } from '../ports/diagnostics.js';
import type { AuditLog, Clock, IdempotencyStore, IdGenerator } from '../ports/index.js';
import type { CommandPublisher, CommandStore } from '../ports/device-plane.js';
import type { CsrInspector, DeviceRegistry, RegistrationStore, RegistrationTurns } from '../ports/device-registry.js';
import type { SecretStore, WorkflowEngine } from '../ports/workflow.js';
import type { TunnelService } from '../ports/tunnels.js';
import type { TunnelDeps } from '../use-cases/tunnel-deps.js';
import { IDEMPOTENCY_KEY_SECRET } from '../contracts/workflows.js';
import type { DeviceDeps } from '../use-cases/device-deps.js';
import type { UpgradeDeps } from '../use-cases/upgrades.js';
import { awsSecretStore, awsWorkflowEngine, cryptoIds } from './aws-building-blocks.js';
import { ConfigError, loadConfig, loadConfigRequirements, setting, SETTING_ENV, type EdgeFleetConfig, type RequiredSetting } from './config.js';
import { currentTracer } from './observability.js';
import { UnavailableError } from '../domain/errors.js';

export interface HttpConfig {
  readonly stateTable: string;
  readonly auditTable: string;
  /** Public base URL of this API (written into user-data for the agents). */
  readonly apiUrl: string;
  readonly auditRetentionDays: number;
  /** IoT device policy name (functions that provision or decommission devices). */
  readonly iotPolicyName?: string;
}

export interface HttpDeps extends UpgradeDeps {
  readonly idempotency: IdempotencyStore;
  /** The deployment's HMAC key for Idempotency-Key fingerprints (read once per process, from the secret store). */
  readonly fingerprintKey: () => Promise<string>;
  /** Reads the clusters' kubeconfigs (GET /v1/clusters/{id}/kubeconfig); keeps the alert rules' webhook keys. */
  readonly secrets: Pick<SecretStore, 'get' | 'put' | 'delete'>;
  readonly config: HttpConfig;
  readonly registry: DeviceRegistry;
  readonly csr: CsrInspector;
  readonly registrations: RegistrationStore;
  readonly alertRules: AlertRuleRepository;
  readonly alerting: AlertingSettings;
  /** Diagnostics requests, the bundles' presigned URLs, and the command they send the host. */
  readonly diagnostics: DiagnosticsRepository;
  readonly bundles: BundleStore;
  readonly commands: CommandStore;
  readonly publisher: CommandPublisher;
  /** Remote shell: the tunnel records, AWS IoT Secure Tunneling (or the local relay), the command channel. */
  readonly tunnels: TunnelDeps;
  /** Cluster templates and the sites' zero-touch status. */
  readonly templates: TemplateRepository;
  readonly sites: SiteStatusStore;
  /** Fleet rollouts and the sites' settings (time zone). */
  readonly rollouts: RolloutStore;
  readonly siteSettings: SiteSettingsStore;
  /** Registrations admitted to the IoT registry per second and their turns (POST /v1/device/register); absent: unlimited. */
  readonly admission?: { readonly perSecond: number; readonly turns: RegistrationTurns };
  /** The agent manifest's signing key (its public half goes into the user-data); absent where the deployment publishes no agent. */
  readonly agentSigning?: AgentSigningKey;
  /** The published agent manifest (POST /v1/hosts/{hostId}/agent-update checks the version); absent where no agent is published to this function. */
  readonly agentManifest?: AgentManifestReader;
}

/** What a runtime brings; everything else is built from the configuration. */
export interface RuntimeAdapters {
  readonly db: DocClient;
  readonly publisher: CommandPublisher;
  readonly registry: DeviceRegistry;
  readonly workflows: WorkflowEngine;
  readonly secrets: SecretStore;
  /** Where health changes go (EventBridge on AWS; the local alert dispatcher locally). @default dropped (runtimes without alerting) */
  readonly events?: EventPublisher;
  /** How alert notifications leave (webhooks; SNS on AWS). @default webhooks to public https addresses only, no SNS */
  readonly notify?: { readonly webhooks: WebhookSender; readonly sns?: SnsPublisher; readonly allowLoopbackWebhooks: boolean };
  /** Where diagnostics bundles go; without one, asking for a bundle fails naming DIAGNOSTICS_BUCKET. */
  readonly bundles?: BundleStore;
  /** AWS IoT Secure Tunneling, or the local relay; without it opening a tunnel fails (503). */
  readonly tunnelService?: TunnelService;
  /** The key that signs the agent's manifest; without it user-data with agentInstall "download" fails (503). */
  readonly agentSigning?: AgentSigningKey;
  /** The published agent (GET /v1/agent/…); without it and agentSigning those routes answer 503. */
  readonly agentStore?: AgentArtifactStore;
  /**
   * The published manifest's version for agent updates, where it is read apart from the store
   * (on AWS the hosts function reads agent/manifest.json and nothing else). @default read from agentStore
   */
  readonly agentManifest?: AgentManifestReader;
  readonly clock?: Clock;
  readonly ids?: IdGenerator;
}

/** The dependencies of each kind of entry point, over one set of adapters. */
export interface Root {
  readonly config: EdgeFleetConfig;
  readonly http: HttpDeps;
  readonly device: DeviceDeps;
  readonly workflow: RolloutDeps;
  /** The alert dispatcher (EventBridge rule target on AWS; the local event bus's subscriber). */
  readonly alerts: DispatchDeps;
  /** The re-notify sweep of open alerts (an EventBridge schedule on AWS; a timer locally). */
  readonly alertSweep: AlertSweepDeps;
  /** GET /v1/agent/…: the published agent and its signing key (absent where nothing is published). */
  readonly agent: AgentArtifactDeps;
}

const systemClock: Clock = { now: () => new Date() };

const noTunnels = async (): Promise<never> => {
  throw new UnavailableError('tunnels-not-configured', 'this runtime has no Secure Tunneling service wired: remote shell is unavailable here');
};
const unwiredTunnels: TunnelService = { open: noTunnels, close: noTunnels, describe: noTunnels, endpoint: noTunnels };

/**
 * An adapter on a table this function was deployed without: any use fails naming the
 * variable (IAM would refuse the call anyway; this says why).
 */
function unconfigured<T extends object>(name: RequiredSetting): T {
  const fail = async () => { throw new ConfigError(`EdgeFleet configuration lacks ${SETTING_ENV[name]}: this function was deployed without that table, so it cannot use it`); };
  return new Proxy({}, { get: (_t, p) => (p === 'then' ? undefined : fail) }) as T;
}

/** No bucket configured: presigning fails naming the variable. */
function unconfiguredBucket(): BundleStore {
  const fail = async (): Promise<never> => { throw new ConfigError('EdgeFleet configuration lacks DIAGNOSTICS_BUCKET: this function was deployed without the diagnostics bucket, so it cannot presign bundle uploads or downloads'); };
  return { presignUpload: fail, presignDownload: fail };
}

export function composeRoot(config: EdgeFleetConfig, adapters: RuntimeAdapters): Root {
  const { db, publisher, registry, workflows, secrets } = adapters;
  const clock = adapters.clock ?? systemClock;
  const ids = adapters.ids ?? cryptoIds;
  const onState = <T extends object>(make: (table: string) => T): T => (config.stateTable ? make(config.stateTable) : unconfigured<T>('stateTable'));

  const tokens = onState((t) => new DynamoTokenRepository(db, t));
  const hosts = onState((t) => new DynamoHostRepository(db, t));
  const profiles = onState((t) => new DynamoProfileRepository(db, t));
  const clusters = onState((t) => new DynamoClusterRepository(db, t));
  const operations = onState((t) => new DynamoOperationRepository(db, t));
  const status = onState((t) => new DynamoStatusStore(db, t));
  const presence = onState((t) => new DynamoPresenceWriter(db, t));
  const commands = onState((t) => new DynamoCommandStore(db, t));
  const hostLifecycle = onState((t) => new DynamoHostLifecycleReader(db, t));
  const idempotency = onState((t) => new DynamoIdempotencyStore(db, t));
  const registrations = onState((t) => new DynamoRegistrationStore(db, t));
  const healthStore = onState((t) => new DynamoHealthStore(db, t));
  const alertRules = onState((t) => new DynamoAlertRuleRepository(db, t));
  const ledger = onState((t) => new DynamoNotificationLedger(db, t));
  const notify = adapters.notify ?? { webhooks: new HttpWebhookSender({ allowLoopback: false }), allowLoopbackWebhooks: false };
  const alerting: AlertingSettings = { allowLoopbackWebhooks: notify.allowLoopbackWebhooks, ...(config.alertTopicArn ? { snsTopicArn: config.alertTopicArn } : {}) };
  const diagnostics = onState((t) => new DynamoDiagnosticsRepository(db, t));
  const templates = onState((t) => new DynamoTemplateRepository(db, t));
  const sites = onState((t) => new DynamoSiteStatusStore(db, t));
  const rollouts = onState((t) => new DynamoRolloutStore(db, t));
  const siteSettings = onState((t) => new DynamoSiteSettingsStore(db, t));
  const bundles = adapters.bundles ?? unconfiguredBucket();
  const audit = config.auditTable
    ? new DynamoAuditLog(db, config.auditTable, config.auditRetentionDays)
    : unconfigured<AuditLog>('auditTable');

  const health: HealthDeps = { clock, store: healthStore, events: adapters.events ?? { publish: async () => undefined }, clusters };
  const siteClusters: SiteClusterDeps = {
    clock, ids, tokens, hosts, profiles, clusters, operations, audit, workflows, workflowSettings: config.workflowSettings, secrets, templates, sites,
  };
  const device: DeviceDeps = { clock, presence, status, commands, operations, agentUpdates: operations, publisher, hostLifecycle, secrets, workflows, clusters, diagnostics, health,
    ...(config.fullReportIntervalMs ? { fullReportIntervalMs: config.fullReportIntervalMs } : {}),
    ...(adapters.bundles ? { bundles: adapters.bundles } : {}), checkSite: (hostId) => checkHostSite(siteClusters, hostId) };
  // The published agent manifest: read from S3 by the functions granted that one key (AWS), or from the artifact store (local).
  const agentManifest = adapters.agentManifest ?? (adapters.agentStore ? manifestReader(adapters.agentStore) : undefined);
  const workflow: RolloutDeps = {
    ...device, ids, tokens, hosts, profiles, clusters, operations, audit, secrets, workflows, settings: config.workflowSettings,
    rollouts, siteSettings, templates,
    // An agent-update rollout's host targets check the published version as POST /v1/hosts/{id}/agent-update does.
    ...(agentManifest ? { agentManifest } : {}),
  };
  const httpConfig: HttpConfig = {
    // Read when used: a function without the table never asks for its name.
    get stateTable() { return setting(config, 'stateTable'); },
    get auditTable() { return setting(config, 'auditTable'); },
    get apiUrl() { return setting(config, 'apiUrl'); },
    auditRetentionDays: config.auditRetentionDays,
    ...(config.iotPolicyName ? { iotPolicyName: config.iotPolicyName } : {}),
  };
  const tunnels: TunnelDeps = {
    clock, ids, hosts, audit, status, commands, publisher, secrets,
    tunnels: onState((t) => new DynamoTunnelRepository(db, t)),
    tunnelService: adapters.tunnelService ?? unwiredTunnels,
    grants: onState((t) => new DynamoTroubleshootGrantRepository(db, t)),
  };
  const http: HttpDeps = {
    workflows, workflowSettings: config.workflowSettings, clock, ids,
    tokens, hosts, status, profiles, clusters, operations, audit, idempotency, fingerprintKey: fingerprintKeyLoader(secrets),
    config: httpConfig, registry, csr: x509CsrInspector, registrations, secrets, tunnels, diagnostics, bundles, commands, publisher, alertRules, alerting, health,
    templates, sites, rollouts, siteSettings,
    ...(config.registerAdmissionPerSecond ? { admission: { perSecond: config.registerAdmissionPerSecond, turns: onState((t) => new DynamoRegistrationTurns(db, t)) } } : {}),
    ...(adapters.agentSigning ? { agentSigning: adapters.agentSigning } : {}),
    ...(agentManifest ? { agentManifest } : {}),
  };
  const alerts: DispatchDeps = { clock, ids, alertRules, ledger, secrets, webhooks: notify.webhooks, ...(notify.sns ? { sns: notify.sns } : {}) };
  const alertSweep: AlertSweepDeps = {
    clock, ids, alertRules, ledger, secrets, webhooks: notify.webhooks, health: healthStore, clusters, ...(notify.sns ? { sns: notify.sns } : {}),
  };
  const agent: AgentArtifactDeps = {
    ...(adapters.agentSigning ? { signing: adapters.agentSigning } : {}), ...(adapters.agentStore ? { store: adapters.agentStore } : {}),
  };
  return { config, http, device, workflow, alerts, alertSweep, agent };
}

/** Reads the fingerprint key once (a failed read is retried by the next request); a missing key is a deployment error. */
function fingerprintKeyLoader(secrets: Pick<SecretStore, 'get'>): () => Promise<string> {
  let loading: Promise<string> | undefined;
  return () => (loading ??= secrets.get(IDEMPOTENCY_KEY_SECRET).then((v) => {
    if (!v) throw new ConfigError(`the secret ${IDEMPOTENCY_KEY_SECRET} (under the stack's secret prefix) is missing: the stack creates it; redeploy the stack`);
    return v;
  }).catch((e: unknown) => { loading = undefined; throw e; }));
}

/**
 * The agent's adapters on AWS. The stack sets AGENT_PUBLISHED where it deployed a build of the
 * agent: only then is there a signing key here, so only then does the user-data default to (and
 * allow) download, and do the agent routes serve anything; elsewhere both stay absent (baked, 503).
 * AGENT_MANIFEST_BUCKET (the hosts and clusters functions, the workflow step function) wires only the manifest's version, read from S3.
 */
export function awsAgentAdapters(config: EdgeFleetConfig, clients: { kms?: KMSClient; s3?: S3Client } = {}): Pick<RuntimeAdapters, 'agentSigning' | 'agentStore' | 'agentManifest'> {
  const agent = config.agent;
  // The functions that check a requested agent version: the manifest only (their roles may read agent/manifest.json and nothing else of the bucket).
  const manifest = config.agentManifestBucket
    ? { agentManifest: manifestReader(new S3AgentArtifactStore(clients.s3 ?? new S3Client({ maxAttempts: 3 }), config.agentManifestBucket, AGENT_KEY_PREFIX)) }
    : {};
  if (!agent?.published || !agent.signingKeyArn) return manifest;
  return {
    ...manifest,
    agentSigning: new KmsAgentSigningKey(clients.kms ?? new KMSClient({ maxAttempts: 3 }), agent.signingKeyArn),
    ...(agent.bucket ? { agentStore: new S3AgentArtifactStore(clients.s3 ?? new S3Client({ maxAttempts: 3 }), agent.bucket, AGENT_KEY_PREFIX) } : {}),
  };
}

let aws: Root | undefined;
let awsConfigCache: EdgeFleetConfig | undefined;

/** The function's configuration, parsed from its environment once (the only read of `process.env`). */
export function awsConfig(required: readonly RequiredSetting[] = []): EdgeFleetConfig {
  awsConfigCache ??= loadConfig(process.env);
  // The requirements of this entry point, checked on the parsed values (same message as loadConfig).
  loadConfigRequirements(awsConfigCache, required);
  return awsConfigCache;
}

/**
 * The AWS root, composed on the first invocation (cold start) from the function's environment;
 * `required` names what this entry point cannot run without (checked then, before any work).
 * No client sends anything until a use case calls it.
 */
export function awsRoot(required: readonly RequiredSetting[]): Root {
  if (aws) return aws;
  const config = awsConfig(required);
  aws = composeRoot(config, {
    db: makeDocClient({}, (c) => currentTracer()?.captureAWSv3Client(c) ?? c),
    publisher: new IotCommandPublisher(),
    registry: new IotDeviceRegistry(new IoTClient({ maxAttempts: 5 }), { policyName: config.iotPolicyName ?? '' }),
    workflows: awsWorkflowEngine(config),
    secrets: awsSecretStore(config),
    events: new EventBridgePublisher(new EventBridgeClient({ maxAttempts: 5 })),
    notify: { webhooks: new HttpWebhookSender({ allowLoopback: false }), sns: new AwsSnsPublisher(new SNSClient({ maxAttempts: 5 })), allowLoopbackWebhooks: false },
    ...(config.diagnosticsBucket ? { bundles: new S3BundleStore(new S3Client({ maxAttempts: 3 }), config.diagnosticsBucket) } : {}),
    tunnelService: new AwsTunnelService(new IoTSecureTunnelingClient({ maxAttempts: 3 })),
    ...awsAgentAdapters(config),
  });
  return aws;
}
