/** `edgefleet operations`: workflow runs (provisioning, upgrades, deletes) with steps and reasons. */
import { Option, type Command } from 'commander';
import type { OperationView as Operation } from '../../lambdas/contracts/operations.js';
import { seg } from '../client.js';
import { action, addCommonOptions, addPageOptions, examples, type CliRuntime } from '../context.js';
import { UsageError } from '../errors.js';
import type { Column } from '../output.js';
import { registerOperationsWatch } from './operations-watch.js';

type HostRow = Operation['hosts'][string] & { host: string };

const HOST_COLUMNS: Column<HostRow>[] = [
  { header: 'HOST', value: (h) => h.host },
  { header: 'STATUS', value: (h) => h.status, status: true },
  { header: 'STEP', value: (h) => h.step },
  { header: 'AT', value: (h) => h.at },
  { header: 'DETAIL', value: (h) => h.detail },
];

const COLUMNS: Column<Operation>[] = [
  { header: 'ID', value: (o) => o.id },
  { header: 'TYPE', value: (o) => o.type },
  { header: 'TARGET', value: (o) => `${o.target.type}/${o.target.id}` },
  { header: 'STATUS', value: (o) => o.status, status: true },
  { header: 'STEP', value: (o) => o.step },
  { header: 'STARTED', value: (o) => o.startedAt },
  { header: 'ENDED', value: (o) => o.endedAt },
];

interface ListOpts {
  cluster?: string;
  host?: string;
  targetType?: string;
  targetId?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export function registerOperations(program: Command, rt: CliRuntime): void {
  const ops = program
    .command('operations')
    .description('operations: every workflow run, with its steps, per-host progress and reason')
    .addHelpText('after', examples('edgefleet operations watch op-123', 'edgefleet operations get op-123', 'edgefleet operations list --cluster c-1'));

  addCommonOptions(ops.command('get').description('show one operation and its per-host progress').argument('<id>', 'operation id')).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const op = await s.client.get<Operation>(`/v1/operations/${seg(id)}`, {
        what: `get operation "${id}"`,
        hints: { 404: 'list operations with `edgefleet operations list` (and check --project)' },
      });
      if (s.out.isJson) return s.out.json(op);
      s.out.details([
        ['ID', op.id],
        ['Type', op.type],
        ['Target', `${op.target.type}/${op.target.id}`],
        ['Status', op.status],
        ['Step', op.step],
        ['Reason', op.reason],
        ['Requested by', op.requestedBy],
        ['Started', op.startedAt],
        ['Updated', op.updatedAt],
        ['Deadline', op.endedAt ? undefined : op.deadline],
        ['Ended', op.endedAt],
      ]);
      const hosts = Object.keys(op.hosts)
        .sort()
        .map((host) => ({ host, ...op.hosts[host]! }));
      if (hosts.length) {
        s.out.line('');
        s.out.table(hosts, HOST_COLUMNS, '');
      }
      if (op.status === 'queued' || op.status === 'running' || op.status === 'paused') s.out.note(`Follow it live: edgefleet operations watch ${op.id}`);
    }),
  );

  registerOperationsWatch(ops, rt);

  addCommonOptions(addPageOptions(
    ops
      .command('list')
      .description('list operations, optionally for one cluster or host')
      .option('--cluster <id>', 'only operations on this cluster')
      .option('--host <id>', 'only operations on this host')
      .addOption(new Option('--target-type <type>', 'kind of target (same as --cluster/--host with --target-id)').choices(['cluster', 'host']).hideHelp())
      .addOption(new Option('--target-id <id>', 'id of the cluster or host').hideHelp())),
  )
    .addHelpText('after', examples('edgefleet operations list --cluster c-1', 'edgefleet operations list --host hw-4 --all -o json'))
    .action(
      action<ListOpts>(rt, async (s, o) => {
        const query = operationsQuery(o);
        const page = await s.client.list<Operation>('/v1/operations', {
          what: 'list operations',
          query,
          limit: o.limit,
          cursor: o.cursor,
          all: o.all,
        });
        s.out.page(page, COLUMNS, 'No operations match.');
      }),
    );
}

/** The targetType/targetId query from --cluster, --host or --target-type/--target-id (one target at most). */
export function operationsQuery(o: Pick<ListOpts, 'cluster' | 'host' | 'targetType' | 'targetId'>): { targetType?: string; targetId?: string } {
  const given = [o.cluster && '--cluster', o.host && '--host', (o.targetType || o.targetId) && '--target-type/--target-id'].filter(Boolean);
  if (given.length > 1) throw new UsageError(`give one target: ${given.join(' or ')}, not both`);
  if (o.cluster) return { targetType: 'cluster', targetId: o.cluster };
  if (o.host) return { targetType: 'host', targetId: o.host };
  if (o.targetId && !o.targetType) throw new UsageError('--target-id needs --target-type cluster or --target-type host (or use --cluster <id> / --host <id>)');
  return { targetType: o.targetType, targetId: o.targetId };
}
