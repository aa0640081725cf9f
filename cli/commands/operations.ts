/** `edgefleet operations`: workflow runs (provisioning, upgrades, deletes) with steps and reasons. */
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import type { operation } from '../../lambdas/contracts/api.js';
import { seg } from '../client.js';
import { action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { UsageError } from '../errors.js';
import type { Column } from '../output.js';
import { parsePositiveInt } from '../parse.js';

type Operation = z.infer<typeof operation>;

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
    .addHelpText('after', examples('edgefleet operations get op-123', 'edgefleet operations list --target-type cluster --target-id c-1'));

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
        ['Started', op.startedAt],
        ['Ended', op.endedAt],
      ]);
      const hosts = Object.entries(op.hosts).map(([host, h]) => ({ host, ...h }));
      if (hosts.length) {
        s.out.line('');
        s.out.table(
          hosts,
          [
            { header: 'HOST', value: (h) => h.host },
            { header: 'STATUS', value: (h) => h.status, status: true },
            { header: 'DETAIL', value: (h) => h.detail },
          ],
          '',
        );
      }
    }),
  );

  addCommonOptions(
    ops
      .command('list')
      .description('list operations, optionally for one cluster or host')
      .addOption(new Option('--target-type <type>', 'kind of target').choices(['cluster', 'host']))
      .option('--target-id <id>', 'id of the cluster or host')
      .option('--limit <n>', 'page size (max 100)', parsePositiveInt(100))
      .option('--cursor <cursor>', 'continue from a previous page')
      .option('--all', 'fetch every page'),
  ).action(
    action<ListOpts>(rt, async (s, o) => {
      if (o.targetId && !o.targetType) throw new UsageError('--target-id needs --target-type cluster or --target-type host');
      const page = await s.client.list<Operation>('/v1/operations', {
        what: 'list operations',
        query: { targetType: o.targetType, targetId: o.targetId },
        limit: o.limit,
        cursor: o.cursor,
        all: o.all,
      });
      s.out.page(page, COLUMNS, 'No operations match.');
    }),
  );
}
