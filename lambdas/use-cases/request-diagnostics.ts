import { ConflictError, NotFoundError, UnavailableError } from '../domain/errors.js';
import {
  bundleKey, canCollect, COLLECT_DIAGNOSTICS, diagnosticsCommandId, DIAGNOSTICS_DEADLINE_SECONDS, MAX_BUNDLE_BYTES, type DiagnosticsRecord,
} from '../domain/diagnostics.js';
import type { BundleStore, DiagnosticsRepository } from '../ports/diagnostics.js';
import { mutate, visible, type Deps, type RequestContext } from './context.js';
import { issueCommand, type IssueDeps } from './device-messages.js';
import { hostNotFound } from './hosts.js';

export interface DiagnosticsDeps extends Pick<Deps, 'clock' | 'ids' | 'hosts' | 'audit'>, IssueDeps {
  readonly diagnostics: DiagnosticsRepository;
  readonly bundles: BundleStore;
}

export interface DiagnosticsRequest {
  /** The window as asked (`1h`) and its length in seconds (checked by the contract: ≤ 7 days). */
  readonly window: string;
  readonly windowSeconds: number;
  readonly reason?: string;
}

/**
 * request-diagnostics: records the request (conditional create), then stores and sends the host
 * its `collect-diagnostics` command, whose upload form is presigned as it is published (bounded
 * size, expires with the command). A host offline now gets it when it reconnects, until the
 * deadline; after that the request ends failed, saying so.
 */
export async function requestDiagnostics(deps: DiagnosticsDeps, ctx: RequestContext, hostId: string, input: DiagnosticsRequest): Promise<DiagnosticsRecord> {
  return mutate(deps, ctx, {
    action: 'hosts:diagnose', audit: 'host.diagnostics.request', resource: `host/${hostId}`,
    run: async () => {
      const host = visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
      const allowed = canCollect(host.status);
      if (!allowed.ok) throw new ConflictError('host-cannot-collect', `host ${hostId} cannot collect diagnostics: ${allowed.reason}`);
      const now = deps.clock.now();
      const id = deps.ids.newId();
      const deadline = new Date(now.getTime() + DIAGNOSTICS_DEADLINE_SECONDS * 1000);
      const record: DiagnosticsRecord = {
        id, project: ctx.project, hostId, status: 'requested', since: new Date(now.getTime() - input.windowSeconds * 1000).toISOString(), window: input.window,
        ...(input.reason ? { reason: input.reason } : {}), requestedBy: ctx.principal.subject, requestedAt: now.toISOString(), updatedAt: now.toISOString(),
        commandId: diagnosticsCommandId(id), deadline: deadline.toISOString(), objectKey: bundleKey(ctx.project, hostId, id), maxBytes: MAX_BUNDLE_BYTES, version: 1,
      };
      if (!(await deps.diagnostics.create(record))) throw new ConflictError('diagnostics-exists', `diagnostics request ${id} exists already; retry`);
      const sent = await issueCommand(deps, hostId, {
        commandId: record.commandId, type: COLLECT_DIAGNOSTICS, deadline: record.deadline,
        // The upload form is presigned when the command is published (device-messages.ts), not stored.
        params: { since: record.since, objectKey: record.objectKey, maxBytes: record.maxBytes },
      });
      if (!sent.created) throw new UnavailableError('diagnostics-command-exists', `the command for diagnostics request ${id} exists already; retry`);
      return record;
    },
    describe: (r) => ({ resource: `host/${hostId}/diagnostics/${r.id}`, detail: `window ${r.window}${r.reason ? `; reason: ${r.reason}` : ''}` }),
  });
}

export const diagnosticsNotFound = (hostId: string, id: string) => () => new NotFoundError('diagnostics-not-found', `diagnostics request ${id} of host ${hostId} does not exist in this project`);
