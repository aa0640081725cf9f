import { ROLLOUT_ENDED, type AgentUpdateRolloutBody, type ClusterUpgradeRolloutBody, type CreateRolloutBody, type RolloutPolicy, type RolloutRecord, type RolloutStatus, type RolloutTarget, type RolloutView, type TargetState } from '../contracts/rollouts.js';
import { ConflictError, NotFoundError, UnavailableError, UnprocessableError, ValidationError } from '../domain/errors.js';
import { AGENT_PROFILE_NAME } from '../domain/agent-rollout.js';
import { sumCounts } from '../domain/rollout.js';
import { estimateEnd, isTimeZone, planWaves, waveOf } from '../domain/rollout-rules.js';
import type { Page, PageRequest } from '../ports/index.js';
import type { SiteSettingsRecord } from '../ports/rollouts.js';
import { resolveTemplateProfile } from './profile-versions.js';
import { mutate, read, visible, type RequestContext } from './context.js';
import { wavePolicyOf, type RolloutApiDeps } from './rollout-deps.js';

const notFound = (id: string) => () => new NotFoundError('rollout-not-found', `rollout ${id} does not exist in this project`);
/** Failed and deferred clusters shown on the rollout itself (the rest: GET /v1/rollouts/{id}/clusters). */
const LISTED = 50;
/** Pages of targets read per state for the view (a rollout of 10,000 targets: half of them). */
const MAX_VIEW_PAGES = 25;

/** The execution name of a rollout's first run (continue-as-new adds `-g<n>`). */
export const firstExecution = (id: string) => id;

/**
 * start-rollout (POST /v1/rollouts, and a template's version change): records the rollout as
 * `planning` and starts its workflow, which finds the targets a page at a time. The target
 * version (or channel) is resolved once, now. The policy is checked at once (wave sizes of a
 * nominal fleet), so a bad one is a 400, not a failed workflow.
 */
export async function createRollout(deps: RolloutApiDeps, ctx: RequestContext, body: CreateRolloutBody): Promise<RolloutRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'rollout.create', resource: 'rollout/new',
    run: () => startRollout(deps, { project: ctx.project, requestedBy: ctx.principal.subject }, body),
    describe: (r) => ({ resource: `rollout/${r.id}`, detail: `${r.rolloutKind ?? 'cluster-upgrade'} to ${r.to.name}@${r.to.version}; targets ${JSON.stringify(r.targets)}` }),
  });
}

export async function startRollout(deps: RolloutApiDeps, owner: { project: string; requestedBy: string }, body: CreateRolloutBody, rolloutId?: string): Promise<RolloutRecord> {
  const policy: RolloutPolicy = body.policy ?? {};
  checkPolicy(policy);
  if (body.kind === 'agent-update') return startAgentRollout(deps, owner, body, policy, rolloutId);
  return startClusterRollout(deps, owner, body, policy, rolloutId);
}

async function startClusterRollout(deps: RolloutApiDeps, owner: { project: string; requestedBy: string }, body: ClusterUpgradeRolloutBody, policy: RolloutPolicy, rolloutId?: string): Promise<RolloutRecord> {
  let profileName = body.to.name;
  if ('template' in body.targets) {
    const t = await deps.templates.get(owner.project, body.targets.template);
    if (!t || t.project !== owner.project) throw new ValidationError('cluster-template-not-found', `cluster template ${body.targets.template} does not exist in this project`, { errors: [{ path: 'targets.template', message: 'unknown template' }] });
    profileName ??= t.profile.name;
  }
  if (!profileName) throw new ValidationError('profile-required', 'name the profile (to.name) when the targets are not a template', { errors: [{ path: 'to.name', message: 'required unless targets.template is given' }] });
  const pv = await resolveTemplateProfile(deps, owner.project, { name: profileName, version: body.to.version }, 'to');
  const now = deps.clock.now().toISOString();
  const id = rolloutId ?? `ro-${deps.ids.newId()}`;
  const r: RolloutRecord = {
    id, project: owner.project, ...(body.name ? { name: body.name } : {}), to: { name: pv.name, version: pv.version },
    targets: 'clusterIds' in body.targets ? { clusterList: { count: body.targets.clusterIds.length } } : body.targets,
    requested: body.to.version, policy, status: 'planning', reason: 'finding the target clusters', createdBy: owner.requestedBy,
    createdAt: now, updatedAt: now, total: 0, waveSizes: [], currentWave: 0, execution: firstExecution(id), ticks: 0, version: 1,
  };
  return record(deps, r, 'clusterIds' in body.targets ? body.targets.clusterIds : undefined);
}

/**
 * An agent-update rollout: the version must be the published manifest's (what every host's
 * agent-update operation checks again); the targets are hosts, found a page at a time as clusters are.
 */
async function startAgentRollout(deps: RolloutApiDeps, owner: { project: string; requestedBy: string }, body: AgentUpdateRolloutBody, policy: RolloutPolicy, rolloutId?: string): Promise<RolloutRecord> {
  const published = await deps.agentManifest?.publishedVersion();
  if (published === undefined) {
    throw new UnavailableError('agent-artifacts-missing', 'this control plane publishes no agent manifest, so no host can be updated: build and publish the agent (npm run device:build; locally the runtime serves dist/device or --agent-artifacts <dir>), then create the rollout again');
  }
  if (body.version !== published) {
    throw new UnprocessableError('agent-version-not-published', `agent version ${body.version} is not in the published manifest, which offers ${published} (GET /v1/agent/manifest): create the rollout with version ${published}, or build and publish ${body.version} first; nothing was started`);
  }
  const now = deps.clock.now().toISOString();
  const id = rolloutId ?? `ro-${deps.ids.newId()}`;
  const r: RolloutRecord = {
    id, project: owner.project, ...(body.name ? { name: body.name } : {}), rolloutKind: 'agent-update', to: { name: AGENT_PROFILE_NAME, version: body.version },
    targets: 'hostIds' in body.targets ? { hostList: { count: body.targets.hostIds.length } } : body.targets,
    requested: body.version, policy, status: 'planning', reason: 'finding the target hosts', createdBy: owner.requestedBy,
    createdAt: now, updatedAt: now, total: 0, waveSizes: [], currentWave: 0, execution: firstExecution(id), ticks: 0, version: 1,
  };
  return record(deps, r, 'hostIds' in body.targets ? body.targets.hostIds : undefined);
}

/** Records the rollout (listed target ids kept apart) and starts its workflow; a start that fails ends it `failed` with the reason. */
async function record(deps: RolloutApiDeps, r: RolloutRecord, listedIds: readonly string[] | undefined): Promise<RolloutRecord> {
  const id = r.id;
  const now = r.createdAt;
  if (!(await deps.rollouts.create(r, listedIds))) throw new ConflictError('rollout-exists', `rollout ${id} exists; retry`);
  try {
    await deps.workflows.start('rollout', r.execution, { rolloutId: id });
  } catch (e) {
    const reason = `the rollout workflow could not start: ${e instanceof Error ? e.message : String(e)}; create the rollout again`;
    await deps.rollouts.update(id, { status: 'failed', reason, endedAt: now }, { statusIn: ['planning'] }, now);
    throw e;
  }
  return r;
}

function checkPolicy(p: RolloutPolicy): void {
  try {
    planWaves(100, wavePolicyOf({ policy: p }));
  } catch (e) {
    throw new ValidationError('invalid-rollout-policy', `the wave policy is not valid: ${e instanceof Error ? e.message : String(e)}`, { errors: [{ path: 'policy.waves', message: 'invalid' }] });
  }
}

export async function getRollout(deps: RolloutApiDeps, ctx: RequestContext, id: string): Promise<RolloutView> {
  read(ctx, 'clusters:read');
  return viewOf(deps, visible(ctx, await deps.rollouts.get(id), notFound(id)));
}

export async function listRollouts(deps: RolloutApiDeps, ctx: RequestContext, page: PageRequest, status?: RolloutStatus): Promise<Page<RolloutView>> {
  read(ctx, 'clusters:read');
  const found = await deps.rollouts.list(ctx.project, page, status);
  const items: RolloutView[] = [];
  for (const r of found.items) items.push(await viewOf(deps, r, { lists: false }));
  return { items, ...(found.nextCursor ? { nextCursor: found.nextCursor } : {}) };
}

export async function listRolloutTargets(deps: RolloutApiDeps, ctx: RequestContext, id: string, filter: { state?: TargetState; wave?: number }, page: PageRequest): Promise<Page<RolloutTarget>> {
  read(ctx, 'clusters:read');
  const r = visible(ctx, await deps.rollouts.get(id), notFound(id));
  let range: { from: number; to: number } | undefined;
  if (filter.wave !== undefined) {
    if (filter.wave >= r.waveSizes.length) throw new ValidationError('no-such-wave', `rollout ${id} has ${r.waveSizes.length} waves (0 to ${r.waveSizes.length - 1})`, { errors: [{ path: 'query.wave', message: 'out of range' }] });
    const from = r.waveSizes.slice(0, filter.wave).reduce((a, b) => a + b, 0);
    range = { from, to: from + r.waveSizes[filter.wave]! };
  }
  const found = await deps.rollouts.listTargets(id, { ...(filter.state ? { state: filter.state } : {}), ...(range ? { range } : {}) }, page);
  return { ...found, items: found.items.map((t) => withWave(r, t)) };
}

const withWave = (r: RolloutRecord, t: RolloutTarget): RolloutTarget => ({ ...t, wave: r.waveSizes.length ? waveOf(t.position, r.waveSizes) : -1 });

/** The rollout with its counts overall and per wave, the ETA, and (up to 50 each) the failed and deferred clusters. */
async function viewOf(deps: RolloutApiDeps, r: RolloutRecord, opts: { lists: boolean } = { lists: true }): Promise<RolloutView> {
  const waves = await deps.rollouts.waves(r.id);
  const counts = sumCounts(waves.map((w) => w.counts));
  const failed: RolloutTarget[] = [];
  const deferred: RolloutTarget[] = [];
  if (opts.lists && counts.failed + counts.deferred + counts.waiting + counts.skipped > 0) {
    for (const state of ['failed', 'deferred', 'waiting', 'skipped'] as const) {
      if (counts[state] === 0) continue;
      // DynamoDB filters a page after reading it: follow the cursor (bounded) until LISTED are found.
      const into = state === 'failed' ? failed : deferred;
      let cursor: string | undefined;
      for (let pages = 0; pages < MAX_VIEW_PAGES && into.length < LISTED; pages++) {
        const page = await deps.rollouts.listTargets(r.id, { state }, { limit: 200, ...(cursor ? { cursor } : {}) });
        into.push(...page.items.slice(0, LISTED - into.length).map((t) => withWave(r, t)));
        cursor = page.nextCursor;
        if (!cursor) break;
      }
    }
  }
  const ended = ROLLOUT_ENDED.includes(r.status);
  const eta = ended ? undefined : estimateEnd({ now: deps.clock.now(), ...(r.meanClusterMs !== undefined ? { meanClusterMs: r.meanClusterMs } : {}), remainingWaves: Math.max(0, waves.length - r.currentWave) });
  const { planCursor: _p, execution: _e, ticks: _t, rolloutKind, ...rest } = r;
  return {
    ...rest, kind: rolloutKind ?? 'cluster-upgrade', counts, failed, deferred: deferred.slice(0, LISTED), ...(eta ? { eta: eta.toISOString() } : {}),
    waves: waves.map((w) => ({ index: w.index, size: w.size, counts: w.counts, ...(w.startedAt ? { startedAt: w.startedAt } : {}), ...(w.endedAt ? { endedAt: w.endedAt } : {}) })),
  };
}

type RolloutAction = 'pause' | 'resume' | 'cancel' | 'promote';
const ACTIONS: Readonly<Record<RolloutAction, { from: readonly RolloutStatus[]; to?: RolloutStatus; done: string }>> = {
  pause: { from: ['running', 'planning'], to: 'paused', done: 'paused: running clusters finish, no new cluster starts until resume' },
  resume: { from: ['paused'], to: 'running', done: 'resumed' },
  cancel: { from: ['planning', 'running', 'paused'], to: 'cancelling', done: 'cancelled: running clusters finish, no new cluster starts' },
  promote: { from: ['running', 'paused'], done: 'promoted past the canary wave' },
};

/** pause / resume / cancel / promote: a conditional change of the rollout's state, audited; the workflow acts on it at its next tick. */
export async function actOnRollout(deps: RolloutApiDeps, ctx: RequestContext, id: string, action: RolloutAction, reason?: string): Promise<RolloutView> {
  const out = await mutate(deps, ctx, {
    action: 'clusters:update', audit: `rollout.${action}`, resource: `rollout/${id}`,
    run: async () => {
      const r = visible(ctx, await deps.rollouts.get(id), notFound(id));
      const spec = ACTIONS[action];
      if (action === 'pause' && r.status === 'paused') return r;
      if (!spec.from.includes(r.status)) {
        throw new ConflictError(`rollout-${r.status}`, `rollout ${id} is ${r.status}; it can be ${action}d only while ${spec.from.join(' or ')}`);
      }
      if (action === 'promote' && (r.promotedThrough ?? 0) >= 1) return r;
      const by = `${spec.done} by ${ctx.principal.subject}${reason ? ` (${reason})` : ''}`;
      // Planning paused: it resumes into running (the plan continues as a running rollout's first tick would).
      const status = action === 'resume' && r.waveSizes.length === 0 ? 'planning' : spec.to;
      const changed = await deps.rollouts.update(id, { ...(status ? { status } : {}), ...(action === 'promote' ? { promotedThrough: 1 } : {}), reason: by }, { statusIn: spec.from }, deps.clock.now().toISOString());
      if (!changed) throw new ConflictError('rollout-changed', `rollout ${id} changed meanwhile; read it again and retry`);
      return changed;
    },
    describe: (r) => ({ detail: r.reason }),
  });
  return viewOf(deps, out);
}

/** PATCH /v1/sites/{site}: the site's IANA time zone (its clusters' maintenance windows are evaluated in it). */
export async function setSiteTimezone(deps: RolloutApiDeps, ctx: RequestContext, site: string, timezone: string): Promise<SiteSettingsRecord> {
  return mutate(deps, ctx, {
    action: 'clusters:update', audit: 'site.update', resource: `site/${site}`,
    run: async () => {
      if (!isTimeZone(timezone)) throw new ValidationError('invalid-timezone', `${timezone} is not an IANA time zone this control plane knows (e.g. Europe/Paris, America/New_York, UTC)`, { errors: [{ path: 'timezone', message: 'unknown time zone' }] });
      const s: SiteSettingsRecord = { project: ctx.project, site, timezone, updatedAt: deps.clock.now().toISOString() };
      await deps.siteSettings.put(s);
      return s;
    },
    describe: (s) => ({ detail: `timezone ${s.timezone}` }),
  });
}
