/** `edgefleet clusters kubeconfig`: the cluster's admin kubeconfig, from the secret store (admins only). */
import type { Command } from 'commander';
import { seg } from '../client.js';
import { action, addCommonOptions, examples, type CliRuntime } from '../context.js';
import { writePrivateFile } from '../private-file.js';

const NOT_FOUND = 'list clusters with `edgefleet clusters list` (and check --project)';

export function registerClusterKubeconfig(clusters: Command, rt: CliRuntime): void {
  addCommonOptions(
    clusters
      .command('kubeconfig')
      .description("the cluster's admin kubeconfig (admins only; every read is audited)")
      .argument('<id>', 'cluster id')
      .option('--out <file>', 'write to this file (mode 0600) instead of stdout'),
  )
    .addHelpText(
      'after',
      `
The kubeconfig is fetched from the cluster's init node once, when the create has joined every
node, and kept in the secret store; its server is the control-plane address (the VIP, else the
init node). It holds cluster-admin credentials: keep the file private. -o/--output is the output
format as everywhere, so the file is --out.
${examples('edgefleet clusters kubeconfig c-123 --out ~/.kube/shop-12.yaml', 'KUBECONFIG=~/.kube/shop-12.yaml kubectl get nodes')}`,
    )
    .action(
      action<{ out?: string }, [string]>(rt, async (s, o, id) => {
        const text = await s.client.request<string>('GET', `/v1/clusters/${seg(id)}/kubeconfig`, {
          what: `get the kubeconfig of cluster "${id}"`,
          responseType: 'text',
          hints: {
            404: NOT_FOUND,
            409: 'the kubeconfig is fetched when the create finishes: wait for it (edgefleet clusters get <id>), then retry',
          },
        });
        if (o.out) {
          const path = s.path(o.out);
          writePrivateFile(path, text, o.out);
          s.out.note(`Wrote the kubeconfig of cluster ${id} to ${o.out} (mode 0600: it holds cluster-admin credentials).`);
          if (s.out.isJson) s.out.json({ clusterId: id, file: path, bytes: Buffer.byteLength(text) });
          return;
        }
        if (s.out.isJson) s.out.json({ clusterId: id, kubeconfig: text });
        else s.io.stdout(text.endsWith('\n') ? text : `${text}\n`);
      }),
    );

}
