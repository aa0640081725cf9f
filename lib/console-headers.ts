/**
 * The web console's security headers: the one definition that the local runtime sends
 * (local/console-site.ts) and that CloudFront sets on AWS (lib/constructs/console-site.ts, which
 * adds HSTS). No inline script or style, nothing loaded from elsewhere; `connect-src` is the
 * console's own origin plus the origins it calls on AWS (the HTTP API and the OIDC issuer's token
 * endpoint), given as CSP source expressions (e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`).
 */
export const CONSOLE_CSP_DIRECTIVES = {
  'default-src': ["'none'"],
  'script-src': ["'self'"],
  'style-src': ["'self'"],
  'img-src': ["'self'", 'data:'],
  'connect-src': ["'self'"],
  'font-src': ["'self'"],
  'base-uri': ["'none'"],
  'form-action': ["'self'"],
  'frame-ancestors': ["'none'"],
} as const satisfies Record<string, readonly string[]>;

/** The Content-Security-Policy value, with `connectSrc` added to `connect-src`. */
export function consoleCsp(connectSrc: readonly string[] = []): string {
  return Object.entries(CONSOLE_CSP_DIRECTIVES)
    .map(([name, values]) => [name, ...values, ...(name === 'connect-src' ? connectSrc : [])].join(' '))
    .join('; ');
}

/** Header name (lowercase) → value. */
export function consoleSecurityHeaders(connectSrc: readonly string[] = []): Readonly<Record<string, string>> {
  return {
    'content-security-policy': consoleCsp(connectSrc),
    'x-content-type-options': 'nosniff',
    'x-frame-options': 'DENY',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
    'permissions-policy': 'camera=(), microphone=(), geolocation=()',
  };
}
