/**
 * One host: lifecycle, health and why, inventory, what it last reported, troubleshooting
 * (agent update, diagnostics bundles, remote-shell tunnels) and its audit trail.
 */
import { api, must, type Host as HostView } from '../api/client.js';
import { Badge, ErrorBanner, ago, useLoad } from '../components/ui.js';
import type { Role } from '../logic/session.js';
import { HostAgent } from './host-agent.js';
import { HostDiagnostics } from './host-diagnostics.js';
import { HostTunnels } from './host-tunnels.js';

function Row({ label, children }: { label: string; children: React.ReactNode }) {
  return <><dt>{label}</dt><dd>{children}</dd></>;
}

function Inventory({ host }: { host: HostView }) {
  const inv = host.inventory;
  if (!inv) return <p>The host has not sent its inventory (it registers with it; a pre-registered host has none yet).</p>;
  return (
    <dl className="facts">
      <Row label="Architecture">{inv.arch}</Row>
      <Row label="CPUs">{inv.cpus}</Row>
      <Row label="Memory">{Math.round(inv.memoryMb / 1024)} GiB ({inv.memoryMb} MiB)</Row>
      <Row label="OS">{inv.os.name} {inv.os.version}</Row>
      <Row label="Kairos">{inv.kairos ? `${inv.kairos.flavor} ${inv.kairos.version}` : '—'}</Row>
      <Row label="Agent at registration">{inv.agentVersion}</Row>
      <Row label="Disks">{inv.disks.map((d) => `${d.name} ${d.sizeGb} GB`).join(', ') || '—'}</Row>
      <Row label="Network">{inv.nics.map((n) => `${n.name} ${n.mac}${n.ips?.length ? ` (${n.ips.join(', ')})` : ''}`).join('; ') || '—'}</Row>
    </dl>
  );
}

function Reported({ host }: { host: HostView }) {
  const r = host.reported;
  if (!r) return <p>The host has not reported its state yet.</p>;
  return (
    <dl className="facts">
      <Row label="Reported">{ago(r.reportedAt)} ({r.reportedAt})</Row>
      <Row label="Boot">{r.boot.state}{r.boot.kairosVersion ? `, Kairos ${r.boot.kairosVersion}` : ''}</Row>
      <Row label="Running image">{r.boot.image ?? '—'}</Row>
      <Row label="Agent">{r.agentVersion}</Row>
      <Row label="Kubernetes">{r.kubernetes ? `${r.kubernetes.role ?? 'node'} ${r.kubernetes.version ?? ''} ${r.kubernetes.ready ? 'Ready' : 'NotReady'}${r.kubernetes.cordoned ? ', cordoned' : ''}` : 'not running'}</Row>
      <Row label="State partition free">{r.storage ? `${r.storage.stateFreeMb} MiB` : '—'}</Row>
      <Row label="Addresses">{(r.addresses ?? []).map((a) => `${a.name}: ${(a.ips ?? []).join(', ')}`).join('; ') || '—'}</Row>
    </dl>
  );
}

export function HostPage({ hostId, role, subject }: { hostId: string; role: Role | undefined; subject: string }) {
  const canOperate = role === 'operator' || role === 'admin';
  const host = useLoad(() => must(api.GET('/v1/hosts/{hostId}', { params: { path: { hostId } } })), [hostId], 10_000);
  const audit = useLoad(() => must(api.GET('/v1/audit-events', { params: { query: { resource: `host/${hostId}`, limit: 50 } } })), [hostId]);
  const h = host.data;
  return (
    <>
      <h1>Host {hostId}</h1>
      <p><a href="#/hosts">← All hosts</a></p>
      <ErrorBanner error={host.error} />
      {h ? (
        <>
          <section aria-labelledby="h-state">
            <h2 id="h-state">State</h2>
            <dl className="facts">
              <Row label="Lifecycle"><Badge value={h.status} />{h.statusReason ? ` ${h.statusReason}` : ''}</Row>
              <Row label="Presence"><Badge value={h.presence} /></Row>
              <Row label="Health"><Badge value={h.health.state} />{h.health.reasons.length ? ` ${h.health.reasons.join('; ')}` : ''}</Row>
              <Row label="Hardware id">{h.uid}</Row>
              <Row label="Site">{h.site ?? '—'}</Row>
              <Row label="Tags">{Object.entries(h.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '—'}</Row>
              <Row label="Cluster">{h.clusterId ?? '—'}</Row>
              <Row label="Registered">{h.registeredAt ?? '—'}</Row>
            </dl>
          </section>
          <section aria-labelledby="h-inv"><h2 id="h-inv">Inventory</h2><Inventory host={h} /></section>
          <section aria-labelledby="h-rep"><h2 id="h-rep">Reported state</h2><Reported host={h} /></section>
          <HostAgent hostId={hostId} reported={h.reported?.agentVersion} canOperate={canOperate} />
        </>
      ) : null}
      {canOperate ? <HostDiagnostics hostId={hostId} canOperate={canOperate} /> : (
        <section aria-labelledby="h-diag"><h2 id="h-diag">Diagnostics</h2><p>Diagnostics bundles need the operator role (they hold the host's logs).</p></section>
      )}
      <HostTunnels hostId={hostId} subject={subject} role={role} />
      <section aria-labelledby="h-audit">
        <h2 id="h-audit">Audit trail</h2>
        <ErrorBanner error={audit.error} />
        {audit.data && audit.data.items.length === 0 ? <p>No audit events for this host (a viewer cannot read the audit log).</p> : (
          <table>
            <caption className="sr-only">Audit events of host {hostId}, newest first</caption>
            <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Detail</th></tr></thead>
            <tbody>{(audit.data?.items ?? []).map((e) => <tr key={e.id}><td>{e.time}</td><td>{e.actor}</td><td>{e.action}</td><td><Badge value={e.outcome === 'success' ? 'succeeded' : e.outcome} /></td><td>{e.detail ?? ''}</td></tr>)}</tbody>
          </table>
        )}
      </section>
    </>
  );
}
