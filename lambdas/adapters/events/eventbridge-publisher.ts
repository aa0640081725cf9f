import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { detailTypeOf, EVENT_SOURCE, healthEvent } from '../../contracts/events.js';
import { UnavailableError } from '../../domain/errors.js';
import type { HealthEvent } from '../../domain/health-events.js';
import type { EventPublisher } from '../../ports/health.js';

/**
 * Health changes on an EventBridge bus (the account's default bus unless the stack names
 * one): Source `edgefleet`, DetailType `edgefleet.host` | `edgefleet.cluster`, Detail the
 * event (contracts/events.ts). PutEvents answers 200 with FailedEntryCount > 0 when an entry
 * was not accepted (https://docs.aws.amazon.com/eventbridge/latest/APIReference/API_PutEvents.html):
 * that is a failure too.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(private readonly client: EventBridgeClient, private readonly busName = 'default') {}

  async publish(event: HealthEvent): Promise<void> {
    const detail = healthEvent.parse(event);
    const out = await this.client.send(new PutEventsCommand({
      Entries: [{ Source: EVENT_SOURCE, DetailType: detailTypeOf(detail), Detail: JSON.stringify(detail), EventBusName: this.busName, Time: new Date(detail.at) }],
    }));
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0];
      throw new UnavailableError('event-not-published', `EventBridge refused the health event of ${detail.kind} ${detail.kind === 'host' ? detail.hostId : detail.clusterId}: ${entry?.ErrorCode ?? 'unknown'} ${entry?.ErrorMessage ?? ''}`.trim());
    }
  }
}
