/**
 * OAuth 2.0 / OpenID Connect for `edgefleet login`: discovery (OIDC Discovery 1.0), PKCE
 * (RFC 7636, S256), the authorization request, the redirect's parameters (state, RFC 9207
 * `iss`), and the token endpoint (authorization code and refresh token grants, public client).
 * The pure parts take their inputs; the network parts take a fetch function.
 */
import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import { CliError, EXIT } from './errors.js';
import type { FetchFn } from './client.js';

const b64url = (bytes: Buffer): string => bytes.toString('base64url');

export interface Pkce {
  /** 43 characters from 32 random bytes (RFC 7636 §4.1). */
  readonly verifier: string;
  readonly challenge: string;
  readonly method: 'S256';
}

export const s256 = (verifier: string): string => b64url(createHash('sha256').update(verifier, 'ascii').digest());

export function createPkce(random: (n: number) => Buffer = randomBytes): Pkce {
  const verifier = b64url(random(32));
  return { verifier, challenge: s256(verifier), method: 'S256' };
}

/** An unguessable `state` (and nonce): 32 random bytes. */
export const randomToken = (random: (n: number) => Buffer = randomBytes): string => b64url(random(32));

export const discoveryDocument = z.looseObject({
  issuer: z.string().min(1),
  authorization_endpoint: z.url({ protocol: /^https?$/ }),
  token_endpoint: z.url({ protocol: /^https?$/ }),
  code_challenge_methods_supported: z.array(z.string()).optional(),
  authorization_response_iss_parameter_supported: z.boolean().optional(),
});
export type Discovery = z.infer<typeof discoveryDocument>;

export const discoveryUrl = (issuer: string): string => `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;

/** Checks a discovery document for this issuer; returns why it cannot be used, or undefined. */
export function discoveryProblem(issuer: string, doc: Discovery): string | undefined {
  // OIDC Discovery §4.3: the issuer in the document must be exactly the one asked about.
  if (doc.issuer !== issuer) return `it names the issuer ${doc.issuer}, not ${issuer}`;
  if (doc.code_challenge_methods_supported && !doc.code_challenge_methods_supported.includes('S256')) {
    return `it does not support PKCE with S256 (code_challenge_methods_supported: ${doc.code_challenge_methods_supported.join(', ') || 'none'})`;
  }
  return undefined;
}

export interface AuthorizationRequest {
  readonly endpoint: string;
  readonly clientId: string;
  readonly redirectUri: string;
  readonly scopes: readonly string[];
  readonly state: string;
  readonly nonce: string;
  readonly pkce: Pkce;
}

export function authorizationUrl(req: AuthorizationRequest): string {
  const url = new URL(req.endpoint);
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('client_id', req.clientId);
  url.searchParams.set('redirect_uri', req.redirectUri);
  url.searchParams.set('scope', req.scopes.join(' '));
  url.searchParams.set('state', req.state);
  url.searchParams.set('nonce', req.nonce);
  url.searchParams.set('code_challenge', req.pkce.challenge);
  url.searchParams.set('code_challenge_method', req.pkce.method);
  // OIDC Core §11: offline_access (a refresh token) is honoured only with prompt=consent.
  if (req.scopes.includes('offline_access')) url.searchParams.set('prompt', 'consent');
  return url.toString();
}

export type CallbackOutcome =
  | { readonly kind: 'code'; readonly code: string }
  | { readonly kind: 'denied'; readonly error: string; readonly description?: string }
  | { readonly kind: 'refused'; readonly reason: string };

/**
 * What a request to the loopback redirect URI means. Anything without our exact `state` is
 * refused (CSRF, RFC 6749 §10.12), as is an `iss` naming another issuer (mix-up, RFC 9207).
 */
export function parseCallback(params: URLSearchParams, expected: { state: string; issuer: string }): CallbackOutcome {
  const state = params.get('state');
  if (state === null) return { kind: 'refused', reason: 'the redirect carries no state parameter' };
  if (state !== expected.state) return { kind: 'refused', reason: 'the redirect carries a state that this login did not send (a stale browser tab, or a forged redirect)' };
  const iss = params.get('iss');
  if (iss !== null && iss !== expected.issuer) return { kind: 'refused', reason: `the redirect says it comes from the issuer ${iss}, not ${expected.issuer}` };
  const error = params.get('error');
  if (error !== null) return { kind: 'denied', error, description: params.get('error_description') ?? undefined };
  const code = params.get('code');
  if (!code) return { kind: 'refused', reason: 'the redirect carries neither a code nor an error' };
  return { kind: 'code', code };
}

export const tokenResponse = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().regex(/^bearer$/i),
  expires_in: z.coerce.number().positive().optional(),
  refresh_token: z.string().min(1).optional(),
  id_token: z.string().optional(),
  scope: z.string().optional(),
});

export interface TokenSet {
  readonly accessToken: string;
  readonly refreshToken?: string;
  /** When the access token stops working, ms since the epoch (from `expires_in`, else its `exp`). */
  readonly expiresAt?: number;
}

/** `exp` of a JWT in ms since the epoch; undefined for opaque tokens. Not verified (the API does that). */
export function jwtExpiry(token: string): number | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims: unknown = JSON.parse(Buffer.from(parts[1]!, 'base64url').toString('utf8'));
    const exp = typeof claims === 'object' && claims !== null ? (claims as { exp?: unknown }).exp : undefined;
    return typeof exp === 'number' ? exp * 1000 : undefined;
  } catch {
    return undefined;
  }
}

export function tokenSetOf(body: z.infer<typeof tokenResponse>, now: number): TokenSet {
  const expiresAt = body.expires_in !== undefined ? now + body.expires_in * 1000 : jwtExpiry(body.access_token);
  return { accessToken: body.access_token, refreshToken: body.refresh_token, expiresAt };
}

/** The token endpoint answered with an OAuth error (RFC 6749 §5.2). */
export class OAuthError extends Error {
  constructor(readonly error: string, readonly description: string | undefined, readonly status: number) {
    super(`${error}${description ? `: ${description}` : ''}`);
  }
}

async function tokenRequest(fetchFn: FetchFn, endpoint: string, form: Record<string, string>, what: string, now: () => number): Promise<TokenSet> {
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams(form).toString(),
      signal: AbortSignal.timeout(30_000),
    });
    text = await res.text();
  } catch (err) {
    throw new CliError(`cannot reach the token endpoint ${endpoint} to ${what}: ${(err as Error).message}`, EXIT.unavailable, [
      'check the network path to the identity provider, then run the command again',
    ]);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new CliError(`the token endpoint ${endpoint} answered ${res.status} with a body that is not JSON while trying to ${what}`, EXIT.unexpected, [
      'check that the issuer in GET /v1/auth/config is the right identity provider',
    ]);
  }
  if (!res.ok) {
    const o = typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
    throw new OAuthError(typeof o.error === 'string' ? o.error : `http_${res.status}`, typeof o.error_description === 'string' ? o.error_description : undefined, res.status);
  }
  const parsed = tokenResponse.safeParse(body);
  if (!parsed.success) {
    throw new CliError(`the token endpoint ${endpoint} answered without a usable bearer access token while trying to ${what}`, EXIT.unexpected, [
      `what is wrong: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ')}`,
    ]);
  }
  return tokenSetOf(parsed.data, now());
}

export function exchangeCode(fetchFn: FetchFn, input: { tokenEndpoint: string; clientId: string; code: string; redirectUri: string; verifier: string }, now: () => number = Date.now): Promise<TokenSet> {
  return tokenRequest(fetchFn, input.tokenEndpoint, {
    grant_type: 'authorization_code',
    code: input.code,
    redirect_uri: input.redirectUri,
    client_id: input.clientId,
    code_verifier: input.verifier,
  }, 'exchange the sign-in code for tokens', now);
}

export function refreshTokens(fetchFn: FetchFn, input: { tokenEndpoint: string; clientId: string; refreshToken: string }, now: () => number = Date.now): Promise<TokenSet> {
  return tokenRequest(fetchFn, input.tokenEndpoint, {
    grant_type: 'refresh_token',
    refresh_token: input.refreshToken,
    client_id: input.clientId,
  }, 'refresh the access token', now);
}
