import { decideOpen, effectiveTunnel, tempUserFor, type TunnelRecord, type TunnelTarget } from '../../../lambdas/domain/tunnel.js';

const online: TunnelTarget = { status: 'approved', presence: 'online' };

describe('decideOpen: may a tunnel be opened to this host now?', () => {
  it.each<[string, TunnelTarget, number, string | undefined]>([
    ['approved and online', online, 0, undefined],
    ['in a cluster and online', { status: 'in-cluster', presence: 'online' }, 0, undefined],
    ['reported remote access on', { ...online, remoteAccess: true }, 0, undefined],
    ['remote access switched off', { ...online, remoteAccess: false }, 0, 'remote-access-disabled'],
    ['switched off wins over everything else', { status: 'pending', presence: 'offline', remoteAccess: false }, 1, 'remote-access-disabled'],
    ['pending', { status: 'pending', presence: 'online' }, 0, 'host-not-registered'],
    ['pre-registered', { status: 'pre-registered', presence: 'offline' }, 0, 'host-not-registered'],
    ['decommissioned', { status: 'decommissioned', presence: 'offline' }, 0, 'host-not-registered'],
    ['offline', { status: 'approved', presence: 'offline' }, 0, 'host-offline'],
    ['another tunnel open', online, 1, 'tunnel-already-open'],
  ])('%s → %s', (_name, target, open, code) => {
    expect(decideOpen('h-1', target, open)?.code).toBe(code);
  });

  it('names the install configuration switch when it refuses for it', () => {
    expect(decideOpen('h-1', { ...online, remoteAccess: false }, 0)?.message).toMatch(/remoteAccess: false in POST \/v1\/user-data/);
  });
});

describe('effectiveTunnel: expiry is decided on read', () => {
  const t: TunnelRecord = {
    id: 'abc123', project: 'p', hostId: 'h-1', state: 'open', reason: 'r', actor: 'a', durationMinutes: 60, idleTimeoutMinutes: 30,
    user: 'ef-abc12300', createdAt: '2026-01-01T10:00:00.000Z', expiresAt: '2026-01-01T11:00:00.000Z', version: 2,
  };
  it.each<[string, TunnelRecord, string, string, string | undefined]>([
    ['open before expiry', t, '2026-01-01T10:59:59.000Z', 'open', undefined],
    ['open at expiry', t, '2026-01-01T11:00:00.000Z', 'closed', 'expired'],
    ['requested past expiry', { ...t, state: 'requested' }, '2026-01-01T12:00:00.000Z', 'closed', 'expired'],
    ['closed (deleted) stays deleted', { ...t, state: 'closed', closeReason: 'deleted', closedAt: '2026-01-01T10:10:00.000Z' }, '2026-01-01T12:00:00.000Z', 'closed', 'deleted'],
  ])('%s', (_name, record, now, state, reason) => {
    const e = effectiveTunnel(record, new Date(now));
    expect([e.state, e.closeReason]).toEqual([state, reason]);
  });
});

describe('tempUserFor', () => {
  it.each([
    ['0123456789abcdef', 'ef-01234567'],
    ['ABCDEF12-3456', 'ef-abcdef12'],
    ['xyz', 'ef-00000000'],
  ])('%s → %s', (id, user) => {
    expect(tempUserFor(id)).toBe(user);
    expect(user).toMatch(/^ef-[0-9a-f]{8}$/);
  });
});
