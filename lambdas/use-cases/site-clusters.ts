import { ConflictError, EdgeFleetError } from '../domain/errors.js';
import type { HostWithPresence } from '../domain/model.js';
import { DEFAULT_WORKER_POOL, matchesSelector, planSite, siteClusterId, siteClusterName, templateSecretName, type SiteHost, type TemplateRecord } from '../domain/templates.js';
import type { Page, PageRequest } from '../ports/index.js';
import type { SecretStore } from '../ports/workflow.js';
import type { SiteStatusRecord, SiteStatusStore, TemplateRepository } from '../ports/templates.js';
import { requireIdle, scaleCluster, type ClusterOpsDeps } from './cluster-operations.js';
import { createCluster } from './clusters.js';
import { MAX_TEMPLATES_PER_PROJECT, resolveTemplateProfile } from './cluster-templates.js';
import { read, type RequestContext } from './context.js';

/** What the zero-touch check needs: the cluster use cases' dependencies, the templates, the site statuses, the template secrets. */
export interface SiteClusterDeps extends ClusterOpsDeps {
  readonly templates: TemplateRepository;
  readonly sites: SiteStatusStore;
  readonly secrets: Pick<SecretStore, 'get' | 'put'>;
}

/** Hosts of a site one check reads (one page of the site index): bounded work per event. */
export const SITE_HOSTS_READ = 100;

const ACTIVE = new Set(['approved', 'in-cluster']);

/** The template acting on a site: audited as `template:<name>`, with the rights of an operator in its project. */
function templateContext(t: TemplateRecord, site: string, now: Date): RequestContext {
  return { principal: { subject: `template:${t.id}`, roles: { [t.project]: 'admin' } }, project: t.project, requestId: `zero-touch:${site}:${now.toISOString()}` };
}

const asSiteHost = (h: HostWithPresence): SiteHost => ({
  id: h.id, ...(h.site ? { site: h.site } : {}), tags: h.tags, status: h.status, online: h.presence === 'online',
  ...(h.clusterId ? { clusterId: h.clusterId } : {}), ...(h.targetClusterId ? { targetClusterId: h.targetClusterId } : {}),
});

/**
 * After a host of `hostId` connects or disconnects: if it is approved and at a site, check the
 * site (zero-touch). Returns what the site's status now says, or undefined when the host is not
 * a site host or there is nothing to check.
 *
 * Zero-touch builds clusters only from templates, so in a project without any template a
 * presence event reads no site and writes no site status (one template read instead of up to
 * SITE_HOSTS_READ hosts and a write). A host pre-registered for a cluster and not yet in it
 * still checks its site: that is how it joins its cluster, templates or not.
 */
export async function checkHostSite(deps: SiteClusterDeps, hostId: string): Promise<SiteStatusRecord | undefined> {
  const host = await deps.hosts.get(hostId);
  if (!host?.site || !ACTIVE.has(host.status)) return undefined;
  const joining = !!host.targetClusterId && !host.clusterId;
  if (!joining && (await deps.templates.listAll(host.project, 1)).length === 0) return undefined;
  return checkSite(deps, host.project, host.site);
}

/** Whether two statuses of a site say the same (the time of the check aside). */
function sameSiteStatus(a: SiteStatusRecord, b: SiteStatusRecord): boolean {
  return a.state === b.state && a.reason === b.reason && a.template === b.template && a.clusterId === b.clusterId
    && a.hosts.seen === b.hosts.seen && a.hosts.approved === b.hosts.approved && a.hosts.online === b.hosts.online && a.hosts.matching === b.hosts.matching;
}

/**
 * zero-touch site check: reads the site's hosts (one bounded page) and the project's templates,
 * and when exactly one template matches, builds the site's cluster through the normal create
 * (one id per site and template, so a racing check loses the transaction and nothing doubles)
 * or adds new matching hosts to it as workers (the scale-out path). Hosts pre-registered for a
 * cluster join that cluster. Records what it saw and why for `sites list`.
 */
export async function checkSite(deps: SiteClusterDeps, project: string, site: string): Promise<SiteStatusRecord> {
  const now = deps.clock.now();
  const page = await deps.hosts.list(project, { site }, { limit: SITE_HOSTS_READ });
  const hosts = page.items.map(asSiteHost);
  const counts = {
    seen: hosts.length, approved: hosts.filter((h) => ACTIVE.has(h.status)).length,
    online: hosts.filter((h) => h.online).length, matching: 0,
  };
  const status = async (s: Omit<SiteStatusRecord, 'project' | 'site' | 'hosts' | 'checkedAt'>, matching = 0) => {
    const rec: SiteStatusRecord = { project, site, hosts: { ...counts, matching }, checkedAt: now.toISOString(), ...s };
    // Written only when it changed: a presence event that changes nothing at the site writes nothing
    // (the stored checkedAt is then when the site last changed).
    const stored = await deps.sites.get(project, site);
    if (!stored || !sameSiteStatus(stored, rec)) await deps.sites.put(rec);
    return rec;
  };

  await joinTargetClusters(deps, project, site, hosts, now);

  const templates = (await deps.templates.listAll(project, MAX_TEMPLATES_PER_PROJECT))
    .filter((t) => hosts.some((h) => matchesSelector(t.selector, h)));
  if (templates.length === 0) return status({ state: 'no-template', reason: `no cluster template's selector matches the hosts of site ${site}` });
  if (templates.length > 1) {
    return status({ state: 'ambiguous', reason: `${templates.length} templates match site ${site} (${templates.map((t) => t.name).join(', ')}): narrow their selectors so one does` });
  }
  const t = templates[0]!;
  const matching = hosts.filter((h) => matchesSelector(t.selector, h) && !h.targetClusterId).length;
  const clusterId = siteClusterId(project, site, t.id);
  const cluster = await deps.clusters.get(clusterId);
  let idle = false;
  if (cluster) { try { requireIdle(cluster, 'add hosts'); idle = true; } catch { idle = false; } }
  const plan = planSite(t.topology, t.selector, hosts, { exists: !!cluster, idle, ...(cluster ? { status: cluster.status } : {}) });
  const base = { template: t.name, clusterId };
  if (plan.kind === 'wait') {
    return status({ ...base, state: cluster ? (cluster.status === 'provisioning' ? 'creating' : 'cluster') : 'waiting', reason: plan.reason }, matching);
  }
  const ctx = templateContext(t, site, now);
  try {
    if (plan.kind === 'join') {
      await scaleCluster(deps, ctx, clusterId, { pool: t.topology.workerPool ?? DEFAULT_WORKER_POOL, add: [...plan.hostIds] });
      return status({ ...base, state: 'cluster', reason: plan.reason }, matching);
    }
    const pv = await resolveTemplateProfile(deps, project, t.profile);
    const secretValues: Record<string, string> = {};
    for (const name of t.secretVariables ?? []) {
      const v = await deps.secrets.get(templateSecretName(project, t.id, name));
      if (v !== undefined) secretValues[name] = v;
    }
    const workers = plan.workers.length > 0 ? [{ name: t.topology.workerPool ?? DEFAULT_WORKER_POOL, hostIds: [...plan.workers] }] : [];
    await createCluster(deps, ctx, {
      name: siteClusterName(site), profile: { name: pv.name, version: pv.version }, controlPlane: { hostIds: [...plan.controlPlane] },
      ...(workers.length ? { workers } : {}), ...(plan.vip ? { vip: plan.vip } : {}),
      ...(Object.keys(t.variables ?? {}).length || Object.keys(secretValues).length ? { variables: { ...(t.variables ?? {}), ...secretValues } } : {}),
    }, { id: clusterId, templateId: t.id, site });
    return status({ ...base, state: 'creating', reason: `${plan.reason}; building ${pv.name}@${pv.version}` }, matching);
  } catch (e) {
    if (!(e instanceof EdgeFleetError)) throw e;
    // A racing check built it (or claimed the hosts) first: that one is the site's cluster.
    const again = await deps.clusters.get(clusterId);
    if (again) return status({ ...base, state: again.status === 'provisioning' ? 'creating' : 'cluster', reason: `the site's cluster ${again.name} is ${again.status}` }, matching);
    const code = e instanceof ConflictError && e.code === 'cluster-name-taken' ? ` (a cluster named ${siteClusterName(site)} exists already: rename or delete it)` : '';
    return status({ ...base, state: 'blocked', reason: `template ${t.name} could not build the cluster of site ${site}: ${e.message}${code}` }, matching);
  }
}

/** Pre-registered hosts naming a cluster join it as workers when it is up and idle (its template's pool, or `workers`). */
async function joinTargetClusters(deps: SiteClusterDeps, project: string, site: string, hosts: readonly SiteHost[], now: Date): Promise<void> {
  const waiting = hosts.filter((h) => h.targetClusterId && h.status === 'approved' && h.online && !h.clusterId);
  const byCluster = new Map<string, string[]>();
  for (const h of waiting) byCluster.set(h.targetClusterId!, [...(byCluster.get(h.targetClusterId!) ?? []), h.id]);
  for (const [clusterId, hostIds] of byCluster) {
    const c = await deps.clusters.get(clusterId);
    if (!c || c.project !== project) continue;
    try { requireIdle(c, 'add hosts'); } catch { continue; }
    const t = c.templateId ? await deps.templates.get(project, c.templateId) : undefined;
    const ctx: RequestContext = { principal: { subject: `site:${site}`, roles: { [project]: 'admin' } }, project, requestId: `zero-touch:${site}:${now.toISOString()}` };
    await scaleCluster(deps, ctx, clusterId, { pool: t?.topology.workerPool ?? DEFAULT_WORKER_POOL, add: hostIds.slice(0, 90) })
      .catch((e: unknown) => { if (!(e instanceof EdgeFleetError)) throw e; });
  }
}

/** GET /v1/sites: each site as its checks last saw it change (a site appears once one of its approved hosts connects, in a project with a template). */
export async function listSites(deps: Pick<SiteClusterDeps, 'sites'>, ctx: RequestContext, page: PageRequest): Promise<Page<SiteStatusRecord>> {
  read(ctx, 'hosts:read');
  return deps.sites.list(ctx.project, page);
}
