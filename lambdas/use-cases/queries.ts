import { NotFoundError } from '../domain/errors.js';
import type { AuditRecord, OperationRecord } from '../domain/model.js';
import type { AuditFilter, OperationFilter, Page, PageRequest } from '../ports/index.js';
import { read, visible, type Deps, type RequestContext } from './context.js';

export async function getOperation(deps: Deps, ctx: RequestContext, id: string): Promise<OperationRecord> {
  read(ctx, 'operations:read');
  return visible(ctx, await deps.operations.get(id), () => new NotFoundError('operation-not-found', `operation ${id} does not exist in this project`));
}

export async function listOperations(deps: Deps, ctx: RequestContext, target: { type: string; id: string } | undefined, page: PageRequest, filter: OperationFilter = {}): Promise<Page<OperationRecord>> {
  read(ctx, 'operations:read');
  return deps.operations.list(ctx.project, target, page, filter);
}

export async function listAuditEvents(deps: Deps, ctx: RequestContext, filter: AuditFilter, page: PageRequest): Promise<Page<AuditRecord>> {
  read(ctx, 'audit:read');
  return deps.audit.list(ctx.project, filter, page);
}
