/**
 * A fleet of single-node clusters on the in-memory adapters for the rollout use-case tests,
 * with a hand-driven tick (tickRollout under a ManualClock), the ways a test ends a cluster's
 * upgrade (as its workflow would: succeeded, failed, failed with a rollback), and the
 * invariants checked after every tick.
 */
import { expect } from '@jest/globals';
import type { z } from 'zod';
import type { clusterUpgradeRolloutBody, RolloutRecord, RolloutTarget } from '../../../lambdas/contracts/rollouts.js';
import type { ClusterRecord, HostRecord, OperationRecord, OperationStatus } from '../../../lambdas/domain/model.js';
import { zero } from '../../../lambdas/domain/rollout.js';
import { waveOf } from '../../../lambdas/domain/rollout-rules.js';
import { createTemplate } from '../../../lambdas/use-cases/cluster-templates.js';
import { createRollout } from '../../../lambdas/use-cases/rollouts.js';
import { tickRollout, type TickResult } from '../../../lambdas/use-cases/workflows/rollout-tick.js';
import { ADMIN, IMG_OLD, PROJECT, REPAVE, T0, report, world } from './world.js';

export type Body = z.infer<typeof clusterUpgradeRolloutBody>;
const OPEN: OperationStatus[] = ['queued', 'running', 'paused'];
const pad = (i: number) => String(i).padStart(3, '0');

export const TEMPLATE = {
  name: 'shop', profile: { name: 'edge', version: '1.x' }, variables: {},
  topology: { minHosts: 1, controlPlane: [{ hosts: 1, size: 1 as const }] }, selector: { site: 'shop-*' },
};

/**
 * `n` running single-node clusters `c001…` (host `h001…`, online, at the base image; site
 * `shop-001…`), attached to template `shop` when `attached`; profile edge 1.0.0, 2.0.0, 2.1.0.
 */
export async function rolloutWorld(n: number, opts: { attached?: boolean } = {}) {
  const w = await world({ hosts: 1 });
  w.state.clusters.clear();
  w.state.clusterNames.clear();
  await w.profiles.createVersion({ name: 'edge', project: PROJECT, version: '2.1.0', layers: REPAVE, status: 'draft', createdAt: T0, createdBy: 'alice' }, { setLatest: false });
  await w.profiles.publishVersion(PROJECT, 'edge', '2.1.0', T0, { setLatest: true });
  if (opts.attached) await createTemplate(w.deps, ADMIN, TEMPLATE);
  const clusterIds: string[] = [];
  for (let i = 1; i <= n; i++) {
    const id = `c${pad(i)}`;
    const hostId = `h${pad(i)}`;
    const site = `shop-${pad(i)}`;
    const h: HostRecord = { id: hostId, uid: hostId, project: PROJECT, site, tags: {}, status: 'in-cluster', clusterId: id, version: 1, createdAt: T0, updatedAt: T0 };
    await w.hosts.create(h);
    await w.presence.apply(hostId, { presence: 'online', at: Date.parse(T0) });
    await report(w, hostId, IMG_OLD, 'v1.30.4+k3s1');
    const c: ClusterRecord = {
      id, project: PROJECT, name: id, profile: { name: 'edge', version: '1.0.0' }, controlPlane: { hostIds: [hostId] }, workers: [],
      status: 'running', site, ...(opts.attached ? { templateId: 'shop' } : {}), version: 1, createdAt: T0, updatedAt: T0,
    };
    w.state.clusters.set(id, c);
    w.state.clusterNames.set(`${PROJECT}#${id}`, id);
    clusterIds.push(id);
  }
  const deps = { ...w.deps, rollouts: w.rollouts, siteSettings: w.siteSettings, templates: w.templates };

  /** Creates a rollout (single-node clusters: downtime acknowledged) and returns its id. */
  async function create(body: Partial<Body> & Pick<Body, 'targets'>): Promise<string> {
    const r = await createRollout(deps, ADMIN, {
      to: { name: 'edge', version: '2.0.0' }, ...body,
      policy: { upgrade: { acknowledgeDowntime: true }, tickSeconds: 5, ...(body.policy ?? {}) },
    });
    return r.id;
  }
  const rollout = async (id: string): Promise<RolloutRecord> => (await w.rollouts.get(id))!;
  const targets = async (id: string): Promise<RolloutTarget[]> => w.rollouts.targetsBetween(id, 0, 1_000_000);
  const byCluster = async (id: string) => new Map((await targets(id)).map((t) => [t.clusterId, t]));
  const upgrades = () => [...w.state.operations.values()].filter((o) => o.type === 'upgrade-cluster' && !o.id.startsWith('rb-'));

  /** Every stored fact of the rollout agrees with every other: checked after each tick. */
  async function invariants(id: string): Promise<void> {
    const r = await w.rollouts.get(id);
    if (!r) return;
    const all = await targets(id);
    expect(all.map((t) => t.position)).toEqual(all.map((_, i) => i));
    expect(all).toHaveLength(r.total);
    const waves = await w.rollouts.waves(id);
    if (r.status === 'planning') return;
    expect(waves.map((x) => x.size)).toEqual(r.waveSizes);
    const tally = waves.map(() => zero());
    for (const t of all) tally[waveOf(t.position, r.waveSizes)]![t.state]++;
    expect(waves.map((x) => x.counts)).toEqual(tally);
    for (const t of all) {
      if (t.state === 'running') expect(t.operationId).toBeDefined();
      // Nothing beyond the current wave is touched.
      if (waveOf(t.position, r.waveSizes) > r.currentWave) expect(t).toEqual({ clusterId: t.clusterId, position: t.position, wave: -1, state: 'pending', ...(t.site ? { site: t.site } : {}) });
    }
    for (const op of upgrades().filter((o) => o.id.startsWith(`op-${id}-`))) {
      const position = Number(op.id.slice(`op-${id}-`.length));
      expect(waveOf(position, r.waveSizes)).toBeLessThanOrEqual(r.currentWave);
    }
  }

  /** One tick of the rollout's current execution (or `execution`), then the invariants. */
  async function tick(id: string, execution?: string): Promise<TickResult> {
    const out = await tickRollout(deps, id, execution ?? (await rollout(id)).execution);
    await invariants(id);
    return out;
  }
  /** Ticks through planning (the rollout then runs, or has ended). */
  async function plan(id: string): Promise<number> {
    let ticks = 0;
    while ((await rollout(id)).status === 'planning') {
      await tick(id);
      if (++ticks > 1000) throw new Error('planning does not end');
    }
    return ticks;
  }

  /** The cluster's open upgrade, as the rollout started it. */
  function openUpgrade(clusterId: string): OperationRecord {
    const op = upgrades().find((o) => o.target.id === clusterId && OPEN.includes(o.status));
    if (!op) throw new Error(`no open upgrade on ${clusterId}`);
    return op;
  }
  const at = () => w.clock.now().toISOString();
  /** The upgrade passed its gate: the cluster is at the new version. */
  async function succeed(clusterId: string): Promise<void> {
    const op = openUpgrade(clusterId);
    await w.operations.update(op.id, { status: 'succeeded' }, OPEN, at());
    const version = op.type === 'upgrade-cluster' ? op.input.to : { name: 'edge', version: '2.0.0' };
    await w.clusters.updateForOperation(clusterId, op.id, { status: 'running', profile: version }, { endOperation: true, now: at() });
  }
  /**
   * The upgrade failed. `rollback`: the rollback named on it (its status, or 'announced' for one
   * not recorded yet); returns the rollback's id.
   */
  async function fail(clusterId: string, rollback?: OperationStatus | 'announced'): Promise<string | undefined> {
    const op = openUpgrade(clusterId);
    if (op.type !== 'upgrade-cluster') throw new Error('not an upgrade');
    const rb = rollback ? `rb-${op.id}` : undefined;
    await w.operations.update(op.id, { status: 'failed', reason: `${clusterId} booted passive`, ...(rb ? { input: { ...op.input, rolledBackBy: rb } } : {}) }, OPEN, at());
    if (rb && rollback !== 'announced') w.operations.put({ ...op, id: rb, status: rollback!, input: { ...op.input, rollbackOf: op.id }, startedAt: at(), updatedAt: at() });
    if (!rb) await w.clusters.updateForOperation(clusterId, op.id, { status: 'running' }, { endOperation: true, now: at() });
    return rb;
  }
  /** Ends a rollback (recorded by `fail`). */
  async function endRollback(rb: string, status: OperationStatus): Promise<void> {
    await w.operations.update(rb, { status, ...(status === 'succeeded' ? {} : { reason: 'host offline' }) }, OPEN, at());
  }

  return { w, deps, clusterIds, create, rollout, targets, byCluster, upgrades, invariants, tick, plan, succeed, fail, endRollback };
}

export type RolloutWorld = Awaited<ReturnType<typeof rolloutWorld>>;
