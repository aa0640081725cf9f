import type { z } from 'zod';
import { rolloutRecord, rolloutTarget, TARGET_STATES } from '../../../lambdas/contracts/rollouts.js';
import { TARGET_STATE_NAMES, type RolloutTargetRecord, type StoredRollout } from '../../../lambdas/domain/rollout.js';

/** Each way assignable: the domain's stored shapes and the wire schemas describe the same data. */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const rolloutSame: Same<z.infer<typeof rolloutRecord>, StoredRollout> = true;
const targetSame: Same<z.infer<typeof rolloutTarget>, RolloutTargetRecord> = true;

describe('rollout contracts = domain shapes', () => {
  it('the stored rollout and target shapes are the wire schemas (compile-time), and the target states are the same list', () => {
    expect([rolloutSame, targetSame]).toEqual([true, true]);
    expect([...TARGET_STATES]).toEqual([...TARGET_STATE_NAMES]);
  });
});
