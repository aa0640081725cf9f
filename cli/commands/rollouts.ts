/**
 * `edgefleet rollouts create|list|get|clusters|watch|pause|resume|cancel|promote` (issue 13): one
 * profile version over many clusters in waves, through POST/GET /v1/rollouts…
 */
import { InvalidArgumentError, Option, type Command } from 'commander';
import { TARGET_STATES, rolloutStatus, type RolloutTarget, type RolloutView } from '../../lambdas/contracts/rollouts.js';
import { dnsName } from '../../lambdas/contracts/common.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, addPageOptions, examples, type CliRuntime, type PageOpts, type Session } from '../context.js';
import type { Column } from '../output.js';
import { collectTags, parsePositiveInt } from '../parse.js';
import { terminalText } from '../progress.js';
import { clock, countsText, etaText, finished, gateNote, rolloutHeadline, targetsText } from '../rollout-progress.js';
import { INTERVAL_HELP, parseInterval } from './operations-watch.js';
import {
  buildRolloutBody, parseAgentVersion, parseClusterIds, parseHostIds, parseNumber, parseRolloutKind, parseOnFailure, parseRolloutVersion, parseSiteSelector, parseTimeOfDay, parseWeekdays,
  type RolloutCreateOpts,
} from './rollouts-create.js';
import { ROLLOUT_NOT_FOUND, followRollout, rolloutPath } from './rollouts-watch.js';

const ROLLOUT_COLUMNS: Column<RolloutView>[] = [
  { header: 'ID', value: (r) => r.id },
  { header: 'STATUS', value: (r) => r.status, status: true },
  { header: 'TO', value: (r) => `${r.to.name}@${r.to.version}` },
  { header: 'TARGETS', value: (r) => targetsText(r.targets) },
  { header: 'DONE', value: (r) => `${finished(r.counts)}/${r.total}${r.counts.failed ? ` (${r.counts.failed} failed)` : ''}` },
  { header: 'CREATED', value: (r) => r.createdAt },
  { header: 'REASON', value: (r) => r.reason },
];

const TARGET_COLUMNS: Column<RolloutTarget>[] = [
  { header: 'CLUSTER', value: (t) => t.clusterId },
  { header: 'SITE', value: (t) => t.site },
  { header: 'WAVE', value: (t) => t.wave },
  { header: 'STATE', value: (t) => t.state, status: true },
  { header: 'REASON', value: (t) => t.reason },
  { header: 'RETRY AT', value: (t) => (t.retryAt ? clock(t.retryAt) : undefined) },
  { header: 'OPERATION', value: (t) => [t.operationId, t.rollbackOperationId && `rollback ${t.rollbackOperationId}`].filter(Boolean).join(', ') },
];

type WaveRow = RolloutView['waves'][number];
const WAVE_COLUMNS: Column<WaveRow>[] = [
  { header: 'WAVE', value: (w) => (w.index === 0 ? '0 canary' : String(w.index)) },
  { header: 'SIZE', value: (w) => w.size },
  { header: 'SUCCEEDED', value: (w) => w.counts.succeeded },
  { header: 'FAILED', value: (w) => w.counts.failed },
  { header: 'RUNNING', value: (w) => w.counts.running },
  { header: 'DEFERRED', value: (w) => w.counts.deferred },
  { header: 'WAITING', value: (w) => w.counts.pending + w.counts.waiting },
  { header: 'SKIPPED', value: (w) => w.counts.skipped },
  { header: 'STARTED', value: (w) => w.startedAt },
  { header: 'ENDED', value: (w) => w.endedAt },
];

/** `rollouts get`: the rollout, counts per state, per wave, ETA, the failed clusters with reasons and the deferred ones with why and when they are tried again. */
export function printRollout(s: Session, v: RolloutView): void {
  s.out.details([
    ['Rollout', v.id], ['Name', v.name], ['Status', v.status], ['Reason', v.reason], ['What', rolloutHeadline(v)],
    ['Clusters', `${finished(v.counts)}/${v.total} done: ${countsText(v.counts)}`], ['ETA', etaText(v, Date.now())],
    ['Note', gateNote(v, Date.now())], ['Superseded by', v.supersededBy],
    ['Created', `${v.createdAt} by ${v.createdBy}`], ['Ended', v.endedAt],
  ]);
  s.out.line('');
  s.out.table(v.waves, WAVE_COLUMNS, 'No waves planned yet.');
  const noun = v.kind === 'agent-update' ? 'hosts' : 'clusters';
  if (v.failed.length) {
    s.out.line(`\nFailed ${noun} (${v.counts.failed}${v.failed.length < v.counts.failed ? `, first ${v.failed.length}` : ''}):`);
    s.out.table(v.failed, TARGET_COLUMNS, '');
  }
  if (v.deferred.length) {
    s.out.line(`\nDeferred ${noun} (${v.counts.deferred}${v.deferred.length < v.counts.deferred ? `, first ${v.deferred.length}` : ''}): offline or busy, tried again at RETRY AT`);
    s.out.table(v.deferred, TARGET_COLUMNS, '');
  }
  if (v.counts.failed > v.failed.length || v.counts.deferred > v.deferred.length) s.out.note(`All of them: edgefleet rollouts clusters ${v.id} --state failed|deferred`);
}

const profileName = (text: string): string => {
  const r = dnsName.safeParse(text);
  if (!r.success) throw new InvalidArgumentError(`profile name "${text}": ${r.error.issues[0]?.message ?? 'invalid'}`);
  return text;
};

function registerCreate(rollouts: Command, rt: CliRuntime): void {
  addCommonOptions(
    rollouts
      .command('create')
      .description('roll a profile version out to many clusters: a canary wave, then growing waves, with abort thresholds')
      .option('--kind <kind>', 'cluster-upgrade (default: a profile version to clusters) or agent-update (the agent version to hosts)', parseRolloutKind)
      .option('--template <name>', 'target the clusters attached to this cluster template', profileName)
      .option('--clusters <id,id,...>', 'target these clusters', parseClusterIds)
      .option('--hosts <id,id,...>', 'agent-update: target these hosts (at most 1000)', parseHostIds)
      .option('--all-hosts', 'agent-update: target every approved host of the project')
      .option('--site <site|prefix*>', 'target the clusters (agent-update: hosts) of this site, or of every site with this prefix (shop-*)', parseSiteSelector)
      .option('--tag <key=value>', 'target clusters whose site hosts carry this tag (agent-update: hosts with it; repeatable; with or without --site)', collectTags)
      .option('--to <version|channel>', 'cluster-upgrade: the published version (1.2.0), or a channel (1.x: its highest published version now)', parseRolloutVersion)
      .option('--version <version>', 'agent-update: the published agent version (GET /v1/agent/manifest)', parseAgentVersion)
      .option('--profile <name>', 'the profile name (checked against each cluster\'s profile)', profileName)
      .option('--name <text>', 'a name for the rollout')
      .option('--canary <n>', 'clusters in the canary wave (default 1)', parsePositiveInt(10_000))
      .option('--canary-percent <p>', 'or: the canary wave as a percentage of the targets, rounded up', parseNumber(0.01, 100))
      .option('--soak <minutes>', 'wait this long after the canary wave succeeded (default 0)', parseNumber(0, 10_080, { int: true, unit: 'minutes' }))
      .option('--manual-promotion', 'wait after the canary wave until `edgefleet rollouts promote <id>`')
      .option('--growth <g>', 'each wave is the previous one times this (default 2)', parseNumber(1, 10))
      .option('--max-concurrent <n>', 'at most this many cluster upgrades at once: the largest wave (default 50)', parsePositiveInt(1000))
      .option('--abort-percent <p>', 'abort when more than this percentage of finished clusters failed (default 20)', parseNumber(0, 100))
      .option('--abort-count <n>', 'abort once this many clusters failed', parsePositiveInt(100_000))
      .option('--min-finished <n>', 'the thresholds apply from this many finished clusters on (default 5)', parsePositiveInt(100_000))
      .option('--window-start <HH:MM>', 'upgrade clusters only in a window starting at this site-local time', parseTimeOfDay)
      .option('--window-minutes <m>', 'how long the window stays open', parseNumber(30, 1440, { int: true, unit: 'minutes' }))
      .option('--window-days <days>', 'days the window opens, e.g. mon,tue (default every day)', parseWeekdays)
      .option('--on-failure <policy>', 'when a cluster\'s upgrade fails: rollback (default) or pause', parseOnFailure)
      .option('--acknowledge-downtime', 'accept that single-node clusters reboot once (required to roll out to them)')
      .option('--retry-minutes <m>', 'try an offline or busy cluster again after this long (default 5)', parseNumber(0.01, 1440))
      .option('--give-up-minutes <m>', 'skip a cluster deferred for this long (default 1440)', parseNumber(0.01, 10_080))
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP)
      .option('--watch', 'follow the rollout live; exit 0 only when it succeeds')
      .option('--interval <duration>', INTERVAL_HELP, parseInterval),
  )
    .addHelpText('after', `
Targets: exactly one of --template, --clusters, or --site and/or --tag; with --kind agent-update
exactly one of --hosts, --site and/or --tag, or --all-hosts. Flags not given take the
server's defaults. Maintenance windows are evaluated in each site's own time zone (set it with
\`edgefleet sites set-timezone <site> <zone>\`; sites without one use UTC). Bad values and bad
combinations are refused before anything is sent.
${examples(
    'edgefleet rollouts create --template shop --to 1.3.0 --canary 2 --soak 30 --acknowledge-downtime --watch',
    'edgefleet rollouts create --site "shop-*" --tag tier=edge --to 1.x --canary-percent 5 --abort-percent 10 --min-finished 10',
    'edgefleet rollouts create --clusters c-1,c-2,c-3 --to 1.3.0 --window-start 02:00 --window-minutes 180 --window-days mon,tue,wed',
    'edgefleet rollouts create --kind agent-update --version 0.2.0 --site "shop-*" --canary 1 --abort-count 1 --watch',
  )}`)
    .action(
      action<RolloutCreateOpts & { idempotencyKey?: string; watch?: boolean; interval?: number }>(rt, async (s, o) => {
        const body = buildRolloutBody(o);
        const v = await s.client.post<RolloutView>('/v1/rollouts', {
          what: body.kind === 'agent-update' ? `start an agent update rollout to ${body.version}` : `start a rollout of ${body.to.name ? `${body.to.name}@` : ''}${body.to.version}`,
          body,
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
          hints: {
            404: 'check the template (edgefleet templates list) and the version (edgefleet profiles versions <name>)',
            409: 'another rollout may be running over these clusters: see `edgefleet rollouts list --status running`',
            422: 'an agent-update rollout needs the published agent version: see GET /v1/agent/manifest',
          },
        });
        if (s.out.isJson) {
          if (o.watch) s.io.stdout(JSON.stringify(v) + '\n');
          else s.out.json(v);
        } else {
          s.out.line(`Rollout ${terminalText(v.id)} accepted (${terminalText(v.status)}): ${rolloutHeadline(v)}.`);
          if (!o.watch) {
            s.out.line(`  follow live:  edgefleet rollouts watch ${v.id}`);
            s.out.line(`  pause:        edgefleet rollouts pause ${v.id}`);
            s.out.line(`  details:      edgefleet rollouts get ${v.id}`);
          }
        }
        if (o.watch) await followRollout(s, v.id, { intervalMs: o.interval });
      }),
    );
}

const ACTIONS: readonly { verb: 'pause' | 'resume' | 'cancel' | 'promote'; description: string; done: (v: RolloutView) => string }[] = [
  { verb: 'pause', description: 'pause: no new cluster starts; upgrades already running finish', done: (v) => `Rollout ${v.id} is ${v.status}: upgrades already running finish; no new cluster starts. Resume: edgefleet rollouts resume ${v.id}` },
  { verb: 'resume', description: 'resume a paused rollout', done: (v) => `Rollout ${v.id} is ${v.status}. Follow it: edgefleet rollouts watch ${v.id}` },
  { verb: 'cancel', description: 'cancel: no new cluster starts, running upgrades finish, the rollout ends cancelled', done: (v) => `Rollout ${v.id} is ${v.status}: upgrades already running finish (each by its own policy); no new cluster starts.` },
  { verb: 'promote', description: 'let a rollout with --manual-promotion go on past its canary wave', done: (v) => `Rollout ${v.id} promoted (${v.status}): the next waves start. Follow it: edgefleet rollouts watch ${v.id}` },
];

export function registerRollouts(program: Command, rt: CliRuntime): void {
  const rollouts = program
    .command('rollouts')
    .description('fleet rollouts: one profile version over many clusters, in waves, with canary, abort thresholds and windows')
    .addHelpText('after', examples('edgefleet rollouts create --template shop --to 1.3.0 --watch', 'edgefleet rollouts list --status running', 'edgefleet rollouts watch ro-123', 'edgefleet rollouts clusters ro-123 --state failed'));
  registerCreate(rollouts, rt);

  addCommonOptions(addPageOptions(
    rollouts
      .command('list')
      .description('list rollouts, newest first')
      .addOption(new Option('--status <status>', 'only rollouts in this status').choices(rolloutStatus.options))),
  ).addHelpText('after', examples('edgefleet rollouts list', 'edgefleet rollouts list --status running -o json'))
    .action(
      action<{ status?: string } & PageOpts>(rt, async (s, o) => {
        const page = await s.client.list<RolloutView>('/v1/rollouts', { what: 'list rollouts', query: { status: o.status }, limit: o.limit, cursor: o.cursor, all: o.all });
        s.out.page(page, ROLLOUT_COLUMNS, o.status ? `No ${o.status} rollouts.` : 'No rollouts. Start one with `edgefleet rollouts create --template <name> --to <version>`.');
      }),
    );

  addCommonOptions(rollouts.command('get').description('show a rollout: counts per state and per wave, ETA, failed and deferred clusters').argument('<id>', 'rollout id'))
    .addHelpText('after', examples('edgefleet rollouts get ro-123', 'edgefleet rollouts get ro-123 -o json'))
    .action(
      action<object, [string]>(rt, async (s, _o, id) => {
        const v = await s.client.get<RolloutView>(rolloutPath(id), { what: `get rollout "${id}"`, hints: { 404: ROLLOUT_NOT_FOUND } });
        if (s.out.isJson) return s.out.json(v);
        printRollout(s, v);
      }),
    );

  addCommonOptions(addPageOptions(
    rollouts
      .command('clusters')
      .description('list a rollout\'s target clusters with their state, wave and reason')
      .argument('<id>', 'rollout id')
      .addOption(new Option('--state <state>', 'only clusters in this state').choices(TARGET_STATES))
      .option('--wave <n>', 'only clusters of this wave (0 is the canary)', parseNumber(0, 100_000, { int: true }))),
  ).addHelpText('after', examples('edgefleet rollouts clusters ro-123 --state failed', 'edgefleet rollouts clusters ro-123 --wave 0', 'edgefleet rollouts clusters ro-123 --state deferred --all'))
    .action(
      action<{ state?: string; wave?: number } & PageOpts, [string]>(rt, async (s, o, id) => {
        const page = await s.client.list<RolloutTarget>(rolloutPath(id, 'clusters'), {
          what: `list the clusters of rollout "${id}"`, query: { state: o.state, wave: o.wave }, limit: o.limit, cursor: o.cursor, all: o.all,
        });
        const filter = [o.state, o.wave !== undefined ? `in wave ${o.wave}` : ''].filter(Boolean).join(' ');
        s.out.page(page, TARGET_COLUMNS, `No ${filter ? `${filter} ` : ''}clusters in rollout ${id}.`);
      }),
    );

  addCommonOptions(rollouts.command('watch').description('follow a rollout live, one bar per wave (Ctrl-C stops watching; the rollout continues)')
    .argument('<id>', 'rollout id').option('--interval <duration>', 'first time between polls (default 1s; backs off to 5s while nothing changes)', parseInterval))
    .addHelpText('after', `
On a terminal the view is redrawn in place; otherwise one line per change (JSON lines with -o json),
then a summary naming the failed and deferred clusters.
Exit codes: 0 succeeded (every target passed its upgrade gate); 8 incomplete; 9 aborted;
10 cancelled or superseded; 4 failed; 130 Ctrl-C stopped watching (the rollout continues).
${examples('edgefleet rollouts watch ro-123', 'edgefleet rollouts watch ro-123 -o json > ro-123.jsonl')}`)
    .action(action<{ interval?: number }, [string]>(rt, async (s, o, id) => followRollout(s, id, { intervalMs: o.interval })));

  for (const a of ACTIONS) {
    addCommonOptions(rollouts.command(a.verb).description(a.description).argument('<id>', 'rollout id').option('--reason <text>', 'why (kept in the rollout and the audit log)'))
      .addHelpText('after', examples(`edgefleet rollouts ${a.verb} ro-123 --reason "checkout errors at shop-7"`))
      .action(
        action<{ reason?: string }, [string]>(rt, async (s, o, id) => {
          const v = await s.client.post<RolloutView>(rolloutPath(id, a.verb), {
            what: `${a.verb} rollout "${id}"`, body: o.reason !== undefined ? { reason: o.reason } : {},
            hints: { 404: ROLLOUT_NOT_FOUND, 409: `the rollout is not in a state that allows ${a.verb}; see \`edgefleet rollouts get ${id}\`` },
          });
          if (s.out.isJson) return s.out.json(v);
          s.out.line(terminalText(a.done(v)));
        }),
      );
  }
}
