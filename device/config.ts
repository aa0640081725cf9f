import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { hostUid, projectName, siteName, tags } from '../lambdas/contracts/common.js';

/** Where the cloud-config writes the agent's settings (see lambdas/domain/user-data.ts). */
export const DEFAULT_CONFIG_PATH = '/oem/edgefleet/agent.json';
/**
 * Under /oem, which Kairos' statereset keeps (it wipes the persistent partition, /usr/local):
 * the host keeps its identity (key, certificate) and the in-flight record across a reset, so
 * it reports the reset's result and stays in the pool without registering again. A few KB.
 */
export const DEFAULT_STATE_DIR = '/oem/edgefleet/state';
export const DEFAULT_FULL_REPORT_SECONDS = 21_600;
/** Under /run: a reboot forgets every temporary key. */
export const DEFAULT_AUTHORIZED_KEYS_DIR = '/run/edgefleet/authorized-keys';

/** The agent's settings after the file and the environment are merged and validated. */
export const agentConfig = z.strictObject({
  apiUrl: z.url({ protocol: /^https?$/ }).transform((u) => u.replace(/\/+$/, '')),
  registrationToken: z.string().min(1).max(256),
  project: projectName,
  site: siteName,
  tags: tags.default({}),
  caBundle: z.string().max(65_536).optional(),
  proxy: z.string().max(2048).optional(),
  stateDir: z.string().min(1).default(DEFAULT_STATE_DIR),
  uid: hostUid,
  /** Seconds between full status reports (changes are sent as they happen). */
  fullReportSeconds: z.number().int().min(60).max(7 * 24 * 3600).default(DEFAULT_FULL_REPORT_SECONDS),
  /** Remote shell through a secure tunnel (default on); false (install configuration) switches it off entirely. */
  remoteAccess: z.boolean().optional(),
  /** sshd's port on 127.0.0.1: where a tunnel leads. @default 22 */
  sshPort: z.number().int().min(1).max(65535).optional(),
  /** The Secure Tunneling data endpoint (default: the region's, from the notification). */
  tunnelEndpoint: z.url({ protocol: /^wss?$/ }).optional(),
  /** Where the temporary users' keys go (default DEFAULT_AUTHORIZED_KEYS_DIR; sshd: `AuthorizedKeysFile .ssh/authorized_keys /run/edgefleet/authorized-keys/%u`). */
  authorizedKeysDir: z.string().min(1).optional(),
  /** Where the agent is installed (versions/, current, previous; device/agent-installation.ts). @default /usr/local/edgefleet/agent */
  agentDir: z.string().min(1).optional(),
  /** The control plane's manifest signing key (written by the install configuration). @default /oem/edgefleet/agent-signing.pub */
  signingKeyFile: z.string().min(1).optional(),
});
export type AgentConfig = z.infer<typeof agentConfig>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** Firmware placeholders that many boards share: never use them as an identity. */
const BOGUS_UIDS = new Set([
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  '03000200-0400-0500-0006-000700080009',
  'not-settable', 'not-specified', 'to-be-filled-by-o.e.m.', 'default-string',
]);

/**
 * A hardware id as the contract accepts it: trimmed, lower case, spaces turned into "-",
 * anything outside printable ASCII removed, at most 128 characters. Undefined when nothing
 * usable is left or the value is a known firmware placeholder.
 */
export function sanitizeUid(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const s = raw.trim().toLowerCase().replace(/\s+/g, '-').replace(/[^\x21-\x7e]/g, '').slice(0, 128);
  if (!s || BOGUS_UIDS.has(s)) return undefined;
  return s;
}

export interface LoadConfigOptions {
  readonly env?: NodeJS.ProcessEnv;
  /** Reads a file as UTF-8; undefined when it does not exist. Injectable for tests. */
  readonly readText?: (path: string) => Promise<string | undefined>;
}

async function readTextIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

const ENV_NAMES: Record<string, string> = { apiUrl: 'EDGEFLEET_API_URL', registrationToken: 'EDGEFLEET_REGISTRATION_TOKEN' };

const UID_SOURCES = ['/sys/class/dmi/id/product_uuid', '/etc/machine-id'];

/**
 * Loads the agent config: the JSON file (`EDGEFLEET_AGENT_CONFIG`, default
 * /oem/edgefleet/agent.json) overlaid by `EDGEFLEET_API_URL`, `EDGEFLEET_REGISTRATION_TOKEN`,
 * `EDGEFLEET_STATE_DIR` and `EDGEFLEET_UID`. The uid comes from the config, else the DMI
 * product uuid, else /etc/machine-id. Throws ConfigError with every problem listed.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<AgentConfig> {
  const env = options.env ?? process.env;
  const readText = options.readText ?? readTextIfExists;
  const path = env.EDGEFLEET_AGENT_CONFIG || DEFAULT_CONFIG_PATH;

  let fromFile: Record<string, unknown> = {};
  let text: string | undefined;
  try {
    text = await readText(path);
  } catch (e) {
    throw new ConfigError(`cannot read the agent config ${path}: ${(e as Error).message}`);
  }
  if (text !== undefined) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`the agent config ${path} is not valid JSON: ${(e as Error).message}`);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new ConfigError(`the agent config ${path} must hold a JSON object`);
    fromFile = parsed as Record<string, unknown>;
  }

  const merged: Record<string, unknown> = { ...fromFile };
  if (env.EDGEFLEET_API_URL) merged.apiUrl = env.EDGEFLEET_API_URL;
  if (env.EDGEFLEET_REGISTRATION_TOKEN) merged.registrationToken = env.EDGEFLEET_REGISTRATION_TOKEN;
  if (env.EDGEFLEET_STATE_DIR) merged.stateDir = env.EDGEFLEET_STATE_DIR;
  if (env.EDGEFLEET_UID) merged.uid = env.EDGEFLEET_UID;

  let uid = typeof merged.uid === 'string' ? sanitizeUid(merged.uid) : undefined;
  for (const source of UID_SOURCES) {
    if (uid) break;
    uid = sanitizeUid(await readText(source).catch(() => undefined));
  }
  if (uid) merged.uid = uid;
  else delete merged.uid;

  const result = agentConfig.safeParse(merged);
  if (!result.success) {
    const problems = result.error.issues.map((i) => {
      const field = i.path.join('.') || '(root)';
      if (field === 'uid' && i.code === 'invalid_type') return 'uid: no hardware id found (set "uid" in the config or EDGEFLEET_UID; /sys/class/dmi/id/product_uuid and /etc/machine-id gave nothing usable)';
      if (i.code === 'invalid_type' && (merged as Record<string, unknown>)[String(i.path[0])] === undefined) {
        const env = ENV_NAMES[field];
        return `${field}: required (set "${field}" in the config file${env ? ` or ${env}` : ''})`;
      }
      return `${field}: ${i.message}`;
    });
    throw new ConfigError(`invalid agent config (${text === undefined ? `${path} not found, environment only` : path}):\n  - ${problems.join('\n  - ')}`);
  }
  return result.data;
}
