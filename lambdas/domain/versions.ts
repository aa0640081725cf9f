/** Numeric version parsing shared by the compatibility matrix and profile rules. */
export type NumericVersion = readonly [number, number, number];

/** Parses "1.30", "v1.30.4", "v1.30.4+k3s1", "22.04", "9" into [major, minor, patch]. */
export function parseVersion(v: string): NumericVersion | undefined {
  const m = /^v?(\d+)(?:\.(\d+))?(?:\.(\d+))?(?:[-+].*)?$/.exec(v.trim());
  if (!m) return undefined;
  return [Number(m[1]), Number(m[2] ?? 0), Number(m[3] ?? 0)];
}

export function compareVersions(a: NumericVersion, b: NumericVersion): number {
  for (let i = 0; i < 3; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return 0;
}

/** Inclusive range on major.minor (patch ignored), e.g. { min: '1.29', max: '1.32' }. */
export interface MinorRange {
  readonly min: string;
  readonly max: string;
}

export function inMinorRange(v: string, range: MinorRange): boolean {
  const p = parseVersion(v);
  const lo = parseVersion(range.min);
  const hi = parseVersion(range.max);
  if (!p || !lo || !hi) return false;
  const minor: NumericVersion = [p[0], p[1], 0];
  return compareVersions(minor, [lo[0], lo[1], 0]) >= 0 && compareVersions(minor, [hi[0], hi[1], 0]) <= 0;
}

/** Semantic version comparison for profile versions ("1.2.0" < "1.10.0"; pre-releases sort first). */
export function compareSemver(a: string, b: string): number {
  const [av, apre] = a.split('-', 2) as [string, string | undefined];
  const [bv, bpre] = b.split('-', 2) as [string, string | undefined];
  const c = compareVersions(parseVersion(av)!, parseVersion(bv)!);
  if (c !== 0) return c;
  if (apre === bpre) return 0;
  if (apre === undefined) return 1;
  if (bpre === undefined) return -1;
  return apre < bpre ? -1 : 1;
}
