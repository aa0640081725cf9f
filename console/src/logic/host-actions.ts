/**
 * What the host page's troubleshooting sections decide (pure): which tunnel actions an operator
 * may take, whether a host's agent is behind the published one, when to look again at running
 * diagnostics requests, and the CLI command for a remote shell (a browser cannot run ssh).
 */
import type { Role } from './session.js';

export interface TunnelLike { readonly state: string; readonly actor: string }

/**
 * Approve: a pending request, by someone other than its requester (second-person approval; the
 * API also needs an admin or an operator with a troubleshoot grant, and says so). Close: any
 * tunnel not closed yet. Viewers get neither.
 */
export function tunnelActions(t: TunnelLike, subject: string, role: Role | undefined): { approve: boolean; close: boolean } {
  const operate = role === 'operator' || role === 'admin';
  return { approve: operate && t.state === 'pending-approval' && t.actor !== subject, close: operate && t.state !== 'closed' };
}

const SEMVER = /^(\d+)\.(\d+)\.(\d+)(?:-([0-9A-Za-z.-]+))?(?:\+[0-9A-Za-z.-]+)?$/;

/** -1, 0 or 1; undefined when either is not a version (then the page compares nothing). Pre-releases sort before their release. */
export function compareVersions(a: string, b: string): number | undefined {
  const x = SEMVER.exec(a.trim());
  const y = SEMVER.exec(b.trim());
  if (!x || !y) return undefined;
  for (let i = 1; i <= 3; i++) {
    const d = Number(x[i]) - Number(y[i]);
    if (d) return Math.sign(d);
  }
  if (x[4] === y[4]) return 0;
  if (x[4] === undefined) return 1;
  if (y[4] === undefined) return -1;
  return x[4] < y[4] ? -1 : 1;
}

export type AgentState = 'no-manifest' | 'not-reported' | 'current' | 'behind' | 'ahead' | 'unknown';

/** The host's reported agent against the published one. */
export function agentState(reported: string | undefined, published: string | undefined): AgentState {
  if (!published) return 'no-manifest';
  if (!reported) return 'not-reported';
  const c = compareVersions(reported, published);
  return c === undefined ? 'unknown' : c === 0 ? 'current' : c < 0 ? 'behind' : 'ahead';
}

/** The published version from GET /v1/agent/manifest's body (not in the typed client: it is device-facing), or why not. */
export function manifestVersion(body: unknown): { version: string } | { error: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { error: 'the agent manifest is not a JSON object' };
  const v: unknown = (body as Record<string, unknown>).version;
  if (typeof v !== 'string' || !SEMVER.test(v)) return { error: 'the agent manifest has no version such as 0.2.0' };
  return { version: v };
}

/** Poll every 3 s while a request is still with the host; stop once all ended. */
export function diagnosticsPollMs(items: readonly { status: string }[] | undefined): number | undefined {
  if (!items) return 10_000;
  return items.some((d) => d.status === 'requested' || d.status === 'collecting') ? 3_000 : undefined;
}

/** The remote-shell command, quoted for a POSIX shell. */
export function shellCommand(hostId: string, reason = 'what you are fixing, ticket number'): string {
  return `edgefleet hosts shell ${hostId} --reason '${reason.replace(/'/g, `'\\''`)}'`;
}

/** `1234567` → `1.2 MB` (decimal units, as `ls -h --si`). */
export function bytesText(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) { v /= 1000; u++; }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** A count from one filtered API page: exact without a next page, else "at least" (`12+`). */
export function atLeast(n: number, nextCursor: string | undefined | null): string {
  return nextCursor ? `${n}+` : String(n);
}
