/**
 * Fleet overview: hosts by lifecycle and health, clusters by health, running operations and
 * rollouts, sites needing attention. Each number is one API page (at most 100 items; "100+"
 * beyond) and links to the filtered list: the API has no count endpoint yet. Running operations
 * are asked for with the API's status filter (one page of `status=running`): a filtered page
 * may hold fewer than its limit and still have a next page, so the count then reads "N+" (at
 * least N) and links to the filtered list, whatever the fleet's size.
 */
import { api, must } from '../api/client.js';
import { hostsHref, HOST_HEALTHS, HOST_STATUSES, type HostFilters } from '../logic/host-query.js';
import { Badge, ErrorBanner, useLoad } from '../components/ui.js';
import { operationsHref, rolloutsHref } from '../logic/list-query.js';
import { atLeast } from '../logic/host-actions.js';

const LIMIT = 100;
const count = (p: { items: unknown[]; nextCursor?: string }) => (p.nextCursor ? `${LIMIT}+` : String(p.items.length));

function HostTile({ label, filters }: { label: string; filters: HostFilters }) {
  const { data, error } = useLoad(() => must(api.GET('/v1/hosts', { params: { query: { ...filters, limit: LIMIT } } })), [JSON.stringify(filters)]);
  return (
    <li className="tile">
      <a href={hostsHref(filters)}>
        <span className="tile-number">{error ? '!' : data ? count(data) : '…'}</span>
        <span className="tile-label">{label}</span>
      </a>
    </li>
  );
}

export function Overview() {
  const clusters = useLoad(() => must(api.GET('/v1/clusters', { params: { query: { limit: LIMIT } } })), []);
  const operations = useLoad(() => must(api.GET('/v1/operations', { params: { query: { status: 'running', limit: LIMIT } } })), [], 5000);
  const rollouts = useLoad(() => must(api.GET('/v1/rollouts', { params: { query: { status: 'running', limit: 20 } } })), [], 5000);
  const sites = useLoad(() => must(api.GET('/v1/sites', { params: { query: { limit: LIMIT } } })), []);
  const byHealth = new Map<string, number>();
  for (const c of clusters.data?.items ?? []) byHealth.set(c.health.state, (byHealth.get(c.health.state) ?? 0) + 1);
  const running = (operations.data?.items ?? []).filter((o) => o.status === 'running');
  const attention = (sites.data?.items ?? []).filter((s) => s.state === 'blocked' || s.state === 'ambiguous' || s.hosts.online < s.hosts.approved);
  return (
    <>
      <h1>Fleet overview</h1>
      <section aria-labelledby="hosts-lifecycle">
        <h2 id="hosts-lifecycle">Hosts by lifecycle</h2>
        <ul className="tiles">{HOST_STATUSES.map((s) => <HostTile key={s} label={s} filters={{ status: s }} />)}</ul>
      </section>
      <section aria-labelledby="hosts-health">
        <h2 id="hosts-health">Hosts by health</h2>
        <ul className="tiles">{HOST_HEALTHS.map((h) => <HostTile key={h} label={h} filters={{ health: h }} />)}</ul>
      </section>
      <section aria-labelledby="clusters-health">
        <h2 id="clusters-health">Clusters by health</h2>
        <ErrorBanner error={clusters.error} />
        {clusters.data && clusters.data.items.length === 0 ? <p>No clusters yet.</p> : (
          <ul className="tiles">{[...byHealth].map(([h, n]) => <li className="tile" key={h}><span className="tile-number">{n}{clusters.data?.nextCursor ? '+' : ''}</span><span className="tile-label">{h}</span></li>)}</ul>
        )}
      </section>
      <section aria-labelledby="running-ops">
        <h2 id="running-ops">Running operations</h2>
        <ul className="tiles">
          <li className="tile"><a href={operationsHref({ status: 'running' })}><span className="tile-number" data-testid="running-operations">{operations.error ? '!' : operations.data ? atLeast(running.length, operations.data.nextCursor) : '…'}</span><span className="tile-label">operations running</span></a></li>
          <li className="tile"><a href={rolloutsHref({ status: 'running' })}><span className="tile-number" data-testid="running-rollouts">{rollouts.error ? '!' : rollouts.data ? atLeast(rollouts.data.items.length, rollouts.data.nextCursor) : '…'}</span><span className="tile-label">rollouts running</span></a></li>
        </ul>
        <ErrorBanner error={operations.error} />
        {running.length === 0 ? <p>No operation is running.</p> : (
          <table>
            <caption className="sr-only">Operations running (the first API page; refreshed every 5 s)</caption>
            <thead><tr><th scope="col">Operation</th><th scope="col">Type</th><th scope="col">Target</th><th scope="col">Status</th><th scope="col">Step</th></tr></thead>
            <tbody>{running.map((o) => <tr key={o.id}><td><a href={`#/operations/${encodeURIComponent(o.id)}`}>{o.id}</a></td><td>{o.type}</td><td>{o.target.type} {o.target.id}</td><td><Badge value={o.status} /></td><td>{o.step}</td></tr>)}</tbody>
          </table>
        )}
        <h3>Rollouts</h3>
        <ErrorBanner error={rollouts.error} />
        {(rollouts.data?.items.length ?? 0) === 0 ? <p>No rollout is running.</p> : (
          <ul>{rollouts.data!.items.map((r) => <li key={r.id}><a href={`#/rollouts/${encodeURIComponent(r.id)}`}>{r.id}</a>: <Badge value={r.status} /> {Object.entries(r.counts).filter(([, n]) => n > 0).map(([s, n]) => `${n} ${s}`).join(", ")}</li>)}</ul>
        )}
      </section>
      <section aria-labelledby="sites-attention">
        <h2 id="sites-attention">Sites needing attention</h2>
        <ErrorBanner error={sites.error} />
        {attention.length === 0 ? <p>No site needs attention{sites.data?.nextCursor ? ' among the first 100' : ''}.</p> : (
          <ul>{attention.map((s) => <li key={s.site}><a href={hostsHref({ site: s.site })}>{s.site}</a>: {s.reason} ({s.hosts.online}/{s.hosts.approved} approved hosts online)</li>)}</ul>
        )}
      </section>
    </>
  );
}
