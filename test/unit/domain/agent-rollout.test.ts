import { hostRefusalOutcome, hostStartVerdict, selectsHost, settleHostTarget, type HostFacts, type HostSelector, type SelectableHost } from '../../../lambdas/domain/agent-rollout.js';

const V = '0.2.0';
const online: HostFacts = { exists: true, status: 'approved', presence: 'online', reportedVersion: '0.1.0' };
const opens = new Date('2026-12-02T02:00:00Z');

describe('hostStartVerdict: which host targets start now', () => {
  it.each<[string, HostFacts, string, string?]>([
    ['an approved online host on the old version starts', online, 'start'],
    ['a host in a cluster starts too', { ...online, status: 'in-cluster' }, 'start'],
    ['a host with no reported version starts', { exists: true, status: 'approved', presence: 'online' }, 'start'],
    ['a deleted host is skipped', { exists: false }, 'skipped', 'the host was deleted'],
    ['a pending host is skipped', { ...online, status: 'pending' }, 'skipped', 'the host is pending: only an approved host runs commands'],
    ['a decommissioned host is skipped', { ...online, status: 'decommissioned' }, 'skipped'],
    ['a host already at the version is done (not a failure)', { ...online, reportedVersion: V }, 'succeeded', `skipped: already at agent ${V}`],
    ['an offline host already at the version is done too', { ...online, presence: 'offline', reportedVersion: V }, 'succeeded'],
    ['an offline host is deferred', { ...online, presence: 'offline' }, 'deferred', 'offline: the host must be online to update its agent and report the new version'],
    ['a host updating already is deferred (busy)', { ...online, openAgentUpdateId: 'op-9' }, 'deferred', 'busy: agent update op-9 is running on it'],
    ['at the version but still updating: deferred, not done', { ...online, reportedVersion: V, openAgentUpdateId: 'op-9' }, 'deferred'],
    ['outside its window it waits', { ...online, windowOpensAt: opens }, 'waiting', `outside its maintenance window (opens ${opens.toISOString()})`],
  ])('%s', (...[, facts, kind, reason]) => {
    const v = hostStartVerdict(facts, V);
    expect(v.kind).toBe(kind);
    if (reason) expect('reason' in v ? v.reason : undefined).toBe(reason);
  });
});

describe('settleHostTarget: a host target is done only when its operation succeeded', () => {
  const now = new Date('2026-12-01T12:00:00Z');
  it.each<[string, Parameters<typeof settleHostTarget>[0], string, string?]>([
    ['running operation: still running', { status: 'running', updatedAt: now.toISOString() }, 'running'],
    ['queued operation: still running', { status: 'queued', updatedAt: now.toISOString() }, 'running'],
    ['succeeded (the host reported the version)', { status: 'succeeded', updatedAt: now.toISOString() }, 'succeeded'],
    ['failed with the fallback reason', { status: 'failed', reason: 'the host fell back to agent 0.1.0', updatedAt: now.toISOString() }, 'failed', 'its agent update failed: the host fell back to agent 0.1.0'],
    ['cancelled', { status: 'cancelled', updatedAt: now.toISOString() }, 'failed', 'its agent update was cancelled'],
    ['gone', undefined, 'failed', 'its agent update operation is gone'],
  ])('%s', (...[, op, kind, reason]) => {
    const s = settleHostTarget(op, now);
    expect(s.kind).toBe(kind);
    if (reason) expect(s.kind === 'failed' ? s.reason : undefined).toBe(reason);
  });
});

describe('selectsHost: the hosts a selector takes', () => {
  const h = (over: Partial<SelectableHost> = {}): SelectableHost => ({ status: 'approved', site: 'shop-12', tags: { tier: 'edge', region: 'eu' }, ...over });
  it.each<[string, HostSelector, SelectableHost, boolean]>([
    ['all: an approved host', { all: true }, h(), true],
    ['all: a host in a cluster', { all: true }, h({ status: 'in-cluster' }), true],
    ['all: not a pending host', { all: true }, h({ status: 'pending' }), false],
    ['exact site', { site: 'shop-12' }, h(), true],
    ['another site', { site: 'shop-1' }, h(), false],
    ['site prefix', { site: 'shop-*' }, h(), true],
    ['site prefix, other sites', { site: 'depot-*' }, h(), false],
    ['site asked, host has none', { site: 'shop-*' }, h({ site: undefined }), false],
    ['every tag matches', { tags: { tier: 'edge', region: 'eu' } }, h(), true],
    ['one tag differs', { tags: { tier: 'edge', region: 'us' } }, h(), false],
    ['site and tag', { site: 'shop-*', tags: { tier: 'edge' } }, h(), true],
    ['a rejected host never', { site: 'shop-12' }, h({ status: 'rejected' }), false],
  ])('%s', (_n, sel, host, want) => expect(selectsHost(sel, host)).toBe(want));
});

describe('hostRefusalOutcome: a refused start (a race) moves the target', () => {
  it.each([
    ['host-offline', 'deferred'], ['agent-update-running', 'deferred'], ['agent-already-at-version', 'succeeded'],
    ['host-not-approved', 'skipped'], ['agent-version-not-published', 'failed'], ['agent-artifacts-missing', 'failed'],
  ])('%s → %s', (code, want) => expect(hostRefusalOutcome(code)).toBe(want));
});
