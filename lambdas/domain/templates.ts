/**
 * Cluster templates (issue 13): pure rules, table-tested. Which published profile version a
 * template's version or channel means, which hosts its selector takes, the control-plane size
 * for a number of hosts, and what a site needs next (build its cluster, add workers, wait).
 */
import { compareSemver } from './versions.js';

export interface ControlPlaneRule { readonly hosts: number; readonly size: 1 | 3 | 5 }
export interface TemplateTopology {
  readonly minHosts?: number;
  readonly controlPlane: readonly ControlPlaneRule[];
  readonly workerPool?: string;
  readonly vipTag?: string;
}
export interface TemplateSelector { readonly site?: string; readonly tags?: Readonly<Record<string, string>> }
export interface UpgradePolicy {
  readonly maxUnavailable?: number;
  readonly onFailure?: 'rollback' | 'pause';
  readonly maintenanceWindow?: { readonly days?: readonly string[]; readonly start: string; readonly durationMinutes: number };
  /** The rollout policy (contracts/rollout-policy.ts), parsed where a rollout starts. */
  readonly rollout?: object;
  readonly onNewVersion?: 'refuse' | 'supersede';
}

export interface TemplateRecord {
  /** The template's name: unique in its project, its id in paths. */
  readonly id: string;
  readonly project: string;
  readonly name: string;
  readonly description?: string;
  /** `version` is a published version or a channel (`1.x`, `1.4.x`). */
  readonly profile: { readonly name: string; readonly version: string };
  readonly variables?: Readonly<Record<string, string | number | boolean>>;
  /** Names of the secret variables it sets; values in the secret store (templateSecretName), never here. */
  readonly secretVariables?: readonly string[];
  readonly topology: TemplateTopology;
  readonly selector: TemplateSelector;
  readonly upgradePolicy?: UpgradePolicy;
  /** The rollout its last profile change started. */
  readonly rolloutId?: string;
  readonly createdBy: string;
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
}

export const DEFAULT_WORKER_POOL = 'workers';

/** Where a template's secret variable is kept: beside the clusters' (`clusters/…/vars/…`), under a name no cluster id takes. */
export const templateSecretName = (project: string, templateId: string, name: string) => `clusters/template-${project}-${templateId}/vars/${name}`;

export const isChannel = (v: string) => /^\d+\.(x|\d+\.x)$/.test(v);

/**
 * The version `spec` means among `published` versions: itself when it is a version (and
 * published), else the highest published release whose leading numbers match the channel
 * (`1.x` → 1.*.*, `1.4.x` → 1.4.*); pre-releases never match a channel.
 */
export function resolveVersion(spec: string, published: readonly string[]): string | undefined {
  if (!isChannel(spec)) return published.includes(spec) ? spec : undefined;
  const prefix = spec.slice(0, -1); // "1." or "1.4."
  const candidates = published.filter((v) => v.startsWith(prefix) && !v.includes('-') && /^\d+\.\d+\.\d+$/.test(v));
  return candidates.sort(compareSemver).at(-1);
}

/** Does a host (its site and tags) match the selector? A host without a site never does: templates build site clusters. */
export function matchesSelector(selector: TemplateSelector, host: { readonly site?: string; readonly tags?: Readonly<Record<string, string>> }): boolean {
  if (!host.site) return false;
  if (selector.site !== undefined) {
    const s = selector.site;
    if (s.endsWith('*') ? !host.site.startsWith(s.slice(0, -1)) : host.site !== s) return false;
  }
  return Object.entries(selector.tags ?? {}).every(([k, v]) => host.tags?.[k] === v);
}

/** The site count at which the cluster is built: minHosts, and never fewer than the smallest rule's hosts. */
export function buildThreshold(t: TemplateTopology): number {
  return Math.max(t.minHosts ?? 1, Math.min(...t.controlPlane.map((r) => r.hosts)));
}

/** Control-plane size for `hosts` hosts: the rule with the most hosts not above it; undefined below every rule. */
export function controlPlaneSize(rules: readonly ControlPlaneRule[], hosts: number): number | undefined {
  const fit = [...rules].filter((r) => r.hosts <= hosts).sort((a, b) => b.hosts - a.hosts)[0];
  return fit ? Math.min(fit.size, hosts) : undefined;
}

/** A host as a site plan sees it. */
export interface SiteHost {
  readonly id: string;
  readonly site?: string;
  readonly tags: Readonly<Record<string, string>>;
  readonly status: string;
  readonly online: boolean;
  readonly clusterId?: string;
  /** The cluster a pre-registration named (the host joins that cluster, not a template's). */
  readonly targetClusterId?: string;
}

export type SitePlan =
  | { readonly kind: 'create'; readonly controlPlane: readonly string[]; readonly workers: readonly string[]; readonly vip?: string; readonly reason: string }
  | { readonly kind: 'join'; readonly hostIds: readonly string[]; readonly reason: string }
  | { readonly kind: 'wait'; readonly reason: string; readonly missing?: number };

/** Approved, online, unclaimed hosts the template may take (sorted by id: every caller picks the same ones). */
export function readyHosts(selector: TemplateSelector, hosts: readonly SiteHost[]): SiteHost[] {
  return hosts.filter((h) => h.status === 'approved' && h.online && !h.clusterId && !h.targetClusterId && matchesSelector(selector, h))
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
}

/**
 * What a site needs from its template: its cluster built (when enough matching hosts are
 * approved and online), new matching hosts added as workers to the cluster it has, or nothing
 * yet, with the reason an operator reads in `sites list`.
 */
export function planSite(topology: TemplateTopology, selector: TemplateSelector, hosts: readonly SiteHost[],
  cluster: { readonly exists: boolean; readonly idle: boolean; readonly status?: string }): SitePlan {
  const ready = readyHosts(selector, hosts);
  const matching = hosts.filter((h) => matchesSelector(selector, h) && !h.targetClusterId);
  if (cluster.exists) {
    if (ready.length === 0) return { kind: 'wait', reason: 'the site\'s cluster has every matching approved, online host' };
    if (!cluster.idle) return { kind: 'wait', reason: `${ready.length} host(s) wait to join: the cluster is busy (${cluster.status ?? 'an operation runs'}); they join when it is done` };
    return { kind: 'join', hostIds: ready.slice(0, 90).map((h) => h.id), reason: `${Math.min(ready.length, 90)} new matching host(s) join as workers` };
  }
  const need = buildThreshold(topology);
  if (ready.length < need) {
    const offline = matching.filter((h) => h.status === 'approved' && !h.online && !h.clusterId).length;
    const pending = matching.filter((h) => h.status === 'pending').length;
    const missing = need - ready.length;
    const why = [
      `waiting for ${missing} more host${missing === 1 ? '' : 's'} (${ready.length} of ${need} approved and online)`,
      ...(offline > 0 ? [`${offline} approved host(s) offline`] : []),
      ...(pending > 0 ? [`${pending} host(s) pending approval`] : []),
    ];
    return { kind: 'wait', reason: why.join('; '), missing };
  }
  const size = controlPlaneSize(topology.controlPlane, ready.length) ?? 1;
  let vip: string | undefined;
  if (topology.vipTag) {
    const values = [...new Set(ready.map((h) => h.tags[topology.vipTag!]).filter((v): v is string => v !== undefined && v !== ''))];
    if (values.length !== 1) {
      return { kind: 'wait', reason: values.length === 0
        ? `no VIP: none of the site's hosts has the tag ${topology.vipTag} (set it on the site's registration token or hosts)`
        : `the site's hosts disagree on the VIP (tag ${topology.vipTag}: ${values.join(', ')}); make them equal` };
    }
    if (!/^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.test(values[0]!) || values[0]!.split('.').some((n) => Number(n) > 255)) {
      return { kind: 'wait', reason: `the VIP tag ${topology.vipTag} is "${values[0]}", not an IPv4 address` };
    }
    vip = values[0];
  }
  const cp = ready.slice(0, size).map((h) => h.id);
  const workers = ready.slice(size, size + 90).map((h) => h.id);
  return { kind: 'create', controlPlane: cp, workers, ...(vip ? { vip } : {}), reason: `${ready.length} matching hosts approved and online: ${size} control-plane node(s), ${workers.length} worker(s)` };
}

/** FNV-1a, 64 bits as two 32-bit halves: a stable short digest without I/O. */
function digest(s: string): string {
  let h1 = 0x811c9dc5, h2 = 0x01000193 ^ s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c ^ (h1 >>> 7), 0x01000193) >>> 0;
  }
  return h1.toString(16).padStart(8, '0') + h2.toString(16).padStart(8, '0');
}

/** The one cluster id a site gets from a template: two events racing write the same id, and one wins. */
export const siteClusterId = (project: string, site: string, templateId: string) => `c-site-${digest(`${project}\u0000${site}\u0000${templateId}`)}`;

/** The cluster name a site gets: the site as a DNS label (lowercase, `.`/`_` → `-`), shortened with a digest when long. */
export function siteClusterName(site: string): string {
  const base = site.toLowerCase().replace(/[^a-z0-9-]/g, '-').replace(/^-+|-+$/g, '') || 'site';
  return base.length <= 63 ? base : `${base.slice(0, 46).replace(/-+$/, '')}-${digest(site)}`;
}
