/**
 * Diagnostics on the host page: ask the host for a bundle (POST …/diagnostics), the host's
 * requests with their state (polled while one is with the host), and a download of a finished
 * one: GET of that request hands out a short-lived URL (audited), which the link then opens.
 */
import { useState, type FormEvent } from 'react';
import { api, must, type Diagnostics } from '../api/client.js';
import { Badge, ErrorBanner, Field, Notice, ago, useLoad } from '../components/ui.js';
import { useIntent } from '../components/use-intent.js';
import { bytesText, diagnosticsPollMs } from '../logic/host-actions.js';

function DownloadCell({ hostId, d }: { hostId: string; d: Diagnostics }) {
  const [link, setLink] = useState<{ url: string; expiresAt: string }>();
  const [error, setError] = useState<unknown>();
  if (d.status !== 'uploaded') return <>{d.statusReason ?? '—'}</>;
  const prepare = async () => {
    setError(undefined);
    try {
      const got = await must(api.GET('/v1/hosts/{hostId}/diagnostics/{diagnosticsId}', { params: { path: { hostId, diagnosticsId: d.id } } }));
      if (got.download) setLink(got.download);
      else setError(new Error(`Diagnostics ${d.id} has no download (it is ${got.status}); reload the page.`));
    } catch (e) { setError(e); }
  };
  return (
    <>
      {link ? <a href={link.url} download={`${hostId}-${d.id}.tar.gz`}>Download {hostId}-{d.id}.tar.gz</a>
        : <button type="button" onClick={() => void prepare()}>Get download link for {d.id}</button>}
      {link ? <small> (link valid until {link.expiresAt})</small> : null}
      {d.bundle ? <small> {bytesText(d.bundle.bytes)}, sha256 {d.bundle.sha256.slice(0, 12)}…</small> : null}
      <ErrorBanner error={error} />
    </>
  );
}

export function HostDiagnostics({ hostId, canOperate }: { hostId: string; canOperate: boolean }) {
  const list = useLoad(() => must(api.GET('/v1/hosts/{hostId}/diagnostics', { params: { path: { hostId } } })), [hostId], (d) => diagnosticsPollMs(d?.items));
  const intent = useIntent();
  const [started, setStarted] = useState<string>();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const reason = String(f.get('reason') ?? '').trim();
    const body = { since: String(f.get('since') ?? '1h').trim(), ...(reason ? { reason } : {}) };
    const r = await intent.run((key) => must(api.POST('/v1/hosts/{hostId}/diagnostics', { params: { path: { hostId } }, body, headers: { 'idempotency-key': key } })));
    if (r) { setStarted(r.id); list.reload(); }
  };
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="h-diag">
      <h2 id="h-diag">Diagnostics</h2>
      <p>A bundle of the host's journals over a window, Kairos state, disks, network and Kubernetes, with secrets blanked out on the host. CLI: <code>edgefleet hosts diagnose {hostId} --since 1h</code>.</p>
      {canOperate ? (
        <form className="filters" onSubmit={(e) => void submit(e)} aria-label="Request diagnostics">
          <Field label="Logs since (e.g. 30m, 1h, 2d)" id="d-since"><input id="d-since" name="since" defaultValue="1h" required autoComplete="off" /></Field>
          <Field label="Reason" id="d-reason"><input id="d-reason" name="reason" autoComplete="off" maxLength={200} /></Field>
          <button type="submit" disabled={intent.busy}>Request diagnostics</button>
        </form>
      ) : null}
      <ErrorBanner error={intent.error} />
      {started ? <Notice>Diagnostics {started} requested: the host collects and uploads it (this list refreshes by itself).</Notice> : null}
      <ErrorBanner error={list.error} />
      {list.data && items.length === 0 ? <p>No diagnostics requested for this host yet.</p> : items.length ? (
        <div className="table-scroll">
          <table>
            <caption>Diagnostics requests of host {hostId}, newest first{list.data?.more ? ' (the host has more; this shows 50)' : ''}</caption>
            <thead><tr><th scope="col">Request</th><th scope="col">State</th><th scope="col">Window</th><th scope="col">Requested</th><th scope="col">By</th><th scope="col">Reason</th><th scope="col">Bundle</th></tr></thead>
            <tbody>{items.map((d) => (
              <tr key={d.id} data-diagnostics={d.id}>
                <td className="nowrap">{d.id}</td><td><Badge value={d.status} /></td><td>{d.window}</td>
                <td className="nowrap">{ago(d.requestedAt)}</td><td>{d.requestedBy}</td><td>{d.reason ?? ''}</td>
                <td><DownloadCell hostId={hostId} d={d} /></td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
