import { authorize, type Action, type Principal } from '../domain/authz.js';
import { EdgeFleetError, NotFoundError } from '../domain/errors.js';
import type {
  AuditLog, Clock, ClusterRepository, HostRepository, IdGenerator, OperationRepository, ProfileRepository, TokenRepository,
} from '../ports/index.js';
import type { HealthDeps } from './refresh-health.js';

/** Who is asking, in which project, under which request id. */
export interface RequestContext {
  readonly principal: Principal;
  readonly project: string;
  readonly requestId: string;
}

export interface Deps {
  readonly clock: Clock;
  readonly ids: IdGenerator;
  readonly tokens: TokenRepository;
  readonly hosts: HostRepository;
  readonly profiles: ProfileRepository;
  readonly clusters: ClusterRepository;
  readonly operations: OperationRepository;
  readonly audit: AuditLog;
  /** Health derivation after a host's lifecycle changes (absent where a runtime wires no health store). */
  readonly health?: HealthDeps;
}

/** Reads check the permission, then hide objects of other projects behind "not found". */
export function visible<T extends { project: string }>(ctx: RequestContext, item: T | undefined, notFound: () => NotFoundError): T {
  if (!item || item.project !== ctx.project) throw notFound();
  return item;
}

export interface Mutation<T> {
  readonly action: Action;
  /** Audit action name, e.g. `host.approve`. */
  readonly audit: string;
  /** `type/id`; may be refined from the result (ids created by the mutation). */
  readonly resource: string;
  readonly run: () => Promise<T>;
  readonly describe?: (result: T) => { resource?: string; detail?: string };
}

/**
 * Every mutation goes through here: authorize (a refusal is audited as `denied`), run, audit
 * the success. Failures other than authorization are not audited: they changed nothing.
 */
type AuditDeps = Pick<Deps, 'audit' | 'clock' | 'ids'>;

export function auditEvent(deps: AuditDeps, ctx: RequestContext, action: string, outcome: 'success' | 'denied', resource: string, detail?: string) {
  return deps.audit.record({
    id: deps.ids.newId(), project: ctx.project, time: deps.clock.now().toISOString(), actor: ctx.principal.subject,
    action, resource, outcome, requestId: ctx.requestId, ...(detail ? { detail } : {}),
  });
}

/** Throws ForbiddenError unless allowed; a refusal is audited as `denied`. */
export async function authorizeAudited(deps: AuditDeps, ctx: RequestContext, action: Action, auditAction: string, resource: string): Promise<void> {
  try {
    authorize(ctx.principal, ctx.project, action);
  } catch (e) {
    await auditEvent(deps, ctx, auditAction, 'denied', resource, e instanceof EdgeFleetError ? e.message : undefined);
    throw e;
  }
}

export async function mutate<T>(deps: AuditDeps, ctx: RequestContext, m: Mutation<T>): Promise<T> {
  const event = (outcome: 'success' | 'denied', resource: string, detail?: string) => auditEvent(deps, ctx, m.audit, outcome, resource, detail);
  await authorizeAudited(deps, ctx, m.action, m.audit, m.resource);
  const result = await m.run();
  const d = m.describe?.(result) ?? {};
  await event('success', d.resource ?? m.resource, d.detail);
  return result;
}

export function read(ctx: RequestContext, action: Action): void {
  authorize(ctx.principal, ctx.project, action);
}
