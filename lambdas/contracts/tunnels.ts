import { z } from 'zod';
import { isoTime, page, safeText } from './common.js';

/**
 * Remote shell through AWS IoT Secure Tunneling: the API's wire shapes, the notify message IoT
 * Core sends to the device, and the `troubleshoot-user` command parameters.
 */

/** OpenTunnel's timeoutConfig.maxLifetimeTimeoutMinutes: 1..720 (12 h). */
export const MAX_TUNNEL_MINUTES = 720;
/** The one service a tunnel carries: the host's sshd. */
export const TUNNEL_SERVICE = 'SSH';

/** An OpenSSH ed25519 public key on one line (what `edgefleet hosts shell` generates). */
export const sshEd25519PublicKey = z.string().max(200)
  .regex(/^ssh-ed25519 [A-Za-z0-9+/]{68}(?: [\x21-\x7e]{1,64})?$/, 'an OpenSSH ed25519 public key ("ssh-ed25519 AAAA… [comment]")');

export const openTunnelBody = z.strictObject({
  /** Why: shown in the audit trail and the tunnel's record. */
  reason: safeText(500).pipe(z.string().min(3, 'say why (at least 3 characters)')),
  durationMinutes: z.number().int().min(1).max(MAX_TUNNEL_MINUTES).default(60),
  /** The agent ends the session after this long without traffic. @default min(30, durationMinutes) */
  idleTimeoutMinutes: z.number().int().min(1).max(MAX_TUNNEL_MINUTES).optional(),
  /** The one-time public key the temporary user on the host accepts. */
  publicKey: sshEd25519PublicKey,
});

export const tunnelState = z.enum(['requested', 'open', 'closed']);
export const tunnelCloseReason = z.enum(['deleted', 'expired', 'revoked', 'idle', 'failed']);

export const tunnel = z.object({
  id: z.string(),
  hostId: z.string(),
  project: z.string(),
  state: tunnelState,
  reason: z.string(),
  actor: z.string(),
  durationMinutes: z.number().int(),
  idleTimeoutMinutes: z.number().int(),
  /** The temporary user on the host (`ssh <user>@…`). */
  user: z.string(),
  createdAt: isoTime,
  expiresAt: isoTime,
  closedAt: isoTime.optional(),
  closeReason: tunnelCloseReason.optional(),
  closedBy: z.string().optional(),
  /** Whether the operator's side (source) and the host's side (destination) are connected (as of the read, for an open tunnel). */
  sourceConnected: z.boolean().optional(),
  destinationConnected: z.boolean().optional(),
});

/** POST's answer: the tunnel plus what the source side needs, shown once. */
export const openedTunnel = tunnel.extend({
  /** The Secure Tunneling data endpoint (`wss://data.tunneling.iot.<region>.amazonaws.com`; locally the relay). */
  endpoint: z.string(),
  /** The source access token: a secret, single use, never stored. */
  sourceAccessToken: z.string(),
});

export const tunnelList = page(tunnel);
export const listTunnelsQuery = z.strictObject({ state: tunnelState.optional() });

/**
 * What IoT Core publishes on `$aws/things/<thing>/tunnels/notify` when a tunnel opens (AWS IoT
 * developer guide, "Secure tunneling" → "IoT agent snippet"): the destination access token,
 * its mode, the region of the data endpoint and the services.
 */
export const tunnelNotify = z.object({
  clientAccessToken: z.string().min(1).max(4096),
  clientMode: z.enum(['source', 'destination']),
  region: z.string().min(1).max(64),
  services: z.array(z.string().min(1).max(128)).min(1).max(3),
});
export type TunnelNotify = z.infer<typeof tunnelNotify>;
export const tunnelNotifyTopic = (thingName: string) => `$aws/things/${thingName}/tunnels/notify`;

/** Temporary users are `ef-` and 8 lowercase hex digits: a name no install uses. */
export const tempUserName = z.string().regex(/^ef-[0-9a-f]{8}$/, 'a temporary user name (ef-xxxxxxxx)');

/** Parameters of the `troubleshoot-user` command: add (with the key and expiry) or remove the temporary user. */
export const troubleshootUserParams = z.discriminatedUnion('action', [
  z.strictObject({
    action: z.literal('add'), user: tempUserName, publicKey: sshEd25519PublicKey, tunnelId: z.string().min(1).max(64),
    expiresAt: isoTime, idleTimeoutMinutes: z.number().int().min(1).max(MAX_TUNNEL_MINUTES),
  }),
  z.strictObject({ action: z.literal('remove'), user: tempUserName, tunnelId: z.string().min(1).max(64) }),
]);
export type TroubleshootUserParams = z.infer<typeof troubleshootUserParams>;
