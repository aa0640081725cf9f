/** Filters of the operations and rollouts lists, kept in the address (`#/operations?targetType=cluster&targetId=c-1`). Pure. */
export const TARGET_TYPES = ['cluster', 'host'] as const;
export const ROLLOUT_STATUSES = ['planning', 'running', 'paused', 'aborting', 'cancelling', 'succeeded', 'incomplete', 'aborted', 'cancelled', 'superseded', 'failed'] as const;
export const ROLLOUT_ENDED: ReadonlySet<string> = new Set(['succeeded', 'incomplete', 'aborted', 'cancelled', 'superseded', 'failed']);
export const OPERATION_ENDED: ReadonlySet<string> = new Set(['succeeded', 'failed', 'cancelled']);

export const OPERATION_STATUSES = ['queued', 'running', 'paused', 'succeeded', 'failed', 'cancelled'] as const;
export const OPERATION_TYPES = ['create-cluster', 'scale-out', 'scale-in', 'reconfigure', 'upgrade-cluster', 'delete-cluster'] as const;

export interface OperationFilters {
  readonly targetType?: (typeof TARGET_TYPES)[number];
  readonly targetId?: string;
  readonly status?: (typeof OPERATION_STATUSES)[number];
  readonly type?: (typeof OPERATION_TYPES)[number];
}

const ID = /^[A-Za-z0-9_.:-]{1,64}$/;

/** The API filters operations on a target (type and id together: a half or malformed target is dropped), a status and a type. */
export function operationFiltersFrom(params: URLSearchParams): OperationFilters {
  const id = params.get('targetId')?.trim();
  const t = TARGET_TYPES.find((x) => x === params.get('targetType'));
  const status = OPERATION_STATUSES.find((x) => x === params.get('status'));
  const type = OPERATION_TYPES.find((x) => x === params.get('type'));
  return { ...(t && id && ID.test(id) ? { targetType: t, targetId: id } : {}), ...(status ? { status } : {}), ...(type ? { type } : {}) };
}

export function operationsHref(f: OperationFilters): string {
  const q = new URLSearchParams();
  if (f.targetType && f.targetId) { q.set('targetType', f.targetType); q.set('targetId', f.targetId); }
  if (f.status) q.set('status', f.status);
  if (f.type) q.set('type', f.type);
  const s = q.toString();
  return s ? `#/operations?${s}` : '#/operations';
}

export interface RolloutFilters { readonly status?: (typeof ROLLOUT_STATUSES)[number] }

export function rolloutFiltersFrom(params: URLSearchParams): RolloutFilters {
  const s = ROLLOUT_STATUSES.find((x) => x === params.get('status'));
  return s ? { status: s } : {};
}

export function rolloutsHref(f: RolloutFilters): string {
  return f.status ? `#/rollouts?status=${f.status}` : '#/rollouts';
}
