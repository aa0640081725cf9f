import { compareSemver, compareVersions, inMinorRange, parseVersion } from '../../../lambdas/domain/versions.js';

describe('parseVersion()', () => {
  it.each([
    ['1.30', [1, 30, 0]],
    ['1.30.4', [1, 30, 4]],
    ['v1.30.4', [1, 30, 4]],
    ['v1.30.4+k3s1', [1, 30, 4]],
    ['v1.30.4+rke2r1', [1, 30, 4]],
    ['1.2.3-rc.1', [1, 2, 3]],
    ['22.04', [22, 4, 0]],
    ['9', [9, 0, 0]],
    ['0.0.0', [0, 0, 0]],
    ['  1.2.3  ', [1, 2, 3]],
    ['10.20.30', [10, 20, 30]],
  ])('%p → %p', (input, expected) => {
    expect(parseVersion(input)).toEqual(expected);
  });

  it.each(['', ' ', 'v', 'latest', '1.x', 'x.1', '1..2', '1.2.3.4', '.1', '1.', 'a1.2', '1.2 3', '1,2'])('%p is not a version', (input) => {
    expect(parseVersion(input)).toBeUndefined();
  });
});

describe('compareVersions()', () => {
  it.each([
    [[1, 2, 3], [1, 2, 3], 0],
    [[1, 2, 3], [1, 2, 4], -1],
    [[1, 10, 0], [1, 9, 9], 1],
    [[2, 0, 0], [1, 99, 99], 1],
  ] as const)('%p vs %p → sign %p', (a, b, sign) => {
    expect(Math.sign(compareVersions(a, b))).toBe(sign);
  });
});

describe('inMinorRange()', () => {
  const range = { min: '1.28', max: '1.33' };
  it.each([
    ['1.28.0', true], ['1.28', true], ['v1.30.4+k3s1', true], ['1.33.0', true], ['1.33.999', true], ['v1.33.1-rc.1', true],
    ['1.27.99', false], ['1.34.0', false], ['1.3', false], ['1.3.28', false], ['2.30', false], ['0.30', false],
    ['junk', false], ['', false],
  ])('%p in 1.28–1.33 → %s (patch ignored, minor compared numerically)', (v, expected) => {
    expect(inMinorRange(v, range)).toBe(expected);
  });

  it('a single-minor range holds only that minor', () => {
    expect(inMinorRange('1.30.7', { min: '1.30', max: '1.30' })).toBe(true);
    expect(inMinorRange('1.31.0', { min: '1.30', max: '1.30' })).toBe(false);
    expect(inMinorRange('1.29.9', { min: '1.30', max: '1.30' })).toBe(false);
  });

  it('an unreadable range holds nothing', () => {
    expect(inMinorRange('1.30.0', { min: 'x', max: '1.33' })).toBe(false);
    expect(inMinorRange('1.30.0', { min: '1.28', max: '' })).toBe(false);
  });
});

describe('compareSemver()', () => {
  it.each([
    ['1.2.0', '1.10.0', -1],
    ['1.10.0', '1.2.0', 1],
    ['1.0.0', '1.0.0', 0],
    ['0.9.9', '1.0.0', -1],
    ['2.0.0', '10.0.0', -1],
    ['1.0.10', '1.0.9', 1],
    ['1.0.0-rc.1', '1.0.0', -1],
    ['1.0.0', '1.0.0-rc.1', 1],
    ['1.0.0-rc.1', '1.0.0-rc.1', 0],
    ['2.0.0-rc.1', '1.9.9', 1],
    ['1.0.0-alpha', '1.0.0-beta', -1],
    ['1.0.0-rc.2', '1.0.0-rc.10', -1],
    ['1.0.0-rc.10', '1.0.0-rc.2', 1],
    ['1.0.0-alpha-1', '1.0.0-alpha-2', -1],
    ['1.0.0-alpha', '1.0.0-alpha.1', -1],
    ['1.0.0-1', '1.0.0-alpha', -1],
    ['1.0.0-alpha', '1.0.0-1', 1],
    ['1.0.0-99999999999999999999', '1.0.0-100000000000000000000', -1],
  ])('%p vs %p → sign %p', (a, b, sign) => {
    expect(Math.sign(compareSemver(a, b))).toBe(sign);
  });

  // The precedence example from semver 2.0.0 §11.
  const ORDERED = [
    '1.0.0-alpha', '1.0.0-alpha.1', '1.0.0-alpha.beta', '1.0.0-beta', '1.0.0-beta.2', '1.0.0-beta.11', '1.0.0-rc.1',
    '1.0.0', '1.0.1', '1.2.0', '1.10.0-rc.1', '1.10.0', '2.0.0',
  ];

  it('sorts into semver precedence', () => {
    const shuffled = [...ORDERED].reverse();
    shuffled.push(shuffled.shift()!);
    expect(shuffled.sort(compareSemver)).toEqual(ORDERED);
  });

  it('is antisymmetric and consistent with the order for every pair', () => {
    ORDERED.forEach((a, i) => ORDERED.forEach((b, j) => {
      expect([a, b, Math.sign(compareSemver(a, b))]).toEqual([a, b, Math.sign(i - j)]);
    }));
  });
});
