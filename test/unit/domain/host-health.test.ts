import { deriveHostHealth, MAX_REASONS, MIN_STATE_FREE_MB, sameHealth, type HostHealthInput } from '../../../lambdas/domain/host-health.js';

const T = Date.parse('2026-12-01T02:00:00.000Z');
const online = { presence: 'online' as const, at: T };
const good = { boot: { state: 'active' as const }, kubernetes: { ready: true, role: 'worker' } };
const base: HostHealthInput = { status: 'in-cluster', clusterId: 'c1', presence: online, reported: good };

describe('deriveHostHealth', () => {
  it.each<[string, HostHealthInput, 'healthy' | 'unhealthy' | 'unknown', string[]]>([
    ['in a cluster, online, active, Ready', base, 'healthy', []],
    ['approved, online, no Kubernetes yet', { status: 'approved', presence: online, reported: { boot: { state: 'active' } } }, 'healthy', []],
    ['pre-registered', { status: 'pre-registered' }, 'unknown', ['host is pre-registered: it is not expected to report']],
    ['pending', { status: 'pending', presence: online, reported: good }, 'unknown', ['host is pending: it is not expected to report']],
    ['decommissioned', { status: 'decommissioned', presence: online }, 'unknown', ['host is decommissioned: it is not expected to report']],
    ['never connected', { status: 'approved' }, 'unknown', ['never connected']],
    ['offline (wins over everything it reported)', { ...base, presence: { presence: 'offline', at: T } }, 'unhealthy', ['offline since 2026-12-01T02:00:00.000Z']],
    ['online, no report yet', { status: 'approved', presence: online }, 'unknown', ['online, no status report yet']],
    ['NotReady', { ...base, reported: { ...good, kubernetes: { ready: false } } }, 'unhealthy', ['Kubernetes NotReady']],
    ['booted passive (fallback)', { ...base, reported: { ...good, boot: { state: 'passive' } } }, 'unhealthy', ['booted into passive (fallback): the active image failed to boot']],
    ['booted recovery', { ...base, reported: { ...good, boot: { state: 'recovery' } } }, 'unhealthy', ['booted into recovery']],
    ['in a cluster without a Kubernetes node', { ...base, reported: { boot: { state: 'active' } } }, 'unhealthy', ['in a cluster but reports no Kubernetes node']],
    ['state partition short of room', { ...base, reported: { ...good, storage: { stateFreeMb: 1228 } } }, 'unhealthy', ['state partition has 1.2 GiB free (needs 2.0 GiB)']],
    ['state partition exactly at the threshold', { ...base, reported: { ...good, storage: { stateFreeMb: MIN_STATE_FREE_MB } } }, 'healthy', []],
    ['a pack in error', { ...base, reported: { ...good, packs: [{ name: 'ingress', type: 'addon', state: 'error', reason: 'chart not found' }, { name: 'cni', type: 'cni', state: 'ready' }] } },
      'unhealthy', ['pack ingress error: chart not found']],
    ['several reasons, in order', { ...base, reported: { boot: { state: 'passive' }, kubernetes: { ready: false }, storage: { stateFreeMb: 100 } } }, 'unhealthy',
      ['booted into passive (fallback): the active image failed to boot', 'Kubernetes NotReady', 'state partition has 100 MiB free (needs 2.0 GiB)']],
  ])('%s', (_name, input, state, reasons) => {
    expect(deriveHostHealth(input)).toEqual({ state, reasons });
  });

  it('keeps at most MAX_REASONS reasons and says how many more there are', () => {
    const packs = Array.from({ length: 20 }, (_, i) => ({ name: `p${i}`, type: 'addon' as const, state: 'error' as const }));
    const h = deriveHostHealth({ ...base, reported: { ...good, packs } });
    expect(h.reasons).toHaveLength(MAX_REASONS);
    expect(h.reasons[MAX_REASONS - 1]).toBe(`and ${20 - MAX_REASONS + 1} more`);
  });
});

describe('sameHealth', () => {
  it.each<[string, Parameters<typeof sameHealth>[0], boolean]>([
    ['nothing stored', undefined, false],
    ['same state and reasons', { state: 'unhealthy', reasons: ['a', 'b'] }, true],
    ['other state', { state: 'healthy', reasons: ['a', 'b'] }, false],
    ['other reasons', { state: 'unhealthy', reasons: ['a'] }, false],
    ['reasons in another order', { state: 'unhealthy', reasons: ['b', 'a'] }, false],
  ])('%s', (_n, stored, same) => {
    expect(sameHealth(stored, { state: 'unhealthy', reasons: ['a', 'b'] })).toBe(same);
  });
});
