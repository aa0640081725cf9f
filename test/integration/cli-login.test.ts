/**
 * `edgefleet login --url` END TO END against a real OpenID Connect provider on loopback
 * (oidc-provider, its dev login and consent pages), driven the way a browser would: follow
 * the redirects, submit the forms, land on the CLI's loopback listener. The API in front is a
 * small loopback server that serves GET /v1/auth/config and verifies access tokens against
 * the provider's JWKS, as API Gateway's JWT authorizer does.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import Provider from 'oidc-provider';
import { authConfigFromEnv } from '../../lambdas/contracts/auth-config.js';
import { EXIT } from '../../cli/errors.js';
import { runCli } from '../../cli/program.js';

const CLIENT_ID = 'edgefleet-cli';
const AUDIENCE = 'https://api.edgefleet.test';
/** Access tokens live this long, so the test can wait for one to expire. */
const ACCESS_TTL_S = 5;

const listen = (server: Server): Promise<number> => new Promise((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port));
});
const close = (server: Server | undefined): Promise<void> => new Promise((resolve) => {
  if (!server) return resolve();
  server.close(() => resolve());
  server.closeAllConnections();
});

/** Waits until `check` returns a value (polling); fails after `ms` saying what it waited for. */
async function until<T>(what: string, check: () => T | undefined, ms = 15_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let provider: Server;
let api: Server;
let issuer: string;
let apiUrl: string;
let work: string;
let tokenEndpoint: string;
/** Access tokens the API accepted / refused, in order. */
const accepted: string[] = [];
const refused: string[] = [];

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'edgefleet-login-it-'));
  provider = createServer();
  const port = await listen(provider);
  issuer = `http://127.0.0.1:${port}`;
  const oidc = new Provider(issuer, {
    clients: [{
      client_id: CLIENT_ID, token_endpoint_auth_method: 'none', application_type: 'native',
      // Native loopback client: any port (RFC 8252 §7.3).
      redirect_uris: ['http://127.0.0.1/callback'],
      grant_types: ['authorization_code', 'refresh_token'], response_types: ['code'],
    }],
    pkce: { required: () => true },
    scopes: ['openid', 'offline_access'],
    findAccount: async (_ctx: unknown, sub: string) => ({ accountId: sub, claims: async () => ({ sub }) }),
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: async () => AUDIENCE,
        useGrantedResource: async () => true,
        getResourceServerInfo: async () => ({ scope: 'edgefleet', audience: AUDIENCE, accessTokenFormat: 'jwt', accessTokenTTL: ACCESS_TTL_S }),
      },
    },
    ttl: { AccessToken: ACCESS_TTL_S, IdToken: 600, RefreshToken: 3600, Grant: 3600, Session: 3600, Interaction: 600, AuthorizationCode: 60 },
  });
  provider.on('request', oidc.callback());
  tokenEndpoint = `${issuer}/token`;

  const jwks = createRemoteJWKSet(new URL(`${issuer}/jwks`));
  const signIn = authConfigFromEnv({ EDGEFLEET_AUTH_ISSUER: issuer, EDGEFLEET_AUTH_CLIENT_ID: CLIENT_ID, EDGEFLEET_AUTH_SCOPES: 'openid offline_access' });
  api = createServer((req, res) => {
    const send = (status: number, body: unknown, type = 'application/json') => res.writeHead(status, { 'content-type': type }).end(JSON.stringify(body));
    if (req.url === '/v1/auth/config') return send(200, signIn);
    if (req.url?.startsWith('/v1/hosts')) {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      jwtVerify(token, jwks, { issuer, audience: AUDIENCE }).then(
        () => { accepted.push(token); send(200, { items: [{ id: 'hw-1', status: 'approved', presence: 'online' }] }); },
        (e: Error) => { refused.push(token); send(401, { type: 'about:blank', title: 'Unauthorized', status: 401, code: 'unauthenticated', detail: `the token was refused: ${e.message}` }, 'application/problem+json'); },
      );
      return;
    }
    send(404, { type: 'about:blank', title: 'Not Found', status: 404, code: 'route-not-found', detail: 'no route' }, 'application/problem+json');
  });
  apiUrl = `http://127.0.0.1:${await listen(api)}`;
});

afterAll(async () => {
  await close(api);
  await close(provider);
  if (work) rmSync(work, { recursive: true, force: true });
});

const configPath = () => join(work, 'config.json');

/** Starts the CLI in-process; its stderr is readable while it runs. */
function startCli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const done = runCli(args, {
    env: { HOME: work, EDGEFLEET_CONFIG: configPath(), EDGEFLEET_DATA_DIR: join(work, 'no-runtime') },
    stdout: (s) => out.push(s),
    stderr: (s) => err.push(s),
    cwd: work,
  });
  return { done, stdout: () => out.join(''), stderr: () => err.join('') };
}

/** A browser: cookies per host, follows redirects, submits forms, stops at the CLI's listener. */
class Browser {
  private readonly cookies = new Map<string, Map<string, string>>();

  private async request(url: string, init: RequestInit = {}): Promise<Response> {
    const u = new URL(url);
    const jar = this.cookies.get(u.host) ?? new Map<string, string>();
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: [...jar].map(([k, v]) => `${k}=${v}`).join('; ') } });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
    this.cookies.set(u.host, jar);
    return res;
  }

  /**
   * Opens `url` and goes on like a person would: follows redirects, fills the login form with
   * `login`, submits the consent form (or clicks Cancel with `cancel`); returns the final page.
   */
  async signIn(url: string, opts: { login: string; cancel?: boolean; stopAt?: (u: URL) => boolean }): Promise<{ url: string; status: number; body: string }> {
    let next: { url: string; init?: RequestInit } = { url };
    for (let hops = 0; hops < 20; hops++) {
      const res = await this.request(next.url, next.init);
      const location = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && location) {
        const target = new URL(location, next.url);
        await res.arrayBuffer();
        next = { url: target.toString() };
        continue;
      }
      const body = await res.text();
      const form = /<form[^>]*action="([^"]+)"[^>]*method="post"[^>]*>([\s\S]*?)<\/form>/i.exec(body);
      if (!form) return { url: next.url, status: res.status, body };
      if (opts.cancel) {
        const abort = /href="([^"]*\/abort)"/.exec(body);
        if (!abort) throw new Error(`no Cancel link on ${next.url}`);
        next = { url: new URL(abort[1]!.replace(/&amp;/g, '&'), next.url).toString() };
        continue;
      }
      const fields = new URLSearchParams();
      for (const input of form[2]!.matchAll(/<input[^>]*name="([^"]+)"[^>]*>/g)) {
        const value = /value="([^"]*)"/.exec(input[0])?.[1];
        fields.set(input[1]!, value ?? (input[1] === 'login' ? opts.login : 'any-password'));
      }
      next = { url: new URL(form[1]!.replace(/&amp;/g, '&'), next.url).toString(), init: { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: fields.toString() } };
    }
    throw new Error(`too many redirects from ${url}`);
  }
}

const signInUrl = (stderr: string): string | undefined => /\n {2}(http:\/\/127\.0\.0\.1:\d+\/auth\?\S+)\n/.exec(stderr)?.[1];
const saved = () => JSON.parse(readFileSync(configPath(), 'utf8')) as { url: string; token: string; tokenExpiresAt?: string; signIn?: { refreshToken: string; issuer: string; clientId: string; tokenEndpoint: string } };

describe('edgefleet login --url against a loopback OIDC provider', () => {
  it('signs in with the code flow and PKCE through the login and consent pages, and saves the tokens 0600 without printing them', async () => {
    const cli = startCli(['login', '--url', apiUrl, '--no-browser', '--timeout', '60']);
    const url = new URL(await until('the sign-in URL on stderr', () => signInUrl(cli.stderr())));
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('redirect_uri')).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback$/);
    expect(url.searchParams.get('client_id')).toBe(CLIENT_ID);

    const page = await new Browser().signIn(url.toString(), { login: 'alice' });
    expect(page.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/callback\?code=/);
    expect(page.status).toBe(200);
    expect(page.body).toContain('You are signed in to EdgeFleet');

    expect(await cli.done).toBe(EXIT.ok);
    expect(cli.stdout()).toContain(`Signed in to ${apiUrl} through ${issuer} as alice`);
    expect(cli.stdout()).toContain('later commands renew it with the saved refresh token');
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    const cfg = saved();
    expect(cfg).toMatchObject({ url: apiUrl, signIn: { issuer, clientId: CLIENT_ID, tokenEndpoint } });
    expect(accepted).toContain(cfg.token);
    const code = new URL(page.url).searchParams.get('code')!;
    for (const secret of [cfg.token, cfg.signIn!.refreshToken, code]) {
      expect(cli.stdout()).not.toContain(secret);
      expect(cli.stderr()).not.toContain(secret);
    }
  });

  it('renews an expired access token with the refresh token on the next command', async () => {
    const before = saved();
    const exp = Date.parse(before.tokenExpiresAt!);
    await until('the access token to expire', () => Date.now() > exp + 1000 || undefined, (ACCESS_TTL_S + 5) * 1000);
    const cli = startCli(['hosts', 'list', '-o', 'json']);
    expect(await cli.done).toBe(EXIT.ok);
    expect(JSON.parse(cli.stdout())).toMatchObject({ items: [{ id: 'hw-1' }] });
    const after = saved();
    expect(after.token).not.toBe(before.token);
    expect(accepted[accepted.length - 1]).toBe(after.token);
    // The expired token was never sent: the CLI renewed it before the call.
    expect(refused).not.toContain(before.token);
    expect(Date.parse(after.tokenExpiresAt!)).toBeGreaterThan(Date.now());
    expect(statSync(configPath()).mode & 0o777).toBe(0o600);
    expect(cli.stderr()).not.toContain(after.token);
  });

  it('says to sign in again when the identity provider refuses the refresh token', async () => {
    const cfg = saved();
    writeFileSync(configPath(), JSON.stringify({ ...cfg, tokenExpiresAt: new Date(0).toISOString(), token: 'opaque-expired', signIn: { ...cfg.signIn, refreshToken: 'revoked-or-forged' } }), { mode: 0o600 });
    const cli = startCli(['hosts', 'list']);
    expect(await cli.done).toBe(EXIT.auth);
    expect(cli.stderr()).toContain(`your sign-in to ${apiUrl} has ended`);
    expect(cli.stderr()).toContain('invalid_grant');
    expect(cli.stderr()).toContain(`edgefleet login --url ${apiUrl}`);
  });

  it('refuses a redirect with the wrong state and saves nothing', async () => {
    rmSync(configPath(), { force: true });
    const cli = startCli(['login', '--url', apiUrl, '--no-browser', '--timeout', '60']);
    const url = new URL(await until('the sign-in URL on stderr', () => signInUrl(cli.stderr())));
    const callback = new URL(url.searchParams.get('redirect_uri')!);
    callback.search = new URLSearchParams({ code: 'forged-code', state: 'not-the-state-we-sent' }).toString();
    const res = await fetch(callback);
    expect(res.status).toBe(400);
    expect(await res.text()).toContain('Sign-in refused');
    expect(await cli.done).toBe(EXIT.auth);
    expect(cli.stderr()).toContain('refused the sign-in redirect: the redirect carries a state that this login did not send');
    expect(() => statSync(configPath())).toThrow();
  });

  it('explains an access_denied redirect (the user cancelled at the provider) and saves nothing', async () => {
    const cli = startCli(['login', '--url', apiUrl, '--no-browser', '--timeout', '60']);
    const url = await until('the sign-in URL on stderr', () => signInUrl(cli.stderr()));
    const page = await new Browser().signIn(url, { login: 'alice', cancel: true });
    expect(page.url).toContain('error=access_denied');
    expect(page.body).toContain('Sign-in not completed');
    expect(await cli.done).toBe(EXIT.auth);
    expect(cli.stderr()).toContain(`the sign-in was not completed: ${issuer} answered access_denied`);
    expect(cli.stderr()).toContain('nothing was saved');
    expect(() => statSync(configPath())).toThrow();
  });

  it('gives up after --timeout with a clear message and closes its listener', async () => {
    const cli = startCli(['login', '--url', apiUrl, '--no-browser', '--timeout', '1']);
    const redirect = new URL(await until('the sign-in URL on stderr', () => signInUrl(cli.stderr()))).searchParams.get('redirect_uri')!;
    expect(await cli.done).toBe(EXIT.auth);
    expect(cli.stderr()).toMatch(/no sign-in arrived at http:\/\/127\.0\.0\.1:\d+\/callback within 1 s; nothing was saved/);
    await expect(fetch(redirect)).rejects.toThrow();
  });

  it('tells the operator when the control plane offers no browser sign-in', async () => {
    const cli = startCli(['login', '--url', `${apiUrl}/nowhere`, '--no-browser']);
    expect(await cli.done).toBe(EXIT.auth);
    expect(cli.stderr()).toContain('offers no browser sign-in');
    expect(cli.stderr()).toContain('--token');
  });
});
