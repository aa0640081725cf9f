/**
 * The dry run of an upgrade (`POST /v1/clusters/{id}/upgrades` with `dryRun: true`): the plan the
 * same request would run, planned by the same code from what the nodes report, and whether it
 * would start. It starts nothing, changes nothing and writes no audit event (a read, checked
 * with the upgrade's own permission) and no Idempotency-Key record (the route skips it).
 */
import type { z } from 'zod';
import type { createUpgradeBody, UpgradePreview } from '../contracts/api.js';
import { ConflictError, NotFoundError, ValidationError } from '../domain/errors.js';
import { refusalKind } from '../domain/plan-refusal.js';
import type { UpgradePlan } from '../domain/upgrade-plan.js';
import { requireIdle } from './cluster-operations.js';
import { read, visible, type RequestContext } from './context.js';
import { planClusterUpgrade, type UpgradeDeps } from './upgrades.js';

/** The wire shape (contracts' upgradePreview) with the domain's plan. */
export type Preview = Omit<UpgradePreview, 'plan'> & { readonly plan?: UpgradePlan };

/** Refusals the operator lifts with a flag; the dry run shows the plan as it runs once lifted. */
const LIFTED_BY_ACKNOWLEDGING = new Set(['downtime-not-acknowledged', 'max-unavailable-too-high']);

/** The hosts in upgrade order: control-plane nodes one at a time, then workers maxUnavailable at a time. Pure. */
export function upgradeOrder(plan: { readonly controlPlane: readonly { readonly hostId: string }[]; readonly workers: readonly { readonly hostId: string }[]; readonly maxUnavailable: number }): string[][] {
  const out = plan.controlPlane.map((n) => [n.hostId]);
  const size = Math.max(1, plan.maxUnavailable);
  for (let i = 0; i < plan.workers.length; i += size) out.push(plan.workers.slice(i, i + size).map((n) => n.hostId));
  return out;
}

export async function previewUpgrade(deps: UpgradeDeps, ctx: RequestContext, clusterId: string, body: z.infer<typeof createUpgradeBody>): Promise<Preview> {
  read(ctx, 'clusters:update');
  const cluster = visible(ctx, await deps.clusters.get(clusterId), () => new NotFoundError('cluster-not-found', `cluster ${clusterId} does not exist in this project`));
  let busy: { code: string; message: string } | undefined;
  try {
    requireIdle(cluster, 'upgrade it');
  } catch (e) {
    if (!(e instanceof ConflictError)) throw e;
    busy = { code: e.code, message: e.message };
  }
  const { from, to, planned } = await planClusterUpgrade(deps, ctx, cluster, body);
  const base = { dryRun: true as const, clusterId: cluster.id, from: { name: from.name, version: from.version }, to: { name: to.name, version: to.version } };
  if (planned.ok) {
    return { ...base, wouldStart: !busy, ...(busy ? { refusal: busy } : {}), plan: planned.plan, order: upgradeOrder(planned.plan) };
  }
  // A request that is itself wrong is answered as the upgrade would be (400).
  if (refusalKind(planned.code) === 'invalid') throw new ValidationError(planned.code, planned.message, { errors: [{ path: 'to', message: planned.message }] });
  const refusal = { code: planned.code, message: planned.message };
  if (!LIFTED_BY_ACKNOWLEDGING.has(planned.code)) return { ...base, wouldStart: false, refusal, order: [] };
  const lifted = (await planClusterUpgrade(deps, ctx, cluster, body, true)).planned;
  return { ...base, wouldStart: false, refusal, ...(lifted.ok ? { plan: lifted.plan, order: upgradeOrder(lifted.plan) } : { order: [] }) };
}
