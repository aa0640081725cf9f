/** `edgefleet clusters`: create clusters from approved hosts and a published profile version. */
import { InvalidArgumentError, type Command } from 'commander';
import { z } from 'zod';
import type { cluster, createClusterBody } from '../../lambdas/contracts/api.js';
import { seg } from '../client.js';
import { IDEMPOTENCY_HELP, action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { UsageError } from '../errors.js';
import type { Column } from '../output.js';
import { collectWorkers, parseIdList, parsePositiveInt, parseProfileRef, type ProfileRef, type WorkerPool } from '../parse.js';

type Cluster = z.infer<typeof cluster>;
type ClusterBody = z.input<typeof createClusterBody>;

const COLUMNS: Column<Cluster>[] = [
  { header: 'ID', value: (c) => c.id },
  { header: 'NAME', value: (c) => c.name },
  { header: 'PROFILE', value: (c) => `${c.profile.name}@${c.profile.version}` },
  { header: 'STATUS', value: (c) => c.status, status: true },
  { header: 'CONTROL PLANE', value: (c) => c.controlPlane.hostIds.join(',') },
  { header: 'WORKERS', value: (c) => c.workers.map((w) => `${w.name}=${w.hostIds.length}`).join(' ') },
  { header: 'OPERATION', value: (c) => c.operationId },
];

interface CreateOpts {
  name: string;
  profile: ProfileRef;
  controlPlane: string[];
  workers?: WorkerPool[];
  vip?: string;
  idempotencyKey?: string;
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
  };
}

const parseVip = (v: string): string => {
  if (!z.ipv4().safeParse(v).success) throw new InvalidArgumentError('expected an IPv4 address such as 192.0.2.50');
  return v;
};

const NOT_FOUND = 'list clusters with `edgefleet clusters list` (and check --project)';

export function registerClusters(program: Command, rt: CliRuntime): void {
  const clusters = program
    .command('clusters')
    .description('Kubernetes clusters on edge hosts')
    .addHelpText('after', examples('edgefleet clusters create --name shop-12 --profile edge-k3s@1.0.0 --control-plane hw-1', 'edgefleet clusters list'));

  addCommonOptions(
    clusters
      .command('create')
      .description('create a cluster; provisioning runs as an operation you can follow')
      .requiredOption('--name <name>', 'cluster name (lowercase letters, digits and "-")')
      .requiredOption('--profile <name@version>', 'a published profile version, e.g. edge-k3s@1.0.0', parseProfileRef)
      .requiredOption('--control-plane <ids>', 'approved host ids for the control plane, comma separated (1, 3 or 5)', parseIdList)
      .option('--workers <pool=ids>', 'a worker pool and its host ids, e.g. pos=hw-3,hw-4 (repeatable)', collectWorkers)
      .option('--vip <ip>', 'virtual IP for the Kubernetes API (multi-node control planes)', parseVip)
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText(
      'after',
      `
The hosts must be approved first (edgefleet hosts list --status pending; edgefleet hosts approve <id>).
${examples(
  'edgefleet clusters create --name shop-12 --profile edge-k3s@1.0.0 --control-plane hw-1',
  'edgefleet clusters create --name dc-1 --profile edge-rke2@2.1.0 --control-plane hw-1,hw-2,hw-3 --workers gpu=hw-4,hw-5 --vip 10.0.0.50',
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
        if (s.out.isJson) return s.out.json(c);
        s.out.line(`Cluster ${c.name} (${c.id}) accepted; status ${c.status}.`);
        if (c.operationId) s.out.line(`Provisioning runs as operation ${c.operationId}. Follow it: edgefleet operations get ${c.operationId}`);
      }),
    );

  addCommonOptions(
    clusters
      .command('list')
      .description('list clusters')
      .option('--limit <n>', 'page size (max 100)', parsePositiveInt(100))
      .option('--cursor <cursor>', 'continue from a previous page')
      .option('--all', 'fetch every page'),
  ).action(
    action<{ limit?: number; cursor?: string; all?: boolean }>(rt, async (s, o) => {
      s.out.page(await s.client.list<Cluster>('/v1/clusters', { what: 'list clusters', ...o }), COLUMNS, 'No clusters.');
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
        ['Profile', `${c.profile.name}@${c.profile.version}`],
        ['Control plane', c.controlPlane.hostIds.join(', ')],
        ...c.workers.map((w) => [`Workers ${w.name}`, w.hostIds.join(', ')] as const),
        ['VIP', c.vip],
        ['Operation', c.operationId],
        ['Project', c.project],
        ['Version', c.version],
        ['Created', c.createdAt],
        ['Updated', c.updatedAt],
      ]);
    }),
  );

  addCommonOptions(
    clusters
      .command('delete')
      .description('delete a cluster: its hosts are reset and released (runs as an operation)')
      .argument('<id>', 'cluster id'),
  ).action(
    action<object, [string]>(rt, async (s, _o, id) => {
      const res = await s.client.delete<Partial<Cluster> | undefined>(`/v1/clusters/${seg(id)}`, {
        what: `delete cluster "${id}"`,
        hints: { 404: NOT_FOUND, 409: `cluster ${id} is busy with another operation; see \`edgefleet operations list --target-type cluster --target-id ${id}\`` },
      });
      if (s.out.isJson) return s.out.json(res ?? { id, deleting: true });
      s.out.line(`Deleting cluster ${id}.`);
      if (res?.operationId) s.out.line(`Follow it: edgefleet operations get ${res.operationId}`);
    }),
  );
}
