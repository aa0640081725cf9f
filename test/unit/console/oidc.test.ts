import {
  beginSignIn, challengeS256, completeSignIn, ID_TOKEN_KEY, isCallback, PENDING_KEY, randomToken, resolveEndpoints, signOutUrl,
  type AuthConfig, type OidcEndpoints, type Store,
} from '../../../console/src/logic/oidc.js';
import { loadSiteConfig } from '../../../console/src/logic/site.js';

const memoryStore = (): Store & { map: Map<string, string> } => {
  const map = new Map<string, string>();
  return { map, getItem: (k) => map.get(k) ?? null, setItem: (k, v) => { map.set(k, v); }, removeItem: (k) => { map.delete(k); } };
};

const COGNITO: OidcEndpoints = {
  clientId: 'console-client',
  scopes: ['openid', 'email', 'profile'],
  redirectUri: 'https://d111.cloudfront.net',
  authorizationEndpoint: 'https://edgefleet-1.auth.eu-west-1.amazoncognito.com/oauth2/authorize',
  tokenEndpoint: 'https://edgefleet-1.auth.eu-west-1.amazoncognito.com/oauth2/token',
  endSessionEndpoint: 'https://edgefleet-1.auth.eu-west-1.amazoncognito.com/logout',
};

interface Call { url: string; init?: RequestInit }
const fakeFetch = (respond: (c: Call) => Response) => {
  const calls: Call[] = [];
  const fn = async (url: string, init?: RequestInit) => { const c = { url, ...(init ? { init } : {}) }; calls.push(c); return respond(c); };
  return { fn, calls };
};
const json = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

/** Starts a sign-in and returns the state it sent and the challenge. */
async function started(store: Store) {
  const url = new URL(await beginSignIn(COGNITO, store));
  return { url, state: url.searchParams.get('state')!, challenge: url.searchParams.get('code_challenge')! };
}

describe('PKCE (RFC 7636)', () => {
  // RFC 7636 appendix B, checked with `printf %s <verifier> | openssl dgst -sha256 -binary | base64`
  // (base64url): E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM. (The task brief quoted …FrEYXk1eQW_rQjE0aD8vI7Dns9NYGSY, which is not it.)
  it('S256 of the RFC 7636 appendix B verifier is its challenge', async () => {
    await expect(challengeS256('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).resolves.toBe('E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM');
  });

  it.each([['too short', 'abc'], ['a character outside the unreserved set', `${'a'.repeat(43)}+`], ['too long', 'a'.repeat(129)]])('refuses a verifier %s', async (_why, v) => {
    await expect(challengeS256(v)).rejects.toThrow(/43 to 128 characters/);
  });

  it('a verifier is 43 base64url characters from 32 random bytes, different each time', () => {
    const a = randomToken();
    expect(a).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(randomToken()).not.toBe(a);
    expect(randomToken(() => new Uint8Array(32).fill(0xff))).toBe('_'.repeat(42) + '8');
  });
});

describe('authorization request', () => {
  it('sends code + S256 challenge of the verifier it keeps, a fresh state, the client and redirect URI; no secret', async () => {
    const store = memoryStore();
    const { url, state, challenge } = await started(store);
    expect(url.origin + url.pathname).toBe(COGNITO.authorizationEndpoint);
    expect(Object.fromEntries(url.searchParams)).toEqual({
      response_type: 'code', client_id: 'console-client', redirect_uri: 'https://d111.cloudfront.net', scope: 'openid email profile',
      state, code_challenge: challenge, code_challenge_method: 'S256',
    });
    const pending = JSON.parse(store.map.get(PENDING_KEY)!);
    expect(pending.state).toBe(state);
    await expect(challengeS256(pending.verifier)).resolves.toBe(challenge);
    expect(url.toString()).not.toMatch(/secret/);
  });

  it.each([
    ['?code=abc&state=xyz', true], ['?error=access_denied&state=xyz', true], ['?code=abc', false], ['', false], ['?state=xyz', false],
  ])('isCallback(%s) = %s', (search, expected) => {
    expect(isCallback(search)).toBe(expected);
  });
});

describe('callback: state checked, code exchanged once', () => {
  it('exchanges the code with the verifier at the token endpoint and returns the access token', async () => {
    const store = memoryStore();
    const { state } = await started(store);
    const verifier = JSON.parse(store.map.get(PENDING_KEY)!).verifier;
    const f = fakeFetch(() => json(200, { access_token: 'AT', id_token: 'IDT', token_type: 'Bearer' }));
    await expect(completeSignIn(`?code=the-code&state=${state}`, store, f.fn)).resolves.toBe('AT');
    expect(f.calls).toHaveLength(1);
    expect(f.calls[0]!.url).toBe(COGNITO.tokenEndpoint);
    expect(f.calls[0]!.init?.method).toBe('POST');
    expect(Object.fromEntries(new URLSearchParams(String(f.calls[0]!.init?.body)))).toEqual({
      grant_type: 'authorization_code', client_id: 'console-client', code: 'the-code', redirect_uri: 'https://d111.cloudfront.net', code_verifier: verifier,
    });
    expect(store.map.get(ID_TOKEN_KEY)).toBe('IDT');
    expect(store.map.has(PENDING_KEY)).toBe(false);
    // The same response again (replay, back button): refused, no second exchange.
    await expect(completeSignIn(`?code=the-code&state=${state}`, store, f.fn)).rejects.toThrow(/not started in this browser tab/);
    expect(f.calls).toHaveLength(1);
  });

  it('refuses a response whose state is not the one sent, without calling the token endpoint, and forgets the pending sign-in', async () => {
    const store = memoryStore();
    await started(store);
    const f = fakeFetch(() => json(200, { access_token: 'AT' }));
    await expect(completeSignIn('?code=stolen&state=forged', store, f.fn)).rejects.toThrow(/state differs/);
    expect(f.calls).toHaveLength(0);
    expect(store.map.has(PENDING_KEY)).toBe(false);
  });

  it('refuses a response no sign-in of this tab started', async () => {
    const f = fakeFetch(() => json(200, { access_token: 'AT' }));
    await expect(completeSignIn('?code=c&state=s', memoryStore(), f.fn)).rejects.toThrow(/not started in this browser tab/);
    expect(f.calls).toHaveLength(0);
  });

  it('reports the provider\'s error and the token endpoint\'s refusal', async () => {
    const store = memoryStore();
    let { state } = await started(store);
    const f = fakeFetch(() => json(400, { error: 'invalid_grant', error_description: 'code expired' }));
    await expect(completeSignIn(`?error=access_denied&error_description=no&state=${state}`, store, f.fn)).rejects.toThrow(/refused the sign-in: access_denied \(no\)/);
    ({ state } = await started(store));
    await expect(completeSignIn(`?code=old&state=${state}`, store, f.fn)).rejects.toThrow(/refused the authorization code: invalid_grant \(code expired\)/);
  });
});

describe('endpoints', () => {
  const config = (console: AuthConfig['console']): AuthConfig => ({ issuer: 'https://idp.example.com/tenant', clientId: 'cli', scopes: ['openid'], ...(console ? { console } : {}) });

  it('uses the stack\'s endpoints (Cognito) without discovery', async () => {
    const f = fakeFetch(() => { throw new Error('no call expected'); });
    await expect(resolveEndpoints(config({ ...COGNITO, scopes: [...COGNITO.scopes] }), f.fn)).resolves.toEqual(COGNITO);
  });

  it('discovers an external issuer\'s endpoints and checks its issuer', async () => {
    const doc = { issuer: 'https://idp.example.com/tenant', authorization_endpoint: 'https://idp.example.com/tenant/authorize', token_endpoint: 'https://idp.example.com/tenant/token', end_session_endpoint: 'https://idp.example.com/tenant/logout' };
    const f = fakeFetch(() => json(200, doc));
    const c = config({ clientId: 'spa', scopes: ['openid'], redirectUri: 'https://d1.cloudfront.net' });
    await expect(resolveEndpoints(c, f.fn)).resolves.toEqual({
      clientId: 'spa', scopes: ['openid'], redirectUri: 'https://d1.cloudfront.net',
      authorizationEndpoint: doc.authorization_endpoint, tokenEndpoint: doc.token_endpoint, endSessionEndpoint: doc.end_session_endpoint,
    });
    expect(f.calls[0]!.url).toBe('https://idp.example.com/tenant/.well-known/openid-configuration');
    const other = fakeFetch(() => json(200, { ...doc, issuer: 'https://evil.example.com' }));
    await expect(resolveEndpoints(c, other.fn)).rejects.toThrow(/names issuer https:\/\/evil\.example\.com/);
    const plain = fakeFetch(() => json(200, { ...doc, token_endpoint: 'http://idp.example.com/token' }));
    await expect(resolveEndpoints(c, plain.fn)).rejects.toThrow(/no https authorization_endpoint and token_endpoint/);
  });

  it('says so when the control plane publishes no console sign-in', async () => {
    await expect(resolveEndpoints(config(undefined), fakeFetch(() => json(200, {})).fn)).rejects.toThrow(/publishes no console sign-in/);
  });
});

describe('sign-out', () => {
  it('Cognito: /logout with client_id and logout_uri; forgets the ID token', () => {
    const store = memoryStore();
    store.setItem(ID_TOKEN_KEY, 'IDT');
    const url = new URL(signOutUrl(COGNITO, store)!);
    expect(Object.fromEntries(url.searchParams)).toEqual({ client_id: 'console-client', logout_uri: 'https://d111.cloudfront.net' });
    expect(store.map.size).toBe(0);
  });

  it('OIDC: end_session_endpoint with post_logout_redirect_uri and id_token_hint; none without an endpoint', () => {
    const store = memoryStore();
    store.setItem(ID_TOKEN_KEY, 'IDT');
    const e = { ...COGNITO, endSessionEndpoint: 'https://idp.example.com/logout' };
    expect(Object.fromEntries(new URL(signOutUrl(e, store)!).searchParams)).toEqual({ client_id: 'console-client', post_logout_redirect_uri: 'https://d111.cloudfront.net', id_token_hint: 'IDT' });
    const { endSessionEndpoint: _none, ...without } = COGNITO;
    expect(signOutUrl(without, store)).toBeUndefined();
  });
});

describe('site config (where the API is)', () => {
  it.each([
    ['AWS: config.json names the API', json(200, { apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com/' }), { apiUrl: 'https://abc.execute-api.eu-west-1.amazonaws.com' }],
    ['local: {}', json(200, {}), {}],
    ['no file', json(404, { detail: 'x' }), {}],
    ['not https', json(200, { apiUrl: 'http://abc.example.com' }), {}],
    ['html fallback (CloudFront SPA fallback)', new Response('<!doctype html>', { status: 200, headers: { 'content-type': 'text/html' } }), {}],
  ])('%s', async (_name, response, expected) => {
    await expect(loadSiteConfig(async () => response)).resolves.toEqual(expected);
  });
});
