/**
 * Where the CLI finds the API URL, the token and the project.
 *
 * Order (first match wins, per setting): flags (--url/--token/--project), environment
 * (EDGEFLEET_URL/EDGEFLEET_TOKEN/EDGEFLEET_PROJECT), the CLI config file written by
 * `edgefleet login` ($EDGEFLEET_CONFIG, default ~/.config/edgefleet/config.json), and last the
 * local runtime's data dir ($EDGEFLEET_DATA_DIR or ./.edgefleet, file local.json).
 */
import { chmodSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { CliError, EXIT } from './errors.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface GlobalFlags {
  url?: string;
  token?: string;
  project?: string;
}

/** How to renew the saved access token: written by `edgefleet login --url` (OIDC sign-in). */
export interface SavedSignIn {
  issuer: string;
  clientId: string;
  tokenEndpoint: string;
  refreshToken: string;
}

export interface SavedConfig {
  url: string;
  token: string;
  project?: string;
  savedAt?: string;
  /** When the access token stops working (ISO time), if known. */
  tokenExpiresAt?: string;
  signIn?: SavedSignIn;
}

export interface LocalRuntimeInfo {
  url: string;
  adminToken: string;
}

export interface ResolvedConfig {
  url?: string;
  token?: string;
  project: string;
  urlSource?: string;
  tokenSource?: string;
  projectSource: string;
  /** Set when the token is the config file's and can be refreshed (OIDC sign-in). */
  signIn?: { path: string; saved: SavedConfig & { signIn: SavedSignIn } };
  /** Every place that was consulted, in order, for "not configured" messages. */
  searched: string[];
}

export const DEFAULT_PROJECT = 'default';

export function configFilePath(env: Env): string {
  if (env.EDGEFLEET_CONFIG) return resolve(env.EDGEFLEET_CONFIG);
  return join(env.HOME || homedir(), '.config', 'edgefleet', 'config.json');
}

export function dataDirPath(env: Env, cwd: string, override?: string): string {
  return resolve(cwd, override ?? env.EDGEFLEET_DATA_DIR ?? '.edgefleet');
}

function readJson(path: string, what: string, fix: string): unknown {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return undefined;
    throw new CliError(`cannot read ${what} ${path}: ${(err as Error).message}`, EXIT.unexpected, [fix]);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new CliError(`${what} ${path} is not valid JSON (${(err as Error).message})`, EXIT.unexpected, [fix]);
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v.trim() !== '' ? v.trim() : undefined);

/** Reads the CLI config file; undefined if it does not exist. */
export function readSavedConfig(path: string): Partial<SavedConfig> | undefined {
  const raw = readJson(path, 'the CLI config file', 'fix or delete it, then run `edgefleet login`');
  if (raw === undefined) return undefined;
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
    throw new CliError(`the CLI config file ${path} must hold a JSON object`, EXIT.unexpected, [
      'delete it and run `edgefleet login`',
    ]);
  }
  const o = raw as Record<string, unknown>;
  const si = typeof o.signIn === 'object' && o.signIn !== null ? (o.signIn as Record<string, unknown>) : undefined;
  const issuer = str(si?.issuer);
  const clientId = str(si?.clientId);
  const tokenEndpoint = str(si?.tokenEndpoint);
  const refreshToken = str(si?.refreshToken);
  return {
    url: str(o.url),
    token: str(o.token),
    project: str(o.project),
    savedAt: str(o.savedAt),
    tokenExpiresAt: str(o.tokenExpiresAt),
    ...(issuer && clientId && tokenEndpoint && refreshToken ? { signIn: { issuer, clientId, tokenEndpoint, refreshToken } } : {}),
  };
}

/** Reads `<dataDir>/local.json` written by the local runtime; undefined if absent. */
export function readLocalRuntime(dataDir: string): Partial<LocalRuntimeInfo> | undefined {
  const path = join(dataDir, 'local.json');
  const raw = readJson(path, 'the local runtime file', 'restart the local runtime (`npm start`) to rewrite it');
  if (raw === undefined || typeof raw !== 'object' || raw === null) return undefined;
  const o = raw as Record<string, unknown>;
  return { url: str(o.url), adminToken: str(o.adminToken) };
}

/** Writes the config file with mode 0600 (it holds a bearer token), atomically. */
export function saveConfig(path: string, cfg: SavedConfig): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const tmp = `${path}.${process.pid}.tmp`;
  writeFileSync(tmp, JSON.stringify(cfg, null, 2) + '\n', { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, path);
}

export function resolveConfig(input: { flags: GlobalFlags; env: Env; cwd: string }): ResolvedConfig {
  const { flags, env, cwd } = input;
  const cfgPath = configFilePath(env);
  const dataDir = dataDirPath(env, cwd);
  const localPath = join(dataDir, 'local.json');
  const searched = ['--url/--token flags', 'EDGEFLEET_URL/EDGEFLEET_TOKEN', cfgPath, localPath];
  const out: ResolvedConfig = { project: DEFAULT_PROJECT, projectSource: 'default', searched };

  const take = (key: 'url' | 'token', value: string | undefined, source: string): void => {
    const v = str(value);
    if (v && out[key] === undefined) {
      out[key] = v;
      out[key === 'url' ? 'urlSource' : 'tokenSource'] = source;
    }
  };
  take('url', flags.url, '--url');
  take('token', flags.token, '--token');
  take('url', env.EDGEFLEET_URL, 'EDGEFLEET_URL');
  take('token', env.EDGEFLEET_TOKEN, 'EDGEFLEET_TOKEN');

  let saved: Partial<SavedConfig> | undefined;
  if (out.url === undefined || out.token === undefined) {
    saved = readSavedConfig(cfgPath);
    take('url', saved?.url, cfgPath);
    take('token', saved?.token, cfgPath);
  }
  if (out.url === undefined || out.token === undefined) {
    const local = readLocalRuntime(dataDir);
    take('url', local?.url, localPath);
    take('token', local?.adminToken, localPath);
  }

  if (str(flags.project)) [out.project, out.projectSource] = [str(flags.project)!, '--project'];
  else if (str(env.EDGEFLEET_PROJECT)) [out.project, out.projectSource] = [str(env.EDGEFLEET_PROJECT)!, 'EDGEFLEET_PROJECT'];
  // A project saved by `login` belongs to the control plane saved with it.
  else if (saved?.project && out.urlSource === cfgPath) [out.project, out.projectSource] = [saved.project, cfgPath];
  if (out.url) out.url = out.url.replace(/\/+$/, '');
  // The saved refresh token belongs to the saved access token (and its control plane).
  if (saved?.signIn && saved.url && saved.token && out.tokenSource === cfgPath) {
    out.signIn = { path: cfgPath, saved: { ...saved, url: saved.url, token: saved.token, signIn: saved.signIn } };
  }
  return out;
}

/** Fails with exit 5 and says where it looked when the URL or token is missing. */
export function requireConnection(cfg: ResolvedConfig): { url: string; token: string } {
  if (cfg.url && cfg.token) return { url: cfg.url, token: cfg.token };
  const missing = !cfg.url && !cfg.token ? 'API URL and token' : !cfg.url ? 'API URL' : 'API token';
  throw new CliError(`no ${missing} configured`, EXIT.auth, [
    `looked in: ${cfg.searched.join(', ')}`,
    'what to do: start the local runtime with `npm start` and run `edgefleet login`,',
    '  or set EDGEFLEET_URL and EDGEFLEET_TOKEN, or pass --url and --token',
  ]);
}
