import { mkdir, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { TUNNEL_SERVICE, tunnelNotify, type TroubleshootUserParams } from '../../lambdas/contracts/tunnels.js';
import type { CommandRunner } from '../command-runner.js';
import type { Log } from '../registration.js';
import { connectDestination, type DestinationSession } from '../tunnel-destination.js';
import type { Feature } from './feature.js';

/** The programs the remote-shell feature runs (argv, through the allow-list): the temporary user's life. */
export const TUNNEL_PROGRAMS: readonly string[] = ['useradd', 'userdel'];

/** What the `troubleshoot-user` command handler may ask of the feature. */
export interface TroubleshootAccess {
  addUser(p: Extract<TroubleshootUserParams, { action: 'add' }>): Promise<string>;
  removeUser(user: string, why: string): Promise<string>;
}

export interface TunnelFeatureOptions {
  /** false: the install configuration switched remote access off; notifications and users are refused. */
  readonly enabled: boolean;
  /** sshd's port on 127.0.0.1 (the only place a tunnel leads). */
  readonly sshPort: number;
  /** The Secure Tunneling data endpoint; default `wss://data.tunneling.iot.<region>.amazonaws.com` from the notification. */
  readonly endpoint?: string;
  /** Where sshd reads the temporary users' keys (`AuthorizedKeysFile … <dir>/%u`). */
  readonly authorizedKeysDir: string;
  /** Runs `useradd` / `userdel` (an allow-list runner over TUNNEL_PROGRAMS). */
  readonly runner: CommandRunner;
  readonly log: Log;
  readonly now: () => Date;
  readonly caPem?: string;
}

/**
 * Remote shell, the host's side: on a Secure Tunneling notification it connects as the
 * tunnel's destination and carries streams to sshd on 127.0.0.1 only; the `troubleshoot-user`
 * command adds a temporary user whose only key is the operator's one-time public key. The user
 * is removed when the tunnel connection ends (DELETE, expiry, idle), at its expiry, on a
 * `remove` command, and when the agent stops.
 */
export class TunnelFeature implements Feature, TroubleshootAccess {
  private readonly sessions = new Set<DestinationSession>();
  private readonly users = new Map<string, { timer: NodeJS.Timeout; idleMinutes: number }>();
  private stopped = false;

  constructor(private readonly o: TunnelFeatureOptions) {}

  getName(): string {
    return 'remote shell';
  }

  async start(): Promise<void> {
    if (!this.o.enabled) this.o.log('info', 'remote access is disabled by the install configuration: tunnels will be refused');
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const s of this.sessions) s.close();
    await Promise.all([...this.users.keys()].map((u) => this.removeUser(u, 'the agent stopped').catch(() => undefined)));
  }

  /** A message on `$aws/things/<thing>/tunnels/notify`. */
  onNotify(payload: string): void {
    if (this.stopped) return;
    let parsed: ReturnType<typeof tunnelNotify.parse>;
    try {
      parsed = tunnelNotify.parse(JSON.parse(payload));
    } catch {
      this.o.log('warn', 'ignored a tunnel notification that is not valid');
      return;
    }
    if (!this.o.enabled) {
      this.o.log('warn', 'refused a tunnel: remote access is disabled on this host by its install configuration');
      return;
    }
    if (parsed.clientMode !== 'destination' || !parsed.services.includes(TUNNEL_SERVICE)) {
      this.o.log('warn', `ignored a tunnel for ${parsed.clientMode} ${JSON.stringify(parsed.services)}: this host serves only ${TUNNEL_SERVICE} as destination`);
      return;
    }
    const endpoint = this.o.endpoint ?? `wss://data.tunneling.iot.${parsed.region}.amazonaws.com`;
    const idleMinutes = Math.max(0, ...[...this.users.values()].map((u) => u.idleMinutes));
    const session = connectDestination({
      endpoint, accessToken: parsed.clientAccessToken, serviceId: TUNNEL_SERVICE, port: this.o.sshPort,
      log: (level, message) => this.o.log(level, message), ...(this.o.caPem ? { ca: this.o.caPem } : {}),
      ...(idleMinutes > 0 ? { idleMs: idleMinutes * 60_000 } : {}),
    });
    this.sessions.add(session);
    this.o.log('info', `tunnel connected as destination to sshd on 127.0.0.1:${this.o.sshPort}`);
    void session.ended.then(async (why) => {
      this.sessions.delete(session);
      this.o.log('info', `tunnel ended: ${why}`);
      if (this.sessions.size > 0) return;
      for (const user of [...this.users.keys()]) await this.removeUser(user, why).catch((e: unknown) => this.o.log('warn', (e as Error).message));
    });
  }

  async addUser(p: Extract<TroubleshootUserParams, { action: 'add' }>): Promise<string> {
    if (!this.o.enabled) throw new Error('remote access is disabled on this host by its install configuration (remoteAccess: false); no user was added');
    const until = Date.parse(p.expiresAt) - this.o.now().getTime();
    if (until <= 0) throw new Error(`the tunnel ${p.tunnelId} already expired at ${p.expiresAt}; no user was added`);
    if (!this.users.has(p.user)) {
      await this.o.runner.run('useradd', ['--create-home', '--shell', '/bin/sh', '--comment', `EdgeFleet tunnel ${p.tunnelId}`, p.user], { timeoutMs: 30_000 });
    }
    await mkdir(this.o.authorizedKeysDir, { recursive: true, mode: 0o755 });
    await writeFile(path.join(this.o.authorizedKeysDir, p.user), `${p.publicKey}\n`, { mode: 0o644 });
    const previous = this.users.get(p.user);
    if (previous) clearTimeout(previous.timer);
    const timer = setTimeout(() => { void this.removeUser(p.user, 'the tunnel expired').catch(() => undefined); }, Math.min(until, 2_147_483_647));
    timer.unref();
    this.users.set(p.user, { timer, idleMinutes: p.idleTimeoutMinutes });
    return `temporary user ${p.user} added for tunnel ${p.tunnelId} until ${p.expiresAt}`;
  }

  async removeUser(user: string, why: string): Promise<string> {
    const known = this.users.get(user);
    if (known) clearTimeout(known.timer);
    this.users.delete(user);
    await rm(path.join(this.o.authorizedKeysDir, user), { force: true });
    try {
      await this.o.runner.run('userdel', ['--force', '--remove', user], { timeoutMs: 30_000 });
    } catch (e) {
      // userdel exits 6 when the user does not exist: already gone is what we want.
      if ((e as { exitCode?: unknown }).exitCode !== 6) throw e;
    }
    this.o.log('info', `temporary user ${user} removed: ${why}`);
    return `temporary user ${user} removed`;
  }

  /** The users present now (for status and tests). */
  get temporaryUsers(): string[] {
    return [...this.users.keys()];
  }
}
