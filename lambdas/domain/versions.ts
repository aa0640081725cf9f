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

/**
 * Semantic version precedence for profile versions (semver 2.0.0 §11): "1.2.0" < "1.10.0";
 * a pre-release sorts before its release; pre-release identifiers compare dot by dot, numeric
 * ones numerically ("rc.2" < "rc.10") and below alphanumeric ones; build metadata is ignored.
 */
export function compareSemver(a: string, b: string): number {
  const [av, apre] = splitPrerelease(a);
  const [bv, bpre] = splitPrerelease(b);
  const c = compareVersions(parseVersion(av)!, parseVersion(bv)!);
  if (c !== 0) return c;
  if (apre === bpre) return 0;
  if (apre === undefined) return 1;
  if (bpre === undefined) return -1;
  return comparePrerelease(apre, bpre);
}

/** "1.0.0-alpha-1+build.5" → ["1.0.0", "alpha-1"]: the pre-release runs from the first "-". */
function splitPrerelease(v: string): [string, string | undefined] {
  const core = v.split('+', 1)[0]!;
  const dash = core.indexOf('-');
  return dash < 0 ? [core, undefined] : [core.slice(0, dash), core.slice(dash + 1)];
}

const NUMERIC = /^\d+$/;

function comparePrerelease(a: string, b: string): number {
  const x = a.split('.');
  const y = b.split('.');
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const p = x[i]!;
    const q = y[i]!;
    if (p === q) continue;
    const pn = NUMERIC.test(p);
    const qn = NUMERIC.test(q);
    if (pn && qn) {
      // Compare digit strings without Number() so long identifiers keep their precision.
      const ps = p.replace(/^0+(?=\d)/, '');
      const qs = q.replace(/^0+(?=\d)/, '');
      if (ps.length !== qs.length) return ps.length - qs.length;
      if (ps !== qs) return ps < qs ? -1 : 1;
      continue;
    }
    if (pn) return -1;
    if (qn) return 1;
    return p < q ? -1 : 1;
  }
  return x.length - y.length;
}
