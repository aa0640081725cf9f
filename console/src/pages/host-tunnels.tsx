/**
 * Remote shell on the host page: the host's tunnels (GET …/tunnels), approving a pending request
 * (second-person approval: never the requester's own) and closing one. Opening a shell needs
 * ssh on the operator's machine, which a browser does not have: the page gives the CLI command.
 */
import { useState } from 'react';
import { api, must, type Tunnel } from '../api/client.js';
import { Badge, ErrorBanner, Notice, ago, useLoad } from '../components/ui.js';
import { shellCommand, tunnelActions } from '../logic/host-actions.js';
import type { Role } from '../logic/session.js';

export function HostTunnels({ hostId, subject, role }: { hostId: string; subject: string; role: Role | undefined }) {
  const list = useLoad(() => must(api.GET('/v1/hosts/{hostId}/tunnels', { params: { path: { hostId } } })), [hostId], 10_000);
  const [error, setError] = useState<unknown>();
  const [done, setDone] = useState<string>();
  const [busy, setBusy] = useState<string>();
  const act = async (t: Tunnel, what: 'approve' | 'close') => {
    setError(undefined); setDone(undefined); setBusy(t.id);
    try {
      const path = { hostId, tunnelId: t.id };
      const r = what === 'approve'
        ? await must(api.POST('/v1/hosts/{hostId}/tunnels/{tunnelId}/approve', { params: { path } }))
        : await must(api.DELETE('/v1/hosts/{hostId}/tunnels/{tunnelId}', { params: { path } }));
      setDone(what === 'approve' ? `Tunnel ${t.id} approved: ${t.actor} can now start it with the CLI.` : `Tunnel ${t.id} ${r.state === 'closed' ? 'closed' : `is ${r.state}`}.`);
      list.reload();
    } catch (e) { setError(e); } finally { setBusy(undefined); }
  };
  const items = list.data?.items ?? [];
  return (
    <section aria-labelledby="h-tunnels">
      <h2 id="h-tunnels">Remote shell</h2>
      <p>A time-bound, audited SSH session over AWS IoT Secure Tunneling, for holders of a troubleshoot grant. The console cannot run ssh: open one from a terminal with</p>
      <pre data-testid="shell-command"><code>{shellCommand(hostId)}</code></pre>
      <ErrorBanner error={list.error} />
      <ErrorBanner error={error} />
      {done ? <Notice>{done}</Notice> : null}
      {list.data && items.length === 0 ? <p>No tunnels to this host.</p> : items.length ? (
        <div className="table-scroll">
          <table>
            <caption>Tunnels to host {hostId}, newest first</caption>
            <thead><tr><th scope="col">Tunnel</th><th scope="col">State</th><th scope="col">Requested by</th><th scope="col">Reason</th><th scope="col">Requested</th><th scope="col">Expires</th><th scope="col">Actions</th></tr></thead>
            <tbody>{items.map((t) => {
              const can = tunnelActions(t, subject, role);
              return (
                <tr key={t.id} data-tunnel={t.id}>
                  <td className="nowrap">{t.id}</td>
                  <td><Badge value={t.state} />{t.closeReason ? ` (${t.closeReason}${t.closedBy ? ` by ${t.closedBy}` : ''})` : ''}{t.approvedBy ? ` approved by ${t.approvedBy}` : ''}</td>
                  <td>{t.actor}</td><td>{t.reason}</td><td className="nowrap">{ago(t.createdAt)}</td><td className="nowrap">{t.expiresAt}</td>
                  <td className="nowrap">
                    {can.approve ? <button type="button" disabled={busy === t.id} onClick={() => void act(t, 'approve')}>Approve tunnel {t.id}</button> : null}
                    {can.close ? <button type="button" className="danger" disabled={busy === t.id} onClick={() => void act(t, 'close')}>Close tunnel {t.id}</button> : null}
                  </td>
                </tr>
              );
            })}</tbody>
          </table>
        </div>
      ) : null}
    </section>
  );
}
