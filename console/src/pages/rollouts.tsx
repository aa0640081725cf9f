/** Rollouts: the project's rollouts, newest first, one API page per view, filtered by status. */
import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client.js';
import { firstPage, nextPage, previousPage, type PageState } from '../logic/host-query.js';
import { ROLLOUT_ENDED, ROLLOUT_STATUSES, rolloutFiltersFrom, rolloutsHref } from '../logic/list-query.js';
import { countsText, settled } from '../logic/rollout-view.js';
import { Badge, Bar, ErrorBanner, Field, Pager, ago, useLoad } from '../components/ui.js';

const PAGE = 25;

export function Rollouts({ params, canOperate }: { params: URLSearchParams; canOperate: boolean }) {
  const filters = rolloutFiltersFrom(params);
  const key = JSON.stringify(filters);
  const [paging, setPaging] = useState<{ key: string; page: PageState }>({ key, page: firstPage });
  const page = paging.key === key ? paging.page : firstPage;
  const { data, error } = useLoad(
    () => must(api.GET('/v1/rollouts', { params: { query: { ...filters, limit: PAGE, ...(page.cursor ? { cursor: page.cursor } : {}) } } })),
    [key, page.cursor],
    (d) => (!d || d.items.some((r) => !ROLLOUT_ENDED.has(r.status)) ? 5000 : undefined),
  );
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    location.hash = rolloutsHref(rolloutFiltersFrom(new URLSearchParams({ status: String(new FormData(e.currentTarget).get('status') ?? '') })));
  };
  const items = data?.items ?? [];
  return (
    <>
      <h1>Rollouts</h1>
      {canOperate ? <p><a href="#/rollouts/new">Start a rollout</a></p> : null}
      <form key={key} className="filters" onSubmit={submit} aria-label="Filter rollouts">
        <Field label="Status" id="r-status"><select id="r-status" name="status" defaultValue={filters.status ?? ''}><option value="">any</option>{ROLLOUT_STATUSES.map((s) => <option key={s}>{s}</option>)}</select></Field>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorBanner error={error} />
      {data && items.length === 0 ? <p>No rollout{filters.status ? ` is ${filters.status}` : ' yet'}. Start one {canOperate ? <>with <a href="#/rollouts/new">the form</a>, </> : null}with <code>edgefleet rollouts create</code> or <code>POST /v1/rollouts</code>.</p> : (
        <div className="table-scroll">
          <table>
            <caption>{items.length} rollout{items.length === 1 ? '' : 's'} on this page, newest first{data?.nextCursor ? ' (more on the next page)' : ''}</caption>
            <thead><tr><th scope="col">Rollout</th><th scope="col">To</th><th scope="col">Status</th><th scope="col">Clusters</th><th scope="col">Progress</th><th scope="col">Started</th></tr></thead>
            <tbody>{items.map((r) => (
              <tr key={r.id}>
                <td className="nowrap"><a href={`#/rollouts/${encodeURIComponent(r.id)}`}>{r.name ? `${r.name} (${r.id})` : r.id}</a></td>
                <td className="nowrap">{r.to.name}@{r.to.version}</td>
                <td><Badge value={r.status} /></td>
                <td>{countsText(r.counts)}</td>
                <td><Bar label={`${r.id}: ${settled(r.counts)} of ${r.total} clusters done`} value={settled(r.counts)} max={r.total} /> {settled(r.counts)}/{r.total}</td>
                <td className="nowrap">{ago(r.createdAt)}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <Pager label="Rollouts pages" hasPrevious={page.previous.length > 0} hasNext={!!data?.nextCursor}
        onPrevious={() => setPaging({ key, page: previousPage(page) })} onNext={() => data?.nextCursor && setPaging({ key, page: nextPage(page, data.nextCursor) })} />
    </>
  );
}
