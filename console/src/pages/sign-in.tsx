/**
 * Local sign-in: the link `npm start` prints carries a one-time code, exchanged here for an
 * access token of the local issuer; or paste an access token (e.g. from `.edgefleet/local.json`
 * or one minted for a viewer). Cognito / OIDC sign-in (AWS) is not built yet.
 */
import { useEffect, useRef, useState, type FormEvent } from 'react';
import { problemMessage } from '../logic/problem.js';
import { ErrorBanner } from '../components/ui.js';

/** The local runtime's one-time code exchange (not an API route: local only, no JWT). */
export const LOCAL_SIGN_IN_PATH = '/local/console/sign-in';

export function SignIn({ code, onToken }: { code?: string; onToken: (token: string) => string | undefined }) {
  const [error, setError] = useState<string>();
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
      <p>Open the console link that <code>npm start</code> prints (it signs you in once), or paste an access token.</p>
      {error ? <ErrorBanner error={new Error(error)} /> : null}
      <form onSubmit={paste} className="sign-in">
        <label htmlFor="token">Access token</label>
        <textarea id="token" name="token" rows={4} required spellCheck={false} aria-describedby="token-hint" />
        <small id="token-hint">The admin token is in <code>.edgefleet/local.json</code> (<code>adminToken</code>). It stays in this browser tab only.</small>
        <button type="submit">Sign in</button>
      </form>
    </>
  );
}
