import {
  authorize, can, principalFromClaims, roleIn, type Action, type Principal, type Role,
} from '../../../lambdas/domain/authz.js';
import { ForbiddenError, UnauthenticatedError } from '../../../lambdas/domain/errors.js';

const ACTIONS: readonly Action[] = [
  'tokens:create', 'tokens:read', 'tokens:revoke',
  'user-data:create',
  'hosts:create', 'hosts:read', 'hosts:update', 'hosts:approve', 'hosts:delete',
  'hosts:diagnose',
  'profiles:create', 'profiles:read',
  'clusters:create', 'clusters:read', 'clusters:update', 'clusters:delete', 'clusters:kubeconfig',
  'operations:read', 'alerts:read', 'alerts:manage',
  'audit:read',
  'hosts:troubleshoot', 'grants:manage',
];

// Expected permissions, written by hand. ✓ = allowed.
//                                  viewer  operator admin
const MATRIX: Record<Action, readonly [boolean, boolean, boolean]> = {
  'tokens:create': /*            */ [false, false, true],
  'tokens:read': /*              */ [true, true, true],
  'tokens:revoke': /*            */ [false, false, true],
  'user-data:create': /*         */ [false, true, true],
  'hosts:create': /*             */ [false, true, true],
  'hosts:read': /*               */ [true, true, true],
  'hosts:update': /*             */ [false, true, true],
  'hosts:approve': /*            */ [false, true, true],
  'hosts:delete': /*             */ [false, false, true],
  // A host's logs and state (redacted): operators and admins collect and download them.
  'hosts:diagnose': /*           */ [false, true, true],
  'profiles:create': /*          */ [false, true, true],
  'profiles:read': /*            */ [true, true, true],
  'clusters:create': /*          */ [false, true, true],
  'clusters:read': /*            */ [true, true, true],
  'clusters:update': /*          */ [false, true, true],
  'clusters:delete': /*          */ [false, false, true],
  'clusters:kubeconfig': /*      */ [false, false, true],
  'operations:read': /*          */ [true, true, true],
  // The audit trail is for operators and admins; viewers see the fleet, not who did what.
  'audit:read': /*               */ [false, true, true],
  'alerts:read': /*              */ [true, true, true],
  'alerts:manage': /*            */ [false, false, true],
  // The role part of a remote shell; the stored troubleshoot grant is checked by the use case.
  'hosts:troubleshoot': /*       */ [false, true, true],
  'grants:manage': /*            */ [false, false, true],
};
const ROLES: readonly Role[] = ['viewer', 'operator', 'admin'];

const principal = (roles: Record<string, Role>): Principal => ({ subject: 'user-1', roles });

describe('principalFromClaims()', () => {
  it.each([
    ['JSON array', ['shop:admin', 'lab:viewer'], { shop: 'admin', lab: 'viewer' }],
    ['space-separated string', 'shop:admin lab:viewer', { shop: 'admin', lab: 'viewer' }],
    ['comma-separated string', 'shop:admin,lab:viewer', { shop: 'admin', lab: 'viewer' }],
    ['single string', 'shop:operator', { shop: 'operator' }],
    ['API Gateway flattened "[a b]"', '[shop:admin lab:viewer]', { shop: 'admin', lab: 'viewer' }],
    ['API Gateway flattened, one entry', '[shop:operator]', { shop: 'operator' }],
    ['JSON array serialized as a string', '["shop:admin","lab:viewer"]', { shop: 'admin', lab: 'viewer' }],
    ['extra whitespace', '  shop:admin \t lab:viewer  ', { shop: 'admin', lab: 'viewer' }],
    ['wildcard project', ['*:viewer'], { '*': 'viewer' }],
    ['project with digits and dashes', ['store-0042:operator'], { 'store-0042': 'operator' }],
    ['empty array', [], {}],
    ['empty string', '', {}],
    ['empty flattened list', '[]', {}],
  ])('reads roles from %s', (_label, raw, roles) => {
    expect(principalFromClaims({ sub: 'u-1', 'edgefleet:roles': raw })).toEqual({ subject: 'u-1', roles });
  });

  it.each([
    ['unknown role', 'shop:owner'],
    ['upper-case role', 'shop:Admin'],
    ['upper-case project', 'Shop:admin'],
    ['no project', ':admin'],
    ['no role', 'shop:'],
    ['no colon', 'admin'],
    ['three parts', 'shop:admin:extra'],
    ['project starting with "-"', '-shop:admin'],
    ['spaces inside', 'sh op:admin'],
    ['injection attempt', 'shop:admin\u0000'],
  ])('ignores junk entry (%s)', (_label, entry) => {
    expect(principalFromClaims({ sub: 'u', 'edgefleet:roles': [entry, 'ok:viewer'] }).roles).toEqual({ ok: 'viewer' });
  });

  it('ignores non-string entries in an array', () => {
    expect(principalFromClaims({ sub: 'u', 'edgefleet:roles': [42, null, { shop: 'admin' }, ['shop:admin'], 'lab:viewer'] }).roles)
      .toEqual({ lab: 'viewer' });
  });

  it.each([
    ['a number', 7],
    ['an object', { shop: 'admin' }],
    ['null', null],
    ['true', true],
  ])('a roles claim that is %s gives no roles', (_label, raw) => {
    expect(principalFromClaims({ sub: 'u', 'edgefleet:roles': raw }).roles).toEqual({});
  });

  it.each([
    [['shop:viewer', 'shop:admin', 'shop:operator'], 'admin'],
    [['shop:admin', 'shop:viewer'], 'admin'],
    [['shop:viewer', 'shop:operator'], 'operator'],
    [['shop:operator', 'shop:viewer'], 'operator'],
    [['shop:viewer', 'shop:viewer'], 'viewer'],
  ] as const)('the highest role wins regardless of order: %p → %s', (raw, role) => {
    expect(principalFromClaims({ sub: 'u', 'edgefleet:roles': [...raw] }).roles).toEqual({ shop: role });
  });

  it('falls back to cognito:groups when edgefleet:roles is absent', () => {
    expect(principalFromClaims({ sub: 'u', 'cognito:groups': ['shop:operator'] }).roles).toEqual({ shop: 'operator' });
    expect(principalFromClaims({ sub: 'u', 'cognito:groups': '[shop:operator lab:admin]' }).roles).toEqual({ shop: 'operator', lab: 'admin' });
  });

  it('prefers edgefleet:roles over cognito:groups', () => {
    expect(principalFromClaims({ sub: 'u', 'edgefleet:roles': ['shop:viewer'], 'cognito:groups': ['shop:admin'] }).roles)
      .toEqual({ shop: 'viewer' });
  });

  it('no roles claim at all gives a principal without roles', () => {
    expect(principalFromClaims({ sub: 'u' })).toEqual({ subject: 'u', roles: {} });
  });

  it.each([
    ['missing', {}],
    ['empty', { sub: '' }],
    ['a number', { sub: 42 }],
    ['null', { sub: null }],
    ['an array', { sub: ['u'] }],
  ])('a sub claim that is %s is unauthenticated', (_label, claims) => {
    const read = () => principalFromClaims({ ...claims, 'edgefleet:roles': ['shop:admin'] });
    expect(read).toThrow(UnauthenticatedError);
    try {
      read();
    } catch (e) {
      expect(e).toMatchObject({ kind: 'unauthenticated', code: 'token-without-subject' });
    }
  });
});

describe('can() and authorize(): every role × action', () => {
  const cases = ROLES.flatMap((role, r) => ACTIONS.map((action) => [role, action, MATRIX[action][r]!] as const));

  it('the matrix lists every action', () => {
    expect(Object.keys(MATRIX).sort()).toEqual([...ACTIONS].sort());
  });

  it.each(cases)('%s may %s: %s', (role, action, allowed) => {
    const p = principal({ shop: role });
    expect(can(p, 'shop', action)).toBe(allowed);
    if (allowed) {
      expect(() => authorize(p, 'shop', action)).not.toThrow();
    } else {
      expect(() => authorize(p, 'shop', action)).toThrow(ForbiddenError);
      expect(() => authorize(p, 'shop', action)).toThrow(new RegExp(`role "${role}" in project "shop" does not allow ${action}`));
    }
    // A role in one project gives nothing in another.
    expect(can(p, 'other', action)).toBe(false);
  });

  it.each(cases)('wildcard "*:%s" may %s in any project: %s', (role, action, allowed) => {
    const p = principal({ '*': role });
    for (const project of ['shop', 'default', 'x']) expect(can(p, project, action)).toBe(allowed);
  });

  it('viewers only read', () => {
    const viewerActions = ACTIONS.filter((a) => can(principal({ shop: 'viewer' }), 'shop', a));
    expect(viewerActions.every((a) => a.endsWith(':read'))).toBe(true);
  });

  it.each([
    [{ shop: 'viewer', '*': 'admin' }, 'admin'],
    [{ shop: 'admin', '*': 'viewer' }, 'admin'],
    [{ shop: 'operator', '*': 'operator' }, 'operator'],
    [{ '*': 'operator' }, 'operator'],
    [{ shop: 'viewer' }, 'viewer'],
    [{ lab: 'admin' }, undefined],
  ] as const)('roleIn(%p, "shop") is the higher of direct and wildcard: %s', (roles, expected) => {
    expect(roleIn(principal({ ...roles }), 'shop')).toBe(expected);
  });

  it('a wildcard viewer who is admin of one project is admin there and viewer elsewhere', () => {
    const p = principal({ '*': 'viewer', shop: 'admin' });
    expect(can(p, 'shop', 'hosts:delete')).toBe(true);
    expect(can(p, 'lab', 'hosts:delete')).toBe(false);
    expect(can(p, 'lab', 'hosts:read')).toBe(true);
  });

  it.each(ACTIONS)('no role in the project: %s is forbidden and the message names the project', (action) => {
    const p = principal({ lab: 'admin' });
    expect(can(p, 'shop-42', action)).toBe(false);
    let error: unknown;
    try {
      authorize(p, 'shop-42', action);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error).toMatchObject({ kind: 'forbidden', code: 'forbidden' });
    expect((error as Error).message).toMatch(/no role in project "shop-42"/);
  });

  it('a principal with no roles at all is forbidden everywhere', () => {
    const p = principalFromClaims({ sub: 'u' });
    for (const action of ACTIONS) expect(can(p, 'default', action)).toBe(false);
  });
});

describe('hosts:troubleshoot (the role part; the stored grant is checked by the use case)', () => {
  it('ignores `<project>:troubleshoot` claim entries: a token claim cannot be withdrawn, so it grants nothing', () => {
    expect(principalFromClaims({ sub: 'u-1', 'edgefleet:roles': ['shop:operator', 'shop:troubleshoot', '*:troubleshoot'] }))
      .toEqual({ subject: 'u-1', roles: { shop: 'operator' } });
  });

  it.each<[string, Record<string, Role>, boolean]>([
    ['operator', { shop: 'operator' }, true],
    ['admin', { shop: 'admin' }, true],
    ['wildcard admin', { '*': 'admin' }, true],
    ['viewer', { shop: 'viewer' }, false],
    ['operator of another project', { lab: 'operator' }, false],
    ['no role', {}, false],
  ])('%s → %s', (_label, roles, allowed) => {
    expect(can({ subject: 'user-1', roles }, 'shop', 'hosts:troubleshoot')).toBe(allowed);
  });

  it('a viewer\'s refusal names the role needed and the grant', () => {
    expect(() => authorize({ subject: 'user-1', roles: { shop: 'viewer' } }, 'shop', 'hosts:troubleshoot')).toThrow(/role "viewer".*operator or admin role and a troubleshoot grant/);
  });
});
