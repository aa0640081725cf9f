/**
 * `edgefleet clusters`: create clusters from approved hosts and a published profile version,
 * scale pools out and in, reconfigure to another profile version, delete. Each change runs as
 * an operation; `--watch` follows it live and exits with its outcome.
 */
import { createInterface } from 'node:readline/promises';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { z } from 'zod';
import { clusterHealthState, type cluster, type createClusterBody, type reconfigureClusterBody, type scaleClusterBody } from '../../lambdas/contracts/api.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, addPageOptions, examples, type CliRuntime, type PageOpts, type Session } from '../context.js';
import { ApiError, CliError, EXIT, UsageError } from '../errors.js';
import type { Column } from '../output.js';
import { terminalText } from '../progress.js';
import { collectVars, collectWorkers, parseIdList, parseProfileRef, type ProfileRef, type WorkerPool } from '../parse.js';
import { INTERVAL_HELP, followOperation, parseInterval } from './operations-watch.js';
import { registerClusterKubeconfig } from './kubeconfig.js';
import { registerClusterUpgrade } from './upgrades.js';
import { healthLine } from './hosts.js';
import { VAR_FILE_HELP, VAR_HELP, buildVariables, type VarOpts } from '../variables.js';

type Cluster = z.infer<typeof cluster>;
type ClusterBody = z.input<typeof createClusterBody>;
type ScaleBody = z.input<typeof scaleClusterBody>;
type ReconfigureBody = z.input<typeof reconfigureClusterBody>;

const COLUMNS: Column<Cluster>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'PROFILE', value: (c) => `${c.profile.name}@${c.profile.version}` },
  { header: 'STATUS', value: (c) => c.status, status: true },
  { header: 'HEALTH', value: (c) => c.health.state, status: true },
  { header: 'CONTROL PLANE', value: (c) => c.controlPlane.hostIds.join(',') },
  { header: 'WORKERS', value: (c) => c.workers.map((w) => `${w.name}=${w.hostIds.length}`).join(' ') },
  { header: 'PACKS', value: (c) => packsSummary(c.packs) },
  { header: 'OPERATION', value: (c) => c.activeOperationId ?? c.operationId },
];

type PackStatus = NonNullable<Cluster['packs']>[number];

/** "3/4 ready" (and how many are in error); empty before the init node reported any. */
export function packsSummary(packs: readonly PackStatus[] | undefined): string {
  if (!packs || packs.length === 0) return '';
  const ready = packs.filter((p) => p.state === 'ready').length;
  const errors = packs.filter((p) => p.state === 'error').length;
  return `${ready}/${packs.length} ready${errors ? `, ${errors} error` : ''}`;
}

const PACK_COLUMNS: Column<PackStatus>[] = [
  { header: 'PACK', value: (p) => p.name },
  { header: 'TYPE', value: (p) => p.type },
  { header: 'VERSION', value: (p) => p.version ?? '' },
  { header: 'STATE', value: (p) => p.state, status: true },
  { header: 'REASON', value: (p) => p.reason ?? '' },
];



interface CreateOpts extends VarOpts {
  name: string;
  profile: ProfileRef;
  controlPlane: string[];
  workers?: WorkerPool[];
  vip?: string;
  idempotencyKey?: string;
  watch?: boolean;
  interval?: number;
}

/** The POST /v1/clusters body; refuses a host listed in two places. */
export function buildClusterBody(o: CreateOpts): ClusterBody {
  const where = new Map<string, string>();
  const place = (id: string, role: string): void => {
    const prev = where.get(id);
    if (prev) throw new UsageError(`host ${id} is listed twice (${prev} and ${role}); a host belongs to one role`);
    where.set(id, role);
  };
  o.controlPlane.forEach((id) => place(id, 'control plane'));
  for (const pool of o.workers ?? []) pool.hostIds.forEach((id) => place(id, `worker pool ${pool.name}`));
  return {
    name: o.name,
    profile: o.profile,
    controlPlane: { hostIds: o.controlPlane },
    workers: o.workers?.length ? o.workers : undefined,
    vip: o.vip,
    variables: buildVariables(o),
  };
}

const parseVip = (v: string): string => {
  if (!z.ipv4().safeParse(v).success) throw new InvalidArgumentError('expected an IPv4 address such as 192.0.2.50');
  return v;
};

const NOT_FOUND = 'list clusters with `edgefleet clusters list` (and check --project)';


interface WatchOpts {
  watch?: boolean;
  interval?: number;
}

/** Adds --watch and --interval to a command that starts an operation. */
function addWatchOptions(cmd: Command): Command {
  return cmd
    .option('--watch', 'follow the operation live until it ends; exit 0 when it succeeds, 4 when it fails or is cancelled')
    .option('--interval <duration>', INTERVAL_HELP, parseInterval);
}

/** The operation a 202 answer started: the active one, else the last one recorded. */
export function startedOperation(c: Partial<Cluster> | undefined): string | undefined {
  return c?.activeOperationId ?? c?.operationId;
}

/**
 * Prints the started operation and how to follow it, then follows it when --watch is given;
 * `packs`: then shows the cluster's packs as its init node last reported them (create, reconfigure).
 */
async function reportOperation(s: Session, c: Partial<Cluster> | undefined, o: WatchOpts, packs = false): Promise<void> {
  const opId = startedOperation(c);
  if (s.out.isJson) {
    // With --watch the answer is the first of the JSON lines that follow.
    if (o.watch) s.io.stdout(JSON.stringify(c ?? {}) + '\n');
    else s.out.json(c ?? {});
  } else if (opId) {
    s.out.line(`Operation: ${opId}`);
    if (!o.watch) {
      s.out.line(`  follow live:  edgefleet operations watch ${opId}`);
      s.out.line(`  details:      edgefleet operations get ${opId}`);
    }
  }
  if (!o.watch) return;
  if (!opId) throw new CliError('the control plane accepted the request but named no operation to watch', EXIT.unexpected, ['check the cluster with `edgefleet clusters get <id>` and `edgefleet operations list --cluster <id>`']);
  if (!s.out.isJson) s.out.line('');
  await followOperation(s, opId, { intervalMs: o.interval });
  if (packs && !s.out.isJson && c?.id) await showPacks(s, c.id);
}

/** The packs table of a cluster (nothing when it has none or cannot be read now). */
async function showPacks(s: Session, id: string): Promise<void> {
  const c = await s.client.get<Cluster>(`/v1/clusters/${seg(id)}`, { what: `get cluster "${id}"` }).catch(() => undefined);
  if (!c?.packs?.length) return;
  s.out.line('');
  s.out.line(`Packs: ${packsSummary(c.packs)}`);
  s.out.table(c.packs, PACK_COLUMNS, '');
}

interface ScaleOpts extends WatchOpts {
  pool: string;
  add?: string[];
  remove?: string[];
  idempotencyKey?: string;
}

/** The POST /v1/clusters/{id}/scale body: exactly one of --add and --remove. */
export function buildScaleBody(o: Pick<ScaleOpts, 'pool' | 'add' | 'remove'>): ScaleBody {
  if (!o.add === !o.remove) {
    throw new UsageError(o.add ? 'give either --add or --remove, not both: one operation scales one way' : 'say what to change: --add <host ids> (scale out) or --remove <host ids> (scale in)');
  }
  return o.add ? { pool: o.pool, add: o.add } : { pool: o.pool, remove: o.remove };
}

/**
 * A 409 `reconfigure-needs-upgrade` as an operator reads it: the per-layer changes the control
 * plane listed (one per line) and the way forward.
 */
export function needsUpgradeError(clusterId: string, profile: ProfileRef, err: ApiError): CliError {
  const p = err.problem;
  const detailLines = (p?.detail ?? '')
    .split(/\r?\n|;\s+/)
    .map((l) => terminalText(l))
    .filter((l) => l !== '');
  const hints = [
    ...detailLines.map((l) => `  ${l}`),
    ...(p?.errors ?? []).map((e) => `  - ${terminalText(e.path) || '(layer)'}: ${terminalText(e.message)}`),
    `what to do: changes that repave or reboot nodes are applied by a rolling upgrade, not by reconfigure; run: edgefleet clusters upgrade ${clusterId} --to ${profile.name}@${profile.version} (or publish a version whose changes only restart or reload services)`,
  ];
  if (err.requestId) hints.push(`request id: ${err.requestId}`);
  return new CliError(
    `cannot reconfigure cluster "${clusterId}" to ${profile.name}@${profile.version}: some changes need an upgrade (code reconfigure-needs-upgrade, HTTP 409):`,
    EXIT.conflict,
    hints,
  );
}

/** Asks on the terminal before deleting; refuses without a terminal (use --yes). */
async function confirmDelete(s: Session, id: string): Promise<void> {
  if (!s.io.isTTY || !process.stdin.isTTY) {
    throw new UsageError(`refusing to delete cluster ${id} without confirmation (no terminal to ask on)`, [
      'deleting resets every host of the cluster (workloads and data on them are lost) and returns them to the pool; add --yes to confirm',
    ]);
  }
  const c = await s.client.get<Cluster>(`/v1/clusters/${seg(id)}`, { what: `get cluster "${id}"`, hints: { 404: NOT_FOUND } });
  const hosts = [...c.controlPlane.hostIds, ...c.workers.flatMap((w) => w.hostIds)];
  s.out.note(`Cluster ${terminalText(c.name)} (${terminalText(c.id)}) has ${hosts.length} host(s): ${hosts.map(terminalText).join(', ')}.`);
  s.out.note('Deleting it resets every host through its statereset boot entry (workloads and data on them are lost) and returns them to the pool.');
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    const answer = (await rl.question(`Type the cluster id (${c.id}) to delete it: `)).trim();
    if (answer !== c.id) throw new CliError(`cluster ${id} was not deleted: the confirmation did not match`, EXIT.usage);
  } finally {
    rl.close();
  }
}

const BUSY = (id: string): string =>
  `cluster ${id} is busy with another operation or not in a state that allows this; see \`edgefleet clusters get ${id}\` and \`edgefleet operations list --cluster ${id}\``;

export function registerClusters(program: Command, rt: CliRuntime): void {
  const clusters = program
    .command('clusters')
    .description('Kubernetes clusters on edge hosts: create, list, get, scale, reconfigure, upgrade, delete')
    .addHelpText(
      'after',
      examples(
        'edgefleet clusters create --name shop-12 --profile edge-k3s@1.0.0 --control-plane hw-1 --watch',
        'edgefleet clusters scale c-123 --pool pos --add hw-7,hw-8 --watch',
        'edgefleet clusters list',
      ),
    );

  addCommonOptions(
    addWatchOptions(
      clusters
        .command('create')
        .description('create a cluster; provisioning runs as an operation you can follow (--watch)')
        .requiredOption('--name <name>', 'cluster name (lowercase letters, digits and "-")')
        .requiredOption('--profile <name@version>', 'a published profile version, e.g. edge-k3s@1.0.0', parseProfileRef)
        .requiredOption('--control-plane <ids>', 'approved host ids for the control plane, comma separated (1, 3 or 5)', parseIdList)
        .option('--workers <pool=ids>', 'a worker pool and its host ids, e.g. pos=hw-3,hw-4 (repeatable)', collectWorkers)
        .option('--vip <ip>', 'virtual IP for the Kubernetes API (multi-node control planes)', parseVip)
        .option('--var <NAME=value>', VAR_HELP, collectVars)
        .option('--var-file <file>', VAR_FILE_HELP)
        .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
    ),
  )
    .addHelpText(
      'after',
      `
The hosts must be approved first (edgefleet hosts list --status pending; edgefleet hosts approve <id>).
Prints the cluster id and the operation id; with --watch, follows the operation and exits 0 when
the cluster is running, 4 when provisioning failed (the step and reason are printed).
${examples(
  'edgefleet clusters create --name shop-12 --profile edge-k3s@1.0.0 --control-plane hw-1',
  'edgefleet clusters create --name dc-1 --profile edge-rke2@2.1.0 --control-plane hw-1,hw-2,hw-3 --workers gpu=hw-4,hw-5 --vip 10.0.0.50 --watch',
  'edgefleet clusters create --name shop-13 --profile edge-k3s@1.2.0 --control-plane hw-9 --var SITE=shop-13 --var-file secrets.yaml',
)}`,
    )
    .action(
      action<CreateOpts>(rt, async (s, o) => {
        const c = await s.client.post<Cluster>('/v1/clusters', {
          what: `create cluster "${o.name}"`,
          body: buildClusterBody(o),
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
          hints: {
            404: `check the profile version (edgefleet profiles versions ${o.profile.name}) and the host ids (edgefleet hosts list)`,
            409: 'every host must be approved and in no other cluster: see `edgefleet hosts list --status pending` and `edgefleet hosts approve <id>`; a taken name needs another --name',
          },
        });
        if (!s.out.isJson) s.out.line(`Cluster ${c.name} (${c.id}) accepted; status ${c.status}.`);
        await reportOperation(s, c, o, true);
      }),
    );

  addCommonOptions(
    addWatchOptions(
      clusters
        .command('scale')
        .description('add approved hosts to a pool (scale out) or remove hosts from it (scale in); runs as an operation')
        .argument('<id>', 'cluster id')
        .requiredOption('--pool <name>', 'the worker pool, or "control-plane" (which stays at 1, 3 or 5 nodes); adding to a new name creates the pool')
        .option('--add <ids>', 'approved, free host ids to join, comma separated', parseIdList)
        .option('--remove <ids>', 'host ids to drain, remove from Kubernetes, reset and return to the pool, comma separated', parseIdList)
        .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
    ),
  )
    .addHelpText(
      'after',
      `
Give exactly one of --add and --remove. Removed hosts are cordoned and drained, removed from
Kubernetes, reset through their statereset boot entry and returned to the pool of approved hosts.
${examples('edgefleet clusters scale c-123 --pool pos --add hw-7,hw-8 --watch', 'edgefleet clusters scale c-123 --pool pos --remove hw-8')}`,
    )
    .action(
      action<ScaleOpts, [string]>(rt, async (s, o, id) => {
        const body = buildScaleBody(o);
        const c = await s.client.post<Cluster>(`/v1/clusters/${seg(id)}/scale`, {
          what: `scale pool "${o.pool}" of cluster "${id}"`,
          body,
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
          hints: {
            404: `check the cluster id (edgefleet clusters list) and the host ids (edgefleet hosts list)`,
            409: `${BUSY(id)}; hosts to add must be approved and in no cluster, and the control plane must stay at 1, 3 or 5 nodes`,
          },
        });
        if (!s.out.isJson) {
          const what = body.add ? `adding ${body.add.join(', ')} to` : `removing ${(body.remove ?? []).join(', ')} from`;
          s.out.line(`Scaling cluster ${id}: ${what} pool ${o.pool}.`);
        }
        await reportOperation(s, c, o);
      }),
    );

  addCommonOptions(
    addWatchOptions(
      clusters
        .command('reconfigure')
        .description('move a cluster to another profile version, or give it new variable values, when the changes only restart or reload services')
        .argument('<id>', 'cluster id')
        .option('--profile <name@version>', 'the published profile version to apply, e.g. edge-k3s@1.1.0 (default: the one it runs)', parseProfileRef)
        .option('--var <NAME=value>', `${VAR_HELP}; a variable not given keeps its value`, collectVars)
        .option('--var-file <file>', VAR_FILE_HELP)
        .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
    ),
  )
    .addHelpText(
      'after',
      `
Each layer's change is classified (repave, reboot, service restart, reload, no-op); only restarts,
reloads and no-ops are applied here. When a change needs a repave or reboot the command exits 4
and lists the changes: apply that version with: edgefleet clusters upgrade <id> --to <profile>@<version>
Give --profile, new values (--var, --var-file), or both.
${examples('edgefleet clusters reconfigure c-123 --profile edge-k3s@1.0.1 --watch', 'edgefleet clusters reconfigure c-123 --var REPLICAS=3 --watch')}`,
    )
    .action(
      action<{ profile?: ProfileRef; idempotencyKey?: string } & VarOpts & WatchOpts, [string]>(rt, async (s, o, id) => {
        const variables = buildVariables(o);
        if (!o.profile && !variables) throw new UsageError('give --profile <name@version>, new values with --var/--var-file, or both');
        const body: ReconfigureBody = { ...(o.profile ? { profile: o.profile } : {}), ...(variables ? { variables } : {}) };
        const what = [o.profile ? `to ${o.profile.name}@${o.profile.version}` : '', variables ? `with new values of ${Object.keys(variables).join(', ')}` : ''].filter(Boolean).join(' ');
        let c: Cluster;
        try {
          c = await s.client.post<Cluster>(`/v1/clusters/${seg(id)}/reconfigure`, {
            what: `reconfigure cluster "${id}" ${what}`,
            body,
            idempotencyKey: s.idempotencyKey(o.idempotencyKey),
            hints: { 404: `check the cluster id (edgefleet clusters list)${o.profile ? ` and the profile version (edgefleet profiles versions ${o.profile.name})` : ''}`, 409: BUSY(id) },
          });
        } catch (err) {
          if (err instanceof ApiError && err.status === 409 && err.problem?.code === 'reconfigure-needs-upgrade') throw needsUpgradeError(id, o.profile ?? { name: '<profile>', version: '<version>' }, err);
          throw err;
        }
        if (!s.out.isJson) s.out.line(`Reconfiguring cluster ${id} ${what}.`);
        await reportOperation(s, c ?? { id }, o, true);
      }),
    );

  addCommonOptions(addPageOptions(
    clusters
      .command('list')
      .description('list clusters')
      .addOption(new Option('--health <state>', 'derived health (stored when it changes)').choices(clusterHealthState.options))),
  ).addHelpText('after', examples('edgefleet clusters list --health degraded')).action(
    action<{ health?: string } & PageOpts>(rt, async (s, { health, ...o }) => {
      s.out.page(await s.client.list<Cluster>('/v1/clusters', { what: 'list clusters', query: { health }, ...o }), COLUMNS, 'No clusters.');
    }),
  );

  addCommonOptions(clusters.command('get').description('show one cluster').argument('<id>', 'cluster id')).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const c = await s.client.get<Cluster>(`/v1/clusters/${seg(id)}`, { what: `get cluster "${id}"`, hints: { 404: NOT_FOUND } });
      if (s.out.isJson) return s.out.json(c);
      s.out.details([
        ['ID', c.id],
        ['Name', c.name],
        ['Status', c.status],
        ['Reason', c.statusReason],
        ['Health', healthLine(c.health)],
        ['Health since', c.health.since],
        ['Profile', `${c.profile.name}@${c.profile.version}`],
        ['Control plane', c.controlPlane.hostIds.join(', ')],
        ...c.workers.map((w) => [`Workers ${w.name}`, w.hostIds.join(', ')] as const),
        ['VIP', c.vip],
        ['Kubeconfig', c.kubeconfigStoredAt ? `stored at ${c.kubeconfigStoredAt} (edgefleet clusters kubeconfig ${c.id})` : undefined],
        ['Variables', c.variables ? Object.entries(c.variables).map(([k, v]) => `${k}=${String(v)}`).join(', ') : undefined],
        ['Operation', c.operationId],
        ['Active operation', c.activeOperationId],
        ['Project', c.project],
        ['Version', c.version],
        ['Created', c.createdAt],
        ['Updated', c.updatedAt],
        ['Packs', c.packs?.length ? `${packsSummary(c.packs)} (reported ${c.packsReportedAt ?? 'at an unknown time'} by ${c.controlPlane.hostIds[0] ?? 'the init node'})` : undefined],
      ]);
      if (c.packs?.length) {
        s.out.line();
        s.out.table(c.packs, PACK_COLUMNS, '');
      }
    }),
  );

  registerClusterKubeconfig(clusters, rt);
  registerClusterUpgrade(clusters, rt);

  addCommonOptions(
    addWatchOptions(
      clusters
        .command('delete')
        .description('delete a cluster: every host is reset and returned to the pool (runs as an operation)')
        .argument('<id>', 'cluster id')
        .option('-y, --yes', 'do not ask for confirmation (needed when there is no terminal)'),
    ),
  )
    .addHelpText(
      'after',
      `
Asks you to type the cluster id unless --yes is given. Every host is reset through its statereset
boot entry (workloads and data on it are lost), released and returned to the pool of approved hosts.
${examples('edgefleet clusters delete c-123', 'edgefleet clusters delete c-123 --yes --watch')}`,
    )
    .action(
      action<{ yes?: boolean } & WatchOpts, [string]>(rt, async (s, o, id) => {
        if (!o.yes) await confirmDelete(s, id);
        const res = await s.client.delete<Partial<Cluster> | undefined>(`/v1/clusters/${seg(id)}`, {
          what: `delete cluster "${id}"`,
          hints: { 404: NOT_FOUND, 409: BUSY(id) },
        });
        if (!s.out.isJson) {
          s.out.line(`Deleting cluster ${id}: every host will be reset and returned to the pool of approved hosts.`);
        }
        await reportOperation(s, res ?? { id }, o);
      }),
    );
}
