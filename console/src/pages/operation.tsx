/** An operation's live per-node progress (polled every 2 s, or at the API's Retry-After, while it runs), with pause/resume/cancel for upgrades. */
import { useState } from 'react';
import { api, must, mustWithRetry, type Operation } from '../api/client.js';
import { nextPollMs } from '../logic/poll.js';
import { Badge, ErrorBanner, ago, useLoad } from '../components/ui.js';

const ENDED = new Set(['succeeded', 'failed', 'cancelled']);

function UpgradeControls({ op, canOperate, onChanged }: { op: Operation; canOperate: boolean; onChanged: () => void }) {
  const [error, setError] = useState<unknown>();
  if (!canOperate || op.type !== 'upgrade-cluster' || ENDED.has(op.status)) return null;
  const act = async (action: 'pause' | 'resume' | 'cancel') => {
    setError(undefined);
    const path = { clusterId: op.target.id, upgradeId: op.id };
    try {
      if (action === 'pause') await must(api.POST('/v1/clusters/{clusterId}/upgrades/{upgradeId}/pause', { params: { path } }));
      else if (action === 'resume') await must(api.POST('/v1/clusters/{clusterId}/upgrades/{upgradeId}/resume', { params: { path } }));
      else await must(api.POST('/v1/clusters/{clusterId}/upgrades/{upgradeId}/cancel', { params: { path } }));
      onChanged();
    } catch (e) { setError(e); }
  };
  return (
    <div className="toolbar">
      {op.status === 'paused'
        ? <button type="button" onClick={() => void act('resume')}>Resume upgrade</button>
        : <button type="button" onClick={() => void act('pause')}>Pause after the node in progress</button>}
      <button type="button" className="danger" onClick={() => void act('cancel')}>Cancel upgrade</button>
      <ErrorBanner error={error} />
    </div>
  );
}

export function OperationProgress({ operationId, canOperate }: { operationId: string; canOperate: boolean }) {
  // Polled every 2 s (or at the API's Retry-After) until it ends.
  const { data: got, error, reload } = useLoad(
    () => mustWithRetry(api.GET('/v1/operations/{operationId}', { params: { path: { operationId } } })),
    [operationId],
    (d) => (d && ENDED.has(d.data.status) ? undefined : nextPollMs(d?.retryAfter, undefined, 2000)),
  );
  const op = got?.data;
  return (
    <section aria-labelledby={`op-${operationId}`} className="operation">
      <h2 id={`op-${operationId}`}>Operation {operationId}</h2>
      <ErrorBanner error={error} />
      {op ? (
        <>
          <p aria-live="polite"><Badge value={op.status} /> {op.type}, step <strong>{op.step}</strong>, started {ago(op.startedAt)}{op.endedAt ? `, ended ${ago(op.endedAt)}` : ''}{op.reason ? ` — ${op.reason}` : ''}</p>
          <UpgradeControls op={op} canOperate={canOperate} onChanged={reload} />
          <table>
            <caption className="sr-only">Per-node progress of operation {operationId}</caption>
            <thead><tr><th scope="col">Node</th><th scope="col">Status</th><th scope="col">Step</th><th scope="col">Detail</th><th scope="col">Updated</th></tr></thead>
            <tbody>
              {Object.entries(op.hosts).map(([hostId, p]) => (
                <tr key={hostId} data-node={hostId}>
                  <td className="nowrap"><a href={`#/hosts/${encodeURIComponent(hostId)}`}>{hostId}</a></td>
                  <td><Badge value={p.status} /></td><td>{p.step ?? '—'}</td><td>{p.detail ?? ''}</td><td>{ago(p.at)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </>
      ) : null}
    </section>
  );
}
