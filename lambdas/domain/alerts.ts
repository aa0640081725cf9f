import type { HealthEvent } from './health-events.js';

/**
 * Alert rules: which health changes notify whom, de-duplication and re-notification. Pure.
 */

export type AlertTarget =
  /** The HMAC key is in the secret store under `secretName`, never on the rule item. */
  | { readonly type: 'webhook'; readonly url: string; readonly secretName: string }
  | { readonly type: 'sns'; readonly topicArn: string };

export interface AlertMatch {
  /** Health states that notify (host: healthy|unhealthy|unknown; cluster: healthy|degraded|unreachable|unknown). */
  readonly states: readonly string[];
  /** Host or cluster events, or both. @default both */
  readonly kinds?: readonly ('host' | 'cluster')[];
  /** Hosts at this site only (a rule with a site matches no cluster event). */
  readonly site?: string;
  /** Hosts with every one of these tags (a rule with tags matches no cluster event). */
  readonly tags?: Readonly<Record<string, string>>;
  /** Events of this cluster: the cluster itself and its hosts. */
  readonly clusterId?: string;
}

export interface AlertRule {
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly match: AlertMatch;
  readonly target: AlertTarget;
  /** The same resource in the same state is notified again only after this long. */
  readonly renotifyMinutes: number;
  readonly createdAt: string;
  readonly createdBy: string;
}

/** By default a resource still in the same state is notified again after 4 hours (if its health is published again). */
export const DEFAULT_RENOTIFY_MINUTES = 240;

export function matchesRule(rule: AlertRule, e: HealthEvent): boolean {
  return rule.match.states.includes(e.state) && matchesResource(rule, e);
}

/** Whether the rule is about this resource (project, kind, cluster, site, tags), whatever its state. */
export function matchesResource(rule: AlertRule, e: HealthEvent): boolean {
  const m = rule.match;
  if (rule.project !== e.project) return false;
  if (m.kinds && m.kinds.length > 0 && !m.kinds.includes(e.kind)) return false;
  if (m.clusterId !== undefined && e.clusterId !== m.clusterId) return false;
  if (m.site !== undefined && (e.kind !== 'host' || e.site !== m.site)) return false;
  if (m.tags && Object.keys(m.tags).length > 0) {
    if (e.kind !== 'host') return false;
    for (const [k, v] of Object.entries(m.tags)) if (e.tags[k] !== v) return false;
  }
  return true;
}

/** What was last notified for one rule and one resource. */
export interface LastNotified {
  readonly state: string;
  /** Epoch ms. */
  readonly sentAt: number;
  /**
   * Epoch ms: when the re-notify sweep sends it again if its state persists. Set while the alert
   * is open (the state is one the rule matches and not `healthy`); absent once resolved.
   */
  readonly dueAt?: number;
}

export type NotifyReason = 'first' | 'state-changed' | 'renotify-due' | 'resolved';

export type NotifyDecision =
  | { readonly send: true; readonly reason: NotifyReason }
  | { readonly send: false; readonly reason: 'duplicate' };

/**
 * An alert is open while its resource is in a state the rule matches other than `healthy`:
 * the re-notify sweep sends it again every `renotifyMinutes` until it is resolved.
 */
export function isOpenAlert(rule: Pick<AlertRule, 'match'>, state: string): boolean {
  return state !== 'healthy' && rule.match.states.includes(state);
}

/** The ledger entry recorded when notifying `state` at `now` (with its re-notify time while open). */
export function notifiedEntry(rule: Pick<AlertRule, 'match' | 'renotifyMinutes'>, state: string, now: number): LastNotified {
  return { state, sentAt: now, ...(isOpenAlert(rule, state) ? { dueAt: now + rule.renotifyMinutes * 60_000 } : {}) };
}

/**
 * A health change the rule does not match (e.g. back to healthy, for a rule on `unhealthy`):
 * one `resolved` notification when the last one sent was a state the rule matches, else none.
 */
export function decideResolved(rule: Pick<AlertRule, 'match'>, last: LastNotified | undefined, state: string): boolean {
  return !!last && last.state !== state && rule.match.states.includes(last.state) && !rule.match.states.includes(state);
}

export type SweepDecision =
  /** Send again: `renotify-due` (the state persists), `state-changed` (a change the event path missed) or `resolved`. */
  | { readonly action: 'send'; readonly reason: 'renotify-due' | 'state-changed' | 'resolved' }
  /** Not due yet (e.g. the rule's interval was lengthened): leave it. */
  | { readonly action: 'wait' }
  /** The rule or the resource is gone, or the rule no longer matches the resource: drop the entry, send nothing. */
  | { readonly action: 'drop' };

/**
 * The re-notify sweep's decision for one open ledger entry, from the resource's health now
 * (undefined: the resource or its health is gone) and the rule (undefined: deleted).
 */
export function decideSweep(
  entry: LastNotified, rule: Pick<AlertRule, 'match' | 'renotifyMinutes'> | undefined, current: { readonly state: string; readonly matchesResource: boolean } | undefined, now: number,
): SweepDecision {
  if (!rule || !current || !current.matchesResource) return { action: 'drop' };
  if (current.state === entry.state) {
    return now - entry.sentAt >= rule.renotifyMinutes * 60_000 ? { action: 'send', reason: 'renotify-due' } : { action: 'wait' };
  }
  if (rule.match.states.includes(current.state)) return { action: 'send', reason: 'state-changed' };
  return rule.match.states.includes(entry.state) ? { action: 'send', reason: 'resolved' } : { action: 'drop' };
}

/**
 * De-duplication: a resource in the state it was last notified in is not notified again until
 * the re-notify interval has passed (then once more, and the interval starts again).
 */
export function decideNotify(last: LastNotified | undefined, state: string, now: number, renotifyMinutes: number): NotifyDecision {
  if (!last) return { send: true, reason: 'first' };
  if (last.state !== state) return { send: true, reason: 'state-changed' };
  if (now - last.sentAt >= renotifyMinutes * 60_000) return { send: true, reason: 'renotify-due' };
  return { send: false, reason: 'duplicate' };
}

/** The resource an event is about: `host/<id>` or `cluster/<id>`. */
export const resourceOf = (e: HealthEvent) => (e.kind === 'host' ? `host/${e.hostId}` : `cluster/${e.clusterId}`);

// ---------- webhook URLs (SSRF) ----------

export type UrlVerdict = { readonly ok: true; readonly url: URL } | { readonly ok: false; readonly reason: string };

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/** IPv4 ranges a webhook may never reach on AWS: this network, private, loopback, link-local (instance metadata), CGNAT, multicast and reserved. */
const BLOCKED_V4: readonly [number, number][] = [
  [0x00000000, 8], [0x0a000000, 8], [0x64400000, 10], [0x7f000000, 8], [0xa9fe0000, 16], [0xac100000, 12],
  [0xc0000000, 24], [0xc0a80000, 16], [0xc6120000, 15], [0xe0000000, 4], [0xf0000000, 4],
];

function v4(ip: string): number | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(ip);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!;
}

/** Whether an IP address (v4 or v6, as text) is one a webhook may not reach on AWS. */
export function isBlockedAddress(ip: string): boolean {
  const a = v4(ip);
  if (a !== undefined) return BLOCKED_V4.some(([base, bits]) => (a >>> (32 - bits)) === (base >>> (32 - bits)));
  const s = ip.toLowerCase().replace(/^\[|\]$/g, '');
  if (!s.includes(':')) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) return isBlockedAddress(mapped[1]!);
  // The same, as the URL parser writes it: ::ffff:a00:1 is 10.0.0.1.
  const hex = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(s);
  if (hex) {
    const hi = parseInt(hex[1]!, 16);
    const lo = parseInt(hex[2]!, 16);
    return isBlockedAddress(`${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`);
  }
  // Loopback, unspecified, unique local (fc00::/7), link-local (fe80::/10), multicast (ff00::/8).
  return s === '::1' || s === '::' || /^f[cd]/.test(s) || /^fe[89ab]/.test(s) || s.startsWith('ff');
}

/**
 * Which webhook URLs are accepted. On AWS: https only, no credentials in the URL, and never an
 * address in a private, loopback or link-local range (the address is checked again after DNS
 * resolution at delivery: a name that resolves to one is refused then). Locally (`allowLoopback`)
 * http://127.0.0.1, http://[::1] and http://localhost are allowed as well.
 */
export function checkWebhookUrl(raw: string, opts: { allowLoopback: boolean }): UrlVerdict {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, reason: 'is not a URL' };
  }
  if (url.username || url.password) return { ok: false, reason: 'must not carry credentials (user:password@); the HMAC signature authenticates the sender' };
  const host = url.hostname.toLowerCase();
  const loopback = LOOPBACK_NAMES.has(host);
  if (opts.allowLoopback && loopback && (url.protocol === 'http:' || url.protocol === 'https:')) return { ok: true, url };
  if (url.protocol !== 'https:') return { ok: false, reason: 'must use https' };
  if (loopback || host.endsWith('.localhost') || isBlockedAddress(host)) {
    return { ok: false, reason: `must not point at a private, loopback or link-local address (${host})` };
  }
  return { ok: true, url };
}
