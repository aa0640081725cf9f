/**
 * Hosts grid: server-side filters (status, health, site, tag, cluster) and paging, one API page
 * (50 hosts) at a time; bulk approve of the selected pending hosts (operators and admins).
 */
import { useState, type FormEvent } from 'react';
import { api, must, ApiError, type Host } from '../api/client.js';
import { firstPage, hostFiltersFrom, hostsHref, nextPage, previousPage, HOST_HEALTHS, HOST_STATUSES, type HostFilters, type PageState } from '../logic/host-query.js';
import { Badge, ErrorBanner, Field, Notice, Pager, ago, useLoad } from '../components/ui.js';

const PAGE = 50;

const addresses = (h: Host) => (h.reported?.addresses ?? []).flatMap((a) => a.ips ?? []).join(', ') || (h.inventory?.nics ?? []).flatMap((n) => n.ips ?? []).join(', ') || '—';
const tagText = (h: Host) => Object.entries(h.tags).map(([k, v]) => `${k}=${v}`).join(', ') || '—';

function FilterForm({ filters }: { filters: HostFilters }) {
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const q = new URLSearchParams();
    for (const k of ['status', 'health', 'site', 'tag', 'clusterId']) { const v = String(f.get(k) ?? '').trim(); if (v) q.set(k, v); }
    location.hash = hostsHref(hostFiltersFrom(q));
  };
  return (
    <form className="filters" onSubmit={submit} aria-label="Filter hosts">
      <Field label="Status" id="f-status"><select id="f-status" name="status" defaultValue={filters.status ?? ''}><option value="">any</option>{HOST_STATUSES.map((s) => <option key={s}>{s}</option>)}</select></Field>
      <Field label="Health" id="f-health"><select id="f-health" name="health" defaultValue={filters.health ?? ''}><option value="">any</option>{HOST_HEALTHS.map((s) => <option key={s}>{s}</option>)}</select></Field>
      <Field label="Site" id="f-site"><input id="f-site" name="site" defaultValue={filters.site ?? ''} /></Field>
      <Field label="Tag (key=value)" id="f-tag"><input id="f-tag" name="tag" defaultValue={filters.tag ?? ''} pattern="[^=]+=[^=]*" /></Field>
      <Field label="Cluster id" id="f-cluster"><input id="f-cluster" name="clusterId" defaultValue={filters.clusterId ?? ''} /></Field>
      <button type="submit">Apply filters</button>
    </form>
  );
}

export function Hosts({ params, canOperate }: { params: URLSearchParams; canOperate: boolean }) {
  const filters = hostFiltersFrom(params);
  const key = JSON.stringify(filters);
  const [paging, setPaging] = useState<{ key: string; page: PageState }>({ key, page: firstPage });
  const page = paging.key === key ? paging.page : firstPage;
  const { data, error, loading, reload } = useLoad(
    () => must(api.GET('/v1/hosts', { params: { query: { ...filters, limit: PAGE, ...(page.cursor ? { cursor: page.cursor } : {}) } } })),
    [key, page.cursor],
  );
  const [selected, setSelected] = useState<ReadonlySet<string>>(new Set());
  const [result, setResult] = useState<{ approved: string[]; failed: { id: string; message: string }[] }>();
  const pending = (data?.items ?? []).filter((h) => h.status === 'pending');

  async function bulkApprove() {
    const approved: string[] = [];
    const failed: { id: string; message: string }[] = [];
    // One call at a time: a thousand-host selection must not flood the API.
    for (const id of selected) {
      try {
        await must(api.POST('/v1/hosts/{hostId}/approve', { params: { path: { hostId: id } }, body: {} }));
        approved.push(id);
      } catch (e) {
        failed.push({ id, message: e instanceof ApiError ? e.message : String(e) });
      }
    }
    setResult({ approved, failed });
    setSelected(new Set());
    reload();
  }

  const toggle = (id: string) => setSelected((s) => { const n = new Set(s); if (n.has(id)) n.delete(id); else n.add(id); return n; });
  return (
    <>
      <h1>Hosts</h1>
      <FilterForm key={key} filters={filters} />
      <ErrorBanner error={error} />
      {result ? (
        <div role="status" className="banner banner-info">
          {result.approved.length} approved.{result.failed.map((f) => <div key={f.id}>{f.id}: {f.message}</div>)}
        </div>
      ) : null}
      {canOperate && pending.length > 0 ? (
        <div className="toolbar">
          <button type="button" onClick={() => void bulkApprove()} disabled={selected.size === 0}>Approve selected ({selected.size})</button>
          <span>Hosts that show a pairing code are approved one by one on <a href="#/approvals">Pending approvals</a>.</span>
        </div>
      ) : null}
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Hosts table">
        <table>
          <caption>{loading ? 'Loading hosts…' : `${data?.items.length ?? 0} hosts on this page${data?.nextCursor ? ' (more on the next page)' : ''}`}</caption>
          <thead>
            <tr>
              {canOperate ? <th scope="col"><span className="sr-only">Select</span></th> : null}
              <th scope="col">Id</th><th scope="col">Status</th><th scope="col">Health</th><th scope="col">Site</th><th scope="col">Tags</th>
              <th scope="col">Cluster</th><th scope="col">CPU</th><th scope="col">Memory</th><th scope="col">OS image</th><th scope="col">Addresses</th>
              <th scope="col">Arch</th><th scope="col">Last seen</th>
            </tr>
          </thead>
          <tbody>
            {(data?.items ?? []).map((h) => (
              <tr key={h.id}>
                {canOperate ? <td>{h.status === 'pending' ? <input type="checkbox" aria-label={`Select ${h.id}`} checked={selected.has(h.id)} onChange={() => toggle(h.id)} /> : null}</td> : null}
                <td className="nowrap"><a href={`#/hosts/${encodeURIComponent(h.id)}`}>{h.id}</a></td>
                <td><Badge value={h.status} /> <Badge value={h.presence} /></td>
                <td><Badge value={h.health.state} /></td>
                <td className="nowrap">{h.site ?? '—'}</td>
                <td>{tagText(h)}</td>
                <td className="nowrap">{h.clusterId ? <a href={`#/clusters/${encodeURIComponent(h.clusterId)}`}>{h.clusterId}</a> : '—'}</td>
                <td>{h.inventory?.cpus ?? '—'}</td>
                <td>{h.inventory ? `${Math.round(h.inventory.memoryMb / 1024)} GiB` : '—'}</td>
                <td>{h.reported?.boot.image ?? h.inventory?.kairos?.version ?? '—'}</td>
                <td>{addresses(h)}</td>
                <td>{h.inventory?.arch ?? '—'}</td>
                <td>{ago(h.reported?.reportedAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {data && data.items.length === 0 ? <Notice>No host matches these filters.</Notice> : null}
      <Pager label="Hosts pages" hasPrevious={page.cursor !== undefined} hasNext={!!data?.nextCursor}
        onPrevious={() => setPaging({ key, page: previousPage(page) })}
        onNext={() => data?.nextCursor && setPaging({ key, page: nextPage(page, data.nextCursor) })} />
    </>
  );
}
