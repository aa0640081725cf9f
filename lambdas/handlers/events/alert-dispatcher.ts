import { healthEvent } from '../../contracts/events.js';
import { dispatchHealthEvent, type Delivery, type DispatchDeps } from '../../use-cases/dispatch-alerts.js';
import { awsRoot } from '../composition-root.js';
import { correlationIds, entryPoint, lazy } from '../kit.js';
import { getLogger } from '../observability.js';

/**
 * EventBridge rule target (source `edgefleet`, detail types `edgefleet.host` / `edgefleet.cluster`):
 * the event's detail is a health change (contracts/events.ts); every matching alert rule of its
 * project is notified. A detail that does not parse is logged and dropped (retrying it cannot help).
 */
export const makeHandler = (deps: () => DispatchDeps) => entryPoint<{ detail?: unknown }, Delivery[]>({
  kind: 'event', name: 'edgefleet-alert-dispatcher', correlate: (e) => correlationIds(e.detail),
}, async (event) => {
  const parsed = healthEvent.safeParse(event.detail);
  if (!parsed.success) {
    getLogger().error('health event dropped: its detail is not an EdgeFleet health event', { issues: parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.')}: ${i.message}`) });
    return [];
  }
  const deliveries = await dispatchHealthEvent(deps(), parsed.data);
  if (deliveries.length > 0) getLogger().info('alert rules notified', { deliveries });
  return deliveries;
});

export const handler = lazy(() => makeHandler(() => awsRoot(['stateTable']).alerts));
