/**
 * Physical DynamoDB layout shared by the CDK data construct (lib/) and the DynamoDB adapters.
 * One definition: the local runtime creates its tables from the synthesized template, which
 * is built from these names.
 */
export const STATE_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAtEpoch',
  /** Project listings (hosts sharded by HOST_LIST_SHARDS, tokens, profiles, clusters, operations). */
  byProject: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  /** Hosts by site; operations by target. */
  bySecondary: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
  /** Hosts by cluster; open alerts by due time (`ALERTDUE#<shard>`, the re-notify sweep). */
  byCluster: { name: 'gsi3', partitionKey: 'gsi3pk', sortKey: 'gsi3sk' },
  /**
   * Unfinished commands by deadline (`CMDOPEN#<shard>`, the deadline sweep) and open operations
   * oldest first (`OPOPEN`, the operation sweep and the local resume). KEYS_ONLY: an item
   * is written to it when it enters (created) and when it leaves (finished), not on the writes
   * in between (the other indexes project ALL, so every write of an item in them is paid again
   * at the item's size). A reader gets keys and fetches the items it needs.
   */
  openByDeadline: { name: 'gsi4', partitionKey: 'gsi4pk', sortKey: 'gsi4sk', projection: 'KEYS_ONLY' },
} as const;

export const AUDIT_TABLE = {
  partitionKey: 'pk',
  sortKey: 'sk',
  ttlAttribute: 'expiresAtEpoch',
  byActor: { name: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' },
  byDay: { name: 'gsi2', partitionKey: 'gsi2pk', sortKey: 'gsi2sk' },
} as const;

/**
 * Host listings are spread over this many GSI partitions per project so that a batch
 * pre-registration of 10,000 hosts (or a morning of status changes) never concentrates on one
 * partition key (1,000 writes/s each). Changing it needs a backfill.
 */
export const HOST_LIST_SHARDS = 8;
