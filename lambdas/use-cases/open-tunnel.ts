import type { z } from 'zod';
import { TUNNEL_SERVICE, type openTunnelBody } from '../contracts/tunnels.js';
import { ConflictError } from '../domain/errors.js';
import type { HostStatus } from '../domain/host-lifecycle.js';
import { APPROVAL_WAIT_MINUTES, decideOpen, tempUserFor, type TunnelRecord } from '../domain/tunnel.js';
import { auditEvent, authorizeAudited, visible, type RequestContext } from './context.js';
import { issueCommand } from './device-messages.js';
import { hostNotFound } from './hosts.js';
import { currentTunnels } from './list-tunnels.js';
import { requireGrant } from './troubleshoot-grants.js';
import type { TunnelDeps } from './tunnel-deps.js';

export interface OpenedTunnel {
  readonly tunnel: TunnelRecord;
  /** Absent while the request waits for approval. */
  readonly endpoint?: string;
  /** A secret: returned once, to the requester only, never stored. Absent while pending. */
  readonly sourceAccessToken?: string;
}

const detail = (t: Pick<TunnelRecord, 'reason' | 'durationMinutes' | 'user'>, extra = '') =>
  `reason: ${t.reason}; duration ${t.durationMinutes} min; user ${t.user}${extra}`;

type AuditFn = (outcome: 'success' | 'failed', res: string, text: string) => Promise<void>;
const auditAs = (deps: TunnelDeps, ctx: RequestContext, action: string): AuditFn => (outcome, res, text) => deps.audit.record({
  id: deps.ids.newId(), project: ctx.project, time: deps.clock.now().toISOString(), actor: ctx.principal.subject,
  action, resource: res, outcome, requestId: ctx.requestId, detail: text,
});

/** The role (route), the host (404 across projects), the stored grant; a refusal is audited as denied. */
export async function checkCaller(deps: TunnelDeps, ctx: RequestContext, hostId: string, auditAction: string) {
  const resource = `host/${hostId}`;
  await authorizeAudited(deps, ctx, 'hosts:troubleshoot', auditAction, resource);
  // The host first: another project's host is a 404 whatever the caller holds.
  const host = visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
  try {
    await requireGrant(deps, ctx);
  } catch (e) {
    await auditEvent(deps, ctx, auditAction, 'denied', resource, (e as Error).message);
    throw e;
  }
  return host;
}

/** May a tunnel to the host be opened now (other than `except`)? A refusal is audited (failed) and thrown (409). */
export async function checkHost(deps: TunnelDeps, host: { id: string; status: HostStatus; presence: 'online' | 'offline' }, audit: AuditFn, reason: string, except?: string): Promise<void> {
  const reported = (await deps.status.get(host.id))?.content.remoteAccess;
  const open = (await currentTunnels(deps, host.id)).filter((t) => t.state !== 'closed' && t.id !== except);
  const refusal = decideOpen(host.id, { status: host.status, presence: host.presence, ...(typeof reported === 'boolean' ? { remoteAccess: reported } : {}) }, open.length);
  if (refusal) {
    await audit('failed', `host/${host.id}`, `refused (${refusal.code}): ${refusal.message}; reason given: ${reason}`);
    throw new ConflictError(refusal.code, refusal.message);
  }
}

/**
 * open-tunnel: checks the role and the stored troubleshoot grant (a refusal is audited), the
 * host (approved, online, remote access not switched off, no other tunnel: a refusal is audited
 * too). When the project requires second-person approval the request is recorded
 * `pending-approval` and nothing is opened (`tunnel.request` audited); otherwise it is opened
 * at once (openOnService).
 */
export async function openTunnel(deps: TunnelDeps, ctx: RequestContext, hostId: string, input: z.infer<typeof openTunnelBody>): Promise<OpenedTunnel> {
  const host = await checkCaller(deps, ctx, hostId, 'tunnel.open');
  await checkHost(deps, host, auditAs(deps, ctx, 'tunnel.open'), input.reason);
  const now = deps.clock.now();
  const approval = (await deps.grants.getSettings(ctx.project))?.approval === 'required';
  const id = deps.ids.newId();
  const idle = input.idleTimeoutMinutes ?? Math.min(30, input.durationMinutes);
  const base: TunnelRecord = {
    id, project: ctx.project, hostId, state: 'requested', reason: input.reason, actor: ctx.principal.subject,
    durationMinutes: input.durationMinutes, idleTimeoutMinutes: Math.min(idle, input.durationMinutes), user: tempUserFor(id),
    createdAt: now.toISOString(), expiresAt: new Date(now.getTime() + input.durationMinutes * 60_000).toISOString(), version: 1,
  };
  if (approval) {
    const pending: TunnelRecord = {
      ...base, state: 'pending-approval', publicKey: input.publicKey, expiresAt: new Date(now.getTime() + (deps.approvalWaitMs ?? APPROVAL_WAIT_MINUTES * 60_000)).toISOString(),
    };
    if (!(await deps.tunnels.create(pending))) throw new ConflictError('tunnel-exists', `tunnel ${id} already exists; try again`);
    await auditAs(deps, ctx, 'tunnel.request')('success', `tunnel/${id}`,
      `${detail(pending, `; host ${hostId}`)}; waits for a second person's approval until ${pending.expiresAt}`);
    return { tunnel: pending };
  }
  if (!(await deps.tunnels.create(base))) throw new ConflictError('tunnel-exists', `tunnel ${id} already exists; try again`);
  return openOnService(deps, ctx, base, input.publicKey);
}

/**
 * Opens a recorded `requested` tunnel on the Secure Tunneling service (IoT Core tells the device
 * on its notify topic), sends the host the `troubleshoot-user` command with the one-time public
 * key, records it open and audits `tunnel.open`. The source token goes back to the caller only.
 */
export async function openOnService(deps: TunnelDeps, ctx: RequestContext, requested: TunnelRecord, publicKey: string): Promise<OpenedTunnel> {
  const audit = auditAs(deps, ctx, 'tunnel.open');
  const { id, hostId } = requested;
  let service: Awaited<ReturnType<TunnelDeps['tunnelService']['open']>>;
  try {
    service = await deps.tunnelService.open(hostId, [TUNNEL_SERVICE], requested.durationMinutes);
  } catch (e) {
    await deps.tunnels.update({ ...requested, state: 'closed', closeReason: 'failed', closedAt: deps.clock.now().toISOString(), version: requested.version + 1 });
    await audit('failed', `tunnel/${id}`, `the tunnel service refused: ${(e as Error).message}`);
    throw e;
  }
  const { publicKey: _key, ...rest } = requested;
  const opened: TunnelRecord = { ...rest, state: 'open', serviceTunnelId: service.tunnelId, version: requested.version + 1 };
  await deps.tunnels.update(opened);
  await issueCommand(deps, hostId, {
    commandId: `tunnel-${id}-add`, type: 'troubleshoot-user', deadline: opened.expiresAt,
    params: { action: 'add', user: opened.user, publicKey, tunnelId: id, expiresAt: opened.expiresAt, idleTimeoutMinutes: opened.idleTimeoutMinutes },
  });
  await audit('success', `tunnel/${id}`, detail(opened, `; host ${hostId}${opened.approvedBy ? `; approved by ${opened.approvedBy}` : ''}`));
  return { tunnel: opened, endpoint: await deps.tunnelService.endpoint(), sourceAccessToken: service.sourceAccessToken };
}
