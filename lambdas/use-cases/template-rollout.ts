import { ROLLOUT_ENDED, rolloutPolicy } from '../contracts/rollouts.js';
import { ConflictError } from '../domain/errors.js';
import type { TemplateRecord } from '../domain/templates.js';
import type { RequestContext } from './context.js';
import { resolveTemplateProfile } from './profile-versions.js';
import type { RolloutApiDeps } from './rollout-deps.js';
import { startRollout } from './rollouts.js';

export interface Bump {
  readonly rolloutId: string;
  readonly version: string;
  /** The template's running rollout this one supersedes. */
  readonly supersedes?: string;
}

/**
 * Whether a template change to `version` rolls out: only when it resolves to another published
 * version than the template did and clusters are attached. A running rollout of the template
 * refuses it (409) unless the policy is `supersede`.
 */
export async function plannedBump(deps: RolloutApiDeps, cur: TemplateRecord, version: string): Promise<Bump | undefined> {
  const before = await resolveTemplateProfile(deps, cur.project, cur.profile).then((v) => v.version, () => undefined);
  if (before === version) return undefined;
  if ((await deps.clusters.attachedTo(cur.project, cur.id, 1)).length === 0) return undefined;
  const running = cur.rolloutId ? await deps.rollouts.get(cur.rolloutId) : undefined;
  const active = running && !ROLLOUT_ENDED.includes(running.status) ? running : undefined;
  if (active && (cur.upgradePolicy?.onNewVersion ?? 'refuse') === 'refuse') {
    throw new ConflictError('rollout-in-progress', `cluster template ${cur.id} is still rolling out ${active.to.version} (rollout ${active.id}, ${active.status}); ` +
      `wait for it (edgefleet rollouts watch ${active.id}), cancel it, or set upgradePolicy.onNewVersion to supersede`);
  }
  return { rolloutId: `ro-${deps.ids.newId()}`, version, ...(active ? { supersedes: active.id } : {}) };
}

/** Starts the rollout a template change planned (superseding the running one first), on behalf of the requester. */
export async function startBumpRollout(deps: RolloutApiDeps, ctx: RequestContext, t: TemplateRecord, bump: Bump): Promise<void> {
  const now = deps.clock.now().toISOString();
  if (bump.supersedes) {
    await deps.rollouts.update(bump.supersedes, { status: 'cancelling', supersededBy: bump.rolloutId, reason: `superseded by rollout ${bump.rolloutId} to ${bump.version}: running clusters finish, no new cluster starts` },
      { statusIn: ['planning', 'running', 'paused'] }, now);
  }
  const parsed = rolloutPolicy.safeParse(t.upgradePolicy?.rollout ?? {});
  const policy = parsed.success ? parsed.data : {};
  const upgrade = {
    ...(t.upgradePolicy?.onFailure ? { onFailure: t.upgradePolicy.onFailure } : {}),
    ...(t.upgradePolicy?.maxUnavailable ? { maxUnavailable: t.upgradePolicy.maxUnavailable } : {}),
    ...(policy.upgrade ?? {}),
  };
  await startRollout(deps, { project: ctx.project, requestedBy: ctx.principal.subject }, {
    name: `template ${t.id} to ${bump.version}`, targets: { template: t.id }, to: { name: t.profile.name, version: bump.version },
    policy: { ...policy, ...(Object.keys(upgrade).length ? { upgrade } : {}) },
  }, bump.rolloutId);
  await deps.audit.record({ id: deps.ids.newId(), project: ctx.project, time: now, actor: ctx.principal.subject, action: 'rollout.create', resource: `rollout/${bump.rolloutId}`, outcome: 'success', requestId: ctx.requestId, detail: `template ${t.id} changed to ${bump.version}${bump.supersedes ? `; supersedes ${bump.supersedes}` : ''}` });
}
