import { z } from 'zod';
import { statusMessage } from '../../contracts/mqtt.js';
import { judgeAtTarget, type NodeTarget, type ReportedNode, type TargetVerdict } from '../../domain/node-identity.js';
import type { StatusStore } from '../../ports/device-plane.js';

/**
 * A node's real state, from its last stored status report (the agent's own report of the
 * booted partition, the running image's identity, the partitions' contents and Kubernetes).
 * Reports that do not parse are treated as no report: nothing is decided on unchecked data.
 */

type StatusDeps = { readonly status: Pick<StatusStore, 'get'> };

/** The parts of a stored status report the upgrade decisions read (other fields are ignored). */
const reported = z.object({ boot: statusMessage.shape.boot, kubernetes: statusMessage.shape.kubernetes });

export async function reportedNode(deps: StatusDeps, hostId: string): Promise<ReportedNode | undefined> {
  const content = (await deps.status.get(hostId))?.content;
  const parsed = reported.safeParse(content);
  if (!parsed.success) return undefined;
  const { boot, kubernetes } = parsed.data;
  return { boot, ...(kubernetes ? { kubernetes } : {}) };
}

/** Whether the node runs the target (image identity, flavour, booted active, kubelet Ready), with the reason when not. */
export async function verifyAtTarget(deps: StatusDeps, hostId: string, target: NodeTarget): Promise<TargetVerdict> {
  return judgeAtTarget(hostId, await reportedNode(deps, hostId), target);
}

/** Whether the host's last status report says it already runs the target. */
export async function atTarget(deps: StatusDeps, hostId: string, target: NodeTarget): Promise<boolean> {
  return (await verifyAtTarget(deps, hostId, target)).at;
}
