/**
 * Rolling upgrades: `edgefleet clusters upgrade` starts one (POST /v1/clusters/{id}/upgrades),
 * `edgefleet upgrades get|watch|pause|resume|cancel` look at and steer it. An upgrade is an
 * operation of type `upgrade-cluster`; the live view polls it with the operations poll loop and
 * draws one progress bar per node (renderUpgradeFrame).
 */
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, type Command } from 'commander';
import type { z } from 'zod';
import type { createUpgradeBody } from '../../lambdas/contracts/api.js';
import { semver } from '../../lambdas/contracts/common.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, examples, type CliRuntime, type Session } from '../context.js';
import { ApiError, CliError, EXIT, UsageError, exitCodeForStatus } from '../errors.js';
import { collectVars, parsePositiveInt, parseProfileRef } from '../parse.js';
import { VAR_FILE_HELP, VAR_HELP, buildVariables, type VarOpts } from '../variables.js';
import {
  describeOperationChange, describePlanView, describeUpgradePlan, diffOperation, isTerminal, outcomeExitCode, renderOutcome, renderUpgradeFrame,
  terminalText, upgradeFollowUp, upgradeInputOf, upgradeStopped, upgradeView, type Operation,
} from '../progress.js';
import { terminalWidth, untilInterrupted, watchView } from '../watch-view.js';
import { INTERVAL_HELP, parseInterval, pollOperation } from './operations-watch.js';

type UpgradeBody = z.input<typeof createUpgradeBody>;

/** `1.2.0` or `edge-k3s@1.2.0`: the target version, optionally naming the cluster's profile. */
export function parseUpgradeTarget(text: string): { name?: string; version: string } {
  if (text.includes('@')) return parseProfileRef(text);
  if (!semver.safeParse(text).success) throw new InvalidArgumentError(`expected [<profile>@]<version>, e.g. 1.2.0 or edge-k3s@1.2.0 (got "${text}")`);
  return { version: text };
}

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** `<start>/<end>`, both ISO times with an offset; the end after the start. */
export function parseWindow(text: string): { start: string; end: string } {
  const [start, end, more] = text.split('/').map((p) => p.trim());
  const bad = (why: string) => new InvalidArgumentError(`${why}; expected <start>/<end>, e.g. 2026-12-01T02:00:00Z/2026-12-01T05:00:00Z`);
  if (!start || !end || more !== undefined) throw bad('give the start and the end separated by "/"');
  for (const t of [start, end]) if (!ISO.test(t) || Number.isNaN(Date.parse(t))) throw bad(`"${t}" is not an ISO time with a zone (Z or +01:00)`);
  if (Date.parse(end) <= Date.parse(start)) throw bad('the window ends before it starts');
  return { start: new Date(Date.parse(start)).toISOString(), end: new Date(Date.parse(end)).toISOString() };
}

/** `10m`, `90s`, `1h` or bare seconds → seconds, 30 s to 1 h. */
export function parseDrainTimeout(text: string): number {
  const m = /^(\d+)(s|m|h)?$/.exec(text.trim());
  const seconds = m ? Number(m[1]) * (m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1) : NaN;
  if (!(seconds >= 30 && seconds <= 3600)) throw new InvalidArgumentError('expected a drain timeout from 30s to 1h, e.g. 10m');
  return seconds;
}

export interface UpgradeOpts extends VarOpts {
  to: { name?: string; version: string };
  maxUnavailable?: number;
  onFailure?: 'rollback' | 'pause';
  acknowledgeDowntime?: boolean;
  window?: { start: string; end: string };
  skipWorkers?: boolean;
  drainTimeout?: number;
  idempotencyKey?: string;
  watch?: boolean;
  interval?: number;
  dryRun?: boolean;
}

/** The POST /v1/clusters/{id}/upgrades body; only what was given (the server applies the defaults). */
export function buildUpgradeBody(o: UpgradeOpts, read?: (file: string) => string): UpgradeBody {
  const variables = buildVariables(o, read);
  return {
    to: o.to,
    ...(o.maxUnavailable !== undefined ? { maxUnavailable: o.maxUnavailable } : {}),
    ...(o.onFailure ? { onFailure: o.onFailure } : {}),
    ...(o.acknowledgeDowntime ? { acknowledgeDowntime: true } : {}),
    ...(o.window ? { maintenanceWindow: o.window } : {}),
    ...(o.skipWorkers ? { skipWorkers: true } : {}),
    ...(o.drainTimeout !== undefined ? { drainTimeoutSeconds: o.drainTimeout } : {}),
    ...(variables ? { variables } : {}),
  };
}

const target = (to: UpgradeOpts['to']): string => (to.name ? `${to.name}@${to.version}` : to.version);

/** Advice for the refusals an operator can act on, by problem code. */
function refusalAdvice(code: string, id: string, to: string): string | undefined {
  if (code === 'downtime-not-acknowledged') return `this upgrade cannot keep the cluster serving (e.g. a single node that reboots): accept the downtime with --acknowledge-downtime, or run it in a maintenance window with --window <start>/<end>`;
  if (code === 'version-skew') return 'workers would fall too far behind the control plane (Kubernetes allows workers at most 3 minor versions behind): drop --skip-workers, or upgrade in smaller version steps';
  if (code === 'downgrade') return `${to} is older than the cluster's version; roll back with the upgrade's failure policy, or publish a newer version with the old content`;
  if (code === 'max-unavailable-too-high') return 'lower --max-unavailable so enough workers keep serving';
  if (code.startsWith('reconfigure')) return `these changes only restart or reload services: apply them with \`edgefleet clusters reconfigure ${id} --profile <name>@<version>\`, or wait for the running reconfigure`;
  if (code === 'cluster-busy') return `another operation runs on cluster ${id}: follow it with \`edgefleet operations list --cluster ${id}\` and upgrade when it has ended`;
  if (code === 'cluster-not-running') return `only a running or degraded cluster can be upgraded; see \`edgefleet clusters get ${id}\``;
  if (code === 'profile-mismatch') return 'a cluster moves between versions of its own profile: give just the version (--to 1.2.0)';
  if (code.startsWith('profile-version')) return 'see the published versions with `edgefleet profiles versions <name>` (a draft must be published first)';
  return undefined;
}

/** A refused upgrade as an operator reads it: what, why (the server's detail, neutralized) and what to do. */
export function upgradeRefusal(id: string, to: string, err: ApiError): CliError | undefined {
  const code = err.problem?.code;
  const advice = code ? refusalAdvice(code, id, to) : undefined;
  if (!advice) return undefined;
  const hints = [
    ...(err.problem?.errors ?? []).map((e) => `- ${terminalText(e.path) || '(body)'}: ${terminalText(e.message)}`),
    `what to do: ${advice}`,
    ...(err.requestId ? [`request id: ${terminalText(err.requestId)}`] : []),
  ];
  const detail = terminalText(err.problem?.detail) || terminalText(err.problem?.title) || `HTTP ${err.status}`;
  return new CliError(`cannot upgrade cluster "${id}" to ${to}: ${detail} (code ${terminalText(code)}, HTTP ${err.status})`, exitCodeForStatus(err.status), hints);
}

const upgradePath = (clusterId: string, upgradeId: string, verb = ''): string =>
  `/v1/clusters/${seg(clusterId)}/upgrades/${seg(upgradeId)}${verb ? `/${verb}` : ''}`;
const NOT_FOUND = (clusterId: string) => `check the cluster and upgrade ids: \`edgefleet operations list --cluster ${clusterId}\` lists its upgrades (type upgrade-cluster)`;

/**
 * Follows an upgrade until it ends, or pauses on a failed node, and sets the exit code: 0
 * succeeded; 4 failed, cancelled or paused on a failure (reason and rollback pointer printed);
 * 130 when Ctrl-C stopped watching (the upgrade continues).
 */
export async function followUpgrade(s: Session, clusterId: string, upgradeId: string, o: { intervalMs?: number } = {}): Promise<void> {
  const jsonLine = (v: object): void => s.io.stdout(JSON.stringify({ at: new Date().toISOString(), upgradeId, clusterId, ...v }) + '\n');
  const view = watchView<Operation>(s, {
    frame: renderUpgradeFrame,
    jsonLine,
    changes: (prev, op, at) => {
      for (const c of diffOperation(prev, op)) {
        if (s.out.isJson) jsonLine(c);
        else s.out.line(describeOperationChange(c, at));
      }
    },
  });
  let stopped: Operation | undefined;
  let final = await untilInterrupted((ac) => pollOperation({
    ...view.deps(ac.signal, o.intervalMs),
    get: () => view.client.get<Operation>(upgradePath(clusterId, upgradeId), { what: `get upgrade "${upgradeId}" of cluster "${clusterId}"`, hints: { 404: NOT_FOUND(clusterId) } }),
    onUpdate: (op) => {
      view.onUpdate(op);
      // Paused on a failed node: nothing happens until the operator acts, so the watch ends here.
      if (!isTerminal(op.status) && upgradeStopped(op)) {
        stopped = op;
        ac.abort();
      }
    },
  }));
  final ??= stopped;
  if (!final) {
    s.out.note(`\nStopped watching upgrade ${upgradeId}; it keeps running (nothing was paused or cancelled).`);
    s.out.note(`Resume watching: edgefleet upgrades watch ${clusterId} ${upgradeId}`);
    s.fail(EXIT.interrupted);
    return;
  }
  const v = upgradeView(final);
  if (s.out.isJson) {
    const { status, step, reason, endedAt } = final;
    jsonLine({ what: 'outcome', status, step, reason, endedAt, ...(v.rolledBackBy ? { rolledBackBy: v.rolledBackBy } : {}) });
  } else if (!view.live) {
    if (isTerminal(final.status)) s.out.line(renderOutcome(final, Date.now()));
    for (const l of upgradeFollowUp(final, clusterId)) s.out.line(l);
  }
  if (final.status !== 'succeeded') s.out.note(`Details: edgefleet upgrades get ${clusterId} ${final.id}`);
  s.fail(outcomeExitCode(final.status));
}

/** Registers `clusters upgrade` on the `clusters` command. */
export function registerClusterUpgrade(clusters: Command, rt: CliRuntime): void {
  addCommonOptions(
    clusters
      .command('upgrade')
      .description('rolling upgrade to another version of the cluster profile, node by node through Kairos A/B images')
      .argument('<id>', 'cluster id')
      .requiredOption('--to <[profile@]version>', 'the published version to upgrade to, e.g. 1.2.0 or edge-k3s@1.2.0', parseUpgradeTarget)
      .option('--max-unavailable <n>', 'worker nodes upgraded at a time (default 1; the control plane is always one at a time)', parsePositiveInt(100))
      .option('--on-failure <policy>', 'when a node fails: rollback (default; upgraded nodes go back, each verified) or pause', (v: string) => {
        if (v !== 'rollback' && v !== 'pause') throw new InvalidArgumentError('expected rollback or pause');
        return v;
      })
      .option('--acknowledge-downtime', 'accept the downtime of an upgrade that cannot keep the cluster serving (a single node that reboots)')
      .option('--window <start/end>', 'run in this maintenance window instead (ISO times, e.g. 2026-12-01T02:00:00Z/2026-12-01T05:00:00Z)', parseWindow)
      .option('--skip-workers', 'upgrade the control plane only (refused if workers would break the version-skew rule)')
      .option('--drain-timeout <duration>', 'time a drain may take, respecting PodDisruptionBudgets (default 10m, 30s to 1h)', parseDrainTimeout)
      .option('--var <NAME=value>', `${VAR_HELP}; e.g. one the target version newly requires; a variable not given keeps its value`, collectVars)
      .option('--var-file <file>', VAR_FILE_HELP)
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP)
      .option('--dry-run', 'print the plan (node order, steps per node, downtime) and whether the upgrade would start; start and change nothing')
      .option('--watch', 'follow the upgrade live; exit 0 when it succeeds, 4 when it fails, is cancelled or pauses on a failure')
      .option('--interval <duration>', INTERVAL_HELP, parseInterval),
  )
    .addHelpText(
      'after',
      `
Prints the upgrade id and the plan (each node's behaviour and steps, in order). Control-plane nodes
go one at a time, then workers --max-unavailable at a time; each node is verified after reboot
(boot state active, target OS version, node Ready at the target kubelet). A refused plan says why
(e.g. downtime needs --acknowledge-downtime or --window). With --watch: exit 0 succeeded, 4 failed,
cancelled or paused on a failure (with the rollback upgrade id when there is one), 130 on Ctrl-C.
With --dry-run: prints the plan and whether the upgrade would start (exit 0), or why not (exit 4),
and changes nothing.
${examples('edgefleet clusters upgrade c-123 --to 1.2.0 --dry-run', 'edgefleet clusters upgrade c-123 --to edge-k3s@1.2.0 --watch', 'edgefleet clusters upgrade c-9 --to 1.2.0 --acknowledge-downtime', 'edgefleet clusters upgrade c-7 --to 1.2.0 --max-unavailable 2 --on-failure pause')}`,
    )
    .action(
      action<UpgradeOpts, [string]>(rt, async (s, o, id) => {
        if (o.dryRun) return dryRun(s, id, o);
        if (o.window && o.acknowledgeDowntime) s.out.note('note: both --window and --acknowledge-downtime given; the upgrade waits for the window');
        let op: Operation;
        try {
          op = await s.client.post<Operation>(`/v1/clusters/${seg(id)}/upgrades`, {
            what: `upgrade cluster "${id}" to ${target(o.to)}`,
            body: buildUpgradeBody(o),
            idempotencyKey: s.idempotencyKey(o.idempotencyKey),
            hints: { 404: 'check the cluster id (edgefleet clusters list) and the version (edgefleet profiles versions <name>)' },
          });
        } catch (err) {
          throw (err instanceof ApiError && upgradeRefusal(id, target(o.to), err)) || err;
        }
        if (s.out.isJson) {
          if (o.watch) s.io.stdout(JSON.stringify(op) + '\n');
          else s.out.json(op);
        } else {
          s.out.line(`Upgrade ${terminalText(op.id)} of cluster ${id} accepted; status ${terminalText(op.status)}.`);
          if (o.window) s.out.line(`It waits for the maintenance window ${o.window.start} – ${o.window.end}.`);
          for (const l of describeUpgradePlan(op)) s.out.line(l);
          if (!o.watch) {
            s.out.line(`  follow live:  edgefleet upgrades watch ${id} ${op.id}`);
            s.out.line(`  pause:        edgefleet upgrades pause ${id} ${op.id}`);
            s.out.line(`  details:      edgefleet upgrades get ${id} ${op.id}`);
          }
        }
        if (!o.watch) return;
        if (!s.out.isJson) s.out.line('');
        await followUpgrade(s, id, op.id, { intervalMs: o.interval });
      }),
    );
}

/** The dry run's answer as the CLI reads it (the plan through the tolerant view). */
interface PreviewAnswer {
  readonly wouldStart?: boolean;
  readonly refusal?: { readonly code: string; readonly message: string };
  readonly from?: unknown;
  readonly to?: unknown;
  readonly plan?: unknown;
}

/** `clusters upgrade --dry-run`: the plan and whether it would start; nothing is started or recorded. */
async function dryRun(s: Session, id: string, o: UpgradeOpts): Promise<void> {
  let p: PreviewAnswer;
  try {
    p = await s.client.post<PreviewAnswer>(`/v1/clusters/${seg(id)}/upgrades`, {
      what: `plan the upgrade of cluster "${id}" to ${target(o.to)}`,
      body: { ...buildUpgradeBody(o), dryRun: true },
      hints: { 404: 'check the cluster id (edgefleet clusters list) and the version (edgefleet profiles versions <name>)' },
    });
  } catch (err) {
    throw (err instanceof ApiError && upgradeRefusal(id, target(o.to), err)) || err;
  }
  if (s.out.isJson) s.out.json(p);
  else {
    s.out.line(p.wouldStart ? `Dry run: the upgrade of cluster ${id} to ${target(o.to)} would start now; nothing was started.` : `Dry run: the upgrade of cluster ${id} to ${target(o.to)} would be refused; nothing was started.`);
    if (p.refusal) {
      s.out.line(`Refused: ${terminalText(p.refusal.message)} (code ${terminalText(p.refusal.code)})`);
      const advice = refusalAdvice(p.refusal.code, id, target(o.to));
      if (advice) s.out.line(`What to do: ${advice}`);
    }
    if (p.plan) {
      if (p.refusal) s.out.line('Once that is lifted, it runs this plan:');
      for (const l of describePlanView(upgradeInputOf({ from: p.from, to: p.to, onFailure: o.onFailure ?? 'rollback', plan: p.plan }))) s.out.line(l);
    }
  }
  if (!p.wouldStart) s.fail(EXIT.conflict);
}

async function confirmCancel(s: Session, clusterId: string, upgradeId: string): Promise<void> {
  const consequence = 'nodes already upgraded stay upgraded and a node mid-upgrade may stay cordoned: the cluster is degraded until another upgrade makes it consistent';
  if (!s.io.isTTY || !process.stdin.isTTY) {
    throw new UsageError(`refusing to cancel upgrade ${upgradeId} without confirmation (no terminal to ask on)`, [`${consequence}; add --yes to confirm, or pause it instead (edgefleet upgrades pause ${clusterId} ${upgradeId})`]);
  }
  s.out.note(`Cancelling upgrade ${upgradeId} of cluster ${clusterId}: ${consequence}.`);
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`Type the upgrade id (${upgradeId}) to cancel it: `)).trim();
    if (answer !== upgradeId) throw new CliError(`upgrade ${upgradeId} was not cancelled: the confirmation did not match`, EXIT.usage);
  } finally {
    rl.close();
  }
}

export function registerUpgrades(program: Command, rt: CliRuntime): void {
  const upgrades = program
    .command('upgrades')
    .description('rolling upgrades of clusters: show, follow, pause, resume, cancel (start one with `clusters upgrade`)')
    .addHelpText('after', examples('edgefleet upgrades watch c-1 op-9', 'edgefleet upgrades pause c-1 op-9', 'edgefleet upgrades resume c-1 op-9 --watch'));
  const ids = (cmd: Command): Command => cmd.argument('<clusterId>', 'cluster id').argument('<upgradeId>', 'upgrade id (its operation id)');
  const hint404 = (c: string) => ({ 404: NOT_FOUND(c), 409: `the upgrade is not in a state that allows this; see \`edgefleet upgrades get ${c} <upgradeId>\`` });

  addCommonOptions(ids(upgrades.command('get').description('show an upgrade: plan and each node\'s progress'))).action(
    action<object, [string, string]>(rt, async (s, _o, clusterId, upgradeId) => {
      const op = await s.client.get<Operation>(upgradePath(clusterId, upgradeId), { what: `get upgrade "${upgradeId}" of cluster "${clusterId}"`, hints: hint404(clusterId) });
      if (s.out.isJson) return s.out.json(op);
      for (const l of renderUpgradeFrame(op, { now: Date.now(), width: terminalWidth(s), color: s.out.color })) s.out.line(l);
      if (!upgradeStopped(op)) s.out.note(`Follow it live: edgefleet upgrades watch ${clusterId} ${op.id}`);
    }),
  );

  addCommonOptions(ids(upgrades.command('watch').description('follow an upgrade live (Ctrl-C stops watching; the upgrade continues)')).option('--interval <duration>', INTERVAL_HELP, parseInterval))
    .addHelpText('after', `\nExit codes: 0 succeeded; 4 failed, cancelled or paused on a failed node; 130 Ctrl-C.\n${examples('edgefleet upgrades watch c-1 op-9', 'edgefleet upgrades watch c-1 op-9 -o json > up.jsonl')}`)
    .action(action<{ interval?: number }, [string, string]>(rt, async (s, o, clusterId, upgradeId) => followUpgrade(s, clusterId, upgradeId, { intervalMs: o.interval })));

  addCommonOptions(ids(upgrades.command('pause').description('pause after the command in flight: no further node starts'))).action(
    action<object, [string, string]>(rt, async (s, _o, clusterId, upgradeId) => {
      const op = await s.client.post<Operation>(upgradePath(clusterId, upgradeId, 'pause'), { what: `pause upgrade "${upgradeId}" of cluster "${clusterId}"`, hints: hint404(clusterId) });
      if (s.out.isJson) return s.out.json(op);
      s.out.line(`Upgrade ${upgradeId} is ${terminalText(op.status)}: a command already sent to a node finishes there; no further node starts.`);
      s.out.line(`  resume:  edgefleet upgrades resume ${clusterId} ${upgradeId}`);
    }),
  );

  addCommonOptions(ids(upgrades.command('resume').description('resume a paused upgrade from each node\'s real state'))
    .option('--watch', 'follow it live after resuming')
    .option('--interval <duration>', INTERVAL_HELP, parseInterval)).action(
    action<{ watch?: boolean; interval?: number }, [string, string]>(rt, async (s, o, clusterId, upgradeId) => {
      const op = await s.client.post<Operation>(upgradePath(clusterId, upgradeId, 'resume'), { what: `resume upgrade "${upgradeId}" of cluster "${clusterId}"`, hints: hint404(clusterId) });
      if (s.out.isJson && !o.watch) return s.out.json(op);
      if (!s.out.isJson) {
        s.out.line(`Upgrade ${upgradeId} resumed (${terminalText(op.status)}): it continues from each node's real state; nodes that passed the health gate are not upgraded again.`);
        if (!o.watch) s.out.line(`  follow live:  edgefleet upgrades watch ${clusterId} ${upgradeId}`);
      }
      if (o.watch) await followUpgrade(s, clusterId, upgradeId, { intervalMs: o.interval });
    }),
  );

  addCommonOptions(ids(upgrades.command('cancel').description('cancel an upgrade (upgraded nodes stay upgraded; the cluster is degraded until consistent)'))
    .option('-y, --yes', 'do not ask for confirmation (needed when there is no terminal)')).action(
    action<{ yes?: boolean }, [string, string]>(rt, async (s, o, clusterId, upgradeId) => {
      if (!o.yes) await confirmCancel(s, clusterId, upgradeId);
      const op = await s.client.post<Operation>(upgradePath(clusterId, upgradeId, 'cancel'), { what: `cancel upgrade "${upgradeId}" of cluster "${clusterId}"`, hints: hint404(clusterId) });
      if (s.out.isJson) return s.out.json(op);
      s.out.line(`Upgrade ${upgradeId} ${terminalText(op.status)}${op.reason ? `: ${terminalText(op.reason)}` : '.'}`);
      s.out.line(`  cluster state:  edgefleet clusters get ${clusterId}`);
    }),
  );
}
