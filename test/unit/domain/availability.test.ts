import { checkDrain, choosePeer, whyOut, type NodeView } from '../../../lambdas/domain/availability.js';

const T = Date.parse('2026-11-30T10:00:00Z');
const ok = (hostId: string, role: NodeView['role'] = 'control-plane', extra: Partial<NodeView> = {}): NodeView =>
  ({ hostId, role, online: true, report: { ready: true, cordoned: false, storedAt: T }, ...extra });
const iso = (ms: number) => new Date(ms).toISOString();

describe('whyOut: a node is out when offline, not Ready, cordoned or mid-step of this operation', () => {
  it.each<[string, NodeView, string | undefined]>([
    ['online, Ready, schedulable', ok('a'), undefined],
    ['offline', ok('a', 'control-plane', { online: false }), 'offline'],
    ['never reported Kubernetes', { hostId: 'a', role: 'worker', online: true }, 'no Kubernetes status reported'],
    ['NotReady', ok('a', 'worker', { report: { ready: false, storedAt: T } }), 'not Ready'],
    ['cordoned by anyone (an earlier operation, kubectl)', ok('a', 'worker', { report: { ready: true, cordoned: true, storedAt: T } }), 'cordoned'],
    ['drained by this operation', ok('a', 'worker', { progress: { step: 'drain', status: 'succeeded', at: iso(T) } }), 'being upgraded by this operation (drain succeeded)'],
    ['rebooting in this operation', ok('a', 'worker', { progress: { step: 'reboot', status: 'accepted', at: iso(T) } }), 'being upgraded by this operation (reboot accepted)'],
    ['uncordon still running', ok('a', 'worker', { progress: { step: 'uncordon', status: 'sent', at: iso(T) } }), 'being upgraded by this operation (uncordon sent)'],
    ['uncordoned by this operation after its last report (the report still says cordoned)',
      ok('a', 'worker', { report: { ready: true, cordoned: true, storedAt: T }, progress: { step: 'uncordon', status: 'succeeded', at: iso(T + 1) } }), undefined],
    ['uncordoned by this operation, then cordoned again by someone (a newer report)',
      ok('a', 'worker', { report: { ready: true, cordoned: true, storedAt: T + 5 }, progress: { step: 'uncordon', status: 'succeeded', at: iso(T + 1) } }), 'cordoned'],
    ['uncordoned by this operation but offline now', ok('a', 'worker', { online: false, progress: { step: 'uncordon', status: 'succeeded', at: iso(T) } }), 'offline'],
    ['only preflighted (not disruptive)', ok('a', 'worker', { progress: { step: 'preflight', status: 'succeeded', at: iso(T) } }), undefined],
    ['found at the target (verified, not drained)', ok('a', 'worker', { progress: { step: 'verified', status: 'succeeded', at: iso(T) } }), undefined],
  ])('%s', (_what, node, why) => expect(whyOut(node)).toBe(why));
});

describe('checkDrain: the invariant is enforced before each drain', () => {
  const cp3 = [ok('c1'), ok('c2'), ok('c3')];
  const w2 = [ok('w1', 'worker'), ok('w2', 'worker')];
  it.each<[string, NodeView[], string, number, boolean, RegExp?]>([
    ['3+2 all available: drain one control-plane node', [...cp3, ...w2], 'c1', 1, true],
    ['a stale cordon on another control-plane node counts as out', [ok('c1'), ok('c2', 'control-plane', { report: { ready: true, cordoned: true, storedAt: T } }), ok('c3'), ...w2], 'c3', 1, false, /leave 2 of 5 nodes out \(at most 1 may be\): c2 cordoned/],
    ['an offline worker counts as out', [...cp3, ok('w1', 'worker', { online: false }), ok('w2', 'worker')], 'c2', 1, false, /w1 offline/],
    ['the subject itself may be cordoned already (it is the one going out)', [ok('c1', 'control-plane', { report: { ready: true, cordoned: true, storedAt: T } }), ok('c2'), ok('c3')], 'c1', 1, true],
    ['maxUnavailable 2: a worker mid-upgrade plus this one', [...cp3, ok('w1', 'worker', { progress: { step: 'reboot', status: 'accepted' } }), ok('w2', 'worker')], 'w2', 2, true],
    ['maxUnavailable 2: two out already', [...cp3, ok('w1', 'worker', { online: false }), ok('w2', 'worker', { report: { ready: false, storedAt: T } }), ok('w3', 'worker')], 'w3', 2, false, /leave 3 of 6 nodes out \(at most 2 may be\)/],
    ['quorum: 5 control-plane nodes, 2 out, maxUnavailable 3', [ok('c1'), ok('c2', 'control-plane', { online: false }), ok('c3', 'control-plane', { online: false }), ok('c4'), ok('c5')], 'c1', 3, false, /leave 2 of 5 control-plane nodes available \(quorum needs 3\)/],
    ['quorum kept: 5 control-plane nodes, 1 out, maxUnavailable 2', [ok('c1'), ok('c2', 'control-plane', { online: false }), ok('c3'), ok('c4'), ok('c5')], 'c1', 2, true],
    ['a single node goes down by its nature (acknowledged in the plan)', [ok('c1')], 'c1', 1, true],
    ['maxUnavailable below 1 is read as 1', [...cp3], 'c1', 0, true],
  ])('%s', (...[, nodes, subject, maxUnavailable, expected, reason]) => {
    const v = checkDrain({ nodes, subject, maxUnavailable });
    expect(v.ok).toBe(expected);
    if (!v.ok && reason) expect(v.reason).toMatch(reason);
    if (!v.ok) expect(v.out.length).toBeGreaterThan(0);
  });
});

describe('choosePeer: drains run from an online, Ready control-plane node', () => {
  it.each<[string, NodeView[], string, string | undefined]>([
    ['the first other control-plane node', [ok('c1'), ok('c2'), ok('c3')], 'c1', 'c2'],
    ['skips an offline one', [ok('c1'), ok('c2', 'control-plane', { online: false }), ok('c3')], 'c1', 'c3'],
    ['skips a NotReady one', [ok('c1', 'control-plane', { report: { ready: false, storedAt: T } }), ok('c2'), ok('c3')], 'c2', 'c3'],
    ['a cordoned one can still run kubectl', [ok('c1'), ok('c2', 'control-plane', { report: { ready: true, cordoned: true, storedAt: T } })], 'c1', 'c2'],
    ['skips one this operation is rebooting', [ok('c1'), ok('c2', 'control-plane', { progress: { step: 'reboot', status: 'accepted' } }), ok('c3')], 'c1', 'c3'],
    ['never a worker', [ok('c1'), ok('w1', 'worker')], 'c1', undefined],
    ['none left', [ok('c1'), ok('c2', 'control-plane', { online: false })], 'c1', undefined],
  ])('%s', (_what, nodes, subject, peer) => expect(choosePeer(nodes, subject)).toBe(peer));
});
