/** Clusters: the list (one API page at a time) and creating one from a published profile version and approved hosts. */
import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client.js';
import { firstPage, nextPage, previousPage, type PageState } from '../logic/host-query.js';
import { Badge, ErrorBanner, Field, Pager, useLoad } from '../components/ui.js';

function CreateCluster({ onCreated }: { onCreated: (id: string) => void }) {
  const profiles = useLoad(() => must(api.GET('/v1/profiles', { params: { query: { limit: 100 } } })), []);
  const [profile, setProfile] = useState('');
  const versions = useLoad(async () => (profile ? must(api.GET('/v1/profiles/{name}/versions', { params: { path: { name: profile }, query: { limit: 100 } } })) : undefined), [profile]);
  const hosts = useLoad(() => must(api.GET('/v1/hosts', { params: { query: { status: 'approved', limit: 100 } } })), []);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const cp = f.getAll('cp').map(String);
    const workers = f.getAll('worker').map(String).filter((id) => !cp.includes(id));
    setBusy(true);
    setError(undefined);
    try {
      const c = await must(api.POST('/v1/clusters', {
        body: {
          name: String(f.get('name') ?? ''), profile: { name: profile, version: String(f.get('version') ?? '') },
          controlPlane: { hostIds: cp }, ...(workers.length ? { workers: [{ name: 'workers', hostIds: workers }] } : {}),
        },
      }));
      onCreated(c.id);
    } catch (err) { setError(err); } finally { setBusy(false); }
  }
  const published = (versions.data?.items ?? []).filter((v) => v.status === 'published');
  return (
    <form onSubmit={(e) => void submit(e)} className="create" aria-labelledby="create-cluster">
      <h2 id="create-cluster">Create a cluster</h2>
      <div className="filters">
        <Field label="Name" id="c-name"><input id="c-name" name="name" required pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?" maxLength={63} /></Field>
        <Field label="Profile" id="c-profile">
          <select id="c-profile" value={profile} onChange={(e) => setProfile(e.target.value)} required>
            <option value="">choose…</option>{(profiles.data?.items ?? []).map((p) => <option key={p.name}>{p.name}</option>)}
          </select>
        </Field>
        <Field label="Published version" id="c-version">
          <select id="c-version" name="version" required>{published.map((v) => <option key={v.version}>{v.version}</option>)}</select>
        </Field>
      </div>
      <fieldset>
        <legend>Approved hosts: control plane (1, 3 or 5) and workers</legend>
        {(hosts.data?.items ?? []).length === 0 ? <p>No approved host is free.</p> : (
          <table>
            <thead><tr><th scope="col">Host</th><th scope="col">Control plane</th><th scope="col">Worker</th><th scope="col">Site</th></tr></thead>
            <tbody>{hosts.data!.items.map((h) => (
              <tr key={h.id}><td className="nowrap">{h.id}</td>
                <td><input type="checkbox" name="cp" value={h.id} aria-label={`${h.id} in the control plane`} /></td>
                <td><input type="checkbox" name="worker" value={h.id} aria-label={`${h.id} as a worker`} /></td>
                <td>{h.site ?? '—'}</td></tr>
            ))}</tbody>
          </table>
        )}
      </fieldset>
      <ErrorBanner error={error ?? profiles.error ?? versions.error ?? hosts.error} />
      <button type="submit" disabled={busy}>{busy ? 'Creating…' : 'Create cluster'}</button>
    </form>
  );
}

export function Clusters({ canOperate }: { canOperate: boolean }) {
  const [page, setPage] = useState<PageState>(firstPage);
  const { data, error } = useLoad(() => must(api.GET('/v1/clusters', { params: { query: { limit: 50, ...(page.cursor ? { cursor: page.cursor } : {}) } } })), [page.cursor], 5000);
  return (
    <>
      <h1>Clusters</h1>
      <ErrorBanner error={error} />
      {data && data.items.length === 0 ? <p>No clusters yet.</p> : (
        <table>
          <caption className="sr-only">Clusters (refreshed every 5 s)</caption>
          <thead><tr><th scope="col">Name</th><th scope="col">Status</th><th scope="col">Health</th><th scope="col">Profile</th><th scope="col">Nodes</th><th scope="col">Site</th></tr></thead>
          <tbody>{(data?.items ?? []).map((c) => (
            <tr key={c.id}>
              <td className="nowrap"><a href={`#/clusters/${encodeURIComponent(c.id)}`}>{c.name}</a></td>
              <td><Badge value={c.status} /></td><td><Badge value={c.health.state} /></td>
              <td>{c.profile.name} {c.profile.version}</td>
              <td>{c.controlPlane.hostIds.length + c.workers.reduce((n, w) => n + w.hostIds.length, 0)}</td><td>{c.site ?? '—'}</td>
            </tr>
          ))}</tbody>
        </table>
      )}
      <Pager label="Cluster pages" hasPrevious={page.cursor !== undefined} hasNext={!!data?.nextCursor} onPrevious={() => setPage(previousPage(page))} onNext={() => data?.nextCursor && setPage(nextPage(page, data.nextCursor))} />
      {canOperate ? <CreateCluster onCreated={(id) => { location.hash = `#/clusters/${encodeURIComponent(id)}`; }} /> : null}
    </>
  );
}
