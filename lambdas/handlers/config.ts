/**
 * The one configuration of every Lambda entry point: one zod schema over the environment that
 * lib/ sets (HANDLER_ENV, WORKFLOW_ENV), parsed once at cold start. An invalid value, or a
 * variable the function needs but lacks, fails the cold start with a message naming the
 * variable. No other module reads `process.env` for configuration.
 */
import { z } from 'zod';
import { authConfigFromEnv, type AuthConfig } from '../contracts/auth-config.js';
import { HANDLER_ENV } from '../contracts/routes.js';
import { machineKind, WORKFLOW_ENV, type MachineKind } from '../contracts/workflows.js';
import { DEFAULT_WORKFLOW_SETTINGS, type WorkflowSettings } from '../use-cases/workflows/deps.js';

/** Audit events are kept this long unless AUDIT_RETENTION_DAYS says otherwise (lib/ sets the same default). */
export const DEFAULT_AUDIT_RETENTION_DAYS = 365;

export interface EdgeFleetConfig {
  readonly stateTable?: string;
  readonly auditTable?: string;
  /** Public base URL of this API, without a trailing slash (written into user-data for the agents). */
  readonly apiUrl?: string;
  readonly auditRetentionDays: number;
  /** IoT device policy name (functions that provision or decommission devices). */
  readonly iotPolicyName?: string;
  readonly stateMachineArns?: Readonly<Record<MachineKind, string>>;
  readonly secretPrefix?: string;
  readonly workflowSettings: WorkflowSettings;
  /** The stack's SNS alert topic (alert rules with an SNS target must name it). */
  readonly alertTopicArn?: string;
  /** The OIDC client operators sign in with (GET /v1/auth/config), when the stack names one. */
  readonly signIn?: AuthConfig;
  /** The diagnostics bundles' bucket (the diagnostics routes). */
  readonly diagnosticsBucket?: string;
  /** Registrations admitted to the IoT registry per second (domain/admission.ts); undefined: unlimited. */
  readonly registerAdmissionPerSecond?: number;
  /** The agent's artifacts (bucket and signing key) where the stack deployed them; `published` when it published a build. */
  readonly agent?: { readonly bucket?: string; readonly signingKeyArn?: string; readonly published: boolean };
  /** The agent bucket whose manifest (agent/manifest.json, only that key) this function reads: the published version an agent update checks. */
  readonly agentManifestBucket?: string;
  /** How often an unchanged status is refreshed (set by the local runtime for benchmarks; Lambda keeps the hourly default). */
  readonly fullReportIntervalMs?: number;
}

/** A setting an entry point cannot run without (checked at cold start, before any request). */
export type RequiredSetting = 'stateTable' | 'auditTable' | 'apiUrl';

/** The environment variable behind each setting, for messages. */
export const SETTING_ENV: Readonly<Record<RequiredSetting, string>> = {
  stateTable: HANDLER_ENV.stateTable, auditTable: HANDLER_ENV.auditTable, apiUrl: HANDLER_ENV.apiUrl,
};

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

const arnMap = z.string().transform((s, ctx) => {
  let json: unknown;
  try {
    json = JSON.parse(s);
  } catch {
    json = undefined;
  }
  const parsed = z.record(machineKind, z.string().startsWith('arn:')).safeParse(json);
  if (parsed.success) return parsed.data;
  ctx.addIssue({ code: 'custom', message: 'must be a JSON object {kind: stateMachineArn} covering every workflow' });
  return z.NEVER;
});

const tableName = z.string().min(3).max(255);

const envSchema = z.object({
  [HANDLER_ENV.stateTable]: tableName.optional(),
  [HANDLER_ENV.auditTable]: tableName.optional(),
  [HANDLER_ENV.apiUrl]: z.url().optional(),
  [HANDLER_ENV.auditRetentionDays]: z.coerce.number().int().min(1).max(3650).default(DEFAULT_AUDIT_RETENTION_DAYS),
  [HANDLER_ENV.iotPolicyName]: z.string().min(1).optional(),
  [HANDLER_ENV.alertTopicArn]: z.string().startsWith('arn:').optional(),
  [WORKFLOW_ENV.stateMachines]: arnMap.optional(),
  [WORKFLOW_ENV.secretPrefix]: z.string().min(1).max(200).optional(),
  [WORKFLOW_ENV.hostTimeoutSeconds]: z.coerce.number().int().min(10).max(86_400).optional(),
  [HANDLER_ENV.diagnosticsBucket]: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'an S3 bucket name').optional(),
  [HANDLER_ENV.registerAdmissionPerSecond]: z.coerce.number().int().min(1).max(10_000).optional(),
  [HANDLER_ENV.agentArtifactsBucket]: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'an S3 bucket name').optional(),
  [HANDLER_ENV.agentSigningKeyArn]: z.string().regex(/^arn:[a-z-]+:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,64}$/, 'a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)').optional(),
  [HANDLER_ENV.agentPublished]: z.enum(['true', 'false']).optional(),
  [HANDLER_ENV.agentManifestBucket]: z.string().min(3).max(63).regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, 'an S3 bucket name').optional(),
});

const invalid = (problems: readonly string[]) =>
  new ConfigError(`EdgeFleet configuration is invalid (${problems.join('; ')}); check the function's environment`);

/**
 * Parses the configuration; `required` names the settings this entry point cannot run without.
 * Empty variables count as absent.
 */
export function loadConfig(env: NodeJS.ProcessEnv, required: readonly RequiredSetting[] = []): EdgeFleetConfig {
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = envSchema.safeParse(present);
  if (!parsed.success) throw invalid(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`));
  const e = parsed.data;
  const apiUrl = e[HANDLER_ENV.apiUrl]?.replace(/\/$/, '');
  let signIn: AuthConfig | undefined;
  try {
    signIn = authConfigFromEnv(present);
  } catch (error) {
    throw new ConfigError(error instanceof Error ? error.message : String(error));
  }
  const config: EdgeFleetConfig = {
    ...(e[HANDLER_ENV.stateTable] ? { stateTable: e[HANDLER_ENV.stateTable] } : {}),
    ...(e[HANDLER_ENV.auditTable] ? { auditTable: e[HANDLER_ENV.auditTable] } : {}),
    ...(apiUrl ? { apiUrl } : {}),
    auditRetentionDays: e[HANDLER_ENV.auditRetentionDays],
    ...(e[HANDLER_ENV.iotPolicyName] ? { iotPolicyName: e[HANDLER_ENV.iotPolicyName] } : {}),
    ...(e[HANDLER_ENV.alertTopicArn] ? { alertTopicArn: e[HANDLER_ENV.alertTopicArn] } : {}),
    ...(e[WORKFLOW_ENV.stateMachines] ? { stateMachineArns: e[WORKFLOW_ENV.stateMachines] } : {}),
    ...(e[WORKFLOW_ENV.secretPrefix] ? { secretPrefix: e[WORKFLOW_ENV.secretPrefix] } : {}),
    workflowSettings: { hostTimeoutSeconds: e[WORKFLOW_ENV.hostTimeoutSeconds] ?? DEFAULT_WORKFLOW_SETTINGS.hostTimeoutSeconds },
    ...(signIn ? { signIn } : {}),
    ...(e[HANDLER_ENV.diagnosticsBucket] ? { diagnosticsBucket: e[HANDLER_ENV.diagnosticsBucket] } : {}),
    ...(e[HANDLER_ENV.registerAdmissionPerSecond] ? { registerAdmissionPerSecond: e[HANDLER_ENV.registerAdmissionPerSecond] } : {}),
    ...(e[HANDLER_ENV.agentSigningKeyArn] || e[HANDLER_ENV.agentArtifactsBucket] ? {
      agent: {
        ...(e[HANDLER_ENV.agentArtifactsBucket] ? { bucket: e[HANDLER_ENV.agentArtifactsBucket] } : {}),
        ...(e[HANDLER_ENV.agentSigningKeyArn] ? { signingKeyArn: e[HANDLER_ENV.agentSigningKeyArn] } : {}),
        published: e[HANDLER_ENV.agentPublished] === 'true',
      },
    } : {}),
    ...(e[HANDLER_ENV.agentManifestBucket] ? { agentManifestBucket: e[HANDLER_ENV.agentManifestBucket] } : {}),
  };
  if (config.agent?.published && !config.agent.signingKeyArn) throw invalid([`${HANDLER_ENV.agentPublished}: is true but ${HANDLER_ENV.agentSigningKeyArn} is missing (the key that signs the published agent)`]);
  loadConfigRequirements(config, required);
  return config;
}

/** Throws the ConfigError of loadConfig when a required setting is absent. */
export function loadConfigRequirements(config: EdgeFleetConfig, required: readonly RequiredSetting[]): void {
  const missing = required.filter((s) => config[s] === undefined).map((s) => `${SETTING_ENV[s]}: is missing`);
  if (missing.length > 0) throw invalid(missing);
}

/** A setting an adapter needs: its value, or a ConfigError naming the variable. */
export function setting(config: EdgeFleetConfig, name: RequiredSetting): string {
  const value = config[name];
  if (value === undefined) throw new ConfigError(`EdgeFleet configuration lacks ${SETTING_ENV[name]}: this function was deployed without it, so it cannot use what it names`);
  return value;
}
