import { MAX_HOSTS_PER_CLUSTER, allHostIds, validateTopology, type ClusterTopology } from '../../../lambdas/domain/cluster.js';

const hosts = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`);
const VIP = '192.0.2.100';

describe('validateTopology()', () => {
  describe.each([
    [0, false],
    [1, true],
    [2, false],
    [3, true],
    [4, false],
    [5, true],
    [6, false],
  ])('a control plane of %i hosts', (size, sizeOk) => {
    it(`${sizeOk ? 'is' : 'is not'} a valid size (with a vip)`, () => {
      const errors = validateTopology({ controlPlane: { hostIds: hosts('cp', size) }, vip: VIP });
      if (sizeOk) expect(errors).toEqual([]);
      else expect(errors).toEqual([{ path: 'controlPlane.hostIds', message: expect.stringMatching(new RegExp(`1, 3 or 5 hosts.*got ${size}`)) }]);
    });

    it(`${size > 1 ? 'needs' : 'does not need'} a vip`, () => {
      const errors = validateTopology({ controlPlane: { hostIds: hosts('cp', size) } });
      const vipErrors = errors.filter((e) => e.path === 'vip');
      expect(vipErrors).toHaveLength(size > 1 ? 1 : 0);
      if (size > 1) expect(vipErrors[0]!.message).toMatch(/virtual IP/);
    });
  });

  it('a valid cluster with worker pools has no errors', () => {
    expect(validateTopology({
      controlPlane: { hostIds: hosts('cp', 3) }, vip: VIP,
      workers: [{ name: 'pos', hostIds: hosts('pos', 4) }, { name: 'kiosk', hostIds: hosts('kiosk', 2) }],
    })).toEqual([]);
  });

  it.each([
    [
      'control plane and a worker pool',
      { controlPlane: { hostIds: ['a'] }, workers: [{ name: 'pos', hostIds: ['b', 'a'] }] },
      'workers.0.hostIds.1', 'controlPlane.hostIds.0',
    ],
    [
      'two worker pools',
      { controlPlane: { hostIds: ['a'] }, workers: [{ name: 'pos', hostIds: ['b'] }, { name: 'kiosk', hostIds: ['c', 'b'] }] },
      'workers.1.hostIds.1', 'workers.0.hostIds.0',
    ],
    [
      'inside the control plane',
      { controlPlane: { hostIds: ['a', 'b', 'a'] }, vip: VIP },
      'controlPlane.hostIds.2', 'controlPlane.hostIds.0',
    ],
    [
      'inside one worker pool',
      { controlPlane: { hostIds: ['a'] }, workers: [{ name: 'pos', hostIds: ['b', 'c', 'b'] }] },
      'workers.0.hostIds.2', 'workers.0.hostIds.0',
    ],
  ])('a host listed twice (%s) names both places', (_label, topology: ClusterTopology, second, first) => {
    const errors = validateTopology(topology);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.path).toBe(second);
    expect(errors[0]!.message).toContain(`also in ${first}`);
  });

  it('a host listed three times is reported twice, each pointing at the first place', () => {
    const errors = validateTopology({ controlPlane: { hostIds: ['a'] }, workers: [{ name: 'x', hostIds: ['a'] }, { name: 'y', hostIds: ['a'] }] });
    expect(errors).toEqual([
      { path: 'workers.0.hostIds.0', message: expect.stringContaining('also in controlPlane.hostIds.0') },
      { path: 'workers.1.hostIds.0', message: expect.stringContaining('also in controlPlane.hostIds.0') },
    ]);
  });

  it('a duplicate worker pool name is refused at the second pool', () => {
    const errors = validateTopology({
      controlPlane: { hostIds: ['a'] },
      workers: [{ name: 'pos', hostIds: ['b'] }, { name: 'kiosk', hostIds: ['c'] }, { name: 'pos', hostIds: ['d'] }],
    });
    expect(errors).toEqual([{ path: 'workers.2.name', message: expect.stringMatching(/"pos" is named twice/) }]);
  });

  it.each([
    [MAX_HOSTS_PER_CLUSTER - 1, true],
    [MAX_HOSTS_PER_CLUSTER, true],
    [MAX_HOSTS_PER_CLUSTER + 1, false],
    [200, false],
  ])('%i distinct hosts → ok=%s (at most 90)', (total, ok) => {
    expect(MAX_HOSTS_PER_CLUSTER).toBe(90);
    const topology: ClusterTopology = {
      controlPlane: { hostIds: hosts('cp', 3) }, vip: VIP,
      workers: [{ name: 'a', hostIds: hosts('a', Math.ceil((total - 3) / 2)) }, { name: 'b', hostIds: hosts('b', Math.floor((total - 3) / 2)) }],
    };
    expect(allHostIds(topology)).toHaveLength(total);
    const errors = validateTopology(topology);
    if (ok) expect(errors).toEqual([]);
    else expect(errors).toEqual([{ path: 'workers', message: expect.stringMatching(/at most 90 hosts/) }]);
  });

  it('allHostIds lists the control plane first, then pools in order', () => {
    expect(allHostIds({ controlPlane: { hostIds: ['a'] }, workers: [{ name: 'x', hostIds: ['b', 'c'] }, { name: 'y', hostIds: ['d'] }] }))
      .toEqual(['a', 'b', 'c', 'd']);
    expect(allHostIds({ controlPlane: { hostIds: ['a'] } })).toEqual(['a']);
  });
});
