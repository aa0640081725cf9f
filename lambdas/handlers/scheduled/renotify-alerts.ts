import { renotifyOpenAlerts, type AlertSweepDeps, type SweptAlert } from '../../use-cases/renotify-alerts.js';
import { awsRoot } from '../composition-root.js';
import { entryPoint, lazy } from '../kit.js';
import { getLogger } from '../observability.js';

/**
 * Scheduled (every minute on AWS, a timer locally): open alerts whose re-notify interval has
 * passed are sent again while their condition persists, and `resolved` once it ended
 * (use-cases/renotify-alerts.ts).
 */
export const makeHandler = (deps: () => AlertSweepDeps) => entryPoint<unknown, SweptAlert[]>({
  kind: 'schedule', name: 'edgefleet-alert-sweeper',
}, async () => {
  const swept = await renotifyOpenAlerts(deps());
  const failed = swept.filter((s) => s.outcome === 'failed');
  if (swept.length > 0) getLogger().info('open alerts swept', { count: swept.length, alerts: swept.slice(0, 50) });
  if (failed.length > 0) getLogger().warn('alerts could not be notified again: their receivers failed', { alerts: failed.slice(0, 50) });
  return swept;
});

export const handler = lazy(() => makeHandler(() => awsRoot(['stateTable']).alertSweep));
