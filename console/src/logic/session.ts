/**
 * The signed-in operator, read from the access token's claims (display only: the API checks
 * every request itself). Roles are `project:role` entries in `edgefleet:roles` (or
 * `cognito:groups`), `*` meaning every project — the same forms the API accepts.
 */
export type Role = 'viewer' | 'operator' | 'admin';

export interface Session {
  readonly token: string;
  readonly subject: string;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
  /** Role per project (`*`: every project). */
  readonly roles: Readonly<Record<string, Role>>;
}

const RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

function base64UrlDecode(s: string): string {
  const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (s.length % 4)) % 4);
  const bin = atob(b64);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}

function claimList(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.filter((x): x is string => typeof x === 'string');
  if (typeof raw !== 'string') return [];
  return raw.replace(/^\[|\]$/g, '').split(/[\s,]+/).filter(Boolean);
}

/** The session of a JWT, or a reason it cannot be used (malformed, no subject, expired). */
export function sessionFromToken(token: string, nowSeconds: number): Session | { error: string } {
  const parts = token.trim().split('.');
  if (parts.length !== 3) return { error: 'this is not an access token (a JWT has three dot-separated parts); copy the whole token' };
  let claims: Record<string, unknown>;
  try {
    const parsed: unknown = JSON.parse(base64UrlDecode(parts[1]!));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    claims = parsed as Record<string, unknown>;
  } catch {
    return { error: 'the token\'s claims cannot be read; copy the whole token again' };
  }
  if (typeof claims.sub !== 'string' || !claims.sub) return { error: 'the token has no subject (sub claim); it was not issued for an operator' };
  const exp = typeof claims.exp === 'number' ? claims.exp : 0;
  if (exp <= nowSeconds) return { error: 'the token has expired; get a new one (npm start prints the sign-in link, `edgefleet login` a token)' };
  const roles: Record<string, Role> = {};
  for (const entry of claimList(claims['edgefleet:roles'] ?? claims['cognito:groups'])) {
    const m = /^([a-z0-9*][a-z0-9-]*):(viewer|operator|admin)$/.exec(entry);
    if (!m) continue;
    const project = m[1]!;
    const role = m[2] as Role;
    if (!roles[project] || RANK[role] > RANK[roles[project]!]) roles[project] = role;
  }
  return { token: token.trim(), subject: claims.sub, expiresAt: exp, roles };
}

/** The operator's role in a project: the higher of the project's and the `*` entry. */
export function roleIn(session: Pick<Session, 'roles'>, project: string): Role | undefined {
  const direct = session.roles[project];
  const wildcard = session.roles['*'];
  if (direct && wildcard) return RANK[direct] >= RANK[wildcard] ? direct : wildcard;
  return direct ?? wildcard;
}

/** Which mutating controls the console shows (the API's role table: lambdas/domain/authz.ts). */
export interface Capabilities {
  /** Approve or reject hosts, create profiles and clusters, render user-data. */
  readonly operate: boolean;
  /** Create and revoke registration tokens, delete hosts and clusters. */
  readonly administer: boolean;
}

export function capabilities(role: Role | undefined): Capabilities {
  return { operate: role === 'operator' || role === 'admin', administer: role === 'admin' };
}
