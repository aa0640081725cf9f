/** `edgefleet hosts`: edge hosts — pre-register, import, list, inspect, update, approve, reject, delete. */
import { Option, type Command } from 'commander';
import type { z } from 'zod';
import { hostHealthState, hostStatus, type host } from '../../lambdas/contracts/api.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, addPageOptions, examples, type CliRuntime, type Session } from '../context.js';
import { UsageError } from '../errors.js';
import { formatTags, type Column } from '../output.js';
import { collectStrings, collectTags, parseTag, type Tags } from '../parse.js';
import { registerHostsImport } from './hosts-import.js';
import { registerHostsShell } from './hosts-shell.js';
import { registerHostsWatch } from './hosts-watch.js';
import { registerHostsDiagnose } from './hosts-diagnose.js';
import { registerHostsAgentUpdate } from './hosts-agent-update.js';

type Host = z.infer<typeof host>;

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/** The host's address: the first IPv4 address of the first network interface that has one (as the host reported it). */
export function hostAddress(h: Pick<Host, 'inventory'>): string | undefined {
  for (const nic of h.inventory?.nics ?? []) {
    const ip = (nic.ips ?? []).find((a) => IPV4.test(a));
    if (ip) return ip;
  }
  return undefined;
}

/** Every reported address, per interface: `eth0 192.168.1.20, fd00::20; wlan0 10.0.0.5`. */
export function hostAddresses(h: Pick<Host, 'inventory'>): string | undefined {
  const parts = (h.inventory?.nics ?? []).filter((n) => n.ips?.length).map((n) => `${n.name} ${n.ips!.join(', ')}`);
  return parts.length ? parts.join('; ') : undefined;
}

export const HOST_COLUMNS: Column<Host>[] = [
  { header: 'ID', value: (h) => h.id },
  { header: 'NAME', value: (h) => h.name },
  { header: 'SITE', value: (h) => h.site },
  { header: 'STATUS', value: (h) => h.status, status: true },
  { header: 'PRESENCE', value: (h) => h.presence, status: true },
  { header: 'HEALTH', value: (h) => h.health.state, status: true },
  { header: 'ADDRESS', value: hostAddress },
  { header: 'CLUSTER', value: (h) => h.clusterId ?? h.targetClusterId },
  { header: 'AGENT', value: (h) => h.reported?.agentVersion },
  { header: 'TAGS', value: (h) => formatTags(h.tags) },
];

/** The health line: `unhealthy: offline since …; Kubernetes NotReady`. */
export function healthLine(h: { state: string; reasons: readonly string[] }): string {
  return h.reasons.length ? `${h.state}: ${h.reasons.join('; ')}` : h.state;
}

/** What the host last reported, as detail rows (none when it never reported). */
export function reportedRows(r: Host['reported']): [string, string | number | undefined][] {
  if (!r) return [['Reported', 'never']];
  const k = r.kubernetes;
  return [
    ['Reported', r.reportedAt],
    ['Boot', [r.boot.state, r.boot.image].filter(Boolean).join(' ')],
    ['Kairos', r.boot.kairosVersion],
    ['Kubernetes', k ? [k.ready ? 'Ready' : 'NotReady', k.version, k.role, k.cordoned ? 'cordoned' : undefined].filter(Boolean).join(' ') : undefined],
    ['State free', r.storage ? `${r.storage.stateFreeMb} MiB` : undefined],
    ['Agent', r.agentVersion],
    ['Packs', r.packs?.length ? r.packs.map((p) => `${p.name} ${p.state}${p.reason ? ` (${p.reason})` : ''}`).join('; ') : undefined],
  ];
}

export function showHost(s: Session, h: Host): void {
  if (s.out.isJson) return s.out.json(h);
  s.out.details([
    ['Health', healthLine(h.health)],
    ['Health since', h.health.since],
    ['ID', h.id],
    ['UID', h.uid],
    ['Name', h.name],
    ['Site', h.site],
    ['Status', h.status],
    ['Reason', h.statusReason],
    ['Presence', h.presence],
    ['Addresses', hostAddresses(h)],
    ['Cluster', h.clusterId],
    ['Joining cluster', h.targetClusterId],
    ['Tags', formatTags(h.tags)],
    ['Project', h.project],
    ['Version', h.version],
    ['Created', h.createdAt],
    ['Updated', h.updatedAt],
    ['Approved', h.approvedAt],
    ...reportedRows(h.reported),
  ]);
}

const NOT_FOUND = 'list hosts with `edgefleet hosts list` (ids are the lowercased hardware uid) and check --project';
const ID_ARG = ['<id>', 'host id (as shown by `edgefleet hosts list`)'] as const;

interface ListOpts {
  status?: string;
  health?: string;
  site?: string;
  tag?: string;
  cluster?: string;
  limit?: number;
  cursor?: string;
  all?: boolean;
}

/** The query string for `hosts list`. */
export function hostListQuery(o: ListOpts): Record<string, string | undefined> {
  return { status: o.status, health: o.health, site: o.site, tag: o.tag, clusterId: o.cluster };
}

interface UpdateOpts {
  name?: string;
  site?: string;
  tag?: Tags;
  removeTag?: string[];
}

/** The PATCH body for `hosts update`: the read version plus only what changes; tags merged. */
export function hostPatchBody(current: Pick<Host, 'version' | 'tags'>, o: UpdateOpts): Record<string, unknown> {
  if (o.name === undefined && o.site === undefined && !o.tag && !o.removeTag?.length) {
    throw new UsageError('nothing to update', ['pass --name, --site, --tag key=value or --remove-tag key']);
  }
  const body: Record<string, unknown> = { version: current.version };
  if (o.name !== undefined) body.name = o.name;
  if (o.site !== undefined) body.site = o.site;
  if (o.tag || o.removeTag?.length) {
    const tags: Tags = { ...current.tags, ...o.tag };
    for (const k of o.removeTag ?? []) delete tags[k];
    body.tags = tags;
  }
  return body;
}

export function registerHosts(program: Command, rt: CliRuntime): void {
  const hosts = program
    .command('hosts')
    .description('edge hosts: pre-register, import, list, watch, approve, reject, update, decommission, delete')
    .addHelpText('after', examples('edgefleet hosts list --status pending', 'edgefleet hosts approve hw-0042', 'edgefleet hosts import fleet.csv'));

  addCommonOptions(
    hosts
      .command('create')
      .description('pre-register one host by its hardware uid (it is approved when it registers)')
      .argument('<uid>', 'hardware id the device reports (e.g. serial or MAC)')
      .option('--name <name>', 'a name for people')
      .option('--site <site>', 'site the host is installed at')
      .option('--tag <key=value>', 'tag (repeatable)', collectTags)
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText('after', examples('edgefleet hosts create hw-0042 --site shop-12 --tag env=prod --tag tier=pos'))
    .action(
      action<{ name?: string; site?: string; tag?: Tags; idempotencyKey?: string }, [string]>(rt, async (s, o, uid) => {
        const h = await s.client.post<Host>('/v1/hosts', {
          what: `create host "${uid}"`,
          body: { uid, name: o.name, site: o.site, tags: o.tag },
          idempotencyKey: s.idempotencyKey(o.idempotencyKey),
          hints: { 409: `a host with uid "${uid}" already exists; see it with \`edgefleet hosts get <id>\`` },
        });
        if (s.out.isJson) return s.out.json(h);
        s.out.line(`Created host ${h.id} (uid ${h.uid}), status ${h.status}.`);
      }),
    );

  registerHostsImport(hosts, rt);
  registerHostsWatch(hosts, rt);
  registerHostsDiagnose(hosts, rt);
  registerHostsAgentUpdate(hosts, rt);
  registerHostsShell(hosts, rt);

  addCommonOptions(addPageOptions(
    hosts
      .command('list')
      .description('list hosts, optionally filtered')
      .addOption(new Option('--status <status>', 'lifecycle status').choices(hostStatus.options))
      .addOption(new Option('--health <state>', 'derived health (stored when it changes)').choices(hostHealthState.options))
      .option('--site <site>', 'only hosts at this site')
      .option('--tag <key=value>', 'only hosts with this tag', (v) => parseTag(v).join('='))
      .option('--cluster <id>', 'only hosts in this cluster')),
  )
    .addHelpText('after', examples('edgefleet hosts list --status pending --site shop-12', 'edgefleet hosts list --health unhealthy', 'edgefleet hosts list --tag env=prod --all -o json'))
    .action(
      action<ListOpts>(rt, async (s, o) => {
        const page = await s.client.list<Host>('/v1/hosts', {
          what: 'list hosts',
          query: hostListQuery(o),
          limit: o.limit,
          cursor: o.cursor,
          all: o.all,
        });
        s.out.page(page, HOST_COLUMNS, 'No hosts match.');
      }),
    );

  addCommonOptions(hosts.command('get').description('show one host').argument(...ID_ARG)).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      showHost(s, await s.client.get<Host>(`/v1/hosts/${seg(id)}`, { what: `get host "${id}"`, hints: { 404: NOT_FOUND } }));
    }),
  );

  addCommonOptions(
    hosts
      .command('update')
      .description("change a host's name, site or tags (other tags are kept)")
      .argument(...ID_ARG)
      .option('--name <name>', 'new name')
      .option('--site <site>', 'new site')
      .option('--tag <key=value>', 'set a tag (repeatable)', collectTags)
      .option('--remove-tag <key>', 'remove a tag (repeatable)', collectStrings),
  )
    .addHelpText('after', examples('edgefleet hosts update hw-0042 --site shop-13 --tag tier=kitchen --remove-tag temp'))
    .action(
      action<UpdateOpts, [string]>(rt, async (s, o, id) => {
        const current = await s.client.get<Host>(`/v1/hosts/${seg(id)}`, { what: `read host "${id}"`, hints: { 404: NOT_FOUND } });
        const h = await s.client.patch<Host>(`/v1/hosts/${seg(id)}`, {
          what: `update host "${id}"`,
          body: hostPatchBody(current, o),
          hints: {
            404: NOT_FOUND,
            412: `host ${id} was changed by someone else after this command read it (version ${current.version}); run the same command again to apply your change on top`,
          },
        });
        if (s.out.isJson) return s.out.json(h);
        s.out.line(`Updated host ${h.id} (version ${h.version}).`);
      }),
    );

  addCommonOptions(
    hosts
      .command('approve')
      .description('approve a host that registered and waits for review')
      .argument(...ID_ARG)
      .option('--pairing-code <code>', 'the code shown on the host console, if your policy asks for one'),
  )
    .addHelpText('after', examples('edgefleet hosts list --status pending', 'edgefleet hosts approve hw-0042 --pairing-code 4K7Q-9ZD2'))
    .action(
      action<{ pairingCode?: string }, [string]>(rt, async (s, o, id) => {
        const h = await s.client.post<Host>(`/v1/hosts/${seg(id)}/approve`, {
          what: `approve host "${id}"`,
          body: o.pairingCode ? { pairingCode: o.pairingCode } : {},
          hints: { 404: NOT_FOUND, 409: `host ${id} cannot be approved in its current state; check it with \`edgefleet hosts get ${id}\`` },
        });
        if (s.out.isJson) return s.out.json(h);
        s.out.line(`Approved host ${h.id}; status ${h.status}.`);
      }),
    );

  addCommonOptions(
    hosts
      .command('reject')
      .description('reject a host: it cannot join clusters')
      .argument(...ID_ARG)
      .option('--reason <text>', 'why (kept with the host and in the audit log)'),
  ).action(
    action<{ reason?: string }, [string]>(rt, async (s, o, id) => {
      const h = await s.client.post<Host>(`/v1/hosts/${seg(id)}/reject`, {
        what: `reject host "${id}"`,
        body: o.reason ? { reason: o.reason } : {},
        hints: { 404: NOT_FOUND },
      });
      if (s.out.isJson) return s.out.json(h);
      s.out.line(`Rejected host ${h.id}.`);
    }),
  );

  addCommonOptions(
    hosts
      .command('decommission')
      .description("retire a host: its certificate is revoked and its IoT thing removed; it can no longer connect")
      .argument(...ID_ARG)
      .option('--reason <text>', 'why (kept with the host and in the audit log)'),
  ).action(
    action<{ reason?: string }, [string]>(rt, async (s, o, id) => {
      const h = await s.client.post<Host>(`/v1/hosts/${seg(id)}/decommission`, {
        what: `decommission host "${id}"`,
        body: o.reason ? { reason: o.reason } : {},
        hints: { 404: NOT_FOUND, 409: `host ${id} cannot be decommissioned now (for example it is in a cluster); check it with \`edgefleet hosts get ${id}\`` },
      });
      if (s.out.isJson) return s.out.json(h);
      s.out.line(`Host ${h.id} is decommissioned; its certificate is revoked.`);
    }),
  );

  addCommonOptions(hosts.command('delete').description('delete a host (an approved host is decommissioned instead)').argument(...ID_ARG)).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const res = await s.client.delete<Host | undefined>(`/v1/hosts/${seg(id)}`, {
        what: `delete host "${id}"`,
        hints: { 404: NOT_FOUND, 409: `host ${id} is in a cluster; remove it from the cluster (or delete the cluster) first` },
      });
      if (s.out.isJson) return s.out.json(res ?? { id, deleted: true });
      // An approved host is kept as decommissioned (its certificate is revoked); others are removed.
      s.out.line(res?.status ? `Host ${id} is now ${res.status}.` : `Deleted host ${id}.`);
    }),
  );
}
