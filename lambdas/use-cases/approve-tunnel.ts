import { roleIn } from '../domain/authz.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../domain/errors.js';
import { grantActive } from '../domain/troubleshoot-grant.js';
import { APPROVAL_WAIT_MINUTES, decideApproval, effectiveTunnel, type TunnelRecord } from '../domain/tunnel.js';
import { auditEvent, authorizeAudited, visible, type RequestContext } from './context.js';
import { hostNotFound } from './hosts.js';
import { checkCaller, checkHost, openOnService, type OpenedTunnel } from './open-tunnel.js';
import type { TunnelDeps } from './tunnel-deps.js';

const tunnelNotFound = (hostId: string, id: string) => new NotFoundError('tunnel-not-found', `tunnel ${id} does not exist on host ${hostId} in this project`);

async function load(deps: TunnelDeps, ctx: RequestContext, hostId: string, id: string): Promise<TunnelRecord> {
  const t = await deps.tunnels.get(id);
  if (!t || t.project !== ctx.project || t.hostId !== hostId) throw tunnelNotFound(hostId, id);
  return t;
}

/**
 * approve-tunnel: a second person (a project admin, or an operator holding a troubleshoot grant;
 * never the requester) approves a pending request. Nothing opens yet and the approver gets no
 * token: the requester starts it (startTunnel) within APPROVAL_WAIT_MINUTES. Audited either way
 * (`tunnel.approve`: success, or denied with why).
 */
export async function approveTunnel(deps: TunnelDeps, ctx: RequestContext, hostId: string, id: string): Promise<TunnelRecord> {
  const resource = `tunnel/${id}`;
  await authorizeAudited(deps, ctx, 'hosts:troubleshoot', 'tunnel.approve', resource);
  visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
  const stored = await load(deps, ctx, hostId, id);
  const now = deps.clock.now();
  const grant = grantActive(await deps.grants.get(ctx.project, ctx.principal.subject), now);
  const refusal = decideApproval(stored, { subject: ctx.principal.subject, role: roleIn(ctx.principal, ctx.project), grant }, now);
  if (refusal) {
    await auditEvent(deps, ctx, 'tunnel.approve', 'denied', resource, `${refusal.message}; host ${hostId}; requested by ${stored.actor}; reason: ${stored.reason}`);
    throw refusal.kind === 'forbidden' ? new ForbiddenError(refusal.code, refusal.message) : new ConflictError(refusal.code, refusal.message);
  }
  const approved: TunnelRecord = {
    ...stored, state: 'approved', approvedBy: ctx.principal.subject, approvedAt: now.toISOString(),
    expiresAt: new Date(now.getTime() + (deps.approvalWaitMs ?? APPROVAL_WAIT_MINUTES * 60_000)).toISOString(), version: stored.version + 1,
  };
  if (!(await deps.tunnels.update(approved))) throw new ConflictError('tunnel-changed', `tunnel ${id} changed meanwhile (approved or closed by someone else); read it again`);
  await auditEvent(deps, ctx, 'tunnel.approve', 'success', resource,
    `approved the request of ${stored.actor} for host ${hostId}; reason: ${stored.reason}; duration ${stored.durationMinutes} min; to be started by ${approved.expiresAt}`);
  return approved;
}

/**
 * start-tunnel: the requester of an approved tunnel opens it (only they receive the source
 * token, once: the state moves approved → requested conditionally, so a second call finds it
 * no longer approved). Their grant and the host are checked again; the duration counts from now.
 */
export async function startTunnel(deps: TunnelDeps, ctx: RequestContext, hostId: string, id: string): Promise<OpenedTunnel> {
  await authorizeAudited(deps, ctx, 'hosts:troubleshoot', 'tunnel.open', `tunnel/${id}`);
  visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
  const stored = await load(deps, ctx, hostId, id);
  if (stored.actor !== ctx.principal.subject) {
    const message = `tunnel ${id} was requested by ${stored.actor}: only they can start it (the approver never receives its token)`;
    await auditEvent(deps, ctx, 'tunnel.open', 'denied', `tunnel/${id}`, message);
    throw new ForbiddenError('not-requester', message);
  }
  // The requester's role, host and grant, again (the grant may have been revoked meanwhile).
  const host = await checkCaller(deps, ctx, hostId, 'tunnel.open');
  const now = deps.clock.now();
  const current = effectiveTunnel(stored, now);
  if (current.state !== 'approved' || !stored.publicKey) {
    throw new ConflictError('tunnel-not-approved', current.state === 'pending-approval'
      ? `tunnel ${id} still waits for approval (until ${stored.expiresAt}); ask a project admin or a colleague holding a troubleshoot grant to approve it`
      : `tunnel ${id} is ${current.state}${current.closeReason ? ` (${current.closeReason})` : ''}: only an approved request can be started; request a new one`);
  }
  await checkHost(deps, host, (outcome, res, text) => deps.audit.record({
    id: deps.ids.newId(), project: ctx.project, time: now.toISOString(), actor: ctx.principal.subject, action: 'tunnel.open', resource: res, outcome, requestId: ctx.requestId, detail: text,
  }), stored.reason, id);
  const requested: TunnelRecord = {
    ...stored, state: 'requested', expiresAt: new Date(now.getTime() + stored.durationMinutes * 60_000).toISOString(), version: stored.version + 1,
  };
  if (!(await deps.tunnels.update(requested))) throw new ConflictError('tunnel-changed', `tunnel ${id} was started or closed meanwhile; read it again`);
  return openOnService(deps, ctx, requested, stored.publicKey);
}
