import { z } from 'zod';
import { isoTime } from './common.js';
import { clusterHealthState, hostHealthState } from './api.js';

/**
 * Health-change events. On AWS: EventBridge PutEvents on the default bus with `Source`
 * EVENT_SOURCE and `DetailType` HOST_EVENT or CLUSTER_EVENT; the `Detail` is one of these.
 * Locally the runtime hands them to the same alert dispatcher.
 */
export const EVENT_SOURCE = 'edgefleet';
export const HOST_EVENT = 'edgefleet.host';
export const CLUSTER_EVENT = 'edgefleet.cluster';

export const hostHealthEvent = z.strictObject({
  kind: z.literal('host'),
  project: z.string(),
  hostId: z.string(),
  name: z.string().optional(),
  site: z.string().optional(),
  tags: z.record(z.string(), z.string()),
  clusterId: z.string().optional(),
  state: hostHealthState,
  previousState: hostHealthState.optional(),
  reasons: z.array(z.string()),
  since: isoTime,
  at: isoTime,
});

export const clusterHealthEvent = z.strictObject({
  kind: z.literal('cluster'),
  project: z.string(),
  clusterId: z.string(),
  name: z.string(),
  state: clusterHealthState,
  previousState: clusterHealthState.optional(),
  reasons: z.array(z.string()),
  since: isoTime,
  at: isoTime,
});

export const healthEvent = z.discriminatedUnion('kind', [hostHealthEvent, clusterHealthEvent]);
export type HealthEventDetail = z.infer<typeof healthEvent>;
export const detailTypeOf = (e: { kind: 'host' | 'cluster' }) => (e.kind === 'host' ? HOST_EVENT : CLUSTER_EVENT);
