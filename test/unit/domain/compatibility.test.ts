import { K8S_PACKS, OS_PACKS, checkCompatibility } from '../../../lambdas/domain/compatibility.js';

type Expect = 'ok' | 'systemd' | 'cgroup';

/**
 * The validated matrix, by hand. Columns: k3s, rke2, kubeadm.
 * `systemd`: refused because the distribution needs systemd and the OS runs openrc.
 * `cgroup`: refused because the release boots with cgroup v1 and Kubernetes is newer than 1.30.
 */
const AT_1_33: Record<string, readonly [Expect, Expect, Expect]> = {
  'ubuntu 20.04': ['cgroup', 'cgroup', 'cgroup'],
  'ubuntu 22.04': ['ok', 'ok', 'ok'],
  'ubuntu 24.04': ['ok', 'ok', 'ok'],
  'opensuse 15.5': ['ok', 'ok', 'ok'],
  'opensuse 15.6': ['ok', 'ok', 'ok'],
  'alpine 3.19': ['ok', 'systemd', 'systemd'],
  'alpine 3.20': ['ok', 'systemd', 'systemd'],
  'alpine 3.21': ['ok', 'systemd', 'systemd'],
  'rocky 8': ['cgroup', 'cgroup', 'cgroup'],
  'rocky 9': ['ok', 'ok', 'ok'],
  'debian 11': ['ok', 'ok', 'ok'],
  'debian 12': ['ok', 'ok', 'ok'],
};
/** At 1.30 (the last minor validated on cgroup v1) only the systemd rule remains. */
const AT_1_30: Record<string, readonly [Expect, Expect, Expect]> = Object.fromEntries(
  Object.entries(AT_1_33).map(([os, row]) => [os, row.map((e) => (e === 'cgroup' ? 'ok' : e)) as unknown as [Expect, Expect, Expect]]),
);
const K8S = ['k3s', 'rke2', 'kubeadm'] as const;
/** Version strings as each distribution spells them. */
const spell = (pack: string, minor: string) =>
  pack === 'k3s' ? `v${minor}.4+k3s1` : pack === 'rke2' ? `v${minor}.4+rke2r1` : `${minor}.4`;

const REASON: Record<Exclude<Expect, 'ok'>, RegExp> = {
  systemd: /needs systemd, but alpine uses openrc/,
  cgroup: /cgroup v1/,
};

const rows = (table: Record<string, readonly Expect[]>, minor: string) =>
  Object.entries(table).flatMap(([os, row]) => K8S.map((k, i) => {
    const [pack, version] = os.split(' ') as [string, string];
    return [pack, version, k, spell(k, minor), row[i]!] as const;
  }));

describe('OS × Kubernetes compatibility matrix', () => {
  it('the table covers every OS release and every distribution', () => {
    expect(OS_PACKS.flatMap((p) => p.releases.map((r) => `${p.pack} ${r}`)).sort()).toEqual(Object.keys(AT_1_33).sort());
    expect(K8S_PACKS.map((p) => p.pack).sort()).toEqual([...K8S].sort());
  });

  describe.each([
    ['1.33', AT_1_33],
    ['1.30', AT_1_30],
    ['1.28', AT_1_30],
  ] as const)('Kubernetes %s', (minor, table) => {
    it.each(rows(table, minor))('%s %s × %s %s → %s', (os, osVersion, k8s, k8sVersion, expected) => {
      const result = checkCompatibility({ pack: os, version: osVersion }, { pack: k8s, version: k8sVersion });
      if (expected === 'ok') {
        expect(result).toEqual({ ok: true });
      } else {
        expect(result.ok).toBe(false);
        if (!result.ok) expect(result.reason).toMatch(REASON[expected]);
      }
    });
  });

  it.each([
    ['ubuntu', '20.04', 'k3s', 'v1.30.4+k3s1', true],
    ['ubuntu', '20.04', 'k3s', 'v1.30.99+k3s2', true],
    ['ubuntu', '20.04', 'k3s', 'v1.31.0+k3s1', false],
    ['ubuntu', '20.04.6', 'kubeadm', '1.31.0', false],
    ['rocky', '8', 'rke2', 'v1.30.4+rke2r1', true],
    ['rocky', '8.10', 'rke2', 'v1.31.1+rke2r1', false],
    ['rocky', '8.10', 'kubeadm', '1.30.0', true],
    ['rocky', '9.4', 'kubeadm', '1.33.0', true],
    ['ubuntu', '22.04', 'k3s', 'v1.31.0+k3s1', true],
  ] as const)('cgroup v1 boundary: %s %s × %s %s → ok=%s', (os, osVersion, k8s, k8sVersion, ok) => {
    const result = checkCompatibility({ pack: os, version: osVersion }, { pack: k8s, version: k8sVersion });
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).toMatch(/cgroup v1.*1\.30/);
  });

  it.each(K8S.flatMap((k) => [
    [k, '1.28.0', true], [k, '1.28', true], [k, `v1.30.4+${k}1`, true], [k, '1.33.99', true], [k, 'v1.33.0-rc.1', true],
    [k, '1.27.15', false], [k, '1.34.0', false], [k, '1.3', false], [k, '2.28.0', false], [k, '0.33.0', false],
    [k, 'latest', false], [k, '', false], [k, 'v1.30.4.1', false],
  ] as const))('%s at %p → ok=%s (range 1.28–1.33)', (k8s, version, ok) => {
    const result = checkCompatibility({ pack: 'ubuntu', version: '24.04' }, { pack: k8s, version });
    expect(result.ok).toBe(ok);
    if (!result.ok) expect(result.reason).toMatch(/outside the validated range 1\.28–1\.33/);
  });

  it.each([
    ['ubuntu', '18.04'], ['ubuntu', '22.10'], ['ubuntu', '22'], ['opensuse', '15.4'], ['alpine', '3.2'],
    ['alpine', '3.18'], ['rocky', '10'], ['rocky', '7.9'], ['debian', '10'], ['debian', '13'], ['debian', 'bookworm'],
  ])('unsupported OS release %s %s is refused with the supported list', (pack, version) => {
    const result = checkCompatibility({ pack, version }, { pack: 'k3s', version: 'v1.30.4+k3s1' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(new RegExp(`${pack} ${version} is not a supported release; supported: `));
  });

  it.each([
    ['ubuntu', '22.04.5'], ['ubuntu', 'v24.04'], ['opensuse', '15.6'], ['alpine', '3.20.3'], ['rocky', '9.4'], ['debian', '12.7'],
  ])('OS release %s %s matches its major.minor (or major) row', (pack, version) => {
    expect(checkCompatibility({ pack, version }, { pack: 'k3s', version: 'v1.31.0+k3s1' })).toEqual({ ok: true });
  });

  it.each([
    [{ pack: 'windows', version: '11' }, { pack: 'k3s', version: '1.30.0' }, /unknown OS pack "windows"; supported: ubuntu, opensuse, alpine, rocky, debian/],
    [{ pack: 'Ubuntu', version: '22.04' }, { pack: 'k3s', version: '1.30.0' }, /unknown OS pack "Ubuntu"/],
    [{ pack: 'ubuntu', version: '22.04' }, { pack: 'k0s', version: '1.30.0' }, /unknown Kubernetes distribution "k0s"; supported: k3s, rke2, kubeadm/],
    [{ pack: 'ubuntu', version: '22.04' }, { pack: 'microk8s', version: '1.30.0' }, /unknown Kubernetes distribution "microk8s"/],
  ])('unknown pack %p × %p is refused', (os, k8s, reason) => {
    const result = checkCompatibility(os, k8s);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.reason).toMatch(reason);
  });
});
