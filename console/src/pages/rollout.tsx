/**
 * One rollout: counts overall and per wave (bars), ETA, failed clusters with their reasons and
 * rollback upgrades, deferred ones, every target cluster (one API page at a time), and pause,
 * resume, cancel and promote for operators. Polled every 5 s (or at the API's Retry-After) until it ends.
 */
import { useState } from 'react';
import { api, must, mustWithRetry, type RolloutTarget } from '../api/client.js';
import { firstPage, nextPage, previousPage, type PageState } from '../logic/host-query.js';
import { ROLLOUT_ENDED } from '../logic/list-query.js';
import { nextPollMs } from '../logic/poll.js';
import { countsText, rolloutActions, settled, type RolloutAction } from '../logic/rollout-view.js';
import { Badge, Bar, ErrorBanner, ago, useLoad } from '../components/ui.js';

const PAGE = 50;
const clusterLink = (id: string) => <a href={`#/clusters/${encodeURIComponent(id)}`}>{id}</a>;
const opLink = (id: string | undefined) => (id ? <a href={`#/operations/${encodeURIComponent(id)}`}>{id}</a> : '—');

function TargetRows({ items, caption }: { items: readonly RolloutTarget[]; caption: string }) {
  return (
    <div className="table-scroll">
      <table>
        <caption>{caption}</caption>
        <thead><tr><th scope="col">Cluster</th><th scope="col">Wave</th><th scope="col">State</th><th scope="col">Reason</th><th scope="col">Upgrade</th><th scope="col">Rollback</th><th scope="col">Retry</th></tr></thead>
        <tbody>{items.map((t) => (
          <tr key={t.clusterId}>
            <td className="nowrap">{clusterLink(t.clusterId)}{t.site ? ` (${t.site})` : ''}</td><td>{t.wave + 1}</td><td><Badge value={t.state} /></td>
            <td>{t.reason ?? ''}</td><td className="nowrap">{opLink(t.operationId)}</td><td className="nowrap">{opLink(t.rollbackOperationId)}</td><td className="nowrap">{t.retryAt ? new Date(t.retryAt).toLocaleString() : '—'}</td>
          </tr>
        ))}</tbody>
      </table>
    </div>
  );
}

function Targets({ rolloutId, version }: { rolloutId: string; version: string }) {
  const [page, setPage] = useState<PageState>(firstPage);
  const { data, error } = useLoad(() => must(api.GET('/v1/rollouts/{rolloutId}/clusters', { params: { path: { rolloutId }, query: { limit: PAGE, ...(page.cursor ? { cursor: page.cursor } : {}) } } })), [rolloutId, page.cursor, version]);
  return (
    <section aria-labelledby="targets">
      <h2 id="targets">Target clusters</h2>
      <ErrorBanner error={error} />
      {data ? <TargetRows items={data.items} caption={`${data.items.length} target cluster${data.items.length === 1 ? '' : 's'} on this page${data.nextCursor ? ' (more on the next page)' : ''}`} /> : null}
      <Pager2 hasPrevious={page.previous.length > 0} next={data?.nextCursor} onPrevious={() => setPage(previousPage(page))} onNext={(c) => setPage(nextPage(page, c))} />
    </section>
  );
}

function Pager2({ hasPrevious, next, onPrevious, onNext }: { hasPrevious: boolean; next?: string; onPrevious: () => void; onNext: (cursor: string) => void }) {
  if (!hasPrevious && !next) return null;
  return (
    <nav className="pager" aria-label="Target clusters pages">
      <button type="button" onClick={onPrevious} disabled={!hasPrevious}>Previous page</button>
      <button type="button" onClick={() => next && onNext(next)} disabled={!next}>Next page</button>
    </nav>
  );
}

const LABEL: Record<RolloutAction, string> = { pause: 'Pause rollout', resume: 'Resume rollout', promote: 'Promote past the canary', cancel: 'Cancel rollout' };

function Controls({ rolloutId, actions, onChanged }: { rolloutId: string; actions: readonly RolloutAction[]; onChanged: () => void }) {
  const [error, setError] = useState<unknown>();
  if (actions.length === 0) return null;
  const act = async (a: RolloutAction) => {
    setError(undefined);
    const opts = { params: { path: { rolloutId } }, body: { reason: 'from the console' } };
    try {
      if (a === 'pause') await must(api.POST('/v1/rollouts/{rolloutId}/pause', opts));
      else if (a === 'resume') await must(api.POST('/v1/rollouts/{rolloutId}/resume', opts));
      else if (a === 'promote') await must(api.POST('/v1/rollouts/{rolloutId}/promote', opts));
      else await must(api.POST('/v1/rollouts/{rolloutId}/cancel', opts));
      onChanged();
    } catch (e) { setError(e); }
  };
  return (
    <div className="toolbar">
      {actions.map((a) => <button key={a} type="button" className={a === 'cancel' ? 'danger' : undefined} onClick={() => void act(a)}>{LABEL[a]}</button>)}
      <ErrorBanner error={error} />
    </div>
  );
}

export function RolloutPage({ rolloutId, canOperate }: { rolloutId: string; canOperate: boolean }) {
  const { data: got, error, reload } = useLoad(
    () => mustWithRetry(api.GET('/v1/rollouts/{rolloutId}', { params: { path: { rolloutId } } })),
    [rolloutId],
    (d) => (d && ROLLOUT_ENDED.has(d.data.status) ? undefined : nextPollMs(d?.retryAfter, undefined, 5000)),
  );
  const r = got?.data;
  return (
    <>
      <h1>Rollout {r?.name ?? rolloutId}</h1>
      <p><a href="#/rollouts">← All rollouts</a></p>
      <ErrorBanner error={error} />
      {r ? (
        <>
          <p aria-live="polite" data-testid="rollout-status"><Badge value={r.status} /> to {r.to.name}@{r.to.version} (asked: {r.requested}){r.reason ? ` — ${r.reason}` : ''}</p>
          <dl className="facts">
            <dt>Clusters</dt><dd><Bar label={`${settled(r.counts)} of ${r.total} clusters done`} value={settled(r.counts)} max={r.total} /> {countsText(r.counts)} (of {r.total})</dd>
            <dt>Started</dt><dd>{ago(r.createdAt)} by {r.createdBy}</dd>
            <dt>{r.endedAt ? 'Ended' : 'Expected end'}</dt><dd>{r.endedAt ? ago(r.endedAt) : r.eta ? new Date(r.eta).toLocaleString() : 'not known yet (no cluster finished)'}</dd>
          </dl>
          {canOperate ? <Controls rolloutId={r.id} actions={rolloutActions(r)} onChanged={reload} /> : null}
          <section aria-labelledby="waves">
            <h2 id="waves">Waves</h2>
            {r.waves.length === 0 ? <p>Not planned yet.</p> : (
              <table>
                <caption className="sr-only">Progress per wave</caption>
                <thead><tr><th scope="col">Wave</th><th scope="col">Clusters</th><th scope="col">Progress</th><th scope="col">Counts</th><th scope="col">Started</th><th scope="col">Ended</th></tr></thead>
                <tbody>{r.waves.map((w) => (
                  <tr key={w.index} data-wave={w.index}>
                    <td>{w.index === 0 ? '1 (canary)' : w.index + 1}</td><td>{w.size}</td>
                    <td><Bar label={`wave ${w.index + 1}: ${settled(w.counts)} of ${w.size} done`} value={settled(w.counts)} max={w.size} /> {settled(w.counts)}/{w.size}</td>
                    <td>{countsText(w.counts)}</td><td className="nowrap">{ago(w.startedAt)}</td><td className="nowrap">{ago(w.endedAt)}</td>
                  </tr>
                ))}</tbody>
              </table>
            )}
          </section>
          {r.failed.length ? <section aria-labelledby="failed"><h2 id="failed">Failed clusters</h2><TargetRows items={r.failed} caption="Clusters whose upgrade failed, with the reason and the rollback" /></section> : null}
          {r.deferred.length ? <section aria-labelledby="deferred"><h2 id="deferred">Deferred and skipped clusters</h2><TargetRows items={r.deferred} caption="Clusters put off (offline, busy, outside their window) or skipped" /></section> : null}
          <Targets rolloutId={r.id} version={`${r.status}-${settled(r.counts)}`} />
        </>
      ) : null}
    </>
  );
}
