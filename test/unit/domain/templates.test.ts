import { describe, expect, it } from '@jest/globals';
import {
  buildThreshold, controlPlaneSize, matchesSelector, planSite, resolveVersion, siteClusterId, siteClusterName, type SiteHost,
} from '../../../lambdas/domain/templates.js';

describe('resolveVersion (a template\'s version or channel among published versions)', () => {
  const published = ['1.0.0', '1.2.0', '1.10.1', '1.10.0', '2.0.0', '2.1.0-rc1', '1.4.3'];
  it.each([
    ['1.x', '1.10.1'],
    ['1.4.x', '1.4.3'],
    ['1.10.x', '1.10.1'],
    ['2.x', '2.0.0'], // a pre-release never matches a channel
    ['3.x', undefined],
    ['1.3.x', undefined],
    ['1.2.0', '1.2.0'],
    ['1.2.1', undefined], // not published
    ['2.1.0-rc1', '2.1.0-rc1'], // named exactly, a published pre-release is fine
  ])('%s → %s', (spec, expected) => expect(resolveVersion(spec, published)).toBe(expected));
});

describe('matchesSelector', () => {
  it.each([
    [{}, { site: 'shop-1', tags: {} }, true],
    [{}, { tags: {} }, false], // no site: never
    [{ site: 'shop-1' }, { site: 'shop-1', tags: {} }, true],
    [{ site: 'shop-1' }, { site: 'shop-10', tags: {} }, false],
    [{ site: 'shop-*' }, { site: 'shop-10', tags: {} }, true],
    [{ site: 'shop-*' }, { site: 'depot-1', tags: {} }, false],
    [{ tags: { tier: 'edge' } }, { site: 's', tags: { tier: 'edge', x: 'y' } }, true],
    [{ tags: { tier: 'edge' } }, { site: 's', tags: { tier: 'core' } }, false],
    [{ site: 'shop-*', tags: { tier: 'edge' } }, { site: 'shop-2', tags: {} }, false],
  ])('%j matches %j: %s', (selector, host, expected) => expect(matchesSelector(selector, host)).toBe(expected));
});

describe('controlPlaneSize and buildThreshold', () => {
  const rules = [{ hosts: 1, size: 1 as const }, { hosts: 3, size: 3 as const }];
  it.each([[0, undefined], [1, 1], [2, 1], [3, 3], [4, 3], [12, 3]])('%i hosts → %s control-plane nodes', (n, size) => expect(controlPlaneSize(rules, n)).toBe(size));
  it.each([
    [{ controlPlane: rules }, 1],
    [{ minHosts: 3, controlPlane: rules }, 3],
    [{ minHosts: 1, controlPlane: [{ hosts: 3, size: 3 as const }] }, 3],
  ])('%j is built from %i hosts', (t, n) => expect(buildThreshold(t)).toBe(n));
});

describe('planSite', () => {
  const topology = { minHosts: 3, controlPlane: [{ hosts: 1, size: 1 as const }, { hosts: 3, size: 3 as const }], workerPool: 'pos' };
  const selector = { site: 'shop-*' };
  const host = (id: string, over: Partial<SiteHost> = {}): SiteHost => ({ id, site: 'shop-1', tags: {}, status: 'approved', online: true, ...over });
  const none = { exists: false, idle: false };

  it('waits, counting what is missing, offline and pending', () => {
    const plan = planSite(topology, selector, [host('h1'), host('h2', { online: false }), host('h3', { status: 'pending' })], none);
    expect(plan).toEqual({ kind: 'wait', missing: 2, reason: 'waiting for 2 more hosts (1 of 3 approved and online); 1 approved host(s) offline; 1 host(s) pending approval' });
  });
  it('builds 3 control-plane nodes from the third host, in id order (every racing check picks the same)', () => {
    expect(planSite(topology, selector, [host('h3'), host('h1'), host('h2')], none)).toMatchObject({ kind: 'create', controlPlane: ['h1', 'h2', 'h3'], workers: [] });
  });
  it('puts hosts beyond the control plane in workers', () => {
    const small = { controlPlane: [{ hosts: 1, size: 1 as const }] };
    expect(planSite(small, selector, [host('b'), host('a')], none)).toMatchObject({ kind: 'create', controlPlane: ['a'], workers: ['b'] });
  });
  it('ignores claimed, unmatched and pre-registered-for-a-cluster hosts', () => {
    const hosts = [host('h1'), host('h2'), host('x', { clusterId: 'c-1' }), host('y', { site: 'depot' }), host('z', { targetClusterId: 'c-2' })];
    expect(planSite(topology, selector, hosts, none)).toMatchObject({ kind: 'wait', missing: 1 });
  });
  it('adds new matching hosts to the existing cluster when it is idle, and waits while it is busy', () => {
    const hosts = [host('h1', { clusterId: 'c' }), host('h4')];
    expect(planSite(topology, selector, hosts, { exists: true, idle: true })).toMatchObject({ kind: 'join', hostIds: ['h4'] });
    expect(planSite(topology, selector, hosts, { exists: true, idle: false, status: 'provisioning' })).toMatchObject({ kind: 'wait' });
    expect(planSite(topology, selector, [host('h1', { clusterId: 'c' })], { exists: true, idle: true })).toMatchObject({ kind: 'wait' });
  });
  it.each([
    [{ vip: '10.0.0.10' }, { vip: '10.0.0.10' }, { kind: 'create', vip: '10.0.0.10' }],
    [{}, {}, { kind: 'wait', reason: expect.stringContaining('no VIP') }],
    [{ vip: '10.0.0.10' }, { vip: '10.0.0.11' }, { kind: 'wait', reason: expect.stringContaining('disagree') }],
    [{ vip: '10.0.0.300' }, { vip: '10.0.0.300' }, { kind: 'wait', reason: expect.stringContaining('not an IPv4') }],
  ])('VIP from the site tag: %j / %j → %j', (a, b, expected) => {
    const t = { controlPlane: [{ hosts: 1, size: 1 as const }], vipTag: 'vip' };
    expect(planSite(t, selector, [host('a', { tags: a }), host('b', { tags: b })], none)).toMatchObject(expected);
  });
});

describe('site cluster identity', () => {
  it('is one id per project, site and template', () => {
    expect(siteClusterId('p', 'shop-1', 't')).toBe(siteClusterId('p', 'shop-1', 't'));
    expect(new Set([siteClusterId('p', 'shop-1', 't'), siteClusterId('p', 'shop-2', 't'), siteClusterId('q', 'shop-1', 't'), siteClusterId('p', 'shop-1', 'u')]).size).toBe(4);
    expect(siteClusterId('p', 'shop-1', 't')).toMatch(/^c-site-[0-9a-f]{16}$/);
  });
  it.each([['Shop_1.Berlin', 'shop-1-berlin'], ['x'.repeat(80), expect.stringMatching(/^x{46}-[0-9a-f]{16}$/)]])('names site %s %s', (site, name) => {
    expect(siteClusterName(site)).toEqual(name);
  });
});
