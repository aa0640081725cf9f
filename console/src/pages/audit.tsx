/** The audit log: who did what to which resource, with filters (resource, actor, since); one API page at a time. */
import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client.js';
import { firstPage, nextPage, previousPage, type PageState } from '../logic/host-query.js';
import { Badge, ErrorBanner, Field, Pager, useLoad } from '../components/ui.js';

interface Filters { resource?: string; actor?: string; since?: string }

export function Audit() {
  const [filters, setFilters] = useState<Filters>({});
  const [page, setPage] = useState<PageState>(firstPage);
  const { data, error } = useLoad(() => must(api.GET('/v1/audit-events', { params: { query: { ...filters, limit: 50, ...(page.cursor ? { cursor: page.cursor } : {}) } } })), [JSON.stringify(filters), page.cursor]);
  function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const v = (k: string) => String(f.get(k) ?? '').trim();
    const since = v('since');
    setFilters({ ...(v('resource') ? { resource: v('resource') } : {}), ...(v('actor') ? { actor: v('actor') } : {}), ...(since ? { since: new Date(since).toISOString() } : {}) });
    setPage(firstPage);
  }
  return (
    <>
      <h1>Audit log</h1>
      <form className="filters" onSubmit={submit} aria-label="Filter audit events">
        <Field label="Resource (e.g. host/sim-1)" id="a-res"><input id="a-res" name="resource" /></Field>
        <Field label="Actor" id="a-actor"><input id="a-actor" name="actor" /></Field>
        <Field label="Since" id="a-since"><input id="a-since" name="since" type="datetime-local" /></Field>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorBanner error={error} />
      <div className="table-scroll" tabIndex={0} role="region" aria-label="Audit events table">
        <table>
          <caption>{data ? `${data.items.length} events on this page` : 'Loading…'}</caption>
          <thead><tr><th scope="col">Time</th><th scope="col">Actor</th><th scope="col">Action</th><th scope="col">Resource</th><th scope="col">Outcome</th><th scope="col">Detail</th><th scope="col">Request</th></tr></thead>
          <tbody>{(data?.items ?? []).map((e) => (
            <tr key={e.id}><td className="nowrap">{e.time}</td><td>{e.actor}</td><td>{e.action}</td><td>{e.resource}</td>
              <td><Badge value={e.outcome === 'success' ? 'succeeded' : e.outcome} /></td><td>{e.detail ?? ''}</td><td>{e.requestId}</td></tr>
          ))}</tbody>
        </table>
      </div>
      <Pager label="Audit pages" hasPrevious={page.cursor !== undefined} hasNext={!!data?.nextCursor} onPrevious={() => setPage(previousPage(page))} onNext={() => data?.nextCursor && setPage(nextPage(page, data.nextCursor))} />
    </>
  );
}
