import type { CommandRecord } from '../../domain/command.js';
import type { StoredStatus } from '../../domain/device-status.js';
import type { PresenceState } from '../../domain/presence.js';
import type { StoredHostHealth } from '../../domain/host-health.js';
import type {
  AuditRecord, ClusterRecord, HostRecord, OperationRecord, ProfileRecord, ProfileVersionRecord, TokenRecord,
} from '../../domain/model.js';
import type { Clock } from '../../ports/index.js';

export interface IdempotencyEntry {
  readonly fingerprint: string;
  readonly state: 'in-progress' | 'done';
  readonly lockedUntil: number;
  readonly expiresAtEpoch: number;
  readonly response?: { readonly status: number; readonly body: string; readonly headers: Record<string, string> };
}

/**
 * Everything the in-memory adapters store: one object shared by all of them, as the DynamoDB
 * adapters share one table (a cluster's claim writes hosts, a registration writes a token and a
 * host). Records are copied in and out, so a caller never holds a reference into the store.
 */
export class MemoryState {
  readonly tokens = new Map<string, TokenRecord>();
  readonly hosts = new Map<string, HostRecord>();
  readonly presence = new Map<string, PresenceState>();
  readonly profiles = new Map<string, ProfileRecord>();
  readonly profileVersions = new Map<string, ProfileVersionRecord>();
  readonly clusters = new Map<string, ClusterRecord>();
  /** Cluster name locks: `project#name` → cluster id. */
  readonly clusterNames = new Map<string, string>();
  readonly operations = new Map<string, OperationRecord>();
  readonly audit: AuditRecord[] = [];
  readonly idempotency = new Map<string, IdempotencyEntry>();
  readonly status = new Map<string, StoredStatus>();
  /** Derived host health, stored on change. */
  readonly health = new Map<string, StoredHostHealth>();
  /** Commands by `hostId#commandId`. */
  readonly commands = new Map<string, CommandRecord>();

  constructor(readonly clock: Clock = { now: () => new Date() }) {}
}

export const copy = <T>(value: T): T => structuredClone(value);

/** The record without its undefined fields (DynamoDB stores no undefined attribute). */
export function withoutUndefined<T extends object>(value: T): T {
  const out = copy(value);
  for (const [k, v] of Object.entries(out)) if (v === undefined) Reflect.deleteProperty(out, k);
  return out;
}

export const profileKey = (project: string, name: string) => `${project}#${name}`;
export const versionKey = (project: string, name: string, version: string) => `${project}#${name}#${version}`;
export const commandKey = (hostId: string, commandId: string) => `${hostId}#${commandId}`;
