import type { z } from 'zod';
import type { createGrantBody } from '../contracts/troubleshoot-grants.js';
import { ConflictError, ForbiddenError, NotFoundError, ValidationError } from '../domain/errors.js';
import { grantActive, grantIdFor, subjectOfGrantId, type TroubleshootGrant } from '../domain/troubleshoot-grant.js';
import type { Page, PageRequest } from '../ports/index.js';
import { mutate, read, type RequestContext } from './context.js';
import { endTunnel } from './end-tunnel.js';
import { TUNNEL_SWEEP_LIMIT } from './sweep-tunnels.js';
import type { TunnelDeps } from './tunnel-deps.js';

const grantNotFound = (id: string) => new NotFoundError('grant-not-found', `troubleshoot grant ${id} does not exist in this project (GET /v1/troubleshoot-grants lists them)`);

/** create-troubleshoot-grant (admin): lets `subject` open remote shells in the project (with the operator or admin role). */
export async function createTroubleshootGrant(deps: TunnelDeps, ctx: RequestContext, input: z.infer<typeof createGrantBody>): Promise<TroubleshootGrant> {
  return mutate(deps, ctx, {
    action: 'grants:manage', audit: 'troubleshoot-grant.create', resource: `troubleshoot-grant/${grantIdFor(input.subject)}`,
    run: async () => {
      const now = deps.clock.now();
      if (input.expiresAt && Date.parse(input.expiresAt) <= now.getTime()) {
        const message = `expiresAt ${input.expiresAt} is not in the future; give a later time, or leave it out for a grant that lasts until revoked`;
        throw new ValidationError('invalid-expiry', message, { errors: [{ path: 'body.expiresAt', message: 'must be in the future' }] });
      }
      const grant: TroubleshootGrant = {
        id: grantIdFor(input.subject), project: ctx.project, subject: input.subject, createdAt: now.toISOString(), createdBy: ctx.principal.subject,
        ...(input.expiresAt ? { expiresAt: new Date(input.expiresAt).toISOString() } : {}),
      };
      if (!(await deps.grants.create(grant))) {
        throw new ConflictError('grant-exists', `${input.subject} already holds the troubleshoot grant in project ${ctx.project}; revoke it first (DELETE /v1/troubleshoot-grants/${grant.id}) to change its expiry`);
      }
      return grant;
    },
    describe: (g) => ({ detail: `granted remote shell to ${g.subject} in project ${g.project}${g.expiresAt ? ` until ${g.expiresAt}` : ' until revoked'}` }),
  });
}

export async function listTroubleshootGrants(deps: TunnelDeps, ctx: RequestContext, page: PageRequest): Promise<Page<TroubleshootGrant>> {
  read(ctx, 'grants:manage');
  return deps.grants.list(ctx.project, page);
}

/**
 * revoke-troubleshoot-grant (admin): removes the grant and closes, at once, every tunnel its
 * holder opened in the project (reason `revoked`, closed by the revoking admin; the temporary
 * users are removed). The tunnels are closed *before* the grant is deleted: the tunnel sweep
 * closes any tunnel whose opener has no grant, and with the grant gone first it raced this close
 * (one proof run answered `closedTunnels: []` for a tunnel the sweep had just closed). A tunnel the
 * holder opens meanwhile is closed by a second pass after the delete (or by the sweep). A grant
 * that lapses by its expiry is closed by the sweep within a minute instead.
 */
export async function revokeTroubleshootGrant(deps: TunnelDeps, ctx: RequestContext, id: string): Promise<TroubleshootGrant & { closedTunnels: string[] }> {
  return mutate(deps, ctx, {
    action: 'grants:manage', audit: 'troubleshoot-grant.revoke', resource: `troubleshoot-grant/${id}`,
    run: async () => {
      const subject = subjectOfGrantId(id);
      const grant = subject === undefined ? undefined : await deps.grants.get(ctx.project, subject);
      if (!grant || subject === undefined) throw grantNotFound(id);
      const closedTunnels = await endTunnelsOf(deps, ctx, subject);
      if (!(await deps.grants.delete(ctx.project, subject))) throw grantNotFound(id);
      closedTunnels.push(...await endTunnelsOf(deps, ctx, subject));
      return { ...grant, closedTunnels };
    },
    describe: (g) => ({ detail: `revoked the remote-shell grant of ${g.subject}; tunnels closed: ${g.closedTunnels.length ? g.closedTunnels.join(', ') : 'none'}` }),
  });
}

/** Closes (reason `revoked`) every tunnel `subject` opened in the project that is not closed yet; answers their ids. */
async function endTunnelsOf(deps: TunnelDeps, ctx: RequestContext, subject: string): Promise<string[]> {
  const closed: string[] = [];
  for (const t of await deps.tunnels.listUnclosed(TUNNEL_SWEEP_LIMIT)) {
    if (t.project !== ctx.project || t.actor !== subject) continue;
    const fresh = await deps.tunnels.get(t.id);
    if (fresh && await endTunnel(deps, fresh, 'revoked', { subject: ctx.principal.subject, requestId: ctx.requestId })) closed.push(t.id);
  }
  return closed;
}

/** Throws 403 naming the missing grant (the caller's role was checked by the route). */
export async function requireGrant(deps: TunnelDeps, ctx: RequestContext): Promise<void> {
  const g = await deps.grants.get(ctx.project, ctx.principal.subject);
  if (grantActive(g, deps.clock.now())) return;
  throw new ForbiddenError('forbidden', g
    ? `your troubleshoot grant in project "${ctx.project}" expired at ${g.expiresAt}; ask a project admin for a new one (POST /v1/troubleshoot-grants {"subject": "${ctx.principal.subject}"})`
    : `you (${ctx.principal.subject}) hold no troubleshoot grant in project "${ctx.project}", which no role includes; ask a project admin to grant it (POST /v1/troubleshoot-grants {"subject": "${ctx.principal.subject}"})`);
}

/** The project's remote-shell settings (anyone with a role reads them). */
export async function getTroubleshootSettings(deps: TunnelDeps, ctx: RequestContext): Promise<{ approval: 'required' | 'none' }> {
  read(ctx, 'hosts:read');
  return (await deps.grants.getSettings(ctx.project)) ?? { approval: 'none' };
}

/** update-troubleshoot-settings (admin): e.g. require a second person's approval for every tunnel. */
export async function updateTroubleshootSettings(deps: TunnelDeps, ctx: RequestContext, settings: { approval: 'required' | 'none' }): Promise<{ approval: 'required' | 'none' }> {
  return mutate(deps, ctx, {
    action: 'grants:manage', audit: 'troubleshoot-settings.update', resource: `troubleshoot-settings/${ctx.project}`,
    run: async () => { await deps.grants.putSettings(ctx.project, settings); return settings; },
    describe: (x) => ({ detail: `tunnel approval: ${x.approval}` }),
  });
}
