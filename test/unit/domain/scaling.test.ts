import { MAX_HOSTS_PER_CLUSTER } from '../../../lambdas/domain/cluster.js';
import { CONTROL_PLANE_POOL, planScale, type ScaleRequest } from '../../../lambdas/domain/scaling.js';

const VIP = '192.0.2.100';
const hosts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);

interface Shape { readonly cp: number; readonly pos?: number; readonly kiosk?: number; readonly vip?: boolean }
const cluster = ({ cp, pos = 0, kiosk = 0, vip = true }: Shape) => ({
  controlPlane: { hostIds: hosts('cp', cp) },
  workers: [
    ...(pos ? [{ name: 'pos', hostIds: hosts('pos', pos) }] : []),
    ...(kiosk ? [{ name: 'kiosk', hostIds: hosts('kiosk', kiosk) }] : []),
  ],
  ...(vip ? { vip: VIP } : {}),
});

describe('planScale()', () => {
  describe('accepted', () => {
    it.each([
      ['control plane 1 -> 3', { cp: 1 }, { pool: CONTROL_PLANE_POOL, add: ['n1', 'n2'] }, 'out', ['cp-0', 'n1', 'n2'], []],
      ['control plane 3 -> 5', { cp: 3 }, { pool: CONTROL_PLANE_POOL, add: ['n1', 'n2'] }, 'out', ['cp-0', 'cp-1', 'cp-2', 'n1', 'n2'], []],
      ['control plane 5 -> 3', { cp: 5 }, { pool: CONTROL_PLANE_POOL, remove: ['cp-0', 'cp-4'] }, 'in', ['cp-1', 'cp-2', 'cp-3'], []],
      ['control plane 3 -> 1 (any node may go, the first too)', { cp: 3 }, { pool: CONTROL_PLANE_POOL, remove: ['cp-0', 'cp-1'] }, 'in', ['cp-2'], []],
      ['control plane 3 -> 1 without a vip', { cp: 3, vip: false }, { pool: CONTROL_PLANE_POOL, remove: ['cp-1', 'cp-2'] }, 'in', ['cp-0'], []],
      ['an existing worker pool grows', { cp: 1, pos: 1 }, { pool: 'pos', add: ['n1'] }, 'out', ['cp-0'], [{ name: 'pos', hostIds: ['pos-0', 'n1'] }]],
      ['a new worker pool is created', { cp: 1, pos: 1 }, { pool: 'kiosk', add: ['n1'] }, 'out', ['cp-0'], [{ name: 'pos', hostIds: ['pos-0'] }, { name: 'kiosk', hostIds: ['n1'] }]],
      ['workers are added without a vip', { cp: 1, vip: false }, { pool: 'pos', add: ['n1'] }, 'out', ['cp-0'], [{ name: 'pos', hostIds: ['n1'] }]],
      ['a worker pool shrinks', { cp: 1, pos: 3 }, { pool: 'pos', remove: ['pos-1'] }, 'in', ['cp-0'], [{ name: 'pos', hostIds: ['pos-0', 'pos-2'] }]],
      ['an emptied worker pool is removed', { cp: 1, pos: 2, kiosk: 1 }, { pool: 'pos', remove: ['pos-0', 'pos-1'] }, 'in', ['cp-0'], [{ name: 'kiosk', hostIds: ['kiosk-0'] }]],
    ] as [string, Shape, ScaleRequest, 'out' | 'in', string[], { name: string; hostIds: string[] }[]][])('%s', (_what, shape, req, direction, controlPlane, workers) => {
      expect(planScale(cluster(shape), req)).toEqual({
        ok: true, direction, pool: req.pool, hostIds: [...(req.add ?? req.remove ?? [])], controlPlane, workers,
      });
    });

    it('does not change the cluster it was given', () => {
      const c = cluster({ cp: 1, pos: 2 });
      const before = JSON.stringify(c);
      planScale(c, { pool: 'pos', remove: ['pos-0', 'pos-1'] });
      planScale(c, { pool: 'pos', add: ['n1'] });
      expect(JSON.stringify(c)).toBe(before);
    });

    it(`reaches exactly ${MAX_HOSTS_PER_CLUSTER} hosts`, () => {
      const decision = planScale(cluster({ cp: 1, pos: MAX_HOSTS_PER_CLUSTER - 2 }), { pool: 'pos', add: ['last'] });
      expect(decision.ok).toBe(true);
    });
  });

  describe('refused', () => {
    it.each([
      ['both add and remove', { cp: 1, pos: 1 }, { pool: 'pos', add: ['n1'], remove: ['pos-0'] }, 'invalid-scale', /not both/],
      ['neither add nor remove', { cp: 1 }, { pool: 'pos' }, 'invalid-scale', /not neither/],
      ['empty add and remove lists', { cp: 1 }, { pool: 'pos', add: [], remove: [] }, 'invalid-scale', /not neither/],
      ['an empty pool name', { cp: 1 }, { pool: ' ', add: ['n1'] }, 'invalid-scale', /name the pool/],
      ['a host listed twice (add)', { cp: 1 }, { pool: 'pos', add: ['n1', 'n2', 'n1'] }, 'invalid-scale', /host n1 is listed more than once.*worker pool "pos"/],
      ['a host listed twice (remove)', { cp: 1, pos: 2 }, { pool: 'pos', remove: ['pos-0', 'pos-0'] }, 'invalid-scale', /pos-0 is listed more than once/],
      ['control plane 1 -> 2', { cp: 1 }, { pool: CONTROL_PLANE_POOL, add: ['n1'] }, 'control-plane-size', /with 2 hosts \(now 1\).*1, 3 or 5/],
      ['control plane 5 -> 6', { cp: 5 }, { pool: CONTROL_PLANE_POOL, add: ['n1'] }, 'control-plane-size', /with 6 hosts/],
      ['control plane 3 -> 7', { cp: 3 }, { pool: CONTROL_PLANE_POOL, add: hosts('n', 4) }, 'control-plane-size', /with 7 hosts/],
      ['control plane 3 -> 2', { cp: 3 }, { pool: CONTROL_PLANE_POOL, remove: ['cp-0'] }, 'control-plane-size', /removing cp-0 would leave the control plane with 2 hosts/],
      ['control plane 1 -> 0', { cp: 1, pos: 1 }, { pool: CONTROL_PLANE_POOL, remove: ['cp-0'] }, 'control-plane-size', /with 0 hosts/],
      ['control plane 1 -> 3 without a vip', { cp: 1, vip: false }, { pool: CONTROL_PLANE_POOL, add: ['n1', 'n2'] }, 'vip-required', /3 hosts needs a virtual IP/],
      ['a host already in the same pool', { cp: 1, pos: 2 }, { pool: 'pos', add: ['n1', 'pos-1'] }, 'host-already-in-cluster', /pos-1 \(in worker pool "pos"\)/],
      ['a worker host added to the control plane', { cp: 1, pos: 2 }, { pool: CONTROL_PLANE_POOL, add: ['pos-0', 'n1'] }, 'host-already-in-cluster', /pos-0 \(in worker pool "pos"\) to the control plane/],
      ['a control-plane host added to a new pool', { cp: 1 }, { pool: 'kiosk', add: ['cp-0'] }, 'host-already-in-cluster', /cp-0 \(in the control plane\) to worker pool "kiosk"/],
      ['removing from an unknown pool', { cp: 1, pos: 1 }, { pool: 'kiosk', remove: ['pos-0'] }, 'pool-not-found', /no pool "kiosk".*"control-plane", "pos"/],
      ['removing a host of another pool', { cp: 1, pos: 1, kiosk: 1 }, { pool: 'pos', remove: ['kiosk-0'] }, 'host-not-in-pool', /kiosk-0 \(it is in worker pool "kiosk"\) from worker pool "pos"/],
      ['removing a host not in the cluster', { cp: 3 }, { pool: CONTROL_PLANE_POOL, remove: ['ghost', 'cp-0'] }, 'host-not-in-pool', /ghost \(not in this cluster\) from the control plane/],
      ['going over the host limit', { cp: 1, pos: MAX_HOSTS_PER_CLUSTER - 1 }, { pool: 'kiosk', add: ['n1'] }, 'too-many-hosts', new RegExp(`${MAX_HOSTS_PER_CLUSTER + 1} hosts.*at most ${MAX_HOSTS_PER_CLUSTER}`)],
    ] as [string, Shape, ScaleRequest, string, RegExp][])('%s', (_what, shape, req, code, message) => {
      expect(planScale(cluster(shape), req)).toEqual({ ok: false, code, message: expect.stringMatching(message) });
    });
  });
});
