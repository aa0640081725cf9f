/**
 * The OIDC sign-in of `edgefleet login --url`, and the renewal of its access token on later
 * commands: the CLI config keeps the refresh token (mode 0600) and replaces the access token
 * when it expires.
 */
import type { FetchFn, TokenRenewal } from './client.js';
import { saveConfig, type SavedConfig, type SavedSignIn } from './config.js';
import { CliError, EXIT } from './errors.js';
import { jwtExpiry, OAuthError, refreshTokens, type TokenSet } from './oidc.js';

/** When the access token stops working: its `exp`, else what the token endpoint said. */
export function expiryOf(token: string, saved?: Pick<SavedConfig, 'token' | 'tokenExpiresAt'>): number | undefined {
  const exp = jwtExpiry(token);
  if (exp !== undefined) return exp;
  if (saved?.token === token && saved.tokenExpiresAt) {
    const at = Date.parse(saved.tokenExpiresAt);
    return Number.isNaN(at) ? undefined : at;
  }
  return undefined;
}

/** The config to save after a sign-in or a refresh (a refresh may not return a new refresh token). */
export function signedInConfig(base: { url: string; project?: string }, tokens: TokenSet, signIn: Omit<SavedSignIn, 'refreshToken'> & { refreshToken?: string }, now: Date): SavedConfig {
  const refreshToken = tokens.refreshToken ?? signIn.refreshToken;
  return {
    url: base.url,
    token: tokens.accessToken,
    ...(base.project ? { project: base.project } : {}),
    savedAt: now.toISOString(),
    ...(tokens.expiresAt !== undefined ? { tokenExpiresAt: new Date(tokens.expiresAt).toISOString() } : {}),
    ...(refreshToken ? { signIn: { issuer: signIn.issuer, clientId: signIn.clientId, tokenEndpoint: signIn.tokenEndpoint, refreshToken } } : {}),
  };
}

/** Renews the saved access token with the saved refresh token and saves the result. */
export function savedTokenRenewal(path: string, saved: SavedConfig & { signIn: SavedSignIn }, fetchFn: FetchFn, now: () => number = Date.now): TokenRenewal {
  let current = saved;
  return {
    now,
    expiresAt: (token) => expiryOf(token, current),
    renew: async () => {
      let tokens: TokenSet;
      try {
        tokens = await refreshTokens(fetchFn, { tokenEndpoint: current.signIn.tokenEndpoint, clientId: current.signIn.clientId, refreshToken: current.signIn.refreshToken }, now);
      } catch (err) {
        if (!(err instanceof OAuthError)) throw err;
        throw new CliError(`your sign-in to ${current.url} has ended: ${current.signIn.issuer} refused to renew the access token (${err.error}${err.description ? `: ${err.description}` : ''})`, EXIT.auth, [
          `what to do: sign in again with \`edgefleet login --url ${current.url}\``,
        ]);
      }
      current = { ...current, ...signedInConfig({ url: current.url, project: current.project }, tokens, current.signIn, new Date(now())) } as SavedConfig & { signIn: SavedSignIn };
      saveConfig(path, current);
      return tokens.accessToken;
    },
  };
}
