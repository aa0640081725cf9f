/**
 * Scale a cluster (POST /v1/clusters/{id}/scale): add approved hosts that are in no cluster to a
 * pool (a new worker pool name creates it), or remove nodes from a pool (drained, removed and
 * reset). One operation scales one way; the cluster page then shows its live progress.
 */
import { useState, type FormEvent } from 'react';
import { api, must, type Cluster } from '../api/client.js';
import { ErrorBanner, Field, useLoad } from '../components/ui.js';

export function Scale({ cluster, onStarted }: { cluster: Cluster; onStarted: (operationId: string | undefined) => void }) {
  // One page of approved hosts (an approved host is in no cluster: in-cluster is its own status).
  const spare = useLoad(() => must(api.GET('/v1/hosts', { params: { query: { status: 'approved', limit: 50 } } })), [cluster.id, cluster.version]);
  const [error, setError] = useState<unknown>();
  const pools = ['control-plane', ...cluster.workers.map((w) => w.name)];
  const scale = async (body: { pool: string; add?: string[]; remove?: string[] }) => {
    setError(undefined);
    try {
      const c = await must(api.POST('/v1/clusters/{clusterId}/scale', { params: { path: { clusterId: cluster.id } }, body }));
      onStarted(c.operationId);
    } catch (e) { setError(e); }
  };
  const add = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const pool = String(f.get('newPool') ?? '').trim() || String(f.get('pool') ?? 'control-plane');
    const hosts = f.getAll('add').map(String);
    if (hosts.length === 0) { setError(new Error('Select at least one host to add.')); return; }
    void scale({ pool, add: hosts });
  };
  const remove = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const hosts = f.getAll('remove').map(String);
    const pool = pools.find((p) => (p === 'control-plane' ? cluster.controlPlane.hostIds : cluster.workers.find((w) => w.name === p)?.hostIds ?? []).includes(hosts[0] ?? ''));
    if (!pool || hosts.length === 0) { setError(new Error('Select at least one node to remove.')); return; }
    void scale({ pool, remove: hosts });
  };
  const free = spare.data?.items ?? [];
  const workers = cluster.workers.flatMap((w) => w.hostIds.map((id) => ({ id, pool: w.name })));
  return (
    <section aria-labelledby="scale-title">
      <h2 id="scale-title">Scale</h2>
      <form onSubmit={add} aria-label="Add hosts">
        {free.length === 0 ? <p>No approved host is free to add{spare.data?.nextCursor ? ' on the first page' : ''}.</p> : (
          <>
            <fieldset>
              <legend>Approved hosts to add</legend>
              {free.map((h) => <label key={h.id} className="check"><input type="checkbox" name="add" value={h.id} /> Add {h.id}{h.site ? ` (${h.site})` : ''}</label>)}
            </fieldset>
            <div className="filters">
              <Field label="To pool" id="s-pool"><select id="s-pool" name="pool" defaultValue={cluster.workers[0]?.name ?? 'control-plane'}>{pools.map((p) => <option key={p}>{p}</option>)}</select></Field>
              <Field label="Or a new worker pool" id="s-new"><input id="s-new" name="newPool" pattern="[a-z0-9]([-a-z0-9]*[a-z0-9])?" autoComplete="off" /></Field>
              <button type="submit">Add hosts</button>
            </div>
          </>
        )}
      </form>
      {workers.length ? (
        <form onSubmit={remove} aria-label="Remove workers">
          <fieldset>
            <legend>Workers to remove (drained, removed from the cluster and reset; one pool at a time)</legend>
            {workers.map((w) => <label key={w.id} className="check"><input type="checkbox" name="remove" value={w.id} /> Remove {w.id} ({w.pool})</label>)}
          </fieldset>
          <button type="submit" className="danger">Remove selected workers</button>
        </form>
      ) : null}
      <ErrorBanner error={error} />
    </section>
  );
}
