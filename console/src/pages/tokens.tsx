/** Registration tokens (admins create and revoke; the secret is shown once) and the install configuration (user-data) download. */
import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client.js';
import { Badge, ErrorBanner, Field, useLoad } from '../components/ui.js';

function UserData() {
  const [error, setError] = useState<unknown>();
  const [file, setFile] = useState<{ url: string; name: string }>();
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const site = String(f.get('site') ?? '').trim();
    setError(undefined);
    try {
      const text = await must(api.POST('/v1/user-data', { body: { token: String(f.get('token') ?? '').trim(), site }, parseAs: 'text' }));
      if (file) URL.revokeObjectURL(file.url);
      setFile({ url: URL.createObjectURL(new Blob([text], { type: 'text/cloud-config' })), name: `user-data-${site}.yaml` });
    } catch (err) { setError(err); }
  }
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="user-data" className="create">
      <h2 id="user-data">Install configuration (user-data)</h2>
      <p>The Kairos <code>#cloud-config</code> that installs the agent with a registration token and a site.</p>
      <div className="filters">
        <Field label="Registration token (secret)" id="ud-token"><input id="ud-token" name="token" required autoComplete="off" /></Field>
        <Field label="Site" id="ud-site"><input id="ud-site" name="site" required /></Field>
        <button type="submit">Render</button>
      </div>
      {file ? <p><a href={file.url} download={file.name}>Download {file.name}</a></p> : null}
      <ErrorBanner error={error} />
    </form>
  );
}

export function Tokens({ canOperate, canAdminister }: { canOperate: boolean; canAdminister: boolean }) {
  const { data, error, reload } = useLoad(() => must(api.GET('/v1/registration-tokens', { params: { query: { limit: 100 } } })), []);
  const [secret, setSecret] = useState<{ name: string; token: string }>();
  const [copied, setCopied] = useState(false);
  const [actionError, setActionError] = useState<unknown>();
  async function create(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const v = (k: string) => String(f.get(k) ?? '').trim();
    setActionError(undefined);
    try {
      const t = await must(api.POST('/v1/registration-tokens', {
        body: { name: v('name'), ...(v('site') ? { site: v('site') } : {}), ...(v('maxUses') ? { maxUses: Number(v('maxUses')) } : {}), autoApprove: f.get('autoApprove') === 'on' },
      }));
      setSecret({ name: t.name, token: t.token ?? '' });
      setCopied(false);
      reload();
    } catch (err) { setActionError(err); }
  }
  async function revoke(id: string) {
    setActionError(undefined);
    try { await must(api.DELETE('/v1/registration-tokens/{id}', { params: { path: { id } } })); reload(); } catch (err) { setActionError(err); }
  }
  return (
    <>
      <h1>Registration tokens</h1>
      <ErrorBanner error={error ?? actionError} />
      {secret ? (
        <div role="status" className="banner banner-info">
          <p>Token <strong>{secret.name}</strong> created. Its secret is shown <strong>this once</strong>: copy it now.</p>
          <p><code data-testid="token-secret">{secret.token}</code></p>
          <button type="button" onClick={() => { void navigator.clipboard?.writeText(secret.token).then(() => setCopied(true), () => setCopied(false)); }}>{copied ? 'Copied' : 'Copy'}</button>
        </div>
      ) : null}
      <table>
        <caption className="sr-only">Registration tokens</caption>
        <thead><tr><th scope="col">Name</th><th scope="col">Site</th><th scope="col">Uses</th><th scope="col">Auto-approve</th><th scope="col">Expires</th><th scope="col">State</th>{canAdminister ? <th scope="col"><span className="sr-only">Actions</span></th> : null}</tr></thead>
        <tbody>{(data?.items ?? []).map((t) => (
          <tr key={t.id}><td>{t.name}</td><td>{t.site ?? '—'}</td><td>{t.uses}{t.maxUses ? ` / ${t.maxUses}` : ''}</td><td>{t.autoApprove ? 'yes' : 'no'}</td><td>{t.expiresAt}</td>
            <td><Badge value={t.revoked ? 'rejected' : 'approved'} /> {t.revoked ? 'revoked' : 'active'}</td>
            {canAdminister ? <td>{t.revoked ? null : <button type="button" className="danger" onClick={() => void revoke(t.id)}>Revoke {t.name}</button>}</td> : null}</tr>
        ))}</tbody>
      </table>
      {canAdminister ? (
        <form onSubmit={(e) => void create(e)} aria-labelledby="create-token" className="create">
          <h2 id="create-token">Create a token</h2>
          <div className="filters">
            <Field label="Name" id="t-name"><input id="t-name" name="name" required /></Field>
            <Field label="Site" id="t-site"><input id="t-site" name="site" /></Field>
            <Field label="Max uses" id="t-max"><input id="t-max" name="maxUses" type="number" min={1} /></Field>
            <label className="check"><input type="checkbox" name="autoApprove" /> Approve hosts that register with it</label>
            <button type="submit">Create token</button>
          </div>
        </form>
      ) : null}
      {canOperate ? <UserData /> : null}
    </>
  );
}
