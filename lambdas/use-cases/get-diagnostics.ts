import { DOWNLOAD_URL_SECONDS, type DiagnosticsRecord } from '../domain/diagnostics.js';
import { authorizeAudited, visible, type RequestContext } from './context.js';
import { diagnosticsNotFound, type DiagnosticsDeps } from './request-diagnostics.js';

export interface DiagnosticsWithDownload extends DiagnosticsRecord {
  readonly download?: { readonly url: string; readonly expiresAt: string };
}

/**
 * get-diagnostics: the request and, once uploaded, a download URL that works for a few minutes
 * (made now, never stored). Reading a host's evidence needs `hosts:diagnose`, like asking for it;
 * every download URL handed out is audited.
 */
export async function getDiagnostics(deps: Pick<DiagnosticsDeps, 'diagnostics' | 'bundles' | 'audit' | 'clock' | 'ids'>, ctx: RequestContext, hostId: string, id: string): Promise<DiagnosticsWithDownload> {
  const resource = `host/${hostId}/diagnostics/${id}`;
  await authorizeAudited(deps, ctx, 'hosts:diagnose', 'host.diagnostics.read', resource);
  const record = visible(ctx, await deps.diagnostics.get(hostId, id), diagnosticsNotFound(hostId, id));
  if (record.status !== 'uploaded') return record;
  const download = await deps.bundles.presignDownload(record.objectKey, { expiresInSeconds: DOWNLOAD_URL_SECONDS, fileName: `${hostId}-${id}.tar.gz` });
  await deps.audit.record({
    id: deps.ids.newId(), project: ctx.project, time: deps.clock.now().toISOString(), actor: ctx.principal.subject,
    action: 'host.diagnostics.download', resource, outcome: 'success', requestId: ctx.requestId, detail: `download URL valid until ${download.expiresAt}`,
  });
  return { ...record, download };
}
