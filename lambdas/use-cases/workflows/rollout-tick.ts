import { ROLLOUT_ENDED, siteWindow, type RolloutRecord, type RolloutTarget } from '../../contracts/rollouts.js';
import { EdgeFleetError } from '../../domain/errors.js';
import type { ClusterRecord } from '../../domain/model.js';
import { HOST_WORDS } from '../../domain/agent-rollout.js';
import { CLUSTER_WORDS, rolloutEnd, settle, startVerdict, sumCounts, waveSettled, type ClusterFacts, type RolloutPhase } from '../../domain/rollout.js';
import { judgeAbort, waveOf, windowState } from '../../domain/rollout-rules.js';
import type { RolloutWaveRecord } from '../../ports/rollouts.js';
import { upgradeCluster } from '../upgrades.js';
import { planTargets, rolloutDefaults, type RolloutDeps } from '../rollout-deps.js';
import { startHostTarget, targetOperationId } from './rollout-agent-targets.js';

/** A rollout execution continues as a new one after this many ticks (about 10 history events each: far below 25,000). */
export const TICKS_PER_EXECUTION = 500;
/**
 * One tick settles and starts clusters one at a time for at most this long, then returns to come
 * back in a second: far inside the step function's 30 s timeout however large a wave is.
 */
export const TICK_BUDGET_MS = 15_000;
/** Earlier waves whose deferred or waiting clusters are retried in one tick. */
const RETRY_WAVES_PER_TICK = 3;

export interface TickResult { readonly done: boolean; readonly waitSeconds: number }
const DONE: TickResult = { done: true, waitSeconds: 1 };

/**
 * One look at a rollout (the Rollout state machine loops Tick → Wait): plans its targets a page
 * at a time, settles the running clusters from their upgrades (and rollbacks), judges the abort
 * thresholds, advances waves (canary soak, manual promotion), starts the next clusters (offline
 * or busy ones deferred, ones outside their window waiting), and ends it in a named state.
 * Only the rollout's current execution acts; every target move is conditional, so a retried
 * tick changes nothing twice, and nothing starts once the rollout is paused, aborting or cancelled.
 */
export async function tickRollout(deps: RolloutDeps, id: string, execution: string): Promise<TickResult> {
  const r = await deps.rollouts.get(id);
  if (!r || ROLLOUT_ENDED.includes(r.status) || r.execution !== execution) return DONE;
  const now = deps.clock.now();
  const budget = { until: Date.now() + TICK_BUDGET_MS, spent: false };
  const wait = { done: false, waitSeconds: r.policy.tickSeconds ?? rolloutDefaults.tickSeconds };
  if (r.status === 'planning') {
    await planTargets(deps, r, now);
    return { done: false, waitSeconds: 1 };
  }
  let waves = await deps.rollouts.waves(id);
  const settled = await settleRunning(deps, r, waves, now, budget);
  waves = await deps.rollouts.waves(id);
  let current: RolloutRecord = r;
  let counts = sumCounts(waves.map((w) => w.counts));
  if (r.status === 'running' || r.status === 'paused') {
    const verdict = judgeAbort({ total: r.total, succeeded: counts.succeeded, failed: counts.failed }, r.policy.abort);
    if (verdict.abort) {
      current = (await deps.rollouts.update(id, { status: 'aborting', reason: `aborted: ${verdict.reason}; running clusters finish, no new cluster starts` }, { statusIn: ['running', 'paused'], execution }, now.toISOString())) ?? current;
    }
  }
  if (current.status === 'running') {
    current = await advanceWave(deps, current, waves, now);
    if (!budget.spent) await startTargets(deps, current, waves, now, budget);
    waves = await deps.rollouts.waves(id);
    counts = sumCounts(waves.map((w) => w.counts));
  }
  const phase = current.status as RolloutPhase;
  const last = waves.length - 1;
  const allStarted = current.currentWave >= last && waves[last]?.startedAt !== undefined;
  const judged = rolloutEnd(phase, counts, allStarted, current.reason, current.rolloutKind === 'agent-update' ? HOST_WORDS : CLUSTER_WORDS);
  // Cancelled because a newer version of its template superseded it.
  const end = judged.end && judged.status === 'cancelled' && current.supersededBy ? { ...judged, status: 'superseded' as const } : judged;
  const mean = settled.durations.length
    ? (((current.meanClusterMs ?? 0) * (current.finishedClusters ?? 0)) + settled.durations.reduce((a, b) => a + b, 0)) / ((current.finishedClusters ?? 0) + settled.durations.length)
    : current.meanClusterMs;
  const bookkeeping = { ticks: current.ticks + 1, ...(mean !== undefined ? { meanClusterMs: mean, finishedClusters: (current.finishedClusters ?? 0) + settled.durations.length } : {}) };
  if (end.end) {
    const ended = await deps.rollouts.update(id, { ...bookkeeping, status: end.status, reason: end.reason, endedAt: now.toISOString() }, { statusIn: [phase], execution }, now.toISOString());
    if (ended) {
      if (waves[last] && waveSettled(waves[last].counts)) await deps.rollouts.markWave(id, last, 'endedAt', now.toISOString());
      await audit(deps, ended, `rollout.${end.status}`, `rollout/${id}`, end.reason);
      return DONE;
    }
    return wait;
  }
  if ((current.ticks + 1) % TICKS_PER_EXECUTION === 0) return continueAsNew(deps, current, bookkeeping, now);
  await deps.rollouts.update(id, bookkeeping, { statusIn: [current.status], execution }, now.toISOString());
  // Work left over (the time budget ran out): the next tick comes at once.
  return budget.spent ? { done: false, waitSeconds: 1 } : wait;
}

/** The wave of a target from its position (waves are contiguous position ranges). */
const withWave = (t: RolloutTarget, sizes: readonly number[]): RolloutTarget => ({ ...t, wave: waveOf(t.position, sizes) });

/** Wall-clock budget of one tick (not the injected clock: it bounds the Lambda's own run time). */
interface Budget { readonly until: number; spent: boolean }
const over = (b: Budget) => (b.spent ||= Date.now() > b.until);

async function settleRunning(deps: RolloutDeps, r: RolloutRecord, waves: readonly RolloutWaveRecord[], now: Date, budget: Budget): Promise<{ durations: number[] }> {
  const durations: number[] = [];
  for (const w of waves.filter((x) => x.counts.running > 0)) {
    for (const t of (await deps.rollouts.targetsBetween(r.id, w.start, w.start + w.size)).filter((x) => x.state === 'running')) {
      if (over(budget)) return { durations };
      const target = withWave(t, r.waveSizes);
      if (!target.operationId) continue;
      const op = await deps.operations.get(target.operationId);
      if (!op) {
        // Its upgrade was never recorded (the tick stopped in between): start it again.
        await deps.rollouts.moveTarget(r.id, target, { from: 'running', to: 'pending', set: { reason: 'its upgrade did not start; starting it again' } }, now.toISOString());
        continue;
      }
      const rolledBackBy = op.type === 'upgrade-cluster' ? op.input.rolledBackBy : undefined;
      const rb = rolledBackBy ? await deps.operations.get(rolledBackBy) : undefined;
      const agent = r.rolloutKind === 'agent-update';
      const s = settle({
        status: op.status, updatedAt: op.updatedAt ?? op.startedAt, ...(op.reason ? { reason: op.reason } : {}), ...(rolledBackBy ? { rolledBackBy } : {}),
        ...(rb ? { rollback: { id: rb.id, status: rb.status, ...(rb.reason ? { reason: rb.reason } : {}) } } : {}),
      }, now, agent ? 'agent update' : 'upgrade');
      if (s.kind === 'running') continue;
      const done = agent ? `the host reports agent ${r.to.version}` : `upgraded to ${r.to.version} and verified`;
      const moved = await deps.rollouts.moveTarget(r.id, target, {
        from: 'running', to: s.kind,
        set: { endedAt: now.toISOString(), ...(s.kind === 'failed' ? { reason: s.reason } : { reason: done }), ...(rolledBackBy ? { rollbackOperationId: rolledBackBy } : {}) },
      }, now.toISOString());
      if (moved && target.startedAt) durations.push(now.getTime() - Date.parse(target.startedAt));
    }
  }
  return { durations };
}

/** Moves to the next wave once the current one settled (after the canary: its soak time and, if manual, a promotion). */
async function advanceWave(deps: RolloutDeps, r: RolloutRecord, waves: readonly RolloutWaveRecord[], now: Date): Promise<RolloutRecord> {
  const cur = waves[r.currentWave];
  if (!cur || !waveSettled(cur.counts) || r.currentWave >= waves.length - 1) return r;
  await deps.rollouts.markWave(r.id, cur.index, 'endedAt', now.toISOString());
  if (r.currentWave === 0) {
    const soakMs = (r.policy.waves?.soakMinutes ?? 0) * 60_000;
    const ended = Date.parse(cur.endedAt ?? now.toISOString());
    if (now.getTime() < ended + soakMs) return r;
    if (r.policy.waves?.promotion === 'manual' && (r.promotedThrough ?? 0) < 1) {
      const reason = `the canary wave settled (${cur.counts.succeeded} succeeded, ${cur.counts.failed} failed); waiting for promotion: edgefleet rollouts promote ${r.id}`;
      return r.reason === reason ? r : ((await deps.rollouts.update(r.id, { reason }, { statusIn: ['running'], execution: r.execution }, now.toISOString())) ?? r);
    }
  }
  const next = r.currentWave + 1;
  const out = await deps.rollouts.update(r.id, { currentWave: next, reason: `wave ${next + 1} of ${waves.length} started` }, { statusIn: ['running'], execution: r.execution }, now.toISOString());
  if (!out) return r;
  await deps.rollouts.markWave(r.id, next, 'startedAt', now.toISOString());
  return out;
}

/** Starts the current wave's pending clusters, and retries due deferred or waiting ones of earlier waves, within the concurrency cap. */
async function startTargets(deps: RolloutDeps, r: RolloutRecord, waves: readonly RolloutWaveRecord[], now: Date, budget: Budget): Promise<void> {
  const cap = r.policy.waves?.maxConcurrent ?? rolloutDefaults.maxConcurrent;
  let capacity = cap - sumCounts(waves.map((w) => w.counts)).running;
  const giveUpMs = (r.policy.deferral?.giveUpMinutes ?? rolloutDefaults.giveUpMinutes) * 60_000;
  const candidates: RolloutTarget[] = [];
  const cur = waves[r.currentWave];
  if (cur && (cur.counts.pending > 0 || cur.counts.deferred + cur.counts.waiting > 0)) {
    candidates.push(...(await deps.rollouts.targetsBetween(r.id, cur.start, cur.start + cur.size)));
  }
  const earlier = waves.filter((w) => w.index < r.currentWave && w.counts.deferred + w.counts.waiting + w.counts.pending > 0).slice(0, RETRY_WAVES_PER_TICK);
  for (const w of earlier) candidates.push(...(await deps.rollouts.targetsBetween(r.id, w.start, w.start + w.size)));
  const template = 'template' in r.targets ? await deps.templates.get(r.project, r.targets.template) : undefined;
  const fromTemplate = siteWindow.safeParse(template?.upgradePolicy?.maintenanceWindow);
  const window = r.policy.maintenanceWindow ?? (fromTemplate.success ? fromTemplate.data : undefined);
  const zones = new Map<string, string>();
  for (const raw of candidates) {
    if (over(budget)) return;
    const t = withWave(raw, r.waveSizes);
    const due = t.state === 'pending' || ((t.state === 'deferred' || t.state === 'waiting') && (!t.retryAt || Date.parse(t.retryAt) <= now.getTime()));
    if (!due) continue;
    if (t.state === 'deferred' && t.deferredSince && now.getTime() - Date.parse(t.deferredSince) >= giveUpMs) {
      await deps.rollouts.moveTarget(r.id, t, { from: 'deferred', to: 'skipped', set: { reason: `gave up after ${Math.round(giveUpMs / 60_000)} min deferred (last: ${t.reason ?? 'unknown'})`, endedAt: now.toISOString() }, remove: ['retryAt'] }, now.toISOString());
      continue;
    }
    if (capacity <= 0) break;
    if (r.rolloutKind === 'agent-update') {
      const started = await startHostTarget(deps, r, t, window, zones, now, {
        retryAt: (at) => retryAt(r, at), audit: (action, resource, detail) => audit(deps, r, action, resource, detail),
      });
      if (started) capacity--;
      continue;
    }
    const cluster = await deps.clusters.get(t.clusterId);
    const facts = await clusterFacts(deps, r, cluster, window, zones, now);
    const v = startVerdict(facts, r.to.version);
    const at = now.toISOString();
    if (v.kind === 'start') {
      const operationId = targetOperationId(r, t);
      const claimed = await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: 'running', set: { operationId, startedAt: at, reason: `upgrading to ${r.to.version}` }, remove: ['retryAt', 'deferredSince'], whileRollout: ['running'] }, at);
      if (!claimed) continue;
      capacity--;
      try {
        // Inside its maintenance window the upgrade runs as a windowed one: a downtime it cannot avoid (a single
        // control-plane node) is accepted there, and it must finish before the window closes.
        await upgradeCluster({ ...deps, workflowSettings: deps.settings }, { project: r.project, requestedBy: r.createdBy }, cluster!, {
          to: { version: r.to.version, name: r.to.name }, ...(r.policy.upgrade ?? {}),
          ...(facts.windowClosesAt ? { maintenanceWindow: { start: at, end: facts.windowClosesAt.toISOString() } } : {}),
        }, operationId);
        await audit(deps, r, 'rollout.cluster-upgrade', `cluster/${t.clusterId}`, `rollout ${r.id} wave ${t.wave + 1}: upgrade ${operationId} to ${r.to.version}`);
      } catch (e) {
        if (!(e instanceof EdgeFleetError)) {
          await deps.rollouts.moveTarget(r.id, t, { from: 'running', to: 'pending', set: { reason: `its upgrade could not start (${e instanceof Error ? e.message : String(e)}); trying again` } }, at);
          throw e;
        }
        const busy = e.code === 'cluster-busy' || e.code === 'cluster-not-running';
        await deps.rollouts.moveTarget(r.id, t, busy
          ? { from: 'running', to: 'deferred', set: { reason: e.message, retryAt: retryAt(r, now), deferredSince: t.deferredSince ?? at }, remove: ['operationId'] }
          : { from: 'running', to: 'failed', set: { reason: `the upgrade was refused: ${e.message}`, endedAt: at }, remove: ['operationId'] }, at);
        capacity++;
      }
      continue;
    }
    if (v.kind === 'succeeded' || v.kind === 'skipped') {
      await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: v.kind, set: { reason: v.reason, endedAt: at }, remove: ['retryAt'] }, at);
    } else if (v.kind === 'deferred') {
      await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: 'deferred', set: { reason: v.reason, retryAt: retryAt(r, now), deferredSince: t.deferredSince ?? at } }, at);
    } else {
      await deps.rollouts.moveTarget(r.id, t, { from: t.state, to: 'waiting', set: { reason: v.reason, retryAt: v.until.toISOString() } }, at);
    }
  }
}

const retryAt = (r: RolloutRecord, now: Date) => new Date(now.getTime() + (r.policy.deferral?.retryMinutes ?? rolloutDefaults.retryMinutes) * 60_000).toISOString();

async function clusterFacts(deps: RolloutDeps, r: RolloutRecord, c: ClusterRecord | undefined, window: RolloutRecord['policy']['maintenanceWindow'], zones: Map<string, string>, now: Date): Promise<ClusterFacts & { readonly windowClosesAt?: Date }> {
  if (!c || c.project !== r.project) return { exists: false, inScope: false, offlineHosts: [] };
  const inScope = 'template' in r.targets ? c.templateId === r.targets.template : true;
  const hostIds = [...c.controlPlane.hostIds, ...c.workers.flatMap((w) => w.hostIds)];
  const offline: string[] = [];
  for (const h of hostIds) {
    const host = await deps.hosts.get(h);
    if (!host || host.presence !== 'online') offline.push(h);
  }
  let windowOpensAt: Date | undefined;
  let windowClosesAt: Date | undefined;
  if (window) {
    const site = c.site ?? '';
    if (!zones.has(site)) zones.set(site, (site ? (await deps.siteSettings.get(r.project, site))?.timezone : undefined) ?? 'UTC');
    const state = windowState(window, zones.get(site)!, now);
    if (state.open) windowClosesAt = state.closesAt;
    else windowOpensAt = state.opensAt;
  }
  return {
    exists: true, name: c.name, inScope, status: c.status, profileVersion: c.profile.version, offlineHosts: offline,
    ...(c.activeOperationId ? { activeOperationId: c.activeOperationId } : {}), ...(windowOpensAt ? { windowOpensAt } : {}), ...(windowClosesAt ? { windowClosesAt } : {}),
  };
}

/** After TICKS_PER_EXECUTION ticks the rollout moves to a new execution (its history stays small). */
async function continueAsNew(deps: RolloutDeps, r: RolloutRecord, bookkeeping: { ticks: number }, now: Date): Promise<TickResult> {
  const generation = Math.floor(bookkeeping.ticks / TICKS_PER_EXECUTION) + 1;
  const next = `${r.id}-g${generation}`;
  const moved = await deps.rollouts.update(r.id, { ...bookkeeping, execution: next }, { statusIn: [r.status], execution: r.execution }, now.toISOString());
  if (!moved) return { done: false, waitSeconds: 1 };
  try {
    await deps.workflows.start('rollout', next, { rolloutId: r.id });
    return DONE;
  } catch {
    // Could not start the next execution: this one goes on.
    await deps.rollouts.update(r.id, { execution: r.execution }, { statusIn: [moved.status], execution: next }, now.toISOString());
    return { done: false, waitSeconds: r.policy.tickSeconds ?? rolloutDefaults.tickSeconds };
  }
}

/**
 * After a restart of the local runtime (whose engine keeps executions in memory), as Step Functions
 * keeps them on AWS: every open rollout's current execution is started again; its ticks are
 * idempotent and carry on from the stored state.
 */
export async function resumeRollouts(deps: RolloutDeps, limit = 1000): Promise<string[]> {
  const resumed: string[] = [];
  for (const r of await deps.rollouts.listOpen(limit)) {
    if ((await deps.workflows.start('rollout', r.execution, { rolloutId: r.id })).started) resumed.push(r.id);
  }
  return resumed;
}

export async function audit(deps: RolloutDeps, r: RolloutRecord, action: string, resource: string, detail: string): Promise<void> {
  await deps.audit.record({ id: deps.ids.newId(), project: r.project, time: deps.clock.now().toISOString(), actor: r.createdBy, action, resource, outcome: 'success', requestId: `rollout-${r.id}`, detail });
}

/** `fail` of the Rollout machine (its Catch): the rollout ends failed with the reason; running clusters finish on their own. */
export async function failRollout(deps: RolloutDeps, id: string, execution: string, cause: string): Promise<void> {
  const r = await deps.rollouts.get(id);
  if (!r || ROLLOUT_ENDED.includes(r.status)) return;
  const now = deps.clock.now().toISOString();
  const ended = await deps.rollouts.update(id, { status: 'failed', reason: `the rollout workflow failed: ${cause}; clusters already upgrading finish on their own`, endedAt: now }, { statusIn: [r.status], execution }, now);
  if (ended) await audit(deps, ended, 'rollout.failed', `rollout/${id}`, ended.reason);
}

