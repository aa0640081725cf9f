import { sweepTunnels, type TunnelSweepResult } from '../../use-cases/sweep-tunnels.js';
import type { TunnelDeps } from '../../use-cases/tunnel-deps.js';
import { awsRoot } from '../composition-root.js';
import { entryPoint, lazy } from '../kit.js';
import { getLogger } from '../observability.js';

/**
 * Scheduled (every minute on AWS, a timer locally): closes the tunnels whose opener's
 * troubleshoot grant lapsed or was revoked, that expired, or whose host's side left (idle), and
 * audits each side's connect and disconnect (DescribeTunnel's connection states).
 */
export const makeHandler = (deps: () => TunnelDeps) => entryPoint<unknown, TunnelSweepResult>({
  kind: 'schedule', name: 'edgefleet-tunnel-sweeper',
}, async (_event, context) => {
  const out = await sweepTunnels(deps(), context.awsRequestId);
  if (out.closed.length > 0) getLogger().info('tunnels closed by the sweep', { tunnels: out.closed });
  return out;
});

export const handler = lazy(() => makeHandler(() => awsRoot(['stateTable', 'auditTable']).http.tunnels));
