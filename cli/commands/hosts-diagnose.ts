/** `edgefleet hosts diagnose`: collect a diagnostics bundle from a host, wait, download and verify it. */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { bundleManifest, type BundleManifest, type DiagnosticsView } from '../../lambdas/contracts/diagnostics.js';
import { readTarGz } from '../bundle-reader.js';
import { seg } from '../client.js';
import { action, addCommonOptions, examples, IDEMPOTENCY_HELP, type CliRuntime, type Session } from '../context.js';
import { CliError, EXIT, UsageError } from '../errors.js';
import { parsePositiveInt } from '../parse.js';

const NOT_FOUND = 'list hosts with `edgefleet hosts list` (and check --project)';

interface DiagnoseOpts { since: string; reason?: string; out?: string; interval?: number; timeout?: number; idempotencyKey?: string; wait?: boolean }

/** One line per collected item: file, exit code, duration, size, redactions, error. */
export function manifestSummary(m: BundleManifest): string[] {
  const width = Math.max(...m.items.map((i) => i.file.length), 4);
  return m.items.map((i) => {
    const status = i.error === undefined ? 'ok' : `FAILED (exit ${i.exitCode ?? 'none'}): ${i.error.split('\n')[0]!.slice(0, 120)}`;
    const extra = [i.redactions ? `${i.redactions} redacted` : '', i.truncated ? 'truncated' : ''].filter(Boolean).join(', ');
    return `  ${i.file.padEnd(width)}  ${String(i.bytes).padStart(8)} B  ${String(i.durationMs).padStart(6)} ms  ${status}${extra ? `  (${extra})` : ''}`;
  });
}

async function waitForBundle(s: Session, hostId: string, id: string, o: DiagnoseOpts): Promise<DiagnosticsView> {
  const until = Date.now() + (o.timeout ?? 20 * 60) * 1000;
  let last = '';
  for (;;) {
    const d = await s.client.get<DiagnosticsView>(`/v1/hosts/${seg(hostId)}/diagnostics/${seg(id)}`, { what: `read diagnostics request ${id} of host "${hostId}"`, hints: { 404: NOT_FOUND } });
    const line = `${d.status}${d.statusReason ? `: ${d.statusReason}` : ''}`;
    if (line !== last && !s.out.isJson) s.out.note(`  ${line}`);
    last = line;
    if (d.status === 'uploaded' || d.status === 'failed') return d;
    if (Date.now() > until) {
      throw new CliError(`host ${hostId} has not uploaded diagnostics bundle ${id} yet (status ${d.status}); it keeps trying until ${d.deadline}`, EXIT.unavailable,
        [`check again later: edgefleet hosts diagnose ${hostId} --id ${id} --out bundle.tgz`]);
    }
    await new Promise((r) => setTimeout(r, (o.interval ?? 2) * 1000));
  }
}

export function registerHostsDiagnose(hosts: Command, rt: CliRuntime): void {
  addCommonOptions(
    hosts
      .command('diagnose')
      .description('collect a diagnostics bundle from a host (journals, Kairos state, disk, network, Kubernetes; secrets redacted), wait for it and download it')
      .argument('<id>', 'host id (as shown by `edgefleet hosts list`)')
      .option('--since <window>', 'how far back the journals go: 30m, 1h, 2d (at most 7d)', '1h')
      .option('--reason <text>', 'why (kept with the request and in the audit log)')
      .option('--out <file>', 'where to write the bundle (default <host>-<id>.tgz)')
      .option('--id <diagnosticsId>', 'download an earlier request instead of starting one')
      .option('--no-wait', 'start the collection and print its id without waiting')
      .option('--interval <seconds>', 'seconds between checks (default 2)', parsePositiveInt(60))
      .option('--timeout <seconds>', 'give up waiting after this long (default 1200)', parsePositiveInt(86_400))
      .option('--idempotency-key <key>', IDEMPOTENCY_HELP),
  )
    .addHelpText('after', `
The host runs an allow-listed collection (no shell): the journals of the agent, kairos-agent and
the Kubernetes service over the window, \`kairos-agent state\`, /etc/kairos-release, df and
mounts, addresses, routes, DNS, reachability of the control plane and the image registry, and on
control-plane hosts \`kubectl get nodes,pods -A -o wide\` and \`kubectl describe node\`. Tokens,
keys and passwords are blanked out on the host before upload. The bundle is a tar.gz with a
manifest.json (each item's command, exit code and duration); the CLI checks its sha256.
${examples('edgefleet hosts diagnose shop-12-pos --since 1h --out bundle.tgz --reason "POS freezes at noon"', 'tar -xzf bundle.tgz && less journal/k3s.log')}`)
    .action(
      action<DiagnoseOpts & { id?: string }, [string]>(rt, async (s, o, hostId) => {
        let id = o.id;
        if (!id) {
          const started = await s.client.post<DiagnosticsView>(`/v1/hosts/${seg(hostId)}/diagnostics`, {
            what: `start diagnostics on host "${hostId}"`,
            body: { since: o.since, ...(o.reason ? { reason: o.reason } : {}) },
            idempotencyKey: s.idempotencyKey(o.idempotencyKey),
            hints: {
              404: NOT_FOUND,
              409: `host ${hostId} has no connected agent to ask (not registered, pending approval, rejected or decommissioned); check it with \`edgefleet hosts get ${hostId}\``,
              403: 'collecting diagnostics needs the operator or admin role in this project',
            },
          });
          id = started.id;
          if (o.wait === false) {
            if (s.out.isJson) return s.out.json(started);
            s.out.line(`Asked host ${hostId} for diagnostics ${id} (journals since ${started.since}); it has until ${started.deadline}.`);
            s.out.line(`Download it with: edgefleet hosts diagnose ${hostId} --id ${id} --out bundle.tgz`);
            return;
          }
          if (!s.out.isJson) s.out.note(`Asked host ${hostId} for diagnostics ${id} (journals since ${started.since}); waiting for the upload…`);
        }
        const d = await waitForBundle(s, hostId, id, o);
        if (d.status === 'failed') {
          throw new CliError(`diagnostics ${id} of host ${hostId} failed: ${d.statusReason ?? 'no reason recorded'}`, EXIT.unavailable,
            [`check the host: edgefleet hosts get ${hostId}`, `ask again: edgefleet hosts diagnose ${hostId} --since ${d.window}`]);
        }
        if (!d.download || !d.bundle) throw new CliError(`diagnostics ${id} is uploaded but the API gave no download link; retry`, EXIT.unavailable);
        const res = await (s.io.fetch ?? fetch)(d.download.url);
        if (!res.ok) {
          throw new CliError(`downloading diagnostics ${id} failed: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`, EXIT.unavailable,
            ['the link lasts a few minutes: run the same command with --id to get a fresh one']);
        }
        const tgz = Buffer.from(await res.arrayBuffer());
        const sha256 = createHash('sha256').update(tgz).digest('hex');
        if (sha256 !== d.bundle.sha256 || tgz.length !== d.bundle.bytes) {
          throw new CliError(`the downloaded bundle does not match what host ${hostId} uploaded (sha256 ${sha256}, ${tgz.length} bytes; expected ${d.bundle.sha256}, ${d.bundle.bytes} bytes); nothing was written`, EXIT.unavailable,
            [`download it again: edgefleet hosts diagnose ${hostId} --id ${id}`]);
        }
        let manifest: BundleManifest;
        try {
          manifest = bundleManifest.parse(JSON.parse(readTarGz(tgz).get('manifest.json')?.toString('utf8') ?? 'null'));
        } catch (e) {
          throw new CliError(`the bundle of diagnostics ${id} has no readable manifest.json (${(e as Error).message.slice(0, 200)})`, EXIT.unavailable);
        }
        const file = s.path(o.out ?? `${hostId}-${id}.tgz`);
        try {
          writeFileSync(file, tgz, { mode: 0o600 });
        } catch (err) {
          throw new UsageError(`cannot write ${file}: ${(err as Error).message}`);
        }
        if (s.out.isJson) return s.out.json({ ...d, file, manifest });
        const failed = manifest.items.filter((i) => i.error !== undefined).length;
        s.out.line(`Diagnostics ${id} of host ${hostId}: ${manifest.items.length} items (${failed} failed), collected ${manifest.collectedAt}, journals since ${manifest.since}.`);
        for (const l of manifestSummary(manifest)) s.out.line(l);
        s.out.line(`Wrote ${file} (${tgz.length} bytes, sha256 ${sha256} verified). Unpack with: tar -xzf ${o.out ?? `${hostId}-${id}.tgz`}`);
      }),
    );
}
