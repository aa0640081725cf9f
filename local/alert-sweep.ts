import * as renotifyAlerts from '../lambdas/handlers/scheduled/renotify-alerts.js';
import type { AlertRule } from '../lambdas/domain/alerts.js';
import type { AlertRuleRepository } from '../lambdas/ports/alerts.js';
import type { DispatchDeps } from '../lambdas/use-cases/dispatch-alerts.js';
import type { AlertSweepDeps } from '../lambdas/use-cases/renotify-alerts.js';
import { startSchedule } from './schedule.js';

export interface LocalAlerting {
  /** The dispatcher's dependencies (the local event bus's subscriber), with the time scale applied. */
  readonly dispatch: DispatchDeps;
  stop(): Promise<void>;
}

/**
 * Alerting on one machine: the re-notify sweep, which on AWS an EventBridge schedule
 * (`rate(1 minute)`, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-create-rule-schedule.html)
 * invokes, is the same scheduled handler on a timer (schedule.ts): runs may overlap, as there;
 * the ledger's conditional claims keep overlapping runs from sending twice. `timeScale` shortens
 * every rule's re-notify interval for tests (5 minutes × 1/60 = 5 s), as `tunnelTimeScale` does
 * tunnels; it is 1 under `npm start`.
 */
export function startAlerting(root: { readonly alerts: DispatchDeps; readonly alertSweep: AlertSweepDeps }, opts: { readonly sweepMs: number; readonly timeScale: number }): LocalAlerting {
  const scaled = (r: AlertRule): AlertRule => ({ ...r, renotifyMinutes: r.renotifyMinutes * opts.timeScale });
  const rules: Pick<AlertRuleRepository, 'get' | 'listAll'> = {
    get: async (id) => { const r = await root.alertSweep.alertRules.get(id); return r ? scaled(r) : undefined; },
    listAll: async (project, max) => (await root.alerts.alertRules.listAll(project, max)).map(scaled),
  };
  const dispatch: DispatchDeps = { ...root.alerts, alertRules: rules };
  const sweepDeps: AlertSweepDeps = { ...root.alertSweep, alertRules: rules };
  const sweep = renotifyAlerts.makeHandler(() => sweepDeps);
  const schedule = startSchedule({ name: 'alert re-notify sweep', everyMs: opts.sweepMs, run: () => sweep({}), overlap: 'allowed' });
  return { dispatch, stop: () => schedule.stop() };
}
