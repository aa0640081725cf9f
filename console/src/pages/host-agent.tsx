/**
 * The agent on the host page: the version the host reports against the one the control plane
 * publishes (GET /v1/agent/manifest, device-facing, outside the typed client), and starting an
 * update to it (POST …/agent-update with an Idempotency-Key), linked to its operation page.
 */
import { useState } from 'react';
import { api, apiBaseUrl, must } from '../api/client.js';
import { Badge, ErrorBanner, Notice, useLoad } from '../components/ui.js';
import { useIntent } from '../components/use-intent.js';
import { agentState, manifestVersion } from '../logic/host-actions.js';

async function publishedVersion(): Promise<{ version?: string; why?: string }> {
  let res: Response;
  try {
    res = await fetch(`${apiBaseUrl()}/v1/agent/manifest`, { headers: { accept: 'application/json' } });
  } catch {
    return { why: 'the control plane did not answer for the agent manifest' };
  }
  if (!res.ok) {
    const body: unknown = await res.json().catch(() => undefined);
    const detail = typeof body === 'object' && body !== null && typeof (body as { detail?: unknown }).detail === 'string' ? (body as { detail: string }).detail : `HTTP ${res.status}`;
    return { why: `no agent is published: ${detail}` };
  }
  const m = manifestVersion(await res.json().catch(() => undefined));
  return 'error' in m ? { why: m.error } : { version: m.version };
}

const SAYS: Record<ReturnType<typeof agentState>, string> = {
  'no-manifest': 'no published version to compare with',
  'not-reported': 'the host has not reported its agent version yet',
  current: 'up to date',
  behind: 'behind the published version',
  ahead: 'newer than the published version',
  unknown: 'versions not comparable',
};

export function HostAgent({ hostId, reported, canOperate }: { hostId: string; reported: string | undefined; canOperate: boolean }) {
  const published = useLoad(publishedVersion, []);
  const intent = useIntent();
  const [operationId, setOperationId] = useState<string>();
  const version = published.data?.version;
  const state = agentState(reported, version);
  const start = async () => {
    if (!version) return;
    const op = await intent.run((key) => must(api.POST('/v1/hosts/{hostId}/agent-update', { params: { path: { hostId } }, body: { version }, headers: { 'idempotency-key': key } })));
    if (op) setOperationId(op.id);
  };
  return (
    <section aria-labelledby="h-agent">
      <h2 id="h-agent">Agent</h2>
      <dl className="facts">
        <dt>Reported</dt><dd data-testid="agent-reported">{reported ?? '—'}</dd>
        <dt>Published</dt><dd data-testid="agent-published">{version ?? (published.data?.why ? `— (${published.data.why})` : '…')}</dd>
        <dt>State</dt><dd><Badge value={state === 'current' ? 'up to date' : state} /> {SAYS[state]}</dd>
      </dl>
      {canOperate && version && state !== 'current' ? (
        <button type="button" disabled={intent.busy || !!operationId} onClick={() => void start()}>Update agent to {version}</button>
      ) : null}
      <ErrorBanner error={intent.error} />
      {operationId ? <Notice>Agent update started: <a href={`#/operations/${encodeURIComponent(operationId)}`}>operation {operationId}</a> (it ends when the host reports {version}).</Notice> : null}
    </section>
  );
}
