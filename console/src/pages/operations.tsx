/**
 * Operations: the project's operations, newest first, one API page (25) per view, filtered on
 * status, type and target (on the server: a filtered page may hold fewer than 25); polled while one on the page runs, at the API's pace when it
 * sends Retry-After. Each opens its live per-node progress (#/operations/<id>), with pause,
 * resume and cancel where the operation takes them.
 */
import { useState, type FormEvent } from 'react';
import { api, mustWithRetry } from '../api/client.js';
import { firstPage, nextPage, previousPage, type PageState } from '../logic/host-query.js';
import { OPERATION_ENDED, OPERATION_STATUSES, OPERATION_TYPES, TARGET_TYPES, operationFiltersFrom, operationsHref } from '../logic/list-query.js';
import { nextPollMs } from '../logic/poll.js';
import { Badge, ErrorBanner, Field, Pager, ago, useLoad } from '../components/ui.js';
import { OperationProgress } from './operation.js';

const PAGE = 25;

export const targetHref = (t: { type: string; id: string }) => `#/${t.type === 'host' ? 'hosts' : 'clusters'}/${encodeURIComponent(t.id)}`;

export function Operations({ params }: { params: URLSearchParams }) {
  const filters = operationFiltersFrom(params);
  const key = JSON.stringify(filters);
  const [paging, setPaging] = useState<{ key: string; page: PageState }>({ key, page: firstPage });
  const page = paging.key === key ? paging.page : firstPage;
  const { data, error } = useLoad(
    () => mustWithRetry(api.GET('/v1/operations', { params: { query: { ...filters, limit: PAGE, ...(page.cursor ? { cursor: page.cursor } : {}) } } })),
    [key, page.cursor],
    (d) => (!d || d.data.items.some((o) => !OPERATION_ENDED.has(o.status)) ? nextPollMs(d?.retryAfter, undefined, 3000) : undefined),
  );
  const submit = (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const q = new URLSearchParams();
    for (const k of ['targetType', 'targetId', 'status', 'type']) { const v = String(f.get(k) ?? '').trim(); if (v) q.set(k, v); }
    location.hash = operationsHref(operationFiltersFrom(q));
  };
  const items = data?.data.items ?? [];
  return (
    <>
      <h1>Operations</h1>
      {/* Keyed on the address's filters: an uncontrolled field would keep a value the address no longer has. */}
      <form key={key} className="filters" onSubmit={submit} aria-label="Filter operations">
        <Field label="Status" id="o-status"><select id="o-status" name="status" defaultValue={filters.status ?? ''}><option value="">any</option>{OPERATION_STATUSES.map((s) => <option key={s}>{s}</option>)}</select></Field>
        <Field label="Type" id="o-kind"><select id="o-kind" name="type" defaultValue={filters.type ?? ''}><option value="">any</option>{OPERATION_TYPES.map((s) => <option key={s}>{s}</option>)}</select></Field>
        <Field label="Target type" id="o-type"><select id="o-type" name="targetType" defaultValue={filters.targetType ?? ''}><option value="">any</option>{TARGET_TYPES.map((t) => <option key={t}>{t}</option>)}</select></Field>
        <Field label="Target id" id="o-id" hint="a cluster or host id; the API filters on type and id together"><input id="o-id" name="targetId" defaultValue={filters.targetId ?? ''} aria-describedby="o-id-hint" /></Field>
        <button type="submit">Apply filters</button>
      </form>
      <ErrorBanner error={error} />
      {data && items.length === 0 ? <p>No operation{filters.status ? ` ${filters.status}` : ''}{filters.type ? ` of type ${filters.type}` : ''}{filters.targetId ? ` on ${filters.targetType} ${filters.targetId}` : ''} on this page{data.data.nextCursor ? ' (the API filters after reading: try the next page)' : ''}.</p> : (
        <div className="table-scroll">
          <table>
            <caption>{items.length} operation{items.length === 1 ? '' : 's'} on this page, newest first{data?.data.nextCursor ? ' (more on the next page)' : ''}</caption>
            <thead><tr><th scope="col">Operation</th><th scope="col">Type</th><th scope="col">Target</th><th scope="col">Status</th><th scope="col">Step</th><th scope="col">Nodes</th><th scope="col">Started</th><th scope="col">Ended</th></tr></thead>
            <tbody>{items.map((o) => (
              <tr key={o.id}>
                <td className="nowrap"><a href={`#/operations/${encodeURIComponent(o.id)}`}>{o.id}</a></td>
                <td>{o.type}</td>
                <td className="nowrap">{o.target.type} <a href={targetHref(o.target)}>{o.target.id}</a></td>
                <td><Badge value={o.status} />{o.reason ? <> {o.reason}</> : null}</td>
                <td>{o.step}</td>
                <td>{Object.keys(o.hosts).length}</td>
                <td className="nowrap">{ago(o.startedAt)}</td>
                <td className="nowrap">{ago(o.endedAt)}</td>
              </tr>
            ))}</tbody>
          </table>
        </div>
      )}
      <Pager label="Operations pages" hasPrevious={page.previous.length > 0} hasNext={!!data?.data.nextCursor}
        onPrevious={() => setPaging({ key, page: previousPage(page) })} onNext={() => data?.data.nextCursor && setPaging({ key, page: nextPage(page, data.data.nextCursor) })} />
    </>
  );
}

export function OperationPage({ operationId, canOperate }: { operationId: string; canOperate: boolean }) {
  return (
    <>
      <h1>Operation {operationId}</h1>
      <p><a href="#/operations">← All operations</a></p>
      <OperationProgress operationId={operationId} canOperate={canOperate} />
    </>
  );
}
