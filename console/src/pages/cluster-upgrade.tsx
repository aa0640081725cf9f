/**
 * The upgrade form with the plan preview: every change of the target version or the downtime
 * acknowledgement asks the API for a dry run (`dryRun: true`: nothing starts, nothing is
 * recorded) and shows the plan it returns (node order, steps per node, downtime, or why it would
 * be refused) before the operator starts the upgrade.
 */
import { useState, type FormEvent } from 'react';
import { api, must, type Cluster, type UpgradePreview } from '../api/client.js';
import { planLines } from '../logic/plan-preview.js';
import { ErrorBanner, Field, useLoad } from '../components/ui.js';

type Body = { to: { version: string }; onFailure: 'rollback' | 'pause'; acknowledgeDowntime?: true };

async function dryRun(clusterId: string, body: Body): Promise<UpgradePreview> {
  const d = await must(api.POST('/v1/clusters/{clusterId}/upgrades', { params: { path: { clusterId } }, body: { ...body, dryRun: true } }));
  if (!('dryRun' in d)) throw new Error(`the API answered the plan preview of cluster ${clusterId} with an upgrade (${d.id}); look at the cluster's operations`);
  return d;
}

function PlanPreview({ clusterId, body }: { clusterId: string; body: Body }) {
  const { data, error, loading } = useLoad(() => dryRun(clusterId, body), [clusterId, JSON.stringify(body)]);
  const lines = data ? planLines(data) : undefined;
  return (
    <section className="preview" aria-labelledby="plan-title" data-testid="upgrade-plan" aria-busy={loading}>
      <h3 id="plan-title">Plan preview</h3>
      <ErrorBanner error={error} />
      {lines ? (
        <>
          <p data-testid="plan-verdict" className={data?.wouldStart ? undefined : 'refusal'}>{lines.verdict}</p>
          {lines.summary ? <p>{lines.summary}</p> : null}
          {lines.downtime ? <p>{lines.downtime}</p> : null}
          {lines.steps.length ? (
            <ol aria-label="Nodes in upgrade order">{lines.steps.map((s) => <li key={s.hostId} data-host={s.hostId}>{s.text}</li>)}</ol>
          ) : null}
        </>
      ) : null}
    </section>
  );
}

export function Upgrade({ cluster, onStarted }: { cluster: Cluster; onStarted: (operationId: string) => void }) {
  const versions = useLoad(() => must(api.GET('/v1/profiles/{name}/versions', { params: { path: { name: cluster.profile.name }, query: { limit: 100 } } })), [cluster.profile.name]);
  const [error, setError] = useState<unknown>();
  const [chosen, setChosen] = useState<string>();
  const [onFailure, setOnFailure] = useState<'rollback' | 'pause'>('rollback');
  const [ack, setAck] = useState(false);
  const targets = (versions.data?.items ?? []).filter((v) => v.status === 'published' && v.version !== cluster.profile.version);
  const to = chosen && targets.some((v) => v.version === chosen) ? chosen : targets[0]?.version;
  const nodes = cluster.controlPlane.hostIds.length + cluster.workers.reduce((n, w) => n + w.hostIds.length, 0);
  // The API refuses an upgrade that reboots a lone control-plane node unless the downtime is accepted.
  const downtime = nodes === 1
    ? 'I accept the downtime: this single-node cluster reboots (workloads and the Kubernetes API are down for one reboot)'
    : cluster.controlPlane.hostIds.length === 1 ? 'I accept that the Kubernetes API is down while the single control-plane node reboots (workloads on workers keep running)' : undefined;
  const body: Body | undefined = to ? { to: { version: to }, onFailure, ...(ack && downtime ? { acknowledgeDowntime: true as const } : {}) } : undefined;
  async function submit(e: FormEvent<HTMLFormElement>) {
    e.preventDefault();
    if (!body) return;
    setError(undefined);
    try {
      const op = await must(api.POST('/v1/clusters/{clusterId}/upgrades', { params: { path: { clusterId: cluster.id } }, body }));
      if ('dryRun' in op) throw new Error(`the API planned the upgrade of cluster ${cluster.name} but did not start it; try again`);
      onStarted(op.id);
    } catch (err) { setError(err); }
  }
  if (versions.data && targets.length === 0) return <p>No other published version of profile {cluster.profile.name} to upgrade to.</p>;
  return (
    <form onSubmit={(e) => void submit(e)} aria-labelledby="upgrade-title">
      <h2 id="upgrade-title">Upgrade</h2>
      <div className="filters">
        <Field label="To version" id="u-to"><select id="u-to" name="to" value={to ?? ''} onChange={(e) => setChosen(e.target.value)}>{targets.map((v) => <option key={v.version}>{v.version}</option>)}</select></Field>
        <Field label="When a node fails" id="u-fail"><select id="u-fail" name="onFailure" value={onFailure} onChange={(e) => setOnFailure(e.target.value === 'pause' ? 'pause' : 'rollback')}><option value="rollback">roll back</option><option value="pause">pause</option></select></Field>
        {downtime ? <label className="check"><input type="checkbox" name="ack" checked={ack} onChange={(e) => setAck(e.target.checked)} /> {downtime}</label> : null}
        <button type="submit">Start rolling upgrade</button>
      </div>
      {body ? <PlanPreview clusterId={cluster.id} body={body} /> : null}
      <ErrorBanner error={error} />
    </form>
  );
}
