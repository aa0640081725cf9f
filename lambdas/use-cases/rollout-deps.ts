import type { RolloutRecord, RolloutTarget } from '../contracts/rollouts.js';
import { planWaves, type WavePolicy } from '../domain/rollout-rules.js';
import { zero } from '../domain/rollout.js';
import type { RolloutStore, RolloutWaveRecord, SiteSettingsStore } from '../ports/rollouts.js';
import type { StatusStore } from '../ports/device-plane.js';
import type { TemplateRepository } from '../ports/templates.js';
import type { WorkflowDeps } from './workflows/deps.js';
import type { Deps } from './context.js';
import type { WorkflowEngine } from '../ports/workflow.js';
import type { AgentManifestReader } from '../ports/agent-artifacts.js';
import type { HostFilter } from '../ports/index.js';
import { selectsHost, type HostSelector } from '../domain/agent-rollout.js';

/** What the rollout API use cases need (the HTTP function's wiring). */
export interface RolloutApiDeps extends Deps {
  readonly rollouts: RolloutStore;
  readonly siteSettings: SiteSettingsStore;
  readonly templates: TemplateRepository;
  readonly workflows: Pick<WorkflowEngine, 'start'>;
  /** The published agent manifest: an agent-update rollout's version must be its version. */
  readonly agentManifest?: AgentManifestReader;
}

/** What the rollout workflow's steps need. */
export interface RolloutDeps extends WorkflowDeps {
  readonly rollouts: RolloutStore;
  readonly siteSettings: SiteSettingsStore;
  readonly templates: TemplateRepository;
  readonly status: StatusStore;
  /** The published agent manifest (each host target's agent update checks its version). */
  readonly agentManifest?: AgentManifestReader;
}

export const rolloutDefaults = { tickSeconds: 30, maxConcurrent: 50, retryMinutes: 5, giveUpMinutes: 1440 } as const;
/** Targets recorded per planning tick (one bounded page of the source). */
export const PLAN_PAGE = 200;
/** At most this many clusters in one rollout. */
export const MAX_TARGETS = 100_000;

/** The rules' wave policy from a rollout's. */
export function wavePolicyOf(r: Pick<RolloutRecord, 'policy'>): WavePolicy {
  const w = r.policy.waves ?? {};
  return {
    ...(w.canary ? { canary: 'clusters' in w.canary ? { clusters: w.canary.clusters } : { percent: w.canary.percent } } : {}),
    ...(w.growth !== undefined ? { growth: w.growth } : {}),
    maxConcurrent: w.maxConcurrent ?? rolloutDefaults.maxConcurrent,
  };
}

/**
 * One planning tick: records the next page of target clusters (positions in order), and once
 * the source is exhausted, the waves; the rollout then runs (or ends at once without targets).
 */
export async function planTargets(deps: RolloutDeps, r: RolloutRecord, now: Date): Promise<void> {
  const at = now.toISOString();
  if (r.planCursor !== 'done') {
    const page = await sourcePage(deps, r);
    const hosts = r.rolloutKind === 'agent-update';
    const targets: RolloutTarget[] = page.clusters.slice(0, Math.max(0, MAX_TARGETS - r.total)).map((c, i) => ({
      clusterId: c.id, ...(hosts ? { hostId: c.id } : {}), position: r.total + i, wave: -1, state: 'pending', ...(c.site ? { site: c.site } : {}),
    }));
    await deps.rollouts.addTargets(r.id, targets, { expectedTotal: r.total, planCursor: page.next ?? 'done' }, at);
    return;
  }
  const sizes = planWaves(r.total, wavePolicyOf(r));
  let start = 0;
  const waves: RolloutWaveRecord[] = sizes.map((size, index) => {
    const w = { index, start, size, counts: { ...zero(), pending: size } };
    start += size;
    return w;
  });
  await deps.rollouts.putWaves(r.id, waves);
  if (r.total === 0) {
    const none = r.rolloutKind === 'agent-update' ? 'no approved host matched the targets' : 'no cluster matched the targets';
    await deps.rollouts.update(r.id, { status: 'succeeded', reason: `${none}: nothing to do`, endedAt: at, waveSizes: [] }, { statusIn: ['planning'], execution: r.execution }, at);
    return;
  }
  const out = await deps.rollouts.update(r.id, {
    status: 'running', waveSizes: sizes, currentWave: 0,
    reason: `${r.total} ${r.rolloutKind === 'agent-update' ? 'hosts' : 'clusters'} in ${sizes.length} waves (canary ${sizes[0]}); wave 1 started`,
  }, { statusIn: ['planning'], execution: r.execution }, at);
  if (out) await deps.rollouts.markWave(r.id, 0, 'startedAt', at);
}

interface SourceCluster { readonly id: string; readonly site?: string }

async function sourcePage(deps: RolloutDeps, r: RolloutRecord): Promise<{ clusters: SourceCluster[]; next?: string }> {
  const t = r.targets;
  const cursor = r.planCursor;
  if (r.rolloutKind === 'agent-update' || 'hostList' in t || 'all' in t) return hostSourcePage(deps, r);
  if ('template' in t) {
    const page = await deps.clusters.attachedPage(r.project, t.template, { limit: PLAN_PAGE, ...(cursor ? { cursor } : {}) });
    return { clusters: page.items.map((c) => ({ id: c.id, ...(c.site ? { site: c.site } : {}) })), ...(page.nextCursor ? { next: page.nextCursor } : {}) };
  }
  if ('clusterList' in t) {
    const from = cursor ? Number(cursor) : 0;
    const all = await deps.rollouts.clusterIds(r.id);
    const ids = all.slice(from, from + PLAN_PAGE);
    const clusters: SourceCluster[] = [];
    for (const id of ids) {
      const c = await deps.clusters.get(id);
      // Another project's cluster is not a target (and is not named either).
      if (c && c.project === r.project && !clusters.some((x) => x.id === id)) clusters.push({ id, ...(c.site ? { site: c.site } : {}) });
    }
    const nextFrom = from + PLAN_PAGE;
    return { clusters, ...(nextFrom < all.length ? { next: String(nextFrom) } : {}) };
  }
  if ('hostList' in t || 'all' in t) return { clusters: [] };
  const page = await deps.clusters.list(r.project, { limit: PLAN_PAGE, ...(cursor ? { cursor } : {}) });
  const clusters: SourceCluster[] = [];
  for (const c of page.items) {
    // A cluster's site and tags are its template's site, else its first control-plane host's.
    const first = c.controlPlane.hostIds[0];
    const host = (t.tags || (t.site && !c.site)) && first ? await deps.hosts.get(first) : undefined;
    const site = c.site ?? host?.site;
    if (t.site && !matchesSite(t.site, site)) continue;
    if (t.tags && !(host && Object.entries(t.tags).every(([k, v]) => host.tags?.[k] === v))) continue;
    clusters.push({ id: c.id, ...(site ? { site } : {}) });
  }
  return { clusters, ...(page.nextCursor ? { next: page.nextCursor } : {}) };
}

const matchesSite = (pattern: string, site: string | undefined) =>
  site !== undefined && (pattern.endsWith('*') ? site.startsWith(pattern.slice(0, -1)) : site === pattern);

/**
 * agent-update rollouts: the next page of target hosts: the listed host ids (of this project,
 * updatable), or a page of the project's hosts through the selector (an exact site or the first
 * tag narrows the query; a prefix and the other tags are checked here). One bounded page per tick.
 */
async function hostSourcePage(deps: RolloutDeps, r: RolloutRecord): Promise<{ clusters: SourceCluster[]; next?: string }> {
  const t = r.targets;
  const cursor = r.planCursor;
  if ('hostList' in t) {
    const from = cursor ? Number(cursor) : 0;
    const all = await deps.rollouts.clusterIds(r.id);
    const out: SourceCluster[] = [];
    for (const id of all.slice(from, from + PLAN_PAGE)) {
      const h = await deps.hosts.get(id);
      // Another project's host is not a target (and is not named either); a listed host that cannot update is kept (it is skipped with the reason).
      if (h && h.project === r.project && !out.some((x) => x.id === id)) out.push({ id, ...(h.site ? { site: h.site } : {}) });
    }
    const nextFrom = from + PLAN_PAGE;
    return { clusters: out, ...(nextFrom < all.length ? { next: String(nextFrom) } : {}) };
  }
  const sel: HostSelector = 'all' in t ? { all: true } : 'site' in t || 'tags' in t ? { ...('site' in t && t.site ? { site: t.site } : {}), ...('tags' in t && t.tags ? { tags: t.tags } : {}) } : {};
  const firstTag = Object.entries(sel.tags ?? {})[0];
  const filter: HostFilter = {
    ...(sel.site && !sel.site.endsWith('*') ? { site: sel.site } : firstTag ? { tag: { key: firstTag[0], value: firstTag[1] } } : {}),
  };
  const page = await deps.hosts.list(r.project, filter, { limit: PLAN_PAGE, ...(cursor ? { cursor } : {}) });
  const out = page.items.filter((h) => selectsHost(sel, h)).map((h) => ({ id: h.id, ...(h.site ? { site: h.site } : {}) }));
  return { clusters: out, ...(page.nextCursor ? { next: page.nextCursor } : {}) };
}
