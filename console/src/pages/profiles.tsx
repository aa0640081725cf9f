/** Cluster profiles: the list, a profile's versions side by side with a layer diff, publish a draft, add a version. */
import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client.js';
import { diffLayers } from '../logic/layer-diff.js';
import { Badge, ErrorBanner, Field, useLoad } from '../components/ui.js';

const layerText = (l?: { pack: string; version: string; image?: string }) => (l ? `${l.pack} ${l.version}${l.image ? ` (${l.image})` : ''}` : '—');

function Versions({ name, canOperate }: { name: string; canOperate: boolean }) {
  const { data, error, reload } = useLoad(() => must(api.GET('/v1/profiles/{name}/versions', { params: { path: { name }, query: { limit: 100 } } })), [name]);
  const items = data?.items ?? [];
  const [left, setLeft] = useState<string>();
  const [right, setRight] = useState<string>();
  const [actionError, setActionError] = useState<unknown>();
  const l = items.find((v) => v.version === (left ?? items[1]?.version ?? items[0]?.version));
  const r = items.find((v) => v.version === (right ?? items[0]?.version));
  async function publish(version: string) {
    setActionError(undefined);
    try { await must(api.POST('/v1/profiles/{name}/versions/{version}/publish', { params: { path: { name, version } } })); reload(); } catch (e) { setActionError(e); }
  }
  return (
    <section aria-labelledby="versions">
      <h2 id="versions">Versions of {name}</h2>
      <ErrorBanner error={error ?? actionError} />
      <ul>{items.map((v) => (
        <li key={v.version}>{v.version} <Badge value={v.status} />
          {canOperate && v.status === 'draft' ? <> <button type="button" onClick={() => void publish(v.version)}>Publish {v.version}</button></> : null}</li>
      ))}</ul>
      {items.length > 1 && l && r ? (
        <>
          <div className="filters">
            <Field label="Left" id="v-left"><select id="v-left" value={l.version} onChange={(e) => setLeft(e.target.value)}>{items.map((v) => <option key={v.version}>{v.version}</option>)}</select></Field>
            <Field label="Right" id="v-right"><select id="v-right" value={r.version} onChange={(e) => setRight(e.target.value)}>{items.map((v) => <option key={v.version}>{v.version}</option>)}</select></Field>
          </div>
          <table>
            <caption>Layers of {l.version} and {r.version}</caption>
            <thead><tr><th scope="col">Layer</th><th scope="col">{l.version}</th><th scope="col">{r.version}</th><th scope="col">Change</th></tr></thead>
            <tbody>{diffLayers(l.layers, r.layers).map((row) => (
              <tr key={row.slot}><td>{row.slot}</td><td>{layerText(row.left)}</td><td>{layerText(row.right)}</td>
                <td>{row.change}{row.fields.length ? `: ${row.fields.join(', ')}` : ''}</td></tr>
            ))}</tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}

function AddVersion({ name, onAdded }: { name: string; onAdded: () => void }) {
  const [error, setError] = useState<unknown>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const v = (k: string) => String(f.get(k) ?? '').trim();
    setError(undefined);
    try {
      await must(api.POST('/v1/profiles/{name}/versions', {
        params: { path: { name } },
        body: {
          version: v('version'), publish: f.get('publish') === 'on',
          layers: [{ type: 'os', pack: v('osPack'), version: v('osVersion'), ...(v('image') ? { image: v('image') } : {}) }, { type: 'k8s', pack: v('k8sPack'), version: v('k8sVersion') }],
        },
      }));
      onAdded();
    } catch (err) { setError(err); }
  }
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="add-version" className="create">
      <h2 id="add-version">Add a version (OS and Kubernetes layers; add-ons through the API or CLI)</h2>
      <div className="filters">
        <Field label="Version" id="pv-version"><input id="pv-version" name="version" required placeholder="1.0.0" /></Field>
        <Field label="OS pack" id="pv-os"><input id="pv-os" name="osPack" required defaultValue="ubuntu" /></Field>
        <Field label="OS version" id="pv-osv"><input id="pv-osv" name="osVersion" required defaultValue="24.04" /></Field>
        <Field label="OS image" id="pv-image"><input id="pv-image" name="image" size={60} /></Field>
        <Field label="Kubernetes pack" id="pv-k8s"><input id="pv-k8s" name="k8sPack" required defaultValue="k3s" /></Field>
        <Field label="Kubernetes version" id="pv-k8sv"><input id="pv-k8sv" name="k8sVersion" required /></Field>
        <label className="check"><input type="checkbox" name="publish" /> Publish (immutable)</label>
        <button type="submit">Add version</button>
      </div>
      <ErrorBanner error={error} />
    </form>
  );
}

export function Profiles({ canOperate }: { canOperate: boolean }) {
  const { data, error, reload } = useLoad(() => must(api.GET('/v1/profiles', { params: { query: { limit: 100 } } })), []);
  const [chosen, setChosen] = useState<string>();
  const [createError, setCreateError] = useState<unknown>();
  const [versionsKey, setVersionsKey] = useState(0);
  async function create(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const name = String(new FormData(e.currentTarget).get('name') ?? '').trim();
    setCreateError(undefined);
    try { await must(api.POST('/v1/profiles', { body: { name } })); setChosen(name); reload(); } catch (err) { setCreateError(err); }
  }
  return (
    <>
      <h1>Cluster profiles</h1>
      <ErrorBanner error={error} />
      {data && data.items.length === 0 ? <p>No profiles yet.</p> : (
        <ul className="choices">{(data?.items ?? []).map((p) => (
          <li key={p.name}><button type="button" className="link" aria-pressed={chosen === p.name} onClick={() => setChosen(p.name)}>{p.name}</button> latest {p.latestVersion ?? '—'}{p.description ? ` — ${p.description}` : ''}</li>
        ))}</ul>
      )}
      {chosen ? <Versions key={`${chosen}-${versionsKey}`} name={chosen} canOperate={canOperate} /> : null}
      {chosen && canOperate ? <AddVersion name={chosen} onAdded={() => { setVersionsKey((k) => k + 1); reload(); }} /> : null}
      {canOperate ? (
        <form onSubmit={(e) => void create(e)} aria-labelledby="create-profile" className="create">
          <h2 id="create-profile">Create a profile</h2>
          <div className="filters">
            <Field label="Profile name" id="p-name"><input id="p-name" name="name" required pattern="[a-z0-9]([a-z0-9\-]*[a-z0-9])?" maxLength={63} /></Field>
            <button type="submit">Create profile</button>
          </div>
          <ErrorBanner error={createError} />
        </form>
      ) : null}
    </>
  );
}
