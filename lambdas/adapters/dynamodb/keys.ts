import { createHash } from 'node:crypto';
import { HOST_LIST_SHARDS } from '../../contracts/tables.js';

/** Key layout of the state table. Every item also carries `kind` for debugging and exports. */
export const keys = {
  token: (id: string) => ({ pk: `TOKEN#${id}`, sk: 'TOKEN' }),
  tokenList: (project: string) => `T#${project}`,
  host: (id: string) => ({ pk: `HOST#${id}`, sk: 'HOST' }),
  hostPresence: (id: string) => ({ pk: `HOST#${id}`, sk: 'PRESENCE' }),
  hostList: (project: string, shard: number) => `H#${project}#${shard}`,
  hostSite: (project: string, site: string) => `S#${project}#${site}`,
  hostCluster: (clusterId: string) => `HC#${clusterId}`,
  profile: (project: string, name: string) => ({ pk: `PROFILE#${project}#${name}`, sk: 'PROFILE' }),
  profileVersion: (project: string, name: string, version: string) => ({ pk: `PROFILE#${project}#${name}`, sk: `V#${sortableSemver(version)}` }),
  profileList: (project: string) => `PR#${project}`,
  cluster: (id: string) => ({ pk: `CLUSTER#${id}`, sk: 'CLUSTER' }),
  clusterName: (project: string, name: string) => ({ pk: `CLUSTERNAME#${project}#${name}`, sk: 'LOCK' }),
  clusterList: (project: string) => `C#${project}`,
  /** Clusters attached to a template (gsi2, free on cluster items): what a rollout of the template targets. */
  clusterTemplate: (project: string, templateId: string) => `CT#${project}#${templateId}`,
  operation: (id: string) => ({ pk: `OP#${id}`, sk: 'OP' }),
  /** An operation's input (plan) and initial per-host rows: written once, not indexed. */
  operationPlan: (id: string) => ({ pk: `OP#${id}`, sk: 'PLAN' }),
  /** One host's progress in an operation: a small item, so a progress write is one write unit. */
  operationHost: (id: string, hostId: string) => ({ pk: `OP#${id}`, sk: `HOST#${hostId}` }),
  /** Lists an operation in gsi1 (project) and gsi2 (target): written once, never updated. */
  operationListing: (id: string) => ({ pk: `OP#${id}`, sk: 'LIST' }),
  operationList: (project: string) => `O#${project}`,
  operationTarget: (type: string, id: string) => `OT#${type}#${id}`,
  /**
   * The open-operations index (gsi4 = STATE_TABLE.openByDeadline, KEYS_ONLY): every queued,
   * running or paused operation of every project carries gsi4pk `OPOPEN` and gsi4sk
   * `<startedAt>#<id>` (oldest first); both are removed when the operation ends, so the index
   * only ever holds the open ones. It is written twice per operation (start, end): one
   * partition is plenty. (Before, the same keys were on gsi3: still read for operations
   * opened then.)
   */
  operationsOpen: 'OPOPEN',
  operationOpenSort: (startedAt: string, id: string) => `${startedAt}#${id}`,
  idempotency: (key: string) => ({ pk: `IDEM#${key}`, sk: 'IDEM' }),
  /**
   * Registration admission (domain/admission.ts): the one clock (written once per turn taken, twice
   * while it runs ahead of now, i.e. during a storm: the conditional restart fails, then the step;
   * so at up to twice the rate first attempts reach the function, which API Gateway's throttle of
   * the register route bounds), and each waiting host's turn (its own partition).
   */
  admissionClock: { pk: 'ADMIT', sk: 'CLOCK' },
  admissionTurn: (hostId: string) => ({ pk: `ADMIT#${hostId}`, sk: 'TURN' }),
};

export function hostShard(hostId: string): number {
  return createHash('sha256').update(hostId).digest()[0]! % HOST_LIST_SHARDS;
}

/** "1.2.0" → "000001.000002.000000~", pre-releases ("1.2.0-rc1") sort before the release. */
export function sortableSemver(v: string): string {
  const [core, pre] = v.split('-', 2) as [string, string | undefined];
  const padded = core.split('.').map((n) => n.padStart(6, '0')).join('.');
  return pre === undefined ? `${padded}~` : `${padded}-${pre}`;
}
