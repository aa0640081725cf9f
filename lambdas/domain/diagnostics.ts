/**
 * Diagnostics bundles: an operator asks a host for evidence (journals, Kairos state, disk,
 * network, Kubernetes), the host collects an allow-listed set, redacts secrets, packs a tar.gz
 * and uploads it to a presigned URL. These are the rules: which hosts can be asked, what a
 * request records, and how the record follows the host's command.
 */
import type { CommandRecord } from './command.js';
import type { HostStatus } from './host-lifecycle.js';

export type DiagnosticsStatus = 'requested' | 'collecting' | 'uploaded' | 'failed';

export interface BundleFacts {
  readonly bytes: number;
  readonly sha256: string;
}

export interface DiagnosticsRecord {
  readonly id: string;
  readonly project: string;
  readonly hostId: string;
  readonly status: DiagnosticsStatus;
  readonly statusReason?: string;
  /** Start of the journal window (ISO). */
  readonly since: string;
  /** The window as asked (`1h`). */
  readonly window: string;
  /** Why the operator asked. */
  readonly reason?: string;
  readonly requestedBy: string;
  readonly requestedAt: string;
  readonly updatedAt: string;
  readonly commandId: string;
  readonly deadline: string;
  readonly objectKey: string;
  readonly maxBytes: number;
  readonly bundle?: BundleFacts;
  readonly version: number;
}

/** How long a host has to collect and upload (also the upload URL's life). */
export const DIAGNOSTICS_DEADLINE_SECONDS = 15 * 60;
/** The bundle's bound: the presigned policy refuses more, the agent cuts items to fit. */
export const MAX_BUNDLE_BYTES = 64 * 1024 * 1024;
/** How long a download URL works. */
export const DOWNLOAD_URL_SECONDS = 5 * 60;
/** The command type the host runs. */
export const COLLECT_DIAGNOSTICS = 'collect-diagnostics';

/** Every bundle lives under this prefix (the IAM grants and the lifecycle rule are scoped to it). */
export const BUNDLE_PREFIX = 'diagnostics/';

export const diagnosticsCommandId = (id: string): string => `diag-${id}`;
/** The request id behind a collect-diagnostics command id, if it is one. */
export const diagnosticsIdOf = (commandId: string): string | undefined => (commandId.startsWith('diag-') ? commandId.slice(5) : undefined);
export const bundleKey = (project: string, hostId: string, id: string): string => `${BUNDLE_PREFIX}${project}/${hostId}/${id}.tar.gz`;

/**
 * Whether a host can be asked: it must hold a certificate (approved or in a cluster); a host
 * that never registered, was rejected or decommissioned has no agent to ask.
 */
export function canCollect(status: HostStatus): { ok: true } | { ok: false; reason: string } {
  if (status === 'approved' || status === 'in-cluster') return { ok: true };
  const why: Record<Exclude<HostStatus, 'approved' | 'in-cluster'>, string> = {
    'pre-registered': 'it has not registered yet (no agent has connected with its hardware id)',
    pending: 'it is waiting for approval: approve it first (edgefleet hosts approve)',
    rejected: 'it was rejected',
    decommissioned: 'it was decommissioned (its certificate is revoked)',
  };
  return { ok: false, reason: why[status] };
}

/**
 * The record after a change of its command: queued/sent → requested, accepted/progress →
 * collecting, succeeded with the bundle's facts → uploaded, anything else that ended → failed
 * with the reason. A finished record never changes again; undefined when nothing changes.
 */
export function followCommand(r: DiagnosticsRecord, c: Pick<CommandRecord, 'state' | 'detail' | 'reason' | 'deadline' | 'hostId' | 'updatedAt'> & { readonly bundle?: BundleFacts }): DiagnosticsRecord | undefined {
  if (r.status === 'uploaded' || r.status === 'failed') return undefined;
  let next: Pick<DiagnosticsRecord, 'status' | 'statusReason' | 'bundle'>;
  switch (c.state) {
    case 'queued':
    case 'sent':
      return undefined;
    case 'accepted':
    case 'progress':
      next = { status: 'collecting', ...(c.detail ? { statusReason: c.detail } : {}) };
      break;
    case 'succeeded':
      next = c.bundle
        ? { status: 'uploaded', bundle: c.bundle, ...(c.detail ? { statusReason: c.detail } : {}) }
        : { status: 'failed', statusReason: `host ${c.hostId} reported the bundle uploaded without its size and checksum (an agent without diagnostics support?); upgrade the agent and ask again` };
      break;
    case 'failed':
      next = { status: 'failed', statusReason: `host ${c.hostId} could not collect or upload the bundle: ${c.detail ?? 'no detail reported'}` };
      break;
    case 'timed-out':
      next = {
        status: 'failed',
        statusReason: `host ${c.hostId} did not upload the bundle before ${c.deadline}: it may be offline or its uplink too slow for the bundle; check \`edgefleet hosts get ${c.hostId}\` and ask again with a shorter window`,
      };
      break;
    case 'superseded':
      next = { status: 'failed', statusReason: `the collection on host ${c.hostId} was withdrawn before it started${c.reason ? ` (${c.reason})` : ''}` };
      break;
  }
  if (next.status === r.status && next.statusReason === r.statusReason) return undefined;
  return { ...r, ...next, updatedAt: c.updatedAt, version: r.version + 1 };
}
