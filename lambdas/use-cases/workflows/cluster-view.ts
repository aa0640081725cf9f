import { z } from 'zod';
import type { NodeView } from '../../domain/availability.js';
import type { ClusterRecord, OperationRecord } from '../../domain/model.js';
import type { WorkflowDeps } from './deps.js';

/** The Kubernetes part of a stored status report (other fields are not read here). */
const kube = z.object({ kubernetes: z.object({ ready: z.boolean(), cordoned: z.boolean().optional() }).optional() });

/**
 * Every node of the cluster as the control plane sees it now: presence, the node's own last
 * report (Ready, cordoned) and this operation's last step on it. Two reads per node; a cluster
 * has at most 90 nodes.
 */
export async function clusterView(deps: Pick<WorkflowDeps, 'hosts' | 'status'>, cluster: Pick<ClusterRecord, 'controlPlane' | 'workers'>, op: Pick<OperationRecord, 'hosts'>): Promise<NodeView[]> {
  const nodes = [
    ...cluster.controlPlane.hostIds.map((hostId) => ({ hostId, role: 'control-plane' as const })),
    ...cluster.workers.flatMap((w) => w.hostIds.map((hostId) => ({ hostId, role: 'worker' as const }))),
  ];
  return Promise.all(nodes.map(async (n): Promise<NodeView> => {
    const [host, status] = await Promise.all([deps.hosts.get(n.hostId), deps.status.get(n.hostId)]);
    const parsed = kube.safeParse(status?.content);
    const k = parsed.success ? parsed.data.kubernetes : undefined;
    const progress = op.hosts[n.hostId];
    return {
      ...n, online: host?.presence === 'online',
      ...(k && status ? { report: { ready: k.ready, ...(k.cordoned !== undefined ? { cordoned: k.cordoned } : {}), storedAt: status.storedAt } } : {}),
      ...(progress ? { progress: { status: progress.status, ...(progress.step ? { step: progress.step } : {}), ...(progress.at ? { at: progress.at } : {}) } } : {}),
    };
  }));
}
