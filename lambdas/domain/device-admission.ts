import type { HostStatus } from './host-lifecycle.js';

/** What the IoT rule handlers read about the sending host: its lifecycle status, if it exists. */
export interface HostLifecycleReader {
  lifecycle(hostId: string): Promise<{ readonly status: HostStatus; readonly clusterId?: string } | undefined>;
}

export type Admission =
  | { readonly admit: true }
  | { readonly admit: false; readonly reason: 'unknown-host' | `host-${HostStatus}` };

/** Hosts whose messages are processed: they registered and were not retired. */
const ACTIVE: ReadonlySet<HostStatus> = new Set(['pending', 'approved', 'in-cluster']);

/**
 * Whether a device message may change anything. A host that is unknown, rejected,
 * decommissioned or never registered has no business publishing: IoT Core takes minutes to
 * drop a revoked certificate's connection, so the rules drop its messages meanwhile. The one
 * exception is the disconnect lifecycle event of a host that exists: it only marks it offline.
 */
export function admitDeviceMessage(host: { readonly status: HostStatus } | undefined, rule: string, eventType?: string): Admission {
  if (!host) return { admit: false, reason: 'unknown-host' };
  if (ACTIVE.has(host.status)) return { admit: true };
  if (rule === 'presence' && eventType === 'disconnected') return { admit: true };
  return { admit: false, reason: `host-${host.status}` };
}
