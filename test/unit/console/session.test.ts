import { capabilities, roleIn, sessionFromToken } from '../../../console/src/logic/session.js';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (claims: Record<string, unknown>) => `${b64({ alg: 'ES256' })}.${b64(claims)}.c2ln`;
const NOW = 1_800_000_000;

describe('console session (roles from the token claims, as the API reads them)', () => {
  it.each([
    ['array claim, wildcard admin', { 'edgefleet:roles': ['*:admin'] }, 'default', 'admin'],
    ['project viewer', { 'edgefleet:roles': ['default:viewer'] }, 'default', 'viewer'],
    ['viewer elsewhere: no role here', { 'edgefleet:roles': ['shops:viewer'] }, 'default', undefined],
    ['higher of project and *', { 'edgefleet:roles': ['default:viewer', '*:operator'] }, 'default', 'operator'],
    ['API Gateway flattened "[a b]" form', { 'edgefleet:roles': '[default:operator other:admin]' }, 'default', 'operator'],
    ['cognito:groups', { 'cognito:groups': ['default:admin'] }, 'default', 'admin'],
    ['unknown role ignored', { 'edgefleet:roles': ['default:root'] }, 'default', undefined],
  ])('%s', (_name, claims, project, role) => {
    const s = sessionFromToken(jwt({ sub: 'ana', exp: NOW + 60, ...claims }), NOW);
    if ('error' in s) throw new Error(s.error);
    expect(roleIn(s, project)).toBe(role);
  });

  it.each([
    ['not a JWT', 'abc', /three dot-separated parts/],
    ['expired', jwt({ sub: 'ana', exp: NOW - 1 }), /expired/],
    ['no subject', jwt({ exp: NOW + 60 }), /no subject/],
    ['unreadable claims', 'a.!!!.c', /cannot be read/],
  ])('refuses a token that is %s, saying why', (_name, token, reason) => {
    const s = sessionFromToken(token, NOW);
    expect('error' in s ? s.error : 'accepted').toMatch(reason);
  });

  it.each([
    ['viewer', { operate: false, administer: false }],
    ['operator', { operate: true, administer: false }],
    ['admin', { operate: true, administer: true }],
    [undefined, { operate: false, administer: false }],
  ] as const)('role %s shows these mutating controls', (role, caps) => {
    expect(capabilities(role)).toEqual(caps);
  });
});
