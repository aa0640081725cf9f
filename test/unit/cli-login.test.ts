/** The pure parts of `edgefleet login --url` and of renewing its token. */
import { authConfigFromEnv } from '../../lambdas/contracts/auth-config.js';
import { ApiClient, type FetchFn } from '../../cli/client.js';
import { authorizationUrl, createPkce, discoveryProblem, jwtExpiry, parseCallback, s256, tokenSetOf, type Discovery } from '../../cli/oidc.js';
import { signedInConfig } from '../../cli/sign-in.js';

const jwt = (claims: Record<string, unknown>) => `e30.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('PKCE (RFC 7636)', () => {
  it('derives the S256 challenge of the RFC 7636 appendix B example', () => {
    expect(s256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });
  it('makes a 43-character verifier from 32 random bytes, fresh each time', () => {
    const a = createPkce();
    expect(a.verifier).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(a.challenge).toBe(s256(a.verifier));
    expect(createPkce().verifier).not.toBe(a.verifier);
  });
});

describe('authorizationUrl', () => {
  const base = { endpoint: 'https://idp.example/authorize?tenant=x', clientId: 'cli', redirectUri: 'http://127.0.0.1:8976/callback', state: 's', nonce: 'n', pkce: { verifier: 'v', challenge: 'c', method: 'S256' as const } };
  it('asks for a code with PKCE S256, keeping the endpoint\'s own parameters', () => {
    const u = new URL(authorizationUrl({ ...base, scopes: ['openid', 'email'] }));
    expect(Object.fromEntries(u.searchParams)).toEqual({
      tenant: 'x', response_type: 'code', client_id: 'cli', redirect_uri: base.redirectUri, scope: 'openid email',
      state: 's', nonce: 'n', code_challenge: 'c', code_challenge_method: 'S256',
    });
  });
  it('adds prompt=consent only when asking for offline_access (OIDC Core §11)', () => {
    expect(new URL(authorizationUrl({ ...base, scopes: ['openid', 'offline_access'] })).searchParams.get('prompt')).toBe('consent');
    expect(new URL(authorizationUrl({ ...base, scopes: ['openid'] })).searchParams.get('prompt')).toBeNull();
  });
});

describe('parseCallback', () => {
  const expected = { state: 'good', issuer: 'https://idp.example' };
  it.each([
    ['code=abc&state=good', { kind: 'code', code: 'abc' }],
    ['code=abc&state=good&iss=https%3A%2F%2Fidp.example', { kind: 'code', code: 'abc' }],
    ['error=access_denied&error_description=User+cancelled&state=good', { kind: 'denied', error: 'access_denied', description: 'User cancelled' }],
    ['code=abc&state=bad', { kind: 'refused', reason: expect.stringContaining('state that this login did not send') }],
    ['code=abc', { kind: 'refused', reason: expect.stringContaining('no state') }],
    ['error=access_denied&state=bad', { kind: 'refused', reason: expect.stringContaining('state') }],
    ['code=abc&state=good&iss=https%3A%2F%2Fevil.example', { kind: 'refused', reason: expect.stringContaining('evil.example') }],
    ['state=good', { kind: 'refused', reason: expect.stringContaining('neither a code nor an error') }],
  ])('%s', (query, outcome) => {
    expect(parseCallback(new URLSearchParams(query), expected)).toEqual(outcome);
  });
});

describe('discoveryProblem', () => {
  const doc = (over: Partial<Discovery>): Discovery => ({ issuer: 'https://idp.example', authorization_endpoint: 'https://idp.example/a', token_endpoint: 'https://idp.example/t', ...over });
  it.each([
    [doc({}), undefined],
    [doc({ code_challenge_methods_supported: ['plain', 'S256'] }), undefined],
    [doc({ issuer: 'https://other.example' }), 'it names the issuer https://other.example, not https://idp.example'],
    [doc({ code_challenge_methods_supported: ['plain'] }), expect.stringContaining('does not support PKCE with S256')],
  ])('%#', (d, problem) => expect(discoveryProblem('https://idp.example', d)).toEqual(problem));
});

describe('tokens', () => {
  it('takes the expiry from expires_in, else from the JWT exp', () => {
    expect(tokenSetOf({ access_token: 'opaque', token_type: 'Bearer', expires_in: 60 }, 1_000)).toEqual({ accessToken: 'opaque', refreshToken: undefined, expiresAt: 61_000 });
    expect(tokenSetOf({ access_token: jwt({ exp: 100 }), token_type: 'bearer' }, 0).expiresAt).toBe(100_000);
    expect(jwtExpiry('opaque')).toBeUndefined();
  });
  it('keeps the old refresh token when a refresh returns none', () => {
    const cfg = signedInConfig({ url: 'u' }, { accessToken: 'a2', expiresAt: 5_000 }, { issuer: 'i', clientId: 'c', tokenEndpoint: 't', refreshToken: 'r1' }, new Date(0));
    expect(cfg).toEqual({ url: 'u', token: 'a2', savedAt: new Date(0).toISOString(), tokenExpiresAt: new Date(5_000).toISOString(), signIn: { issuer: 'i', clientId: 'c', tokenEndpoint: 't', refreshToken: 'r1' } });
  });
});

describe('ApiClient token renewal', () => {
  /** The API: accepts only `valid`, answers 401 otherwise; records what it saw. */
  const api = (seen: string[]): FetchFn => (async (_url: string | URL | Request, init?: RequestInit) => {
    const token = String((init?.headers as Record<string, string>).authorization).replace('Bearer ', '');
    seen.push(token);
    return token === 'valid'
      ? new Response('{"items":[]}', { status: 200 })
      : new Response('{"type":"about:blank","title":"Unauthorized","status":401,"code":"unauthenticated","detail":"expired"}', { status: 401 });
  }) as FetchFn;
  const now = 1_000_000;

  it.each([
    // [token expiry relative to now, what the API sees, renewals]
    ['expired: renewed before the call', -1_000, ['valid'], 1],
    ['expiring within 30 s: renewed before the call', 10_000, ['valid'], 1],
    ['401 with a token expiring within the clock skew: renewed once and retried', 45_000, ['stale', 'valid'], 1],
    ['401 with a long-lived token: not renewed (the token is refused for another reason)', 3_600_000, ['stale'], 0],
  ])('%s', async (_name, expiresIn, seenTokens, renewals) => {
    const seen: string[] = [];
    let renewed = 0;
    const client = new ApiClient({
      url: 'http://api', token: 'stale', project: 'default', fetch: api(seen),
      renewal: { now: () => now, expiresAt: (t) => (t === 'stale' ? now + expiresIn : now + 3_600_000), renew: async () => { renewed++; return 'valid'; } },
    });
    const result = client.get('/v1/hosts', { what: 'list hosts' });
    if (seenTokens.at(-1) === 'valid') await expect(result).resolves.toEqual({ items: [] });
    else await expect(result).rejects.toMatchObject({ status: 401 });
    expect(seen).toEqual(seenTokens);
    expect(renewed).toBe(renewals);
  });
});

describe('authConfigFromEnv (GET /v1/auth/config)', () => {
  it('is absent when no CLI client is named (local runtime)', () => {
    expect(authConfigFromEnv({})).toBeUndefined();
    expect(authConfigFromEnv({ EDGEFLEET_AUTH_ISSUER: 'https://idp.example' })).toBeUndefined();
  });
  it('reads issuer, client, scopes and the optional port', () => {
    expect(authConfigFromEnv({ EDGEFLEET_AUTH_ISSUER: 'https://idp.example', EDGEFLEET_AUTH_CLIENT_ID: 'cli', EDGEFLEET_AUTH_SCOPES: 'openid  email', EDGEFLEET_AUTH_REDIRECT_PORT: '8976' }))
      .toEqual({ issuer: 'https://idp.example', clientId: 'cli', scopes: ['openid', 'email'], redirectPort: 8976 });
    expect(authConfigFromEnv({ EDGEFLEET_AUTH_ISSUER: 'https://idp.example', EDGEFLEET_AUTH_CLIENT_ID: 'cli' })).toEqual({ issuer: 'https://idp.example', clientId: 'cli', scopes: ['openid'] });
  });
  it('fails loudly on a bad setting instead of serving it', () => {
    expect(() => authConfigFromEnv({ EDGEFLEET_AUTH_ISSUER: 'ftp://idp', EDGEFLEET_AUTH_CLIENT_ID: 'cli' })).toThrow(/EDGEFLEET_AUTH_ISSUER.*not valid: issuer/);
    expect(() => authConfigFromEnv({ EDGEFLEET_AUTH_ISSUER: 'https://idp', EDGEFLEET_AUTH_CLIENT_ID: 'cli', EDGEFLEET_AUTH_REDIRECT_PORT: '80' })).toThrow(/redirectPort/);
  });
});
