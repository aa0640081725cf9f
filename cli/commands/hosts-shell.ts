/** `edgefleet hosts shell`: a remote shell on a host through a secure tunnel (AWS IoT Secure Tunneling). */
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Command } from 'commander';
import { MAX_TUNNEL_MINUTES, openedTunnel, TUNNEL_SERVICE, tunnel as tunnelSchema, tunnelList } from '../../lambdas/contracts/tunnels.js';
import { seg } from '../client.js';
import { action, addCommonOptions, examples, type CliRuntime, type Session } from '../context.js';
import { UsageError } from '../errors.js';
import { generateSshKeyPair } from '../ssh-keys.js';
import { startSource } from '../tunnel-source.js';

/** `90`, `90m`, `2h`, `1h30m` → minutes (1..720). */
export function parseDuration(flag: string) {
  return (v: string): number => {
    const m = /^(?:(\d+)h)?(?:(\d+)m?)?$/.exec(v.trim());
    const minutes = m && (m[1] || m[2]) ? Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0) : NaN;
    if (!Number.isInteger(minutes) || minutes < 1 || minutes > MAX_TUNNEL_MINUTES) {
      throw new UsageError(`${flag} "${v}" is not a duration between 1m and 12h`, ['write it as minutes (90 or 90m), hours (2h) or both (1h30m)']);
    }
    return minutes;
  };
}

interface ShellOpts { reason: string; duration?: number; idleTimeout?: number; ssh?: boolean; port?: number }

/** Runs ssh (argv, no shell) until it exits; once more if it fails at once (exit 255 within 5 s: the user was still being added). */
async function runSsh(s: Session, args: string[]): Promise<number> {
  const started = Date.now();
  for (let attempt = 1; ; attempt++) {
    const code = await new Promise<number>((resolve) => {
      const child = spawn('ssh', args, { stdio: 'inherit' });
      child.on('error', (e) => { s.io.stderr(`edgefleet: cannot start ssh: ${e.message}; install the OpenSSH client, or use --no-ssh and your own client\n`); resolve(127); });
      child.on('exit', (c) => resolve(c ?? 1));
    });
    if (code !== 255 || attempt >= 2 || Date.now() - started > 5_000) return code;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/**
 * The project requires a second person's approval: says so, polls the request every 2 s until
 * it is approved (then starts it: the source token comes to this requester only) or closes.
 */
async function waitForApproval(s: Session, hostId: string, tunnelId: string, until: string) {
  s.io.stderr(`Tunnel ${tunnelId} to ${hostId} waits for a second person's approval (until ${until}). Ask a project admin, or a colleague `
    + `holding a troubleshoot grant, to run:\n  edgefleet hosts approve-shell ${hostId} ${tunnelId}\n`);
  for (;;) {
    const raw = await s.client.get<unknown>(`/v1/hosts/${seg(hostId)}/tunnels`, { what: `read the tunnels of host "${hostId}"` });
    const t = tunnelList.parse(raw).items.find((x) => x.id === tunnelId);
    if (!t || t.state === 'closed') {
      s.io.stderr(`edgefleet: tunnel ${tunnelId} was not approved in time (${t?.closeReason ?? 'gone'}); request a new one\n`);
      return undefined;
    }
    if (t.state === 'approved') {
      s.io.stderr(`Approved by ${t.approvedBy}; opening the tunnel.\n`);
      return openedTunnel.parse(await s.client.post<unknown>(`/v1/hosts/${seg(hostId)}/tunnels/${seg(tunnelId)}/start`, { what: `start tunnel ${tunnelId}`, body: {} }));
    }
    await new Promise((r) => setTimeout(r, 2000));
  }
}

/** How long `hosts shell` waits for the host to connect its side of the tunnel. */
export const DESTINATION_WAIT_MS = 60_000;

/**
 * Waits until the tunnel's destination (the host's agent) is connected, as the API reports it
 * (DescribeTunnel's destination connection state), polling once a second; false when the wait
 * ran out or the tunnel closed.
 */
async function waitForDestination(s: Session, hostId: string, tunnelId: string, timeoutMs = DESTINATION_WAIT_MS): Promise<boolean> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const raw = await s.client.get<unknown>(`/v1/hosts/${seg(hostId)}/tunnels`, { what: `read the tunnels of host "${hostId}"` });
    const t = tunnelList.parse(raw).items.find((x) => x.id === tunnelId);
    if (!t || t.state === 'closed') return false;
    if (t.destinationConnected) return true;
    if (Date.now() >= until) return false;
    await new Promise((r) => setTimeout(r, 1000));
  }
}

export function registerHostsShell(hosts: Command, rt: CliRuntime): void {
  registerApproveShell(hosts, rt);
  addCommonOptions(
    hosts
      .command('shell')
      .description('open a remote shell on a host through a secure tunnel (needs the troubleshoot grant; every session is audited)')
      .argument('<id>', 'host id (as shown by `edgefleet hosts list`)')
      .requiredOption('--reason <text>', 'why you need the shell (recorded in the audit trail)')
      .option('--duration <time>', 'how long the tunnel lives at most: 90m, 2h (default 60m, max 12h)', parseDuration('--duration'))
      .option('--idle-timeout <time>', 'end the session after this long without traffic (default 30m or the duration)', parseDuration('--idle-timeout'))
      .option('--port <port>', 'loopback port for the tunnel (default: a free one)', (v) => Number(v))
      .option('--no-ssh', 'do not start ssh: print the port and key, keep the tunnel until it closes (Ctrl-C closes it)'),
  )
    .addHelpText('after', examples(
      'edgefleet hosts shell shop-12-pos --reason "kubelet keeps restarting, ticket 4711"',
      'edgefleet hosts shell shop-12-pos --reason "disk full" --duration 2h --no-ssh',
    ))
    .action(
      action<ShellOpts, [string]>(rt, async (s, o, id) => {
        const dir = mkdtempSync(join(tmpdir(), 'edgefleet-shell-'));
        const keyFile = join(dir, 'id_ed25519');
        const keys = generateSshKeyPair(`edgefleet-${id}`);
        writeFileSync(keyFile, keys.privateKey, { mode: 0o600 });
        let tunnelId: string | undefined;
        const closeTunnel = async () => {
          if (!tunnelId) return;
          const t = tunnelId;
          tunnelId = undefined;
          await s.client.delete(`/v1/hosts/${seg(id)}/tunnels/${seg(t)}`, { what: `close tunnel ${t} on host "${id}"` })
            .catch((e: unknown) => s.io.stderr(`edgefleet: could not close tunnel ${t}: ${(e as Error).message}; it closes by itself at its expiry\n`));
        };
        try {
          const raw = await s.client.post<unknown>(`/v1/hosts/${seg(id)}/tunnels`, {
            what: `open a tunnel to host "${id}"`,
            body: { reason: o.reason, durationMinutes: o.duration ?? 60, ...(o.idleTimeout ? { idleTimeoutMinutes: o.idleTimeout } : {}), publicKey: keys.publicKey },
            hints: {
              403: 'a remote shell needs the operator or admin role and a troubleshoot grant; ask a project admin (POST /v1/troubleshoot-grants {"subject": "<your token subject>"})',
              409: 'see why above; `edgefleet hosts get <id>` shows whether the host is online',
            },
          });
          const requested = tunnelSchema.parse(raw);
          tunnelId = requested.id;
          const t = requested.state === 'pending-approval' ? await waitForApproval(s, id, requested.id, requested.expiresAt) : openedTunnel.parse(raw);
          if (!t) { s.fail(1); return; }
          const source = await startSource({ endpoint: t.endpoint, accessToken: t.sourceAccessToken, serviceId: TUNNEL_SERVICE, ...(o.port ? { port: o.port } : {}) });
          const sshArgs = [
            '-i', keyFile, '-p', String(source.port), '-o', 'IdentitiesOnly=yes', '-o', `HostKeyAlias=edgefleet-${id}`,
            '-o', 'StrictHostKeyChecking=accept-new', '-o', `UserKnownHostsFile=${knownHostsFile(s)}`, `${t.user}@127.0.0.1`,
          ];
          s.io.stderr(`Tunnel ${t.id} to ${id} open until ${t.expiresAt} (user ${t.user}, idle limit ${t.idleTimeoutMinutes} min); waiting for the host to connect its side…\n`);
          if (!(await waitForDestination(s, id, t.id))) {
            s.io.stderr(`edgefleet: host "${id}" did not connect its side of tunnel ${t.id} within ${DESTINATION_WAIT_MS / 1000} s (or the tunnel closed); `
              + 'check that it is online and its agent runs (`edgefleet hosts get ' + id + '`), then try again. The tunnel is being closed.\n');
            await source.close();
            s.fail(1);
            return;
          }
          if (o.ssh === false) {
            s.out.line(`port ${source.port}`);
            s.out.line(`connect: ssh ${sshArgs.join(' ')}`);
            // Ctrl-C (often delivered twice: by the terminal and by npm/npx forwarding it), a closed
            // terminal or a kill: end the session; the `finally` below deletes the tunnel, and
            // repeated signals must not kill the process before it has.
            const onSignal = () => { void source.close(); };
            const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
            for (const sig of signals) process.on(sig, onSignal);
            try {
              const why = await source.ended;
              s.io.stderr(`Tunnel ${t.id} ended: ${why}.\n`);
              await closeTunnel();
            } finally {
              for (const sig of signals) process.removeListener(sig, onSignal);
            }
          } else {
            const code = await runSsh(s, sshArgs);
            await source.close();
            if (code !== 0) s.fail(code === 255 ? 7 : 1);
          }
        } finally {
          await closeTunnel();
          rmSync(dir, { recursive: true, force: true });
        }
      }),
    );
}

/** `edgefleet hosts approve-shell <host> <tunnelId>`: the second person approves someone else's tunnel request. */
function registerApproveShell(hosts: Command, rt: CliRuntime): void {
  addCommonOptions(
    hosts
      .command('approve-shell')
      .description("approve another operator's pending remote-shell request (admins, or operators holding a troubleshoot grant; never your own)")
      .argument('<id>', 'host id')
      .argument('<tunnelId>', 'the tunnel id the requester was shown'),
  ).action(action<Record<string, never>, [string, string]>(rt, async (s, _o, id, tunnelId) => {
    const raw = await s.client.post<unknown>(`/v1/hosts/${seg(id)}/tunnels/${seg(tunnelId)}/approve`, {
      what: `approve tunnel ${tunnelId} on host "${id}"`, body: {},
      hints: { 403: 'you cannot approve your own request; approving needs the admin role, or the operator role and a troubleshoot grant' },
    });
    const t = tunnelSchema.parse(raw);
    s.out.line(`Approved tunnel ${t.id} to ${id} requested by ${t.actor} (reason: ${t.reason}); they have until ${t.expiresAt} to start it.`);
  }));
}

/** Host keys seen through tunnels, per host id (trust on first use), next to the CLI's config. */
function knownHostsFile(s: Session): string {
  const dir = join(s.io.env.HOME ?? tmpdir(), '.config', 'edgefleet');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  return join(dir, 'known_hosts');
}
