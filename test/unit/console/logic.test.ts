import { firstPage, hostFiltersFrom, hostsHref, nextPage, previousPage } from '../../../console/src/logic/host-query.js';
import { problemMessage } from '../../../console/src/logic/problem.js';
import { parseRoute } from '../../../console/src/logic/route.js';
import { needsIdempotencyKey } from '../../../console/src/logic/idempotency.js';

describe('hosts grid filters in the address', () => {
  it.each([
    ['status=pending&site=shop-1', { status: 'pending', site: 'shop-1' }],
    ['health=unhealthy&tag=lane%3D2&clusterId=c-1', { health: 'unhealthy', tag: 'lane=2', clusterId: 'c-1' }],
    ['status=bogus&health=sick', {}],
    ['tag=novalue', {}],
    ['site=%20%20', {}],
  ])('%s', (query, filters) => {
    expect(hostFiltersFrom(new URLSearchParams(query))).toEqual(filters);
  });

  it('links to the filtered grid and reads back the same filters', () => {
    const href = hostsHref({ status: 'in-cluster', tag: 'a=b' });
    expect(href).toBe('#/hosts?status=in-cluster&tag=a%3Db');
    expect(hostFiltersFrom(new URLSearchParams(href.split('?')[1]))).toEqual({ status: 'in-cluster', tag: 'a=b' });
    expect(hostsHref({})).toBe('#/hosts');
  });

  it('pages forward with the API cursor and back through the cursors seen', () => {
    const p2 = nextPage(firstPage, 'c2');
    const p3 = nextPage(p2, 'c3');
    expect(p3).toEqual({ cursor: 'c3', previous: [undefined, 'c2'] });
    expect(previousPage(p3)).toEqual(p2);
    expect(previousPage(previousPage(p3))).toEqual({ cursor: undefined, previous: [] });
    expect(previousPage(firstPage)).toEqual(firstPage);
  });
});

describe('API failures in words', () => {
  it.each([
    ['the problem detail, its field errors and code', 400, { detail: 'the request body is invalid', code: 'validation-failed', errors: [{ path: 'pairingCode', message: 'too long' }] }, 'the request body is invalid — pairingCode: too long (validation-failed)'],
    ['a 409 problem', 409, { detail: 'the pairing code does not match', code: 'pairing-code-mismatch' }, 'the pairing code does not match (pairing-code-mismatch)'],
    ['the gateway 401', 401, { message: 'Unauthorized' }, /sign in again/],
    ['no answer at all', 0, undefined, /is it running/],
    ['a 500 without detail', 500, 'oops', /answered 500/],
  ])('%s', (_n, status, body, expected) => {
    expect(problemMessage(status, body)).toMatch(typeof expected === 'string' ? new RegExp(`^${expected.replace(/[()?.*+[\]]/g, '\\$&')}$`) : expected);
  });
});

describe('console routes (the address fragment)', () => {
  it.each([
    ['', { page: 'overview' }],
    ['#/', { page: 'overview' }],
    ['#/approvals', { page: 'approvals' }],
    ['#/hosts/sim-1', { page: 'host', hostId: 'sim-1' }],
    ['#/hosts/a%20b', { page: 'host', hostId: 'a b' }],
    ['#/hosts/%E0%A4%A', { page: 'not-found', path: '/hosts/%E0%A4%A' }],
    ['#/sign-in?code=xyz', { page: 'sign-in', code: 'xyz' }],
    ['#/nowhere', { page: 'not-found', path: '/nowhere' }],
    ['#/clusters', { page: 'clusters' }],
    ['#/clusters/c-1', { page: 'cluster', clusterId: 'c-1' }],
    ['#/audit', { page: 'audit' }],
    ['#/clusters/a/b', { page: 'not-found', path: '/clusters/a/b' }],
  ])('%s', (hash, route) => {
    expect(parseRoute(hash)).toEqual(route);
  });

  it('keeps the hosts grid query', () => {
    const r = parseRoute('#/hosts?status=pending');
    expect(r.page === 'hosts' && r.params.get('status')).toBe('pending');
  });
});

describe('Idempotency-Key on creates', () => {
  it.each([
    ['POST', '/v1/clusters', true],
    ['POST', '/v1/profiles/{name}/versions', true],
    ['POST', '/v1/clusters/{clusterId}/upgrades', true],
    ['POST', '/v1/registration-tokens', true],
    ['POST', '/v1/hosts/{hostId}/approve', false],
    ['POST', '/v1/profiles/{name}/versions/{version}/publish', false],
    ['POST', '/v1/clusters/{clusterId}/upgrades/{upgradeId}/pause', false],
    ['GET', '/v1/clusters', false],
    ['DELETE', '/v1/clusters/{clusterId}', false],
  ])('%s %s → %s', (method, path, expected) => {
    expect(needsIdempotencyKey(method, path)).toBe(expected);
  });
});
