/**
 * Sign-in on AWS: OAuth 2.0 authorization code flow with PKCE (RFC 7636, S256) against the
 * stack's Cognito managed login or the external OIDC issuer, as a public client (no secret).
 * The verifier and `state` wait in sessionStorage for the redirect back; the callback is accepted
 * once, only with the `state` this tab sent. No I/O of its own: fetch, storage and randomness
 * are passed in (unit-tested in test/unit/console/oidc.test.ts).
 */
import type { paths } from '../api/schema.js';

export type AuthConfig = paths['/v1/auth/config']['get']['responses'][200]['content']['application/json'];
export type ConsoleSignIn = NonNullable<AuthConfig['console']>;

/** The endpoints the flow needs, known (Cognito) or discovered (external issuer). */
export interface OidcEndpoints {
  readonly clientId: string;
  readonly scopes: readonly string[];
  readonly redirectUri: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly endSessionEndpoint?: string;
}

/** What waits in sessionStorage between the redirect out and the redirect back. */
export const PENDING_KEY = 'edgefleet.oidc.pending';
/** The ID token, kept for the sign-out's `id_token_hint`. */
export const ID_TOKEN_KEY = 'edgefleet.oidc.idToken';

export interface Store { getItem(key: string): string | null; setItem(key: string, value: string): void; removeItem(key: string): void }
export type Fetch = (input: string, init?: RequestInit) => Promise<Response>;

const toBase64Url = (bytes: Uint8Array): string =>
  btoa(String.fromCharCode(...bytes)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');

/** A random string of `bytes` bytes of entropy (base64url: 43 characters for 32 bytes, RFC 7636 §4.1). */
export function randomToken(random: (a: Uint8Array) => Uint8Array = (a) => crypto.getRandomValues(a), bytes = 32): string {
  return toBase64Url(random(new Uint8Array(bytes)));
}

/** `code_challenge` for S256: BASE64URL(SHA-256(ASCII(verifier))). */
export async function challengeS256(verifier: string): Promise<string> {
  if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(verifier)) throw new Error('a PKCE code verifier is 43 to 128 characters of A-Z a-z 0-9 - . _ ~ (RFC 7636 §4.1)');
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier));
  return toBase64Url(new Uint8Array(digest));
}

const isHttps = (v: unknown): v is string => {
  if (typeof v !== 'string') return false;
  try { return new URL(v).protocol === 'https:'; } catch { return false; }
};

/**
 * The flow's endpoints: the stack's own (Cognito), or the issuer's discovery document
 * (`<issuer>/.well-known/openid-configuration`, whose `issuer` must be the configured one).
 */
export async function resolveEndpoints(config: AuthConfig, fetchFn: Fetch): Promise<OidcEndpoints> {
  const c = config.console;
  if (!c) throw new Error('this control plane publishes no console sign-in (GET /v1/auth/config has no console settings); sign in with an access token');
  if (c.authorizationEndpoint && c.tokenEndpoint) {
    return { clientId: c.clientId, scopes: c.scopes, redirectUri: c.redirectUri, authorizationEndpoint: c.authorizationEndpoint, tokenEndpoint: c.tokenEndpoint, ...(c.endSessionEndpoint ? { endSessionEndpoint: c.endSessionEndpoint } : {}) };
  }
  const url = `${config.issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let doc: Record<string, unknown>;
  try {
    const r = await fetchFn(url, { headers: { accept: 'application/json' } });
    if (!r.ok) throw new Error(`HTTP ${r.status}`);
    const body: unknown = await r.json();
    if (typeof body !== 'object' || body === null) throw new Error('not a JSON object');
    doc = body as Record<string, unknown>;
  } catch (e) {
    throw new Error(`cannot read the identity provider's discovery document ${url} (${e instanceof Error ? e.message : String(e)}); check the issuer the stack was deployed with, and that the console's CSP allows its origin`);
  }
  if (typeof doc.issuer !== 'string' || doc.issuer.replace(/\/$/, '') !== config.issuer.replace(/\/$/, '')) {
    throw new Error(`the discovery document at ${url} names issuer ${String(doc.issuer)}, not ${config.issuer}; the stack's issuer setting is wrong`);
  }
  if (!isHttps(doc.authorization_endpoint) || !isHttps(doc.token_endpoint)) {
    throw new Error(`the discovery document at ${url} has no https authorization_endpoint and token_endpoint`);
  }
  return {
    clientId: c.clientId, scopes: c.scopes, redirectUri: c.redirectUri,
    authorizationEndpoint: doc.authorization_endpoint, tokenEndpoint: doc.token_endpoint,
    ...(isHttps(doc.end_session_endpoint) ? { endSessionEndpoint: doc.end_session_endpoint } : {}),
  };
}

interface Pending { readonly state: string; readonly verifier: string; readonly tokenEndpoint: string; readonly clientId: string; readonly redirectUri: string }

/** Remembers a new verifier and state in `store`; returns where to send the browser. */
export async function beginSignIn(e: OidcEndpoints, store: Store, random?: (a: Uint8Array) => Uint8Array): Promise<string> {
  const verifier = randomToken(random);
  const state = randomToken(random, 16);
  const pending: Pending = { state, verifier, tokenEndpoint: e.tokenEndpoint, clientId: e.clientId, redirectUri: e.redirectUri };
  store.setItem(PENDING_KEY, JSON.stringify(pending));
  const url = new URL(e.authorizationEndpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: e.clientId, redirect_uri: e.redirectUri, scope: e.scopes.join(' '),
    state, code_challenge: await challengeS256(verifier), code_challenge_method: 'S256',
  }).toString();
  return url.toString();
}

/** True when the location's query is an authorization response (`code` or `error`, with `state`). */
export const isCallback = (search: string): boolean => {
  const q = new URLSearchParams(search);
  return q.has('state') && (q.has('code') || q.has('error'));
};

function readPending(store: Store): Pending | undefined {
  const raw = store.getItem(PENDING_KEY);
  if (!raw) return undefined;
  try {
    const p: unknown = JSON.parse(raw);
    if (typeof p !== 'object' || p === null) return undefined;
    const o = p as Record<string, unknown>;
    const str = (k: string) => (typeof o[k] === 'string' ? o[k] : undefined);
    const [state, verifier, tokenEndpoint, clientId, redirectUri] = ['state', 'verifier', 'tokenEndpoint', 'clientId', 'redirectUri'].map(str);
    return state && verifier && tokenEndpoint && clientId && redirectUri ? { state, verifier, tokenEndpoint, clientId, redirectUri } : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Handles the redirect back: checks `state` against the one this tab sent (once: the pending
 * entry is removed whatever happens), exchanges the code with the verifier, returns the access
 * token (the API's bearer token) and keeps the ID token for sign-out.
 */
export async function completeSignIn(search: string, store: Store, fetchFn: Fetch): Promise<string> {
  const q = new URLSearchParams(search);
  const pending = readPending(store);
  store.removeItem(PENDING_KEY);
  if (!pending) throw new Error('this sign-in response was not started in this browser tab (or was already used); sign in again');
  if (q.get('state') !== pending.state) throw new Error('the sign-in response does not match the request this tab sent (state differs); it was refused — sign in again');
  const error = q.get('error');
  if (error) throw new Error(`the identity provider refused the sign-in: ${error}${q.get('error_description') ? ` (${q.get('error_description')})` : ''}`);
  const code = q.get('code');
  if (!code) throw new Error('the sign-in response carries no authorization code; sign in again');
  let r: Response;
  try {
    r = await fetchFn(pending.tokenEndpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: pending.clientId, code, redirect_uri: pending.redirectUri, code_verifier: pending.verifier }).toString(),
    });
  } catch {
    throw new Error(`cannot reach the token endpoint ${pending.tokenEndpoint}; check the network (and that the console's CSP connect-src allows it)`);
  }
  const body: unknown = await r.json().catch(() => undefined);
  const o = typeof body === 'object' && body !== null ? body as Record<string, unknown> : {};
  if (!r.ok || typeof o.access_token !== 'string') {
    const why = typeof o.error === 'string' ? `${o.error}${typeof o.error_description === 'string' ? ` (${o.error_description})` : ''}` : `HTTP ${r.status}`;
    throw new Error(`the token endpoint refused the authorization code: ${why}; sign in again`);
  }
  if (typeof o.id_token === 'string') store.setItem(ID_TOKEN_KEY, o.id_token);
  return o.access_token;
}

/**
 * Where to send the browser to end the identity provider's session: Cognito's `/logout`
 * (client_id, logout_uri) or the issuer's end_session_endpoint (RP-initiated logout); undefined
 * when the provider has none (the console then only forgets its token).
 */
export function signOutUrl(e: Pick<OidcEndpoints, 'clientId' | 'redirectUri' | 'endSessionEndpoint'>, store: Store): string | undefined {
  const idToken = store.getItem(ID_TOKEN_KEY);
  store.removeItem(ID_TOKEN_KEY);
  store.removeItem(PENDING_KEY);
  if (!e.endSessionEndpoint) return undefined;
  const url = new URL(e.endSessionEndpoint);
  const cognito = url.hostname.endsWith('.amazoncognito.com') && url.pathname === '/logout';
  url.search = new URLSearchParams(cognito
    ? { client_id: e.clientId, logout_uri: e.redirectUri }
    : { client_id: e.clientId, post_logout_redirect_uri: e.redirectUri, ...(idToken ? { id_token_hint: idToken } : {}) }).toString();
  return url.toString();
}
