import { healthEvent, type HealthEventDetail } from '../lambdas/contracts/events.js';
import type { HealthEvent } from '../lambdas/domain/health-events.js';
import type { EventPublisher } from '../lambdas/ports/health.js';
import { getLogger } from '../lambdas/handlers/observability.js';

export type EventListener = (event: HealthEventDetail) => Promise<void>;

/**
 * EventBridge on one machine, for the health events: `publish` validates the detail as
 * PutEvents would carry it (contracts/events.ts) and hands it to the subscribers (the local
 * alert dispatcher) asynchronously, as EventBridge delivers to a rule's target after PutEvents
 * returned. A subscriber's failure is logged and does not fail the publisher. `idle()` settles
 * when every delivery so far has ended (tests, stop).
 */
export class LocalEventBus implements EventPublisher {
  private readonly listeners: EventListener[] = [];
  private readonly inFlight = new Set<Promise<void>>();

  subscribe(listener: EventListener): void {
    this.listeners.push(listener);
  }

  async publish(event: HealthEvent): Promise<void> {
    const detail = healthEvent.parse(event);
    for (const listener of this.listeners) {
      const p = listener(detail).catch((e: unknown) => {
        getLogger().error('a local event subscriber failed', { kind: detail.kind, error: (e as Error).message });
      }).finally(() => this.inFlight.delete(p));
      this.inFlight.add(p);
    }
  }

  async idle(): Promise<void> {
    while (this.inFlight.size > 0) await Promise.all([...this.inFlight]);
  }
}
