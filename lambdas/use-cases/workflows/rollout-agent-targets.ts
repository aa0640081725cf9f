/**
 * The host targets of an agent-update rollout (issue 16 Build 5): what the rollout tick does
 * with a due host instead of upgrading a cluster. Everything else (waves, canary, soak,
 * promotion, abort thresholds, deferral, pause/resume/cancel) is the tick's, unchanged.
 */
import type { RolloutRecord, RolloutTarget } from '../../contracts/rollouts.js';
import { AGENT_UPDATE } from '../../domain/agent-update.js';
import { hostRefusalOutcome, hostStartVerdict, type HostFacts } from '../../domain/agent-rollout.js';
import { EdgeFleetError } from '../../domain/errors.js';
import { windowState } from '../../domain/rollout-rules.js';
import { beginAgentUpdate } from '../agent-update.js';
import { reportedAgentVersion } from '../agent-update-progress.js';
import type { RolloutDeps } from '../rollout-deps.js';

const OPEN: readonly string[] = ['queued', 'running'];

/** The deterministic operation id of a target (a retried tick finds it instead of starting a second one). */
export const targetOperationId = (r: Pick<RolloutRecord, 'id'>, t: Pick<RolloutTarget, 'position'>) => `op-${r.id}-${t.position}`.slice(0, 64);

export interface HostTargetHelpers {
  readonly retryAt: (now: Date) => string;
  readonly audit: (action: string, resource: string, detail: string) => Promise<void>;
}

/**
 * Starts one due host target, or moves it (succeeded when already at the version, skipped,
 * deferred, waiting). Returns true when an agent update was started (it takes a concurrency slot).
 */
export async function startHostTarget(deps: RolloutDeps, r: RolloutRecord, t: RolloutTarget, window: RolloutRecord['policy']['maintenanceWindow'], zones: Map<string, string>, now: Date, help: HostTargetHelpers): Promise<boolean> {
  const hostId = t.hostId ?? t.clusterId;
  const host = await deps.hosts.get(hostId);
  const facts = host && host.project === r.project ? await hostFacts(deps, r, host, window, zones, now) : { exists: false };
  const v = hostStartVerdict(facts, r.to.version);
  const at = now.toISOString();
  if (v.kind === 'start' && host) {
    const operationId = targetOperationId(r, t);
    const claimed = await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: 'running', set: { operationId, startedAt: at, reason: `updating the agent to ${r.to.version}` }, remove: ['retryAt', 'deferredSince'], whileRollout: ['running'] }, at);
    if (!claimed) return false;
    try {
      await beginAgentUpdate(deps, { project: r.project, requestedBy: r.createdBy }, host, r.to.version, operationId);
      await help.audit('rollout.agent-update', `host/${hostId}`, `rollout ${r.id} wave ${t.wave + 1}: agent update ${operationId} to ${r.to.version}`);
    } catch (e) {
      if (!(e instanceof EdgeFleetError)) {
        await deps.rollouts.moveTarget(r.id, t, { from: 'running', to: 'pending', set: { reason: `its agent update could not start (${e instanceof Error ? e.message : String(e)}); trying again` } }, at);
        throw e;
      }
      // Recorded by an earlier try of this tick: the target runs; the next tick settles it.
      if (e.code === 'operation-exists') return true;
      const outcome = hostRefusalOutcome(e.code);
      await deps.rollouts.moveTarget(r.id, t, outcome === 'deferred'
        ? { from: 'running', to: 'deferred', set: { reason: e.message, retryAt: help.retryAt(now), deferredSince: t.deferredSince ?? at }, remove: ['operationId'] }
        : { from: 'running', to: outcome, set: { reason: outcome === 'failed' ? `the agent update was refused: ${e.message}` : e.message, endedAt: at }, remove: ['operationId'] }, at);
      return false;
    }
    return true;
  }
  if (v.kind === 'succeeded' || v.kind === 'skipped') {
    await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: v.kind, set: { reason: v.reason, endedAt: at }, remove: ['retryAt'] }, at);
  } else if (v.kind === 'deferred') {
    await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: 'deferred', set: { reason: v.reason, retryAt: help.retryAt(now), deferredSince: t.deferredSince ?? at } }, at);
  } else if (v.kind === 'waiting') {
    await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: 'waiting', set: { reason: v.reason, retryAt: v.until.toISOString() } }, at);
  }
  return false;
}

async function hostFacts(deps: RolloutDeps, r: RolloutRecord, host: NonNullable<Awaited<ReturnType<RolloutDeps['hosts']['get']>>>, window: RolloutRecord['policy']['maintenanceWindow'], zones: Map<string, string>, now: Date): Promise<HostFacts> {
  const recent = await deps.operations.list(r.project, { type: 'host', id: host.id }, { limit: 10 });
  const open = recent.items.find((o) => o.type === AGENT_UPDATE && OPEN.includes(o.status));
  const reported = reportedAgentVersion(host.reported?.content);
  let windowOpensAt: Date | undefined;
  if (window) {
    const site = host.site ?? '';
    if (!zones.has(site)) zones.set(site, (site ? (await deps.siteSettings.get(r.project, site))?.timezone : undefined) ?? 'UTC');
    const state = windowState(window, zones.get(site)!, now);
    if (!state.open) windowOpensAt = state.opensAt;
  }
  return {
    exists: true, status: host.status, presence: host.presence,
    ...(reported ? { reportedVersion: reported } : {}), ...(open ? { openAgentUpdateId: open.id } : {}), ...(windowOpensAt ? { windowOpensAt } : {}),
  };
}
