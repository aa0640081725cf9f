import {
  checkWebhookUrl, decideNotify, decideResolved, decideSweep, isBlockedAddress, isOpenAlert, matchesResource, matchesRule, notifiedEntry, type AlertRule,
} from '../../../lambdas/domain/alerts.js';
import type { HealthEvent } from '../../../lambdas/domain/health-events.js';

const rule = (match: AlertRule['match'], project = 'p'): AlertRule => ({
  id: 'r1', project, name: 'n', match, target: { type: 'webhook', url: 'https://x.example/h', secretName: 's' },
  renotifyMinutes: 240, createdAt: '2026-12-01T00:00:00.000Z', createdBy: 'a',
});
const host: HealthEvent = {
  kind: 'host', project: 'p', hostId: 'h1', site: 'shop-1', tags: { env: 'prod', tier: 'pos' }, clusterId: 'c1',
  state: 'unhealthy', previousState: 'healthy', reasons: ['Kubernetes NotReady'], since: '2026-12-01T00:00:00.000Z', at: '2026-12-01T00:00:00.000Z',
};
const cluster: HealthEvent = {
  kind: 'cluster', project: 'p', clusterId: 'c1', name: 'shop', state: 'degraded', reasons: ['node h1: Kubernetes NotReady'],
  since: '2026-12-01T00:00:00.000Z', at: '2026-12-01T00:00:00.000Z',
};

describe('matchesRule', () => {
  it.each<[string, AlertRule, HealthEvent, boolean]>([
    ['state matches', rule({ states: ['unhealthy'] }), host, true],
    ['state does not match', rule({ states: ['unknown'] }), host, false],
    ['another project', rule({ states: ['unhealthy'] }, 'q'), host, false],
    ['kinds: cluster only', rule({ states: ['unhealthy', 'degraded'], kinds: ['cluster'] }), host, false],
    ['kinds: cluster only, a cluster event', rule({ states: ['degraded'], kinds: ['cluster'] }), cluster, true],
    ['site matches', rule({ states: ['unhealthy'], site: 'shop-1' }), host, true],
    ['site differs', rule({ states: ['unhealthy'], site: 'shop-2' }), host, false],
    ['a site rule never matches a cluster event', rule({ states: ['degraded'], site: 'shop-1' }), cluster, false],
    ['every tag matches', rule({ states: ['unhealthy'], tags: { env: 'prod', tier: 'pos' } }), host, true],
    ['one tag differs', rule({ states: ['unhealthy'], tags: { env: 'dev' } }), host, false],
    ['a tag rule never matches a cluster event', rule({ states: ['degraded'], tags: { env: 'prod' } }), cluster, false],
    ['cluster id matches the host\'s cluster', rule({ states: ['unhealthy'], clusterId: 'c1' }), host, true],
    ['cluster id matches the cluster', rule({ states: ['degraded'], clusterId: 'c1' }), cluster, true],
    ['cluster id differs', rule({ states: ['unhealthy'], clusterId: 'c2' }), host, false],
  ])('%s', (_n, r, e, expected) => {
    expect(matchesRule(r, e)).toBe(expected);
  });
});

describe('decideNotify (de-duplication and re-notify)', () => {
  const H = 3_600_000;
  it.each<[string, Parameters<typeof decideNotify>[0], string, number, boolean, string]>([
    ['never notified', undefined, 'unhealthy', 0, true, 'first'],
    ['same state within the interval', { state: 'unhealthy', sentAt: 0 }, 'unhealthy', 3 * H, false, 'duplicate'],
    ['same state just before the interval', { state: 'unhealthy', sentAt: 0 }, 'unhealthy', 4 * H - 1, false, 'duplicate'],
    ['same state at the interval', { state: 'unhealthy', sentAt: 0 }, 'unhealthy', 4 * H, true, 'renotify-due'],
    ['another state', { state: 'unhealthy', sentAt: 0 }, 'healthy', 1, true, 'state-changed'],
  ])('%s', (_n, last, state, now, send, reason) => {
    expect(decideNotify(last, state, now, 240)).toEqual({ send, reason });
  });
});

describe('matchesResource (the rule is about the resource, whatever its state)', () => {
  it.each<[string, AlertRule, HealthEvent, boolean]>([
    ['state not matched but the same resource', rule({ states: ['unknown'] }), host, true],
    ['another site', rule({ states: ['unhealthy'], site: 'shop-2' }), host, false],
    ['kinds: host only, a cluster event', rule({ states: ['degraded'], kinds: ['host'] }), cluster, false],
  ])('%s', (_n, r, e, expected) => {
    expect(matchesResource(r, e)).toBe(expected);
  });
});

describe('open alerts, resolved and the re-notify sweep', () => {
  const M = 60_000;
  const onUnhealthy = { match: { states: ['unhealthy'] }, renotifyMinutes: 5 };
  const onBoth = { match: { states: ['unhealthy', 'healthy'] }, renotifyMinutes: 5 };

  it.each<[string, typeof onUnhealthy, string, boolean]>([
    ['a matched problem state is open', onUnhealthy, 'unhealthy', true],
    ['healthy is never open, even when matched', onBoth, 'healthy', false],
    ['a state the rule does not match is not open', onUnhealthy, 'unknown', false],
  ])('isOpenAlert: %s', (_n, r, state, open) => {
    expect(isOpenAlert(r, state)).toBe(open);
  });

  it.each<[string, typeof onUnhealthy, string, ReturnType<typeof notifiedEntry>]>([
    ['open: due after the interval', onUnhealthy, 'unhealthy', { state: 'unhealthy', sentAt: 1000, dueAt: 1000 + 5 * M }],
    ['resolved or healthy: no due time (leaves the index)', onBoth, 'healthy', { state: 'healthy', sentAt: 1000 }],
  ])('notifiedEntry: %s', (_n, r, state, entry) => {
    expect(notifiedEntry(r, state, 1000)).toEqual(entry);
  });

  it.each<[string, typeof onUnhealthy, Parameters<typeof decideResolved>[1], string, boolean]>([
    ['back to healthy after an unhealthy notification', onUnhealthy, { state: 'unhealthy', sentAt: 0 }, 'healthy', true],
    ['to a state the rule does not match (decommissioned: unknown)', onUnhealthy, { state: 'unhealthy', sentAt: 0 }, 'unknown', true],
    ['never notified: nothing to resolve', onUnhealthy, undefined, 'healthy', false],
    ['already resolved (last sent healthy)', onUnhealthy, { state: 'healthy', sentAt: 0 }, 'healthy', false],
    ['the rule matches the new state too: a state change, not resolved', onBoth, { state: 'unhealthy', sentAt: 0 }, 'healthy', false],
  ])('decideResolved: %s', (_n, r, last, state, expected) => {
    expect(decideResolved(r, last, state)).toBe(expected);
  });

  const open = { state: 'unhealthy', sentAt: 0, dueAt: 5 * M };
  it.each<[string, Parameters<typeof decideSweep>[1], Parameters<typeof decideSweep>[2], number, ReturnType<typeof decideSweep>]>([
    ['the state persists past the interval: sent again', onUnhealthy, { state: 'unhealthy', matchesResource: true }, 5 * M, { action: 'send', reason: 'renotify-due' }],
    ['the state persists, the interval (lengthened) not passed: wait', { ...onUnhealthy, renotifyMinutes: 60 }, { state: 'unhealthy', matchesResource: true }, 5 * M, { action: 'wait' }],
    ['healthy now (the event path missed it): resolved', onUnhealthy, { state: 'healthy', matchesResource: true }, 5 * M, { action: 'send', reason: 'resolved' }],
    ['another matched state now: state-changed', { ...onUnhealthy, match: { states: ['unhealthy', 'unknown'] } }, { state: 'unknown', matchesResource: true }, 5 * M, { action: 'send', reason: 'state-changed' }],
    ['the rule was deleted: dropped', undefined, { state: 'unhealthy', matchesResource: true }, 5 * M, { action: 'drop' }],
    ['the resource (or its health) is gone: dropped', onUnhealthy, undefined, 5 * M, { action: 'drop' }],
    ['the host moved out of the rule\'s site: dropped', onUnhealthy, { state: 'unhealthy', matchesResource: false }, 5 * M, { action: 'drop' }],
  ])('decideSweep: %s', (_n, r, current, now, expected) => {
    expect(decideSweep(open, r, current, now)).toEqual(expected);
  });
});

describe('webhook URLs (SSRF)', () => {
  it.each<[string, boolean, boolean]>([
    ['https://hooks.example.com/edgefleet', false, true],
    ['http://hooks.example.com/edgefleet', false, false],
    ['https://user:pw@hooks.example.com/', false, false],
    ['https://10.1.2.3/hook', false, false],
    ['https://172.20.0.1/hook', false, false],
    ['https://192.168.1.1/hook', false, false],
    ['https://169.254.169.254/latest/meta-data', false, false],
    ['https://127.0.0.1/hook', false, false],
    ['https://localhost/hook', false, false],
    ['https://[::1]/hook', false, false],
    ['https://[fd00::1]/hook', false, false],
    ['https://[fe80::1]/hook', false, false],
    ['https://[::ffff:10.0.0.1]/hook', false, false],
    ['https://100.64.0.1/hook', false, false],
    ['https://8.8.8.8/hook', false, true],
    ['http://127.0.0.1:8080/hook', true, true],
    ['http://localhost:9/hook', true, true],
    ['http://10.0.0.5/hook', true, false],
    ['not a url', true, false],
  ])('%s (local: %s) → %s', (url, allowLoopback, ok) => {
    expect(checkWebhookUrl(url, { allowLoopback }).ok).toBe(ok);
  });

  it.each<[string, boolean]>([
    ['10.0.0.1', true], ['11.0.0.1', false], ['172.15.255.255', false], ['172.16.0.1', true], ['172.31.255.255', true], ['172.32.0.1', false],
    ['169.254.169.254', true], ['0.0.0.0', true], ['224.0.0.1', true], ['93.184.216.34', false], ['::1', true], ['2606:4700::1', false],
  ])('isBlockedAddress(%s) = %s', (ip, blocked) => {
    expect(isBlockedAddress(ip)).toBe(blocked);
  });
});
