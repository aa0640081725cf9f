import type { ClusterRecord, OperationRecord } from './model.js';
import type { RepaveDecision } from './repave.js';

/** A host task of a phase (contracts/workflows.ts `hostTask`). */
export interface PhaseTask {
  readonly hostId: string;
  readonly step: 'init' | 'join-control-plane' | 'join-worker' | 'drain' | 'remove-node' | 'reset' | 'restart' | 'reload' | 'wait-packs' | 'preflight' | 'upgrade' | 'export-kubeconfig';
  readonly subject?: string;
}

/** A node's tasks in a sequence phase, run one after the other (contracts/workflows.ts `nodeSequence`). */
export interface PhaseSequence {
  readonly hostId: string;
  readonly steps: PhaseTask[];
}

/** What a (non-upgrade) workflow does: its host tasks per phase, the hosts that must be online first, and whether it needs the join token. */
export type PhasePlan =
  | { readonly ok: true; readonly phases: Record<string, (PhaseTask | PhaseSequence)[]>; readonly needOnline: readonly string[]; readonly joinToken: boolean }
  | { readonly ok: false; readonly code: 'no-control-plane-peer' | 'not-a-workflow'; readonly message: string };

/** The facts a plan needs beyond the operation and the cluster (read by the begin step). */
export interface PhaseFacts {
  /** Hosts still claimed by the cluster (a delete resets only those). */
  readonly claimed?: ReadonlySet<string>;
  /** Create and scale-out: which joining hosts are repaved to the profile's image first (domain/repave.ts). */
  readonly repave?: Pick<RepaveDecision, 'repave'>;
  /** Create and reconfigure: the packs of the profile version the operation applies. */
  readonly packs?: readonly string[];
}

/** Each repaved host's sequence: preflight (disk room, image reachable), then the verified A/B upgrade into the profile's image. */
const repaveSequences = (facts: PhaseFacts): PhaseSequence[] =>
  (facts.repave?.repave ?? []).map((hostId) => ({ hostId, steps: [{ hostId, step: 'preflight' }, { hostId, step: 'upgrade' }] }));

/**
 * The phases of each workflow kind (the upgrade's come from its stored plan). Pure: every fact
 * that is read comes in `facts`: the claims (a delete resets only hosts still claimed), which
 * joining hosts need a repave, and the packs (CNI, CSI, add-ons) of the profile version the
 * operation applies: a create or a reconfigure that changes something ends with the init node
 * waiting until every one of them is ready (the `packs` phase, empty when the profile has none).
 */
export function planPhases(op: OperationRecord, cluster: Pick<ClusterRecord, 'name' | 'controlPlane' | 'workers'>, facts: PhaseFacts = {}): PhasePlan {
  const workers = cluster.workers.flatMap((w) => w.hostIds);
  const claimed = facts.claimed ?? new Set<string>();
  const initNode = cluster.controlPlane.hostIds[0];
  const waitPacks: PhaseTask[] = (facts.packs ?? []).length > 0 && initNode ? [{ hostId: initNode, step: 'wait-packs' }] : [];
  switch (op.type) {
    case 'create-cluster': {
      const [first, ...rest] = cluster.controlPlane.hostIds;
      return {
        ok: true, needOnline: [...cluster.controlPlane.hostIds, ...workers], joinToken: true,
        phases: {
          repave: repaveSequences(facts),
          init: first ? [{ hostId: first, step: 'init' }] : [],
          controlPlane: rest.map((hostId) => ({ hostId, step: 'join-control-plane' })),
          workers: workers.map((hostId) => ({ hostId, step: 'join-worker' })),
          kubeconfig: first ? [{ hostId: first, step: 'export-kubeconfig' }] : [],
          packs: waitPacks,
        },
      };
    }
    case 'scale-out': {
      const { add } = op.input;
      const toControlPlane = op.input.pool === 'control-plane';
      return {
        ok: true, needOnline: add, joinToken: true,
        phases: {
          repave: repaveSequences(facts),
          controlPlane: toControlPlane ? add.map((hostId) => ({ hostId, step: 'join-control-plane' })) : [],
          workers: toControlPlane ? [] : add.map((hostId) => ({ hostId, step: 'join-worker' })),
        },
      };
    }
    case 'scale-in': {
      const { remove } = op.input;
      const peer = cluster.controlPlane.hostIds.find((h) => !remove.includes(h));
      if (!peer) return { ok: false, code: 'no-control-plane-peer', message: `cluster ${cluster.name} would have no control-plane node left to drain from` };
      return {
        ok: true, needOnline: [peer], joinToken: false,
        phases: {
          drain: remove.flatMap((h) => [{ hostId: peer, step: 'drain' as const, subject: h }, { hostId: peer, step: 'remove-node' as const, subject: h }]),
          reset: remove.map((hostId) => ({ hostId, step: 'reset' })),
        },
      };
    }
    case 'reconfigure': {
      const { behaviour } = op.input;
      if (behaviour === 'no-op') return { ok: true, needOnline: [], joinToken: false, phases: { controlPlane: [], workers: [], packs: [] } };
      const step = behaviour === 'service-restart' ? 'restart' : 'reload';
      return {
        ok: true, needOnline: [...cluster.controlPlane.hostIds, ...workers], joinToken: true,
        phases: {
          controlPlane: cluster.controlPlane.hostIds.map((hostId) => ({ hostId, step })),
          workers: workers.map((hostId) => ({ hostId, step })),
          packs: waitPacks,
        },
      };
    }
    case 'delete-cluster':
      // Only hosts still claimed by this cluster: a failed create already released its hosts.
      return { ok: true, needOnline: [], joinToken: false, phases: { reset: [...cluster.controlPlane.hostIds, ...workers].filter((h) => claimed.has(h)).map((hostId) => ({ hostId, step: 'reset' })) } };
    case 'upgrade-cluster':
      return { ok: false, code: 'not-a-workflow', message: `operation ${op.id} is an upgrade, planned from its stored plan` };
    case 'agent-update':
      return { ok: false, code: 'not-a-workflow', message: `operation ${op.id} is a host's agent update: it follows its command, no workflow runs it` };
  }
}
