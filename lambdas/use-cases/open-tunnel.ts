import type { z } from 'zod';
import { TUNNEL_SERVICE, type openTunnelBody } from '../contracts/tunnels.js';
import { ConflictError } from '../domain/errors.js';
import { decideOpen, tempUserFor, type TunnelRecord } from '../domain/tunnel.js';
import { auditEvent, authorizeAudited, visible, type RequestContext } from './context.js';
import { issueCommand } from './device-messages.js';
import { hostNotFound } from './hosts.js';
import { currentTunnels } from './list-tunnels.js';
import { requireGrant } from './troubleshoot-grants.js';
import type { TunnelDeps } from './tunnel-deps.js';

export interface OpenedTunnel {
  readonly tunnel: TunnelRecord;
  readonly endpoint: string;
  /** A secret: returned once, never stored. */
  readonly sourceAccessToken: string;
}

const detail = (t: Pick<TunnelRecord, 'reason' | 'durationMinutes' | 'user'>, extra = '') =>
  `reason: ${t.reason}; duration ${t.durationMinutes} min; user ${t.user}${extra}`;

/**
 * open-tunnel: checks the role and the stored troubleshoot grant (a refusal is audited), the host (approved, online, remote access
 * not switched off, no other open tunnel: a refusal is audited too), records the tunnel as
 * requested, opens it on the Secure Tunneling service (IoT Core tells the device on its notify
 * topic), sends the host the `troubleshoot-user` command with the one-time public key, and
 * records it open. The source token goes back to the caller only.
 */
export async function openTunnel(deps: TunnelDeps, ctx: RequestContext, hostId: string, input: z.infer<typeof openTunnelBody>): Promise<OpenedTunnel> {
  const resource = `host/${hostId}`;
  await authorizeAudited(deps, ctx, 'hosts:troubleshoot', 'tunnel.open', resource);
  // The host first: another project's host is a 404 whatever the caller holds.
  const host = visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
  try {
    await requireGrant(deps, ctx);
  } catch (e) {
    await auditEvent(deps, ctx, 'tunnel.open', 'denied', resource, (e as Error).message);
    throw e;
  }
  const now = deps.clock.now();
  const reported = (await deps.status.get(hostId))?.content.remoteAccess;
  const open = (await currentTunnels(deps, hostId)).filter((t) => t.state !== 'closed');
  const refusal = decideOpen(hostId, { status: host.status, presence: host.presence, ...(typeof reported === 'boolean' ? { remoteAccess: reported } : {}) }, open.length);
  const audit = (outcome: 'success' | 'failed', res: string, text: string) => deps.audit.record({
    id: deps.ids.newId(), project: ctx.project, time: deps.clock.now().toISOString(), actor: ctx.principal.subject,
    action: 'tunnel.open', resource: res, outcome, requestId: ctx.requestId, detail: text,
  });
  if (refusal) {
    await audit('failed', resource, `refused (${refusal.code}): ${refusal.message}; reason given: ${input.reason}`);
    throw new ConflictError(refusal.code, refusal.message);
  }

  const id = deps.ids.newId();
  const idle = input.idleTimeoutMinutes ?? Math.min(30, input.durationMinutes);
  const requested: TunnelRecord = {
    id, project: ctx.project, hostId, state: 'requested', reason: input.reason, actor: ctx.principal.subject,
    durationMinutes: input.durationMinutes, idleTimeoutMinutes: Math.min(idle, input.durationMinutes), user: tempUserFor(id),
    createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + input.durationMinutes * 60_000).toISOString(), version: 1,
  };
  if (!(await deps.tunnels.create(requested))) throw new ConflictError('tunnel-exists', `tunnel ${id} already exists; try again`);

  let service: Awaited<ReturnType<TunnelDeps['tunnelService']['open']>>;
  try {
    service = await deps.tunnelService.open(hostId, [TUNNEL_SERVICE], input.durationMinutes);
  } catch (e) {
    await deps.tunnels.update({ ...requested, state: 'closed', closeReason: 'failed', closedAt: deps.clock.now().toISOString(), version: 2 });
    await audit('failed', `tunnel/${id}`, `the tunnel service refused: ${(e as Error).message}`);
    throw e;
  }
  const opened: TunnelRecord = { ...requested, state: 'open', serviceTunnelId: service.tunnelId, version: 2 };
  await deps.tunnels.update(opened);
  await issueCommand(deps, hostId, {
    commandId: `tunnel-${id}-add`, type: 'troubleshoot-user', deadline: opened.expiresAt,
    params: { action: 'add', user: opened.user, publicKey: input.publicKey, tunnelId: id, expiresAt: opened.expiresAt, idleTimeoutMinutes: opened.idleTimeoutMinutes },
  });
  await audit('success', `tunnel/${id}`, detail(opened, `; host ${hostId}`));
  return { tunnel: opened, endpoint: await deps.tunnelService.endpoint(), sourceAccessToken: service.sourceAccessToken };
}
