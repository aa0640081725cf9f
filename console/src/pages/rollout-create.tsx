/**
 * Start a rollout (POST /v1/rollouts, `#/rollouts/new`): which clusters, the profile version or
 * channel, the waves and the abort thresholds; then the new rollout's page. The API's problem
 * detail is shown as it answers (e.g. a version that is not published).
 */
import { useState, type FormEvent } from 'react';
import { api, must } from '../api/client.js';
import { ErrorBanner, Field } from '../components/ui.js';
import { useIntent } from '../components/use-intent.js';
import { rolloutBody, type TargetKind } from '../logic/rollout-form.js';

const text = (f: FormData, k: string) => String(f.get(k) ?? '');

export function RolloutCreate() {
  const [kind, setKind] = useState<TargetKind>('clusters');
  const [formError, setFormError] = useState<string>();
  const intent = useIntent();
  const submit = async (e: FormEvent<HTMLFormElement>) => {
    e.preventDefault();
    const f = new FormData(e.currentTarget);
    const out = rolloutBody({
      name: text(f, 'name'), targetKind: kind, clusterIds: text(f, 'clusterIds'), template: text(f, 'template'), site: text(f, 'site'), tags: text(f, 'tags'),
      profile: text(f, 'profile'), version: text(f, 'version'), canary: text(f, 'canary'), growth: text(f, 'growth'), maxConcurrent: text(f, 'maxConcurrent'),
      soakMinutes: text(f, 'soakMinutes'), promotion: text(f, 'promotion'), failurePercent: text(f, 'failurePercent'), failureCount: text(f, 'failureCount'),
      acknowledgeDowntime: f.get('acknowledgeDowntime') === 'on',
    });
    if ('error' in out) { setFormError(out.error); return; }
    setFormError(undefined);
    const r = await intent.run((key) => must(api.POST('/v1/rollouts', { body: out.body, headers: { 'idempotency-key': key } })));
    if (r) location.hash = `#/rollouts/${encodeURIComponent(r.id)}`;
  };
  return (
    <>
      <h1>New rollout</h1>
      <p><a href="#/rollouts">← All rollouts</a></p>
      <form onSubmit={(e) => void submit(e)} aria-label="New rollout">
        <Field label="Name (optional)" id="ro-name"><input id="ro-name" name="name" autoComplete="off" maxLength={100} /></Field>
        <fieldset>
          <legend>Target clusters</legend>
          {([['clusters', 'Cluster ids'], ['template', 'A template\'s clusters'], ['selector', 'Site or tag selector']] as const).map(([k, label]) => (
            <label key={k} className="check"><input type="radio" name="targetKind" value={k} checked={kind === k} onChange={() => setKind(k)} /> {label}</label>
          ))}
          {kind === 'clusters' ? <Field label="Cluster ids (comma or space separated)" id="ro-ids"><input id="ro-ids" name="clusterIds" autoComplete="off" /></Field> : null}
          {kind === 'template' ? <Field label="Template" id="ro-template"><input id="ro-template" name="template" autoComplete="off" /></Field> : null}
          {kind === 'selector' ? (
            <>
              <Field label="Site (or prefix such as shop-*)" id="ro-site"><input id="ro-site" name="site" autoComplete="off" /></Field>
              <Field label="Tags (key=value, comma separated)" id="ro-tags"><input id="ro-tags" name="tags" autoComplete="off" /></Field>
            </>
          ) : null}
        </fieldset>
        <fieldset>
          <legend>To</legend>
          <Field label="Profile (optional: the targets' own)" id="ro-profile"><input id="ro-profile" name="profile" autoComplete="off" /></Field>
          <Field label="Version or channel (1.2.0, 1.x)" id="ro-version"><input id="ro-version" name="version" required autoComplete="off" /></Field>
        </fieldset>
        <fieldset>
          <legend>Waves (empty: the API's defaults)</legend>
          <div className="filters">
            <Field label="Canary (clusters, or 10%)" id="ro-canary"><input id="ro-canary" name="canary" autoComplete="off" placeholder="1" /></Field>
            <Field label="Growth" id="ro-growth"><input id="ro-growth" name="growth" inputMode="decimal" autoComplete="off" placeholder="2" /></Field>
            <Field label="Max concurrent" id="ro-max"><input id="ro-max" name="maxConcurrent" inputMode="numeric" autoComplete="off" placeholder="50" /></Field>
            <Field label="Soak minutes" id="ro-soak"><input id="ro-soak" name="soakMinutes" inputMode="numeric" autoComplete="off" placeholder="0" /></Field>
            <Field label="Promotion after the canary" id="ro-promotion"><select id="ro-promotion" name="promotion" defaultValue="auto"><option value="auto">automatic</option><option value="manual">manual (promote on the rollout page)</option></select></Field>
          </div>
        </fieldset>
        <fieldset>
          <legend>Abort thresholds (empty: the API's defaults)</legend>
          <div className="filters">
            <Field label="Abort above failure %" id="ro-fpct"><input id="ro-fpct" name="failurePercent" inputMode="decimal" autoComplete="off" placeholder="20" /></Field>
            <Field label="Abort after failures" id="ro-fcount"><input id="ro-fcount" name="failureCount" inputMode="numeric" autoComplete="off" /></Field>
          </div>
          <label className="check"><input type="checkbox" name="acknowledgeDowntime" /> Single-node clusters may reboot (their API is down during the OS upgrade)</label>
        </fieldset>
        <button type="submit" disabled={intent.busy}>Start rollout</button>
      </form>
      {formError ? <div role="alert" className="banner banner-error">{formError}</div> : null}
      <ErrorBanner error={intent.error} />
    </>
  );
}
