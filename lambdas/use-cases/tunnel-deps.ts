import type { StatusStore } from '../ports/device-plane.js';
import type { TroubleshootGrantRepository, TunnelRepository, TunnelService } from '../ports/tunnels.js';
import type { Deps } from './context.js';
import type { CommandDeps } from './device-messages.js';

/** What the tunnel use cases need. */
export interface TunnelDeps extends Pick<Deps, 'clock' | 'ids' | 'hosts' | 'audit'>, CommandDeps {
  readonly tunnels: TunnelRepository;
  readonly tunnelService: TunnelService;
  /** Stored troubleshoot grants (who may open a remote shell in a project). */
  readonly grants: TroubleshootGrantRepository;
  readonly status: Pick<StatusStore, 'get'>;
}

/** How many of a host's tunnels a list shows (newest first). */
export const TUNNEL_LIST_LIMIT = 50;
