import { z } from 'zod';

/**
 * An operation, as stored and served (`GET /v1/operations/{id}`): a discriminated union by
 * `type`, one member per workflow kind, each with its typed `input`, and typed per-host
 * progress. Defined once here; the domain's `OperationRecord` (lambdas/domain/model.ts) is the
 * same type (a compile-time test in test/unit/contracts/operations.test.ts keeps them equal,
 * since the domain imports nothing outside itself). A new kind slots in as one more member.
 */

// ---------- per-host progress ----------

/**
 * Where a host stands in an operation: `pending` (planned), `queued` (its command is stored),
 * then the command's own states (sent → accepted → progress → succeeded | failed | timed-out |
 * superseded); `claimed`, `skipped` and `released` are shown by the CLI for older records.
 */
export const hostProgressStatus = z.enum([
  'pending', 'claimed', 'queued', 'sent', 'accepted', 'progress', 'succeeded', 'failed', 'timed-out', 'superseded', 'skipped', 'released',
]);
export type HostProgressStatus = z.infer<typeof hostProgressStatus>;

export const hostProgress = z.object({
  status: hostProgressStatus,
  /** The workflow step the host is at (a host step, or `verified` when found at the target). */
  step: z.string().optional(),
  detail: z.string().optional(),
  commandId: z.string().optional(),
  at: z.string().optional(),
});
export type HostProgress = z.infer<typeof hostProgress>;

// ---------- shared input parts ----------

export const profileRef = z.object({ name: z.string(), version: z.string() });
export const topology = z.object({
  controlPlane: z.object({ hostIds: z.array(z.string()) }),
  workers: z.array(z.object({ name: z.string(), hostIds: z.array(z.string()) })),
});
export const changeBehaviour = z.enum(['no-op', 'reload', 'service-restart', 'reboot', 'repave']);
export const layerChange = z.object({
  layer: z.string(),
  change: z.enum(['added', 'removed', 'version', 'pack', 'image', 'values']),
  behaviour: changeBehaviour,
  reason: z.string(),
});

/** One node of an upgrade plan (lambdas/domain/upgrade-plan.ts `NodePlan`). */
export const nodePlan = z.object({
  hostId: z.string(),
  role: z.enum(['control-plane', 'worker']),
  pool: z.string(),
  behaviour: changeBehaviour,
  steps: z.array(z.object({
    step: z.enum(['preflight', 'cordon', 'drain', 'upgrade', 'reboot', 'uncordon', 'restart', 'reload']),
    on: z.enum(['node', 'peer']),
  })),
});

/** The stored rolling-upgrade plan (lambdas/domain/upgrade-plan.ts `UpgradePlan`). */
export const upgradePlan = z.object({
  behaviour: changeBehaviour,
  changes: z.array(layerChange),
  controlPlane: z.array(nodePlan),
  workers: z.array(nodePlan),
  maxUnavailable: z.number(),
  target: z.object({ image: z.string().optional(), kairosVersion: z.string().optional(), flavor: z.string().optional(), kubeletVersion: z.string() }),
  downtime: z.object({ expected: z.boolean(), reason: z.string().optional(), estimatedSeconds: z.number().optional() }),
  skippedWorkers: z.boolean(),
});

// ---------- inputs per kind ----------

export const scaleOutInput = z.object({ pool: z.string(), add: z.array(z.string()), after: topology });
export const scaleInInput = z.object({ pool: z.string(), remove: z.array(z.string()), after: topology });
/** A reconfigure's variables: the cluster's values after it, and which variables it changes (names only). */
export const reconfigureVariables = z.object({
  /** Non-secret values after the reconfigure (the cluster takes them when it succeeds). */
  values: z.record(z.string(), z.union([z.string(), z.number(), z.boolean()])),
  /** Names of the secret variables set after it (values in the secret store). */
  secrets: z.array(z.string()),
  /** Names of the variables this reconfigure changes, secret ones included. */
  changed: z.array(z.string()),
});
export const reconfigureInput = z.object({ profile: profileRef, behaviour: changeBehaviour, changes: z.array(layerChange), variables: reconfigureVariables.optional() });
export const upgradeInput = z.object({
  to: profileRef,
  from: profileRef,
  /** `none`: a rollback, which is not rolled back again. @default rollback */
  onFailure: z.enum(['rollback', 'pause', 'none']).optional(),
  /** @default 600 */
  drainTimeoutSeconds: z.number().optional(),
  /** A maintenance window's start: the operation stays queued until then. */
  notBefore: z.string().optional(),
  window: z.object({ start: z.string(), end: z.string() }).optional(),
  plan: upgradePlan,
  /** The failed upgrade this one rolls back. */
  rollbackOf: z.string().optional(),
  /** The cluster's variables after the upgrade, when it sets any (as a reconfigure's). */
  variables: reconfigureVariables.optional(),
  /** The rollback upgrade started when this one failed. */
  rolledBackBy: z.string().optional(),
});

/** A host's agent update (POST /v1/hosts/{hostId}/agent-update): the version asked for and the one reported before. */
export const agentUpdateInput = z.object({ version: z.string(), from: z.string().optional(), commandId: z.string() });

// ---------- the operation ----------

export const operationStatus = z.enum(['queued', 'running', 'succeeded', 'failed', 'cancelled', 'paused']);

const base = {
  id: z.string(),
  project: z.string(),
  target: z.object({ type: z.enum(['cluster', 'host']), id: z.string() }),
  status: operationStatus,
  step: z.string(),
  hosts: z.record(z.string(), hostProgress),
  reason: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  /** After this time the operation is ended as failed (reason deadline-passed) by the sweep. */
  deadline: z.string().optional(),
  /** Who asked for it. */
  requestedBy: z.string().optional(),
  /** The current workflow execution's name (the operation id; `<id>-r<n>` after a resume). */
  execution: z.string().optional(),
  /** How many executions it has had (a resumed upgrade runs again). */
  runs: z.number().optional(),
  /** Set (with the reason) the moment the operation starts to end: no run of it sends a command any more. */
  ending: z.string().optional(),
  /** Steps a host did not need, with the reason (a create's repave of a host already at the profile's image). */
  skipped: z.array(z.object({ hostId: z.string(), step: z.string(), reason: z.string() })).optional(),
};

export const createClusterOperation = z.object({ ...base, type: z.literal('create-cluster') });
export const scaleOutOperation = z.object({ ...base, type: z.literal('scale-out'), input: scaleOutInput });
export const scaleInOperation = z.object({ ...base, type: z.literal('scale-in'), input: scaleInInput });
export const reconfigureOperation = z.object({ ...base, type: z.literal('reconfigure'), input: reconfigureInput });
export const deleteClusterOperation = z.object({ ...base, type: z.literal('delete-cluster') });
export const upgradeOperation = z.object({ ...base, type: z.literal('upgrade-cluster'), input: upgradeInput });

/** Per host (target.type host), no workflow: it follows its one command and the host's reported agent version. */
export const agentUpdateOperation = z.object({ ...base, type: z.literal('agent-update'), input: agentUpdateInput });

export const operationRecord = z.discriminatedUnion('type', [
  createClusterOperation, scaleOutOperation, scaleInOperation, reconfigureOperation, deleteClusterOperation, upgradeOperation, agentUpdateOperation,
]);
export type Operation = z.infer<typeof operationRecord>;
export type OperationType = Operation['type'];

/** Parses a stored or served operation; throws with every problem listed when it does not fit. */
export function parseOperation(data: unknown): Operation {
  const parsed = operationRecord.safeParse(data);
  if (parsed.success) return parsed.data;
  const id = data && typeof data === 'object' && 'id' in data ? String(data.id) : '?';
  throw new Error(`operation ${id} does not match the operation schema: ${parsed.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
}

// ---------- a tolerant view for displays ----------

/**
 * An operation as a client reads it from any server version: the envelope is checked, the
 * kind-specific parts are read with the views below (a display must still show the hosts of a
 * record whose input it does not understand).
 */
export const operationView = z.object({
  id: z.string(),
  project: z.string(),
  type: z.string(),
  target: z.object({ type: z.string(), id: z.string() }),
  status: operationStatus,
  step: z.string(),
  hosts: z.record(z.string(), z.object({
    status: z.string(), step: z.string().optional(), detail: z.string().optional(), commandId: z.string().optional(), at: z.string().optional(),
  })),
  reason: z.string().optional(),
  startedAt: z.string(),
  endedAt: z.string().optional(),
  updatedAt: z.string().optional(),
  deadline: z.string().optional(),
  input: z.unknown().optional(),
  requestedBy: z.string().optional(),
  skipped: z.array(z.object({ hostId: z.string(), step: z.string(), reason: z.string() })).optional().catch(undefined),
});
export type OperationView = z.infer<typeof operationView>;

const loose = <T extends z.ZodType>(s: T) => s.optional().catch(undefined);

/**
 * The parts of an upgrade operation's input a display shows, each read on its own: a part
 * that does not fit (an older or malformed record) is left out instead of hiding the rest.
 * `skippedWorkers` may also list the workers left out (older plans did).
 */
export const upgradeInputView = z.object({
  from: loose(z.object({ name: z.string().optional().catch(undefined), version: z.string() })),
  to: loose(z.object({ name: z.string().optional().catch(undefined), version: z.string() })),
  onFailure: loose(z.string()),
  rollbackOf: loose(z.union([z.string(), z.object({ upgradeId: z.string() }).transform((r) => r.upgradeId)])),
  rolledBackBy: loose(z.union([z.string(), z.object({ upgradeId: z.string() }).transform((r) => r.upgradeId)])),
  plan: loose(z.object({
    behaviour: loose(z.string()),
    changes: z.array(z.object({
      layer: z.string().catch(''), change: z.string().catch(''), behaviour: z.string().catch(''), reason: loose(z.string()),
    }).catch({ layer: '', change: '', behaviour: '', reason: undefined })).catch([]),
    controlPlane: z.array(z.unknown()).catch([]),
    workers: z.array(z.unknown()).catch([]),
    maxUnavailable: loose(z.number()),
    downtime: loose(z.object({ expected: z.boolean(), reason: loose(z.string()), estimatedSeconds: loose(z.number()) })),
    skippedWorkers: z.union([z.boolean(), z.array(z.unknown())]).catch(false),
  })),
}).catch({});

/** A plan node as a display reads it: nodes without a host id and steps without a name are dropped. */
export const nodePlanView = z.object({
  hostId: z.string(),
  role: z.string().catch(''),
  pool: z.string().catch(''),
  behaviour: z.string().catch(''),
  steps: z.array(z.unknown()).catch([]),
});
export const plannedStepView = z.object({ step: z.string(), on: loose(z.string()) });
