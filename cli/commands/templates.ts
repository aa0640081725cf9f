/** `edgefleet templates` (cluster templates), `edgefleet sites list` and `edgefleet clusters detach` (issue 13). */
import { InvalidArgumentError, type Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import type { z } from 'zod';
import type { cluster } from '../../lambdas/contracts/api.js';
import { siteName } from '../../lambdas/contracts/common.js';
import type { siteSettings } from '../../lambdas/contracts/rollouts.js';
import { createTemplateBody, type clusterTemplate, type siteStatus } from '../../lambdas/contracts/templates.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, addPageOptions, examples, type CliRuntime, type PageOpts } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import type { Column } from '../output.js';
import { terminalText } from '../progress.js';
import { readInputFile } from './hosts-import.js';
import { INTERVAL_HELP, parseInterval } from './operations-watch.js';
import { parseRolloutVersion } from './rollouts-create.js';
import { followRollout } from './rollouts-watch.js';

type Template = z.infer<typeof clusterTemplate>;
type Site = z.infer<typeof siteStatus>;
type Cluster = z.infer<typeof cluster>;
type SiteSettings = z.infer<typeof siteSettings>;

/** A site name as the API accepts it. */
export function parseSiteName(text: string): string {
  const r = siteName.safeParse(text);
  if (!r.success) throw new InvalidArgumentError(`site "${text.slice(0, 70)}": ${r.error.issues[0]?.message ?? 'invalid'}`);
  return text;
}

/**
 * An IANA time zone (`Europe/Berlin`, `America/New_York`, `UTC`), in its canonical spelling.
 * Fixed offsets (`+01:00`) and abbreviations the runtime does not know (`CEST`) are refused:
 * a site's windows must follow its daylight-saving changes.
 */
export function parseTimeZone(text: string): string {
  const t = text.trim();
  const hint = 'expected an IANA time zone name such as Europe/Berlin, America/New_York or UTC (see `timedatectl list-timezones`)';
  if (!/^[A-Za-z][A-Za-z0-9_+\-]*(\/[A-Za-z0-9_+\-]+)*$/.test(t) || t.length > 64) throw new InvalidArgumentError(`${hint} (got "${text.slice(0, 70)}")`);
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: t }).resolvedOptions().timeZone;
  } catch {
    throw new InvalidArgumentError(`"${t}" is not a known time zone; ${hint}`);
  }
}

/** `Tue 14:03` in the zone, for the confirmation line. */
export function localTimeIn(zone: string, now: number): string {
  return new Intl.DateTimeFormat('en-GB', { timeZone: zone, weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(now)).replace(',', '');
}

const TEMPLATE_COLUMNS: Column<Template>[] = [
  { header: 'NAME', value: (t) => t.name },
  { header: 'PROFILE', value: (t) => `${t.profile.name}@${t.profile.version}` },
  { header: 'SELECTOR', value: (t) => [t.selector.site ? `site=${t.selector.site}` : '', ...Object.entries(t.selector.tags ?? {}).map(([k, v]) => `${k}=${v}`)].filter(Boolean).join(',') || '(every site)' },
  { header: 'MIN HOSTS', value: (t) => String(t.topology.minHosts ?? 1) },
  { header: 'VERSION', value: (t) => String(t.version) },
];
const SITE_COLUMNS: Column<Site>[] = [
  { header: 'SITE', value: (s) => s.site },
  { header: 'HOSTS', value: (s) => `${s.hosts.seen} seen, ${s.hosts.online} online` },
  { header: 'TEMPLATE', value: (s) => s.template },
  { header: 'CLUSTER', value: (s) => s.clusterId },
  { header: 'STATE', value: (s) => s.state, status: true },
  { header: 'WHY', value: (s) => s.reason },
];

/** A template file (YAML or JSON) checked against the API schema; problems name the field. */
export function parseTemplateFile(text: string, file: string): z.infer<typeof createTemplateBody> {
  let doc: unknown;
  try {
    doc = parseYaml(text);
  } catch (err) {
    throw new CliError(`${file} is not valid YAML or JSON: ${(err as Error).message}`, EXIT.invalid);
  }
  const parsed = createTemplateBody.safeParse(doc);
  if (!parsed.success) {
    throw new CliError(`${file}: the cluster template is not valid; nothing was sent`, EXIT.invalid,
      parsed.error.issues.map((i) => `- ${i.path.join('.') || '(file)'}: ${i.message}`));
  }
  return parsed.data;
}

export function registerTemplates(program: Command, rt: CliRuntime): void {
  const templates = program
    .command('templates')
    .description('cluster templates: build and manage the cluster of every matching site (zero-touch)')
    .addHelpText('after', examples('edgefleet templates create --file shop.yaml', 'edgefleet templates list', 'edgefleet sites list'));

  addCommonOptions(
    templates
      .command('create')
      .description('create a cluster template from a YAML or JSON file')
      .requiredOption('--file <path>', 'the template: name, profile, variables?, topology, selector, upgradePolicy?')
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  ).action(
    action<{ file: string; idempotencyKey?: string }>(rt, async (s, o) => {
      const body = parseTemplateFile(readInputFile(s.path(o.file), o.file), o.file);
      const t = await s.client.post<Template>('/v1/cluster-templates', {
        what: `create cluster template "${body.name}"`, body, idempotencyKey: s.idempotencyKey(o.idempotencyKey),
        hints: { 409: `a template named "${body.name}" exists; see it with \`edgefleet templates get ${body.name}\`` },
      });
      if (s.out.isJson) return s.out.json(t);
      s.out.line(`Created cluster template ${t.name} (${t.profile.name}@${t.profile.version}). Sites whose hosts match build their cluster when a host connects; follow them with: edgefleet sites list`);
    }),
  );

  addCommonOptions(addPageOptions(
    templates
      .command('list')
      .description('list cluster templates')),
  ).action(
    action<PageOpts>(rt, async (s, o) => {
      s.out.page(await s.client.list<Template>('/v1/cluster-templates', { what: 'list cluster templates', ...o }), TEMPLATE_COLUMNS,
        'No cluster templates. Create one with `edgefleet templates create --file template.yaml`.');
    }),
  );

  addCommonOptions(
    templates.command('get').description('show a cluster template').argument('<name>', 'template name'),
  ).action(
    action<object, [string]>(rt, async (s, _o, name) => {
      const t = await s.client.get<Template>(`/v1/cluster-templates/${seg(name)}`, { what: `get cluster template "${name}"`, hints: { 404: 'list them with `edgefleet templates list` (and check --project)' } });
      if (s.out.isJson) return s.out.json(t);
      s.out.details([
        ['Name', t.name], ['Description', t.description], ['Profile', `${t.profile.name}@${t.profile.version}`],
        ['Selector', JSON.stringify(t.selector)], ['Topology', JSON.stringify(t.topology)],
        ['Variables', t.variables ? JSON.stringify(t.variables) : undefined], ['Upgrade policy', t.upgradePolicy ? JSON.stringify(t.upgradePolicy) : undefined],
        ['Version', String(t.version)], ['Created', `${t.createdAt} by ${t.createdBy}`], ['Updated', t.updatedAt],
      ]);
    }),
  );

  addCommonOptions(
    templates
      .command('delete')
      .description('delete a cluster template (refused while clusters are attached, unless --detach)')
      .argument('<name>', 'template name')
      .option('--detach', 'detach its clusters first (they keep running, no longer managed by the template)'),
  ).action(
    action<{ detach?: boolean }, [string]>(rt, async (s, o, name) => {
      const res = await s.client.delete<{ detached: string[] }>(`/v1/cluster-templates/${seg(name)}`, {
        what: `delete cluster template "${name}"`, ...(o.detach ? { query: { detach: 'true' } } : {}),
        hints: { 409: `detach its clusters with \`edgefleet clusters detach <id>\`, or repeat with --detach`, 404: 'list them with `edgefleet templates list`' },
      });
      if (s.out.isJson) return s.out.json(res);
      s.out.line(`Deleted cluster template ${name}${res.detached.length ? `; detached ${res.detached.join(', ')}` : ''}.`);
    }),
  );

  const sites = program.command('sites').description('sites: hosts seen, the template that matches, the cluster, or why not yet');
  addCommonOptions(addPageOptions(
    sites
      .command('list')
      .description('list sites as their last check saw them')),
  ).action(
    action<PageOpts>(rt, async (s, o) => {
      s.out.page(await s.client.list<Site>('/v1/sites', { what: 'list sites', ...o }), SITE_COLUMNS,
        'No sites yet: a site appears once one of its approved hosts connects.');
    }),
  );

  addCommonOptions(
    sites
      .command('set-timezone')
      .description('set the time zone rollout maintenance windows of the site\'s clusters are evaluated in')
      .argument('<site>', 'site name', parseSiteName)
      .argument('<zone>', 'IANA time zone, e.g. Europe/Berlin', parseTimeZone),
  ).addHelpText('after', `\nSites without a time zone use UTC.\n${examples('edgefleet sites set-timezone shop-12 Europe/Berlin', 'edgefleet sites set-timezone ship-3 UTC')}`)
    .action(
      action<object, [string, string]>(rt, async (s, _o, site, zone) => {
        const res = await s.client.patch<SiteSettings>(`/v1/sites/${seg(site)}`, {
          what: `set the time zone of site "${site}" to ${zone}`, body: { timezone: zone },
          hints: { 404: 'list sites with `edgefleet sites list` (a site appears once one of its approved hosts connects)' },
        });
        if (s.out.isJson) return s.out.json(res);
        const tz = terminalText(res.timezone) || zone;
        let local = '';
        try {
          local = ` (${localTimeIn(tz, Date.now())} there now)`;
        } catch {
          /* a zone this machine does not know: leave the local time out */
        }
        s.out.line(`Site ${terminalText(res.site) || site} uses time zone ${tz}${local}; rollout maintenance windows of its clusters are evaluated in it.`);
      }),
    );

  addCommonOptions(
    templates
      .command('upgrade')
      .description('move a template to another profile version: new site clusters get it, and a rollout takes its attached clusters there')
      .argument('<name>', 'template name')
      .requiredOption('--to <version|channel>', 'the published version (1.3.0) or a channel (1.x)', parseRolloutVersion)
      .option('--watch', 'follow the rollout it starts; exit 0 only when it succeeds')
      .option('--interval <duration>', INTERVAL_HELP, parseInterval),
  ).addHelpText('after', `
Reads the template, then PATCHes its profile version (with the version read, so a concurrent
change is refused: exit 4, run it again). The rollout follows the template's upgrade policy.
${examples('edgefleet templates upgrade shop --to 1.3.0 --watch', 'edgefleet templates upgrade shop --to 1.x')}`)
    .action(
      action<{ to: string; watch?: boolean; interval?: number }, [string]>(rt, async (s, o, name) => {
        const hints = { 404: 'list templates with `edgefleet templates list` (and check --project)' };
        const t = await s.client.get<Template>(`/v1/cluster-templates/${seg(name)}`, { what: `get cluster template "${name}"`, hints });
        const res = await s.client.patch<Template & { rolloutId?: unknown }>(`/v1/cluster-templates/${seg(name)}`, {
          what: `move cluster template "${name}" to ${t.profile.name}@${o.to}`,
          body: { version: t.version, profile: { name: t.profile.name, version: o.to } },
          hints: { ...hints, 409: `a rollout of template ${name} may still be running: see \`edgefleet rollouts list --status running\`` },
        });
        const rolloutId = typeof res.rolloutId === 'string' ? res.rolloutId : undefined;
        if (s.out.isJson) {
          if (o.watch && rolloutId) s.io.stdout(JSON.stringify(res) + '\n');
          else s.out.json(res);
        } else {
          s.out.line(`Cluster template ${name} now builds ${terminalText(res.profile.name)}@${terminalText(res.profile.version)}.`);
          if (rolloutId) {
            s.out.line(`Rollout ${terminalText(rolloutId)} started for its attached clusters.`);
            if (!o.watch) s.out.line(`  follow live:  edgefleet rollouts watch ${rolloutId}`);
          } else {
            s.out.line('No rollout was started (no attached cluster needs this version); sites built from now on get it.');
          }
        }
        if (o.watch && rolloutId) await followRollout(s, rolloutId, { intervalMs: o.interval });
      }),
    );

  const clusters = program.commands.find((c) => c.name() === 'clusters');
  if (!clusters) return;
  addCommonOptions(
    clusters
      .command('detach')
      .description('detach a cluster from its template (it keeps running; no rollout of the template reaches it)')
      .argument('<id>', 'cluster id'),
  ).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const c = await s.client.post<Cluster>(`/v1/clusters/${seg(id)}/detach`, { what: `detach cluster "${id}"`, hints: { 404: 'list clusters with `edgefleet clusters list`' } });
      if (s.out.isJson) return s.out.json(c);
      s.out.line(`Detached cluster ${c.name} (${c.id}) from its template; it keeps running as it is.`);
    }),
  );
}
