/**
 * `GET /v1/auth/config`: how an operator signs in to this control plane, so `edgefleet login
 * --url <ApiUrl>` needs nothing else. Public (no token): it names the OIDC issuer whose access
 * tokens the API accepts, the public client the CLI signs in as, the scopes to ask for, and the
 * loopback redirect port when the issuer only accepts registered ports (Cognito).
 */
import { z } from 'zod';

export const AUTH_CONFIG_PATH = '/v1/auth/config';
/** Path of the CLI's loopback redirect URI (RFC 8252 §7.3): http://127.0.0.1:<port>/callback. */
export const CLI_CALLBACK_PATH = '/callback';
/** Loopback port registered with the stack's Cognito app client (Cognito matches ports exactly). */
export const DEFAULT_CLI_REDIRECT_PORT = 8976;

const endpoint = z.url({ protocol: /^https$/ });

/**
 * How the web console signs in on AWS: its own public client (authorization code + PKCE,
 * redirect back to the console's URL). The endpoints are set for the stack's Cognito; for an
 * external issuer they are absent and the console reads them from the issuer's discovery document.
 */
export const consoleSignIn = z.strictObject({
  clientId: z.string().min(1).max(256),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).min(1).max(20),
  /** The console's URL, registered as the client's callback and sign-out URL. */
  redirectUri: endpoint,
  authorizationEndpoint: endpoint.optional(),
  tokenEndpoint: endpoint.optional(),
  /** Cognito's `/logout` or the issuer's `end_session_endpoint`. */
  endSessionEndpoint: endpoint.optional(),
});
export type ConsoleSignIn = z.infer<typeof consoleSignIn>;

export const authConfig = z.strictObject({
  /** `iss` of the accepted access tokens; `<issuer>/.well-known/openid-configuration` is its discovery document. */
  issuer: z.url({ protocol: /^https?$/ }),
  /** Public OAuth client (no secret) that signs in with the authorization code flow and PKCE. */
  clientId: z.string().min(1).max(256),
  scopes: z.array(z.string().regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/)).min(1).max(20),
  /** Set when the issuer accepts only this port in http://127.0.0.1:<port>/callback; otherwise any free port. */
  redirectPort: z.number().int().min(1024).max(65535).optional(),
  /** Set when the stack publishes the web console (S3 + CloudFront). */
  console: consoleSignIn.optional(),
});
export type AuthConfig = z.infer<typeof authConfig>;

/** Environment of the meta handler that carries the sign-in settings (set by the stack). */
export const AUTH_ENV = {
  issuer: 'EDGEFLEET_AUTH_ISSUER',
  clientId: 'EDGEFLEET_AUTH_CLIENT_ID',
  /** Space-separated. */
  scopes: 'EDGEFLEET_AUTH_SCOPES',
  redirectPort: 'EDGEFLEET_AUTH_REDIRECT_PORT',
  /** JSON of `ConsoleSignIn`. */
  console: 'EDGEFLEET_AUTH_CONSOLE',
} as const;

/**
 * The sign-in settings from the handler environment; undefined when the deployment names no
 * CLI client (e.g. the local runtime, whose admin token comes from its data dir).
 */
export function authConfigFromEnv(env: Readonly<Record<string, string | undefined>>): AuthConfig | undefined {
  const issuer = env[AUTH_ENV.issuer]?.trim();
  const clientId = env[AUTH_ENV.clientId]?.trim();
  if (!issuer || !clientId) return undefined;
  const port = env[AUTH_ENV.redirectPort]?.trim();
  const consoleJson = env[AUTH_ENV.console]?.trim();
  let consoleValue: unknown;
  if (consoleJson) {
    try { consoleValue = JSON.parse(consoleJson); } catch { consoleValue = consoleJson; }
  }
  const parsed = authConfig.safeParse({
    issuer,
    clientId,
    scopes: (env[AUTH_ENV.scopes] ?? 'openid').split(/\s+/).filter(Boolean),
    ...(port ? { redirectPort: Number(port) } : {}),
    ...(consoleJson ? { console: consoleValue } : {}),
  });
  if (!parsed.success) {
    throw new Error(`the sign-in settings in ${Object.values(AUTH_ENV).join(', ')} are not valid: ${parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}; fix them in the stack (lib/edgefleet-stack.ts) and redeploy`);
  }
  return parsed.data;
}
