/** One cluster: pools and per-node state, packs, the running operation's live progress, scale, upgrade with its plan preview, delete. */
import { useState, type FormEvent } from 'react';
import { api, must, type Cluster } from '../api/client.js';
import { Badge, ErrorBanner, Field, ago, useLoad } from '../components/ui.js';
import { OperationProgress } from './operation.js';
import { Upgrade } from './cluster-upgrade.js';
import { Scale } from './cluster-scale.js';

function Delete({ cluster }: { cluster: Cluster }) {
  const [typed, setTyped] = useState('');
  const [error, setError] = useState<unknown>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    try {
      await must(api.DELETE('/v1/clusters/{clusterId}', { params: { path: { clusterId: cluster.id } } }));
    } catch (err) { setError(err); }
  }
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="delete-title" className="danger-zone">
      <h2 id="delete-title">Delete the cluster</h2>
      <p>Every host is reset (statereset) and released; workloads and data on them are gone.</p>
      <Field label={`Type the cluster name (${cluster.name}) to confirm`} id="d-name"><input id="d-name" value={typed} onChange={(e) => setTyped(e.target.value)} autoComplete="off" /></Field>
      <button type="submit" className="danger" disabled={typed !== cluster.name}>Delete cluster</button>
      <ErrorBanner error={error} />
    </form>
  );
}

export function ClusterPage({ clusterId, canOperate, canAdminister }: { clusterId: string; canOperate: boolean; canAdminister: boolean }) {
  const { data: c, error, reload } = useLoad(() => must(api.GET('/v1/clusters/{clusterId}', { params: { path: { clusterId } } })), [clusterId], 3000);
  const nodes = useLoad(() => must(api.GET('/v1/hosts', { params: { query: { clusterId, limit: 100 } } })), [clusterId, c?.status]);
  const byId = new Map((nodes.data?.items ?? []).map((h) => [h.id, h]));
  // The running operation, else the newest one of this cluster (one short API page).
  const recent = useLoad(() => must(api.GET('/v1/operations', { params: { query: { targetType: 'cluster', targetId: clusterId, limit: 5 } } })), [clusterId, c?.activeOperationId, c?.status]);
  const [started, setStarted] = useState<string>();
  const opId = c?.activeOperationId ?? started ?? recent.data?.items[0]?.id ?? c?.operationId;
  const pools = c ? [{ name: 'control-plane', hostIds: c.controlPlane.hostIds }, ...c.workers] : [];
  return (
    <>
      <h1>Cluster {c?.name ?? clusterId}</h1>
      <p><a href="#/clusters">← All clusters</a></p>
      <ErrorBanner error={error} />
      {c ? (
        <>
          <p aria-live="polite" data-testid="cluster-status">Status <Badge value={c.status} />{c.statusReason ? ` ${c.statusReason}` : ''} · health <Badge value={c.health.state} />{c.health.reasons.length ? ` ${c.health.reasons.join('; ')}` : ''} · profile {c.profile.name} {c.profile.version}</p>
          <section aria-labelledby="pools">
            <h2 id="pools">Nodes</h2>
            <table>
              <caption className="sr-only">Nodes by pool</caption>
              <thead><tr><th scope="col">Pool</th><th scope="col">Host</th><th scope="col">Presence</th><th scope="col">Health</th><th scope="col">Kubernetes</th><th scope="col">Image</th></tr></thead>
              <tbody>{pools.flatMap((p) => p.hostIds.map((id) => {
                const h = byId.get(id);
                return (
                  <tr key={id}><td>{p.name}</td><td className="nowrap"><a href={`#/hosts/${encodeURIComponent(id)}`}>{id}</a></td>
                    <td><Badge value={h?.presence} /></td><td><Badge value={h?.health.state} /></td>
                    <td>{h?.reported?.kubernetes ? `${h.reported.kubernetes.version ?? ''} ${h.reported.kubernetes.ready ? 'Ready' : 'NotReady'}` : '—'}</td>
                    <td>{h?.reported?.boot.image ?? '—'}</td></tr>
                );
              }))}</tbody>
            </table>
          </section>
          {c.packs?.length ? (
            <section aria-labelledby="packs">
              <h2 id="packs">Packs</h2>
              <ul>{c.packs.map((p) => <li key={p.name}>{p.name}: <Badge value={p.state} />{p.reason ? ` ${p.reason}` : null}</li>)}</ul>
              <p>Reported {ago(c.packsReportedAt)}</p>
            </section>
          ) : null}
          {opId ? <OperationProgress key={opId} operationId={opId} canOperate={canOperate} /> : null}
          <p><a href={`#/operations?targetType=cluster&targetId=${encodeURIComponent(c.id)}`}>All operations of this cluster</a></p>
          {canOperate && !c.activeOperationId && (c.status === 'running' || c.status === 'degraded') ? <Scale cluster={c} onStarted={(id) => { if (id) setStarted(id); reload(); }} /> : null}
          {canOperate && c.status === 'running' ? <Upgrade cluster={c} onStarted={(id) => { setStarted(id); reload(); }} /> : null}
          {canAdminister && c.status !== 'deleting' ? <Delete cluster={c} /> : null}
        </>
      ) : null}
    </>
  );
}
