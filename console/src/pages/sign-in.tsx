/**
 * Sign-in. Local runtime: the link `npm start` prints carries a one-time code, exchanged here for
 * an access token of the local issuer. On AWS (config.json names the API): the stack's Cognito
 * managed login or the external OIDC issuer, authorization code + PKCE (logic/oidc.ts). Either
 * way an access token may be pasted (e.g. from `.edgefleet/local.json`, or one minted for a viewer).
 */
import { useCallback, useEffect, useRef, useState, type FormEvent } from 'react';
import { problemMessage } from '../logic/problem.js';
import { beginSignIn, completeSignIn, isCallback, resolveEndpoints, signOutUrl, type OidcEndpoints } from '../logic/oidc.js';
import { api, must } from '../api/client.js';
import { ErrorBanner } from '../components/ui.js';

export interface Oidc {
  /** The identity provider's endpoints once read; undefined while loading or locally. */
  readonly endpoints?: OidcEndpoints;
  /** Why the provider cannot be used (or the callback was refused). */
  readonly error?: string;
  /** Forgets the token and, on AWS, ends the provider's session too. */
  readonly signOut: () => void;
}

const browserFetch = (input: string, init?: RequestInit) => fetch(input, init);

/**
 * On AWS: reads GET /v1/auth/config (and the issuer's discovery document when needed), and
 * completes a redirect back from the provider (code + state in the query) with `onToken`.
 */
export function useOidc(onAws: boolean, onToken: (token: string) => string | undefined, forget: () => void): Oidc {
  const [endpoints, setEndpoints] = useState<OidcEndpoints>();
  const [error, setError] = useState<string>();
  const started = useRef(false);
  useEffect(() => {
    if (!onAws || started.current) return;
    started.current = true;
    const callback = isCallback(location.search) ? location.search : undefined;
    // The code is single use: take it out of the address at once.
    if (callback) history.replaceState(null, '', `${location.pathname}#/`);
    (async () => {
      if (callback) {
        const refused = onToken(await completeSignIn(callback, sessionStorage, browserFetch));
        if (refused) throw new Error(refused);
      }
      setEndpoints(await resolveEndpoints(await must(api.GET('/v1/auth/config')), browserFetch));
    })().catch((e: unknown) => setError(e instanceof Error ? e.message : String(e)));
  }, [onAws, onToken]);
  const signOut = useCallback(() => {
    forget();
    const url = endpoints ? signOutUrl(endpoints, sessionStorage) : undefined;
    if (url) location.assign(url);
  }, [endpoints, forget]);
  return { ...(endpoints ? { endpoints } : {}), ...(error ? { error } : {}), signOut };
}

/** The local runtime's one-time code exchange (not an API route: local only, no JWT). */
export const LOCAL_SIGN_IN_PATH = '/local/console/sign-in';

export function SignIn({ code, onToken, oidc }: { code?: string; onToken: (token: string) => string | undefined; oidc?: Oidc }) {
  const [error, setError] = useState<string>();
  const [leaving, setLeaving] = useState(false);
  const provider = oidc?.endpoints;
  function signInWithProvider() {
    if (!provider) return;
    setLeaving(true);
    beginSignIn(provider, sessionStorage).then((url) => location.assign(url), (e: unknown) => { setLeaving(false); setError(e instanceof Error ? e.message : String(e)); });
  }
  const used = useRef(false);
  useEffect(() => {
    if (!code || used.current) return;
    used.current = true;
    history.replaceState(null, '', '#/sign-in');
    fetch(LOCAL_SIGN_IN_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ code }) })
      .then(async (r) => {
        const body: unknown = await r.json().catch(() => undefined);
        if (!r.ok || typeof body !== 'object' || body === null || typeof (body as { token?: unknown }).token !== 'string') {
          setError(r.status === 404 && !(body && typeof body === 'object' && 'detail' in body) ? 'This control plane has no local sign-in link (it runs on AWS): sign in with a token.' : problemMessage(r.status, body));
          return;
        }
        const refused = onToken((body as { token: string }).token);
        if (refused) setError(refused);
      }, () => setError(problemMessage(0, undefined)));
  }, [code, onToken]);
  function paste(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const token = String(new FormData(e.currentTarget).get('token') ?? '');
    const refused = onToken(token);
    if (refused) setError(refused);
  }
  return (
    <>
      <h1>Sign in to EdgeFleet</h1>
      {oidc ? (
        <>
          <p>Sign in with your organisation&apos;s account, or paste an access token.</p>
          {oidc.error ? <ErrorBanner error={new Error(oidc.error)} /> : null}
          <p><button type="button" onClick={signInWithProvider} disabled={!provider || leaving}>{provider ? 'Sign in with your identity provider' : 'Reading the sign-in settings…'}</button></p>
        </>
      ) : <p>Open the console link that <code>npm start</code> prints (it signs you in once), or paste an access token.</p>}
      {error ? <ErrorBanner error={new Error(error)} /> : null}
      <form onSubmit={paste} className="sign-in">
        <label htmlFor="token">Access token</label>
        <textarea id="token" name="token" rows={4} required spellCheck={false} aria-describedby="token-hint" />
        <small id="token-hint">{oidc ? <>A token from <code>edgefleet login</code>.</> : <>The admin token is in <code>.edgefleet/local.json</code> (<code>adminToken</code>).</>} It stays in this browser tab only.</small>
        <button type="submit">Sign in</button>
      </form>
    </>
  );
}
