/** `edgefleet hosts agent-update`: move a host's agent to the published version, optionally watching the operation. */
import type { Command } from 'commander';
import type { OperationView } from '../../lambdas/contracts/operations.js';
import { seg } from '../client.js';
import { action, addCommonOptions, examples, IDEMPOTENCY_HELP, type CliRuntime, type Session } from '../context.js';
import { CliError, EXIT } from '../errors.js';
import { parsePositiveInt } from '../parse.js';

interface AgentUpdateOpts { version: string; watch?: boolean; interval?: number; timeout?: number; idempotencyKey?: string }

const line = (op: OperationView) => `${op.status} (${op.step})${op.reason ? `: ${op.reason}` : ''}`;

async function watch(s: Session, op: OperationView, o: AgentUpdateOpts): Promise<OperationView> {
  const until = Date.now() + (o.timeout ?? 20 * 60) * 1000;
  let last = '';
  for (;;) {
    const cur = await s.client.get<OperationView>(`/v1/operations/${seg(op.id)}`, { what: `read operation ${op.id}` });
    const l = line(cur);
    if (l !== last && !s.out.isJson) s.out.note(`  ${l}`);
    last = l;
    if (cur.status !== 'running' && cur.status !== 'queued') return cur;
    if (Date.now() > until) throw new CliError(`agent update ${op.id} of host ${op.target.id} is still ${cur.status} (${cur.step})`, EXIT.unavailable, [`check again later: edgefleet operations get ${op.id}`]);
    await new Promise((r) => setTimeout(r, (o.interval ?? 2) * 1000));
  }
}

export function registerHostsAgentUpdate(hosts: Command, rt: CliRuntime): void {
  addCommonOptions(
    hosts
      .command('agent-update')
      .description("move a host's agent to the version the control plane publishes (signature and SHA-256 checked on the host; falls back to the previous version if the new one does not come online)")
      .argument('<id>', 'host id (as shown by `edgefleet hosts list`)')
      .requiredOption('--version <version>', 'the agent version to move to (GET /v1/agent/manifest names the published one)')
      .option('--watch', 'wait until the operation ends and exit non-zero if it failed')
      .option('--interval <seconds>', 'seconds between checks with --watch (default 2)', parsePositiveInt(60))
      .option('--timeout <seconds>', 'give up watching after this long (default 1200)', parsePositiveInt(86_400))
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText('after', `
The host downloads the signed manifest and its executable from the control plane, refuses them if
the signature or the SHA-256 does not hold, installs the new version next to the running one and
restarts into it. If the new agent is not online within its commit deadline, a guard on the host
puts the previous version back and the operation fails saying why.
${examples('edgefleet hosts agent-update shop-12-pos --version 0.2.0 --watch')}`)
    .action(
      action<AgentUpdateOpts, [string]>(rt, async (s, o, hostId) => {
        const op = await s.client.post<OperationView>(`/v1/hosts/${seg(hostId)}/agent-update`, {
          what: `update the agent of host "${hostId}"`,
          body: { version: o.version },
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
          hints: {
            404: 'list hosts with `edgefleet hosts list` (and check --project)',
            403: "updating a host's agent needs the operator or admin role in this project",
          },
        });
        if (!o.watch) {
          if (s.out.isJson) return s.out.json(op);
          s.out.line(`agent-update ${op.id} of host ${hostId} to ${o.version} started; follow it with: edgefleet operations get ${op.id}`);
          return;
        }
        if (!s.out.isJson) s.out.note(`agent-update ${op.id} of host ${hostId} to ${o.version}:`);
        const end = await watch(s, op, o);
        if (s.out.isJson) s.out.json(end);
        else s.out.line(`agent-update ${op.id} of host ${hostId}: ${line(end)}`);
        if (end.status !== 'succeeded') throw new CliError(`the agent update of host ${hostId} ${end.status}${end.reason ? `: ${end.reason}` : ''}`, EXIT.conflict, [`see edgefleet hosts get ${hostId}`]);
      }),
    );
}
