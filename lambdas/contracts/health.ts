import { z } from 'zod';
import { isoTime } from './common.js';
import { clusterHealthState, hostHealthState } from './api.js';

/**
 * What the state table holds of a host's and a cluster's derived health (read back through
 * these schemas, never by a cast). Written only when the health changes.
 */
export const storedHostHealth = z.object({
  state: hostHealthState,
  reasons: z.array(z.string()),
  since: isoTime,
  changedAt: isoTime,
  online: z.boolean(),
  rev: z.number().int().min(1),
});

export const storedClusterHealth = z.object({
  state: clusterHealthState,
  reasons: z.array(z.string()),
  since: isoTime,
  changedAt: isoTime,
  rev: z.number().int().min(1),
});
