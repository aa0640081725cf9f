import type { PlanRefusalCode } from './upgrade-plan.js';

/**
 * How a refused upgrade plan is answered: `conflict` (409) when the cluster's state is the
 * reason (it may change: acknowledge the downtime, upgrade in steps, lower maxUnavailable),
 * `invalid` (400) when the request itself is wrong. Every refusal code is classified here: a
 * new code does not compile until it is.
 */
export type RefusalKind = 'conflict' | 'invalid';

export const PLAN_REFUSALS: Readonly<Record<PlanRefusalCode, RefusalKind>> = {
  'downtime-not-acknowledged': 'conflict',
  'version-skew': 'conflict',
  downgrade: 'conflict',
  'node-newer-than-target': 'conflict',
  'max-unavailable-too-high': 'conflict',
  'invalid-upgrade': 'invalid',
  'invalid-maintenance-window': 'invalid',
  'image-required': 'invalid',
};

export function refusalKind(code: PlanRefusalCode): RefusalKind {
  return PLAN_REFUSALS[code];
}
