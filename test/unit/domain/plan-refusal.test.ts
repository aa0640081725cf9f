import { PLAN_REFUSALS, refusalKind, type RefusalKind } from '../../../lambdas/domain/plan-refusal.js';
import type { PlanRefusalCode } from '../../../lambdas/domain/upgrade-plan.js';

describe('refusalKind(): how a refused upgrade plan is answered', () => {
  it.each<[PlanRefusalCode, RefusalKind]>([
    // the cluster's state is the reason: 409, the same request may pass later
    ['downtime-not-acknowledged', 'conflict'],
    ['version-skew', 'conflict'],
    ['downgrade', 'conflict'],
    ['node-newer-than-target', 'conflict'],
    ['max-unavailable-too-high', 'conflict'],
    // the request itself is wrong: 400
    ['invalid-upgrade', 'invalid'],
    ['invalid-maintenance-window', 'invalid'],
    ['image-required', 'invalid'],
  ])('%s → %s', (code, kind) => {
    expect(refusalKind(code)).toBe(kind);
  });

  it('classifies exactly the codes the planner refuses with', () => {
    expect(Object.keys(PLAN_REFUSALS).sort()).toEqual([
      'downgrade', 'downtime-not-acknowledged', 'image-required', 'invalid-maintenance-window', 'invalid-upgrade',
      'max-unavailable-too-high', 'node-newer-than-target', 'version-skew',
    ]);
  });
});
