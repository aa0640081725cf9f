import { z } from 'zod';
import { inventory } from '../../contracts/device.js';
import { statusMessage } from '../../contracts/mqtt.js';
import type { InitNodeAddresses } from '../../domain/control-plane-address.js';
import { judgeAtTarget, type NodeTarget, type ReportedNode, type TargetVerdict } from '../../domain/node-identity.js';
import type { StatusStore } from '../../ports/device-plane.js';
import type { HostRepository } from '../../ports/index.js';

/**
 * A node's real state, from its last stored status report (the agent's own report of the
 * booted partition, the running image's identity, the partitions' contents and Kubernetes).
 * Reports that do not parse are treated as no report: nothing is decided on unchecked data.
 */

type StatusDeps = { readonly status: Pick<StatusStore, 'get'> };
type HostDeps = { readonly hosts: Pick<HostRepository, 'get'> };

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

const reportedAddresses = z.object({ addresses: statusMessage.shape.addresses });

/** The addresses a host reports: its latest status report's, and its registration inventory's NICs (unparsable parts are left out). */
export async function hostAddresses(deps: StatusDeps & HostDeps, hostId: string): Promise<InitNodeAddresses> {
  const [status, host] = await Promise.all([deps.status.get(hostId), deps.hosts.get(hostId)]);
  const reported = reportedAddresses.safeParse(status?.content);
  const inv = inventory.safeParse(host?.inventory);
  return {
    hostId,
    ...(reported.success && reported.data.addresses ? { reported: reported.data.addresses } : {}),
    ...(inv.success ? { inventory: inv.data.nics } : {}),
  };
}
