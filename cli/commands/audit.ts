/** `edgefleet audit`: who changed what, when, with which outcome. */
import type { Command } from 'commander';
import type { z } from 'zod';
import type { auditEvent } from '../../lambdas/contracts/api.js';
import { action, addCommonOptions, addPageOptions, examples, type CliRuntime } from '../context.js';
import type { Column } from '../output.js';
import { parseSince } from '../parse.js';

type AuditEvent = z.infer<typeof auditEvent>;

const COLUMNS: Column<AuditEvent>[] = [
  { header: 'TIME', value: (e) => e.time },
  { header: 'ACTOR', value: (e) => e.actor },
  { header: 'ACTION', value: (e) => e.action },
  { header: 'RESOURCE', value: (e) => e.resource },
  { header: 'OUTCOME', value: (e) => e.outcome, status: true },
  { header: 'REQUEST ID', value: (e) => e.requestId },
];

interface ListOpts {
  resource?: string;
  actor?: string;
  since?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

export function registerAudit(program: Command, rt: CliRuntime): void {
  const audit = program.command('audit').description('the audit log: every mutation, with actor, outcome and request id');

  addCommonOptions(addPageOptions(
    audit
      .command('list')
      .description('list audit events, newest first')
      .option('--resource <resource>', 'only events about this resource (e.g. host/hw-0042, profile/edge-k3s)')
      .option('--actor <actor>', 'only events by this actor')
      .option('--since <time>', 'ISO time, date, or a duration back from now such as 30m, 6h, 7d', (v) => parseSince(v))),
  )
    .addHelpText('after', examples('edgefleet audit list --since 24h', 'edgefleet audit list --resource host/hw-0042 -o json'))
    .action(
      action<ListOpts>(rt, async (s, o) => {
        const page = await s.client.list<AuditEvent>('/v1/audit-events', {
          what: 'list audit events',
          query: { resource: o.resource, actor: o.actor, since: o.since },
          limit: o.limit,
          cursor: o.cursor,
          all: o.all,
        });
        s.out.page(page, COLUMNS, 'No audit events match.');
      }),
    );
}
