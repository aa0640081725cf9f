import { deriveClusterHealth, type MemberHealth } from '../../../lambdas/domain/cluster-health.js';
import type { PackStatus } from '../../../lambdas/domain/packs.js';

const ok = { state: 'healthy' as const, reasons: [], online: true };
const notReady = { state: 'unhealthy' as const, reasons: ['Kubernetes NotReady'], online: true };
const offline = { state: 'unhealthy' as const, reasons: ['offline since 2026-12-01T02:00:00.000Z'], online: false };
const cp = (hostId: string, health?: MemberHealth['health']): MemberHealth => ({ hostId, controlPlane: true, ...(health ? { health } : {}) });
const w = (hostId: string, health?: MemberHealth['health']): MemberHealth => ({ hostId, controlPlane: false, ...(health ? { health } : {}) });
const packError: PackStatus = { name: 'ingress', type: 'addon', state: 'error', reason: 'chart not found' };

describe('deriveClusterHealth', () => {
  it.each<[string, MemberHealth[], PackStatus[], string, string[]]>([
    ['every node healthy', [cp('a', ok), w('b', ok)], [], 'healthy', []],
    ['a worker NotReady', [cp('a', ok), w('b', notReady)], [], 'degraded', ['node b: Kubernetes NotReady']],
    ['a worker offline', [cp('a', ok), w('b', offline)], [], 'degraded', ['node b: offline since 2026-12-01T02:00:00.000Z']],
    ['one of three control-plane nodes offline', [cp('a', ok), cp('b', offline), cp('c', ok)], [], 'degraded', ['node b: offline since 2026-12-01T02:00:00.000Z']],
    ['no control-plane node online', [cp('a', offline), w('b', ok)], [], 'unreachable', ['control-plane node a: offline since 2026-12-01T02:00:00.000Z']],
    ['a pack in error', [cp('a', ok)], [packError], 'degraded', ['pack ingress error: chart not found']],
    ['a pack in error named by the init node too: said once', [cp('a', { ...notReady, reasons: ['pack ingress error: chart not found'] })], [packError], 'degraded',
      ['node a: pack ingress error: chart not found']],
    ['a pack installing is not an error', [cp('a', ok)], [{ name: 'cni', type: 'cni', state: 'installing' }], 'healthy', []],
    ['no node evaluated yet', [cp('a'), w('b')], [], 'unknown', ['no node has reported its health yet']],
    ['one node not evaluated yet', [cp('a', ok), w('b')], [], 'degraded', ['node b: health unknown']],
    ['no hosts', [], [], 'unknown', ['the cluster has no hosts']],
  ])('%s', (_name, members, packs, state, reasons) => {
    expect(deriveClusterHealth(members, packs)).toEqual({ state, reasons });
  });
});
