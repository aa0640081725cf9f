/** `edgefleet hosts watch`: a live view of presence and lifecycle changes. */
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { hostStatus, type host } from '../../lambdas/contracts/api.js';
import { action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { parsePositiveInt } from '../parse.js';

type Host = z.infer<typeof host>;
export type HostSnapshot = ReadonlyMap<string, Pick<Host, 'presence' | 'status'>>;

export interface HostChange {
  readonly id: string;
  readonly what: 'presence' | 'status' | 'appeared' | 'gone';
  readonly from?: string;
  readonly to?: string;
}

/** What changed between two views of the fleet, in host-id order. Pure. */
export function diffHosts(prev: HostSnapshot, next: HostSnapshot): HostChange[] {
  const out: HostChange[] = [];
  for (const id of [...new Set([...prev.keys(), ...next.keys()])].sort()) {
    const a = prev.get(id);
    const b = next.get(id);
    if (!a && b) out.push({ id, what: 'appeared', to: `${b.status}/${b.presence}` });
    else if (a && !b) out.push({ id, what: 'gone', from: `${a.status}/${a.presence}` });
    else if (a && b) {
      if (a.presence !== b.presence) out.push({ id, what: 'presence', from: a.presence, to: b.presence });
      if (a.status !== b.status) out.push({ id, what: 'status', from: a.status, to: b.status });
    }
  }
  return out;
}

export function describeChange(c: HostChange, at: Date): string {
  const t = at.toISOString().slice(11, 19);
  if (c.what === 'appeared') return `${t}  ${c.id}  appeared (${c.to})`;
  if (c.what === 'gone') return `${t}  ${c.id}  gone (was ${c.from})`;
  return `${t}  ${c.id}  ${c.what} ${c.from} → ${c.to}`;
}

interface WatchOpts { site?: string; status?: string; cluster?: string; interval?: number; count?: number }

export function registerHostsWatch(hosts: Command, rt: CliRuntime): void {
  addCommonOptions(
    hosts
      .command('watch')
      .description('follow hosts live: one line per presence or status change (Ctrl-C to stop)')
      .option('--site <site>', 'only hosts at this site')
      .addOption(new Option('--status <status>', 'only hosts in this lifecycle status').choices(hostStatus.options))
      .option('--cluster <id>', 'only hosts in this cluster')
      .option('--interval <seconds>', 'seconds between checks (default 2)', parsePositiveInt(3600))
      .option('--count <n>', 'stop after n checks (for scripts)', parsePositiveInt(1_000_000)),
  )
    .addHelpText('after', examples('edgefleet hosts watch --site shop-12', 'edgefleet hosts watch --status pending --interval 5'))
    .action(
      action<WatchOpts>(rt, async (s, o) => {
        let prev: HostSnapshot = new Map();
        const rounds = o.count ?? Number.POSITIVE_INFINITY;
        for (let i = 0; i < rounds; i++) {
          if (i > 0) await new Promise((r) => setTimeout(r, (o.interval ?? 2) * 1000));
          const page = await s.client.list<Host>('/v1/hosts', {
            what: 'list hosts', query: { site: o.site, status: o.status, clusterId: o.cluster }, all: true,
          });
          const next: HostSnapshot = new Map(page.items.map((h) => [h.id, { presence: h.presence, status: h.status }]));
          const changes = diffHosts(prev, next);
          if (s.out.isJson) { for (const c of changes) s.out.json({ at: new Date().toISOString(), ...c }); }
          else {
            if (i === 0) s.out.line(`${next.size} host(s); ${[...next.values()].filter((h) => h.presence === 'online').length} online. Watching for changes…`);
            for (const c of i === 0 ? [] : changes) s.out.line(describeChange(c, new Date()));
          }
          prev = next;
        }
      }),
    );
}
