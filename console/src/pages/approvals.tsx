/**
 * Pending approvals: hosts that registered with a site token and wait for an operator, who types
 * the pairing code the host shows on its screen. A single column of cards: works on a phone.
 */
import { useState, type FormEvent } from 'react';
import { api, must, type Host } from '../api/client.js';
import { Badge, ErrorBanner, Notice, ago, useLoad } from '../components/ui.js';

function PendingCard({ host, canOperate, onDone }: { host: Host; canOperate: boolean; onDone: (message: string) => void }) {
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const id = `code-${host.id}`;
  async function approve(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const code = String(new FormData(e.currentTarget).get('pairingCode') ?? '').trim().toUpperCase();
    setBusy(true);
    setError(undefined);
    try {
      await must(api.POST('/v1/hosts/{hostId}/approve', { params: { path: { hostId: host.id } }, body: { pairingCode: code, version: host.version } }));
      onDone(`Host ${host.id} approved: it receives its certificate and comes online in a moment.`);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  }
  return (
    <li className="card" aria-labelledby={`title-${host.id}`}>
      <h2 id={`title-${host.id}`}><a href={`#/hosts/${encodeURIComponent(host.id)}`}>{host.id}</a></h2>
      <p><Badge value={host.status} /> site {host.site ?? '—'}, registered {ago(host.registeredAt ?? host.createdAt)}
        {host.inventory ? `, ${host.inventory.arch}, ${host.inventory.cpus} CPUs, ${Math.round(host.inventory.memoryMb / 1024)} GiB` : ''}</p>
      {canOperate ? (
        <form onSubmit={(e) => void approve(e)} className="approve-form">
          <label htmlFor={id}>Pairing code shown on the host</label>
          <input id={id} name="pairingCode" required minLength={6} maxLength={16} autoComplete="off" autoCapitalize="characters" spellCheck={false} inputMode="text" />
          <button type="submit" disabled={busy}>{busy ? 'Approving…' : 'Approve'}</button>
          <ErrorBanner error={error} />
        </form>
      ) : null}
    </li>
  );
}

export function Approvals({ canOperate }: { canOperate: boolean }) {
  const { data, error, reload } = useLoad(() => must(api.GET('/v1/hosts', { params: { query: { status: 'pending', limit: 50 } } })), [], 5000);
  const [done, setDone] = useState<string>();
  return (
    <>
      <h1>Pending approvals</h1>
      <p>Each host shows a pairing code on its console (or as a QR code). Type it to approve that host: the code proves the host in front of you is the one you approve.</p>
      {done ? <Notice>{done}</Notice> : null}
      <ErrorBanner error={error} />
      {data && data.items.length === 0 ? <p>No host is waiting for approval.</p> : null}
      <ul className="cards">{(data?.items ?? []).map((h) => <PendingCard key={h.id} host={h} canOperate={canOperate} onDone={(m) => { setDone(m); reload(); }} />)}</ul>
      {data?.nextCursor ? <p>More hosts are waiting: approve these first, or <a href="#/hosts?status=pending">see all pending hosts</a>.</p> : null}
    </>
  );
}
