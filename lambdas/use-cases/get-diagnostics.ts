import { DOWNLOAD_URL_SECONDS, type DiagnosticsRecord } from '../domain/diagnostics.js';
import { authorizeAudited, visible, type RequestContext } from './context.js';
import { hostNotFound } from './hosts.js';
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

/** How many of a host's requests a list reads (one key query; a host keeps few). */
export const DIAGNOSTICS_LIST_LIMIT = 50;

/**
 * list-diagnostics: a host's requests, newest first, without download URLs (GET one for its
 * URL, which is audited). Reads at most DIAGNOSTICS_LIST_LIMIT; `more` says the host has more
 * (which ones are left out is then arbitrary: ids are random, so the key order is not time).
 */
export async function listDiagnostics(deps: Pick<DiagnosticsDeps, 'diagnostics' | 'hosts' | 'audit' | 'clock' | 'ids'>, ctx: RequestContext, hostId: string): Promise<{ items: DiagnosticsRecord[]; more: boolean }> {
  await authorizeAudited(deps, ctx, 'hosts:diagnose', 'host.diagnostics.list', `host/${hostId}`);
  visible(ctx, await deps.hosts.get(hostId), hostNotFound(hostId));
  const { items, more } = await deps.diagnostics.listByHost(hostId, DIAGNOSTICS_LIST_LIMIT);
  const mine = items.filter((r) => r.project === ctx.project).sort((a, b) => b.requestedAt.localeCompare(a.requestedAt) || b.id.localeCompare(a.id));
  return { items: mine, more };
}
