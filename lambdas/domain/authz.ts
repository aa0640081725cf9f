import { ForbiddenError, UnauthenticatedError } from './errors.js';

export type Role = 'viewer' | 'operator' | 'admin';

export type Action =
  | 'tokens:create' | 'tokens:read' | 'tokens:revoke'
  | 'user-data:create'
  | 'hosts:create' | 'hosts:read' | 'hosts:update' | 'hosts:approve' | 'hosts:delete'
  /** Collect a diagnostics bundle from a host and download it (its logs and state, redacted). */
  | 'hosts:diagnose'
  | 'profiles:create' | 'profiles:read'
  | 'clusters:create' | 'clusters:read' | 'clusters:update' | 'clusters:delete' | 'clusters:kubeconfig'
  | 'operations:read'
  | 'audit:read'
  | 'alerts:read' | 'alerts:manage'
  /** Grant and revoke remote troubleshooting (stored troubleshoot grants): admins only. */
  | 'grants:manage'
  /**
   * Remote shell on a host: the operator or admin role here, plus a stored troubleshoot grant
   * that the use case checks (lambdas/use-cases/troubleshoot-grants.ts), which no role includes.
   */
  | 'hosts:troubleshoot';

const READ: readonly Action[] = ['tokens:read', 'hosts:read', 'profiles:read', 'clusters:read', 'operations:read', 'alerts:read'];
const OPERATE: readonly Action[] = [
  ...READ, 'user-data:create', 'hosts:create', 'hosts:update', 'hosts:approve',
  'profiles:create', 'clusters:create', 'clusters:update', 'audit:read',
  'hosts:diagnose',
];
/**
 * `clusters:kubeconfig`: the cluster's admin credentials, so admins only. `alerts:manage`: an
 * alert rule sends host names, sites and tags to a URL of its creator's choosing, so admins only.
 */
const ADMIN: readonly Action[] = [...OPERATE, 'tokens:create', 'tokens:revoke', 'hosts:delete', 'clusters:delete', 'clusters:kubeconfig', 'alerts:manage', 'grants:manage'];

export const ROLE_ACTIONS: Readonly<Record<Role, ReadonlySet<Action>>> = {
  viewer: new Set(READ),
  operator: new Set(OPERATE),
  admin: new Set(ADMIN),
};

export interface Principal {
  /** Stable subject (JWT `sub`), used as the audit actor. */
  readonly subject: string;
  /** Role per project; the key `*` applies to every project. */
  readonly roles: Readonly<Record<string, Role>>;
}

const ROLE_RANK: Record<Role, number> = { viewer: 1, operator: 2, admin: 3 };

/**
 * Reads roles from JWT claims. Accepted forms, in order: `edgefleet:roles` then `cognito:groups`,
 * each a list of `project:role` entries given as a JSON array, a space-separated string, or the
 * `[a b]` form API Gateway HTTP APIs use when they flatten array claims.
 */
export function principalFromClaims(claims: Readonly<Record<string, unknown>>): Principal {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) {
    throw new UnauthenticatedError('token-without-subject', 'the access token has no subject (sub) claim');
  }
  const raw = claims['edgefleet:roles'] ?? claims['cognito:groups'];
  const roles: Record<string, Role> = {};
  for (const entry of claimList(raw)) {
    const m = /^([a-z0-9*][a-z0-9-]*):(viewer|operator|admin)$/.exec(entry);
    if (!m) continue;
    const [, project, role] = m as unknown as [string, string, Role];
    if (!roles[project] || ROLE_RANK[role] > ROLE_RANK[roles[project]]) roles[project] = role;
  }
  return { subject: sub, roles };
}

function claimList(raw: unknown): string[] {
  if (Array.isArray(raw)) return raw.filter((x): x is string => typeof x === 'string');
  if (typeof raw !== 'string') return [];
  const s = raw.trim();
  if (s.startsWith('[') && s.endsWith(']')) {
    try {
      const parsed: unknown = JSON.parse(s);
      if (Array.isArray(parsed)) return claimList(parsed);
    } catch {
      return s.slice(1, -1).split(/[\s,]+/).filter(Boolean);
    }
  }
  return s.split(/[\s,]+/).filter(Boolean);
}

export function roleIn(principal: Principal, project: string): Role | undefined {
  const direct = principal.roles[project];
  const wildcard = principal.roles['*'];
  if (direct && wildcard) return ROLE_RANK[direct] >= ROLE_RANK[wildcard] ? direct : wildcard;
  return direct ?? wildcard;
}

/**
 * `hosts:troubleshoot` needs the operator or admin role in the project here; the stored grant is
 * checked by the use case (a token claim cannot be withdrawn before the token expires, so the
 * `<project>:troubleshoot` claim no longer grants anything).
 */
export function can(principal: Principal, project: string, action: Action): boolean {
  const role = roleIn(principal, project);
  if (action === 'hosts:troubleshoot') return role === 'operator' || role === 'admin';
  return role !== undefined && ROLE_ACTIONS[role].has(action);
}

/** Throws ForbiddenError naming the missing permission. */
export function authorize(principal: Principal, project: string, action: Action): void {
  if (can(principal, project, action)) return;
  const role = roleIn(principal, project);
  if (action === 'hosts:troubleshoot' && role) {
    throw new ForbiddenError('forbidden', `your role "${role}" in project "${project}" does not allow hosts:troubleshoot: a remote shell needs the operator or admin role and a troubleshoot grant`);
  }
  throw new ForbiddenError(
    'forbidden',
    role
      ? `your role "${role}" in project "${project}" does not allow ${action}; ask a project admin for the operator or admin role`
      : `you have no role in project "${project}"; ask a project admin to add you, or pick another project with the x-edgefleet-project header`,
  );
}
