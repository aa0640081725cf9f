/**
 * `edgefleet login --url <ApiUrl>` without a token: sign in through the identity provider's
 * login page with the authorization code flow and PKCE, receiving the code on a loopback
 * redirect (RFC 8252), the way `gh auth login` and `az login` do. Tokens are never printed.
 */
import { spawn } from 'node:child_process';
import { authConfig, AUTH_CONFIG_PATH, CLI_CALLBACK_PATH, type AuthConfig } from '../../lambdas/contracts/auth-config.js';
import { buildUrl, parseProblem } from '../client.js';
import type { Session } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { listenLoopback } from '../loopback.js';
import {
  authorizationUrl, createPkce, discoveryDocument, discoveryProblem, discoveryUrl, exchangeCode, OAuthError,
  parseCallback, randomToken, type Discovery, type TokenSet,
} from '../oidc.js';

export interface BrowserSignInOptions {
  /** Open the system browser (false: only print the URL). */
  readonly browser: boolean;
  /** Loopback port; default the one the control plane names, else any free port. */
  readonly port?: number;
  readonly timeoutMs: number;
}

export interface BrowserSignIn {
  readonly config: AuthConfig;
  readonly discovery: Discovery;
  readonly tokens: TokenSet;
}

async function getJson(s: Session, url: string, what: string, fix: string): Promise<{ status: number; body: unknown; text: string }> {
  const fetchFn = s.io.fetch ?? globalThis.fetch;
  let res: Response;
  let text: string;
  try {
    res = await fetchFn(url, { headers: { accept: 'application/json' }, signal: AbortSignal.timeout(30_000) });
    text = await res.text();
  } catch (err) {
    throw new CliError(`cannot ${what}: ${url} is unreachable (${(err as Error).message})`, EXIT.unavailable, [fix]);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  return { status: res.status, body, text };
}

/** GET /v1/auth/config of the control plane: which issuer and client to sign in with. */
export async function fetchAuthConfig(s: Session, apiUrl: string): Promise<AuthConfig> {
  const url = buildUrl(apiUrl, AUTH_CONFIG_PATH);
  const r = await getJson(s, url, 'read how to sign in', 'check the URL (the stack output ApiUrl) and the network path to it');
  if (r.status === 404) {
    const problem = parseProblem(r.text);
    throw new CliError(`${apiUrl} offers no browser sign-in${problem ? `: ${problem.detail}` : ` (GET ${AUTH_CONFIG_PATH} answered 404; is this an EdgeFleet API URL?)`}`, EXIT.auth, [
      'what to do: pass a token with `edgefleet login --url <ApiUrl> --token <jwt>`, or for the local runtime run `edgefleet login` without --url',
    ]);
  }
  const parsed = authConfig.safeParse(r.body);
  if (r.status !== 200 || !parsed.success) {
    throw new CliError(`cannot read how to sign in to ${apiUrl}: GET ${AUTH_CONFIG_PATH} answered ${r.status}${parsed.success ? '' : ' without a valid sign-in document'}`, EXIT.unexpected, [
      'check that the URL is the stack output ApiUrl of an EdgeFleet deployment, and that the deployment is up to date',
    ]);
  }
  return parsed.data;
}

async function discover(s: Session, issuer: string): Promise<Discovery> {
  const url = discoveryUrl(issuer);
  const fix = `check that the identity provider ${issuer} is reachable from here`;
  const r = await getJson(s, url, `discover the identity provider ${issuer}`, fix);
  const parsed = discoveryDocument.safeParse(r.body);
  const problem = r.status !== 200 ? `it answered ${r.status}` : !parsed.success ? 'the answer is not an OpenID Connect discovery document' : discoveryProblem(issuer, parsed.data);
  if (problem || !parsed.success) {
    throw new CliError(`cannot sign in with ${issuer}: ${url} is unusable (${problem})`, EXIT.unexpected, [fix, 'the issuer is set at deploy time (stack output JwtIssuer)']);
  }
  return parsed.data;
}

function openBrowser(url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '""', url.replace(/&/g, '^&')]] : ['xdg-open', [url]];
  try {
    const child = spawn(cmd, args, { stdio: 'ignore', detached: true });
    child.on('error', () => undefined); // no browser here: the printed URL still works
    child.unref();
  } catch {
    /* the printed URL still works */
  }
}

export async function browserSignIn(s: Session, apiUrl: string, opts: BrowserSignInOptions): Promise<BrowserSignIn> {
  const config = await fetchAuthConfig(s, apiUrl);
  const discovery = await discover(s, config.issuer);
  const pkce = createPkce();
  const state = randomToken();
  const listener = await listenLoopback({ port: opts.port ?? config.redirectPort ?? 0, path: CLI_CALLBACK_PATH });
  try {
    const url = authorizationUrl({
      endpoint: discovery.authorization_endpoint, clientId: config.clientId, redirectUri: listener.redirectUri,
      scopes: config.scopes, state, nonce: randomToken(), pkce,
    });
    s.io.stderr(opts.browser
      ? `Opening the sign-in page of ${config.issuer} in your browser. If it does not open, visit:\n  ${url}\n`
      : `Open this URL in a browser on this machine to sign in (the browser must reach ${listener.redirectUri}):\n  ${url}\n`);
    s.io.stderr(`Waiting up to ${Math.round(opts.timeoutMs / 1000)} s for the sign-in to finish…\n`);
    if (opts.browser) openBrowser(url);
    const params = await listener.next((p) => {
      const outcome = parseCallback(p, { state, issuer: config.issuer });
      if (outcome.kind === 'code') return { status: 200, title: 'Signed in', message: 'You are signed in to EdgeFleet. You can close this tab and return to the terminal.' };
      if (outcome.kind === 'denied') return { status: 400, title: 'Sign-in not completed', message: `The identity provider said: ${outcome.error}${outcome.description ? ` (${outcome.description})` : ''}. Return to the terminal.` };
      return { status: 400, title: 'Sign-in refused', message: `${outcome.reason}. Nothing was signed in; run edgefleet login again.` };
    }, opts.timeoutMs);
    const outcome = parseCallback(params, { state, issuer: config.issuer });
    if (outcome.kind === 'denied') {
      throw new CliError(`the sign-in was not completed: ${config.issuer} answered ${outcome.error}${outcome.description ? ` (${outcome.description})` : ''}; nothing was saved`, EXIT.auth, [
        outcome.error === 'access_denied'
          ? 'what to do: sign in again and accept; if you are refused, ask an administrator to enable your user and add it to a <project>:<role> group'
          : 'what to do: run `edgefleet login --url <ApiUrl>` again; if it keeps failing, check the CLI client (stack output CliClientId) at the identity provider',
      ]);
    }
    if (outcome.kind === 'refused') {
      throw new CliError(`refused the sign-in redirect: ${outcome.reason}; nothing was saved`, EXIT.auth, [
        'what to do: run `edgefleet login --url <ApiUrl>` again and finish in the browser tab it opens (not an older one)',
      ]);
    }
    try {
      const tokens = await exchangeCode(s.io.fetch ?? globalThis.fetch, {
        tokenEndpoint: discovery.token_endpoint, clientId: config.clientId, code: outcome.code, redirectUri: listener.redirectUri, verifier: pkce.verifier,
      });
      return { config, discovery, tokens };
    } catch (err) {
      if (!(err instanceof OAuthError)) throw err;
      throw new CliError(`${config.issuer} refused to exchange the sign-in code for tokens (${err.message}); nothing was saved`, EXIT.auth, [
        'what to do: run `edgefleet login --url <ApiUrl>` again; codes are single-use and expire within minutes',
      ]);
    }
  } finally {
    await listener.close();
  }
}
