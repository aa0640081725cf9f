import { decideSweep, grantActive, grantIdFor, subjectOfGrantId, type ServiceView, type TroubleshootGrant } from '../../../lambdas/domain/troubleshoot-grant.js';
import type { TunnelRecord } from '../../../lambdas/domain/tunnel.js';

const now = new Date('2026-12-01T10:00:00Z');
const tunnel = (over: Partial<TunnelRecord> = {}): TunnelRecord => ({
  id: 't1', project: 'shop', hostId: 'h1', state: 'open', reason: 'look', actor: 'alice', durationMinutes: 60, idleTimeoutMinutes: 30,
  user: 'ef-00000001', serviceTunnelId: 's1', createdAt: '2026-12-01T09:30:00Z', expiresAt: '2026-12-01T10:30:00Z', version: 2, ...over,
});
const svc = (src: boolean, dst: boolean, status: ServiceView['status'] = 'OPEN'): ServiceView => ({ status, sourceConnected: src, destinationConnected: dst });
const grant = (expiresAt?: string): TroubleshootGrant => ({ id: 'x', project: 'shop', subject: 'alice', createdAt: '2026-11-01T00:00:00Z', createdBy: 'root', ...(expiresAt ? { expiresAt } : {}) });

describe('grantActive()', () => {
  it.each<[string, TroubleshootGrant | undefined, boolean]>([
    ['no grant', undefined, false],
    ['a grant without expiry', grant(), true],
    ['a grant expiring later', grant('2026-12-01T10:00:01Z'), true],
    ['a grant expiring now', grant('2026-12-01T10:00:00Z'), false],
    ['a lapsed grant', grant('2026-11-30T00:00:00Z'), false],
  ])('%s → %s', (_n, g, active) => expect(grantActive(g, now)).toBe(active));
});

describe('grant ids', () => {
  it.each(['alice', 'auth0|5f7c8ec7', 'a@b.example', '0b1e2c3d-aaaa-bbbb-cccc-1234567890ab'])('round-trip the subject %s', (subject) => {
    expect(subjectOfGrantId(grantIdFor(subject))).toBe(subject);
  });
  it.each(['', 'not base64!', 'a'.repeat(701), 'YWxpY2U=', 'YWxpY2'])('reject %j as a grant id', (id) => {
    expect(subjectOfGrantId(id)).toBeUndefined();
  });
});

describe('decideSweep()', () => {
  it.each<[string, Partial<TunnelRecord>, { grant?: boolean; hostOnline?: boolean; service?: ServiceView | undefined }, string | undefined]>([
    ['open, granted, both sides as recorded', { sourceConnected: true, destinationConnected: true }, { service: svc(true, true) }, undefined],
    ['past its expiry', { expiresAt: '2026-12-01T09:59:59Z' }, { service: svc(false, false) }, 'expired'],
    ['expired even when the grant is gone too', { expiresAt: '2026-12-01T09:00:00Z' }, { grant: false, service: svc(false, false) }, 'expired'],
    ['grant revoked or lapsed', {}, { grant: false, service: svc(true, true) }, 'revoked'],
    ['grant revoked while only requested', { state: 'requested' }, { grant: false, service: undefined }, 'revoked'],
    ['requested, granted: left alone', { state: 'requested' }, { service: undefined }, undefined],
    ['the service closed it (max lifetime)', {}, { service: svc(false, false, 'CLOSED') }, 'expired'],
    ['the service does not know it', {}, { service: undefined }, 'expired'],
    ['host side left, host online → idle', { destinationConnected: true }, { service: svc(true, false) }, 'idle'],
    ['host side left, host offline → failed', { destinationConnected: true }, { hostOnline: false, service: svc(false, false) }, 'failed'],
    ['host side never connected yet: wait', { destinationConnected: false }, { service: svc(false, false) }, undefined],
    ['operator side left: left to the CLI (it deletes) or expiry', { sourceConnected: true, destinationConnected: true }, { service: svc(false, true) }, undefined],
  ])('%s → %s', (_n, over, input, close) => {
    const d = decideSweep(tunnel(over), { now, grant: input.grant ?? true, hostOnline: input.hostOnline ?? true, service: input.service });
    expect(d.close).toBe(close);
  });

  it.each<[string, Partial<TunnelRecord>, ServiceView | undefined, { side: string; connected: boolean }[]]>([
    ['nothing recorded, both connect', {}, svc(true, true), [{ side: 'source', connected: true }, { side: 'destination', connected: true }]],
    ['the operator leaves', { sourceConnected: true, destinationConnected: true }, svc(false, true), [{ side: 'source', connected: false }]],
    ['the host leaves', { sourceConnected: true, destinationConnected: true }, svc(true, false), [{ side: 'destination', connected: false }]],
    ['no change', { sourceConnected: true }, svc(true, false), []],
    ['service unknown: no change claimed', { sourceConnected: true }, undefined, []],
  ])('connection changes: %s', (_n, over, service, changes) => {
    expect(decideSweep(tunnel(over), { now, grant: true, hostOnline: true, service }).changes).toEqual(changes);
  });

  it('reports changes of a tunnel already closed but decides nothing', () => {
    expect(decideSweep(tunnel({ state: 'closed', destinationConnected: true }), { now, grant: false, hostOnline: true, service: svc(false, false) }))
      .toEqual({ changes: [{ side: 'destination', connected: false }] });
  });
});
