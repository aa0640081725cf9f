/**
 * The agent's installation on the host, as agent-update sees it (the same layout on a real host
 * and under a simulated host's state dir):
 *
 *   <dir>/versions/<v>/edgefleet-agent     an executable, kept per version
 *   <dir>/versions/<v>/manifest.json(.sig) the signed manifest it was verified against
 *   <dir>/current  -> versions/<v>         what the service starts
 *   <dir>/previous -> versions/<v>         what the guard falls back to
 *   <dir>/edgefleet-agent -> current/edgefleet-agent   (the unit's ExecStart; a fresh install
 *                                          replaces the link with a plain file again)
 *   <dir>/pending-update.env               an update not committed yet (KEY=value lines, for sh)
 *   <dir>/fell-back.env                    the guard put the previous version back, and why
 *   <dir>/guard.sh                         the guard (agentGuardScript), written before each restart
 *
 * The guard is a POSIX sh script run by systemd before every start of the agent (ExecStartPre
 * drop-in) and every 30 s by a timer: once the pending update's commit deadline has passed, it
 * points `current` back at `previous`, records why in fell-back.env and (from the timer)
 * restarts the service. It needs nothing of the new executable, so it works when that one does
 * not start at all (crash loop: each start runs the guard first) or starts but never comes
 * online (the timer). The new agent commits by removing pending-update.env once it is online.
 */
import { access, chmod, constants, copyFile, lstat, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CommandRunner } from './command-runner.js';
import { AGENT_EXECUTABLE, FELL_BACK_FILE, GUARD_SCRIPT, PENDING_FILE, SYSTEMD_COPY_DIR, agentGuardScript, guardUnits } from '../lambdas/contracts/agent-layout.js';

export { AGENT_EXECUTABLE, FELL_BACK_FILE, GUARD_SCRIPT, PENDING_FILE, agentGuardScript, guardUnits };

export interface PendingUpdate {
  readonly commandId: string;
  readonly version: string;
  readonly previous: string;
  /** Epoch seconds: after this the guard falls back. */
  readonly commitBy: number;
}

export interface FellBack extends PendingUpdate {
  readonly reason: string;
}

const SAFE = /^[A-Za-z0-9._+-]{1,64}$/;

/** KEY=value lines (values are checked: no newline, nothing sh would expand when read with `read`). */
export function renderEnv(fields: Readonly<Record<string, string | number>>): string {
  return Object.entries(fields).map(([k, v]) => `${k}=${String(v).replace(/[\r\n]/g, ' ')}`).join('\n') + '\n';
}

export function parseEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const i = line.indexOf('=');
    if (i > 0) out[line.slice(0, i)] = line.slice(i + 1);
  }
  return out;
}

function pendingOf(e: Record<string, string>): PendingUpdate | undefined {
  const commitBy = Number(e.COMMIT_BY);
  if (!e.COMMAND_ID || !SAFE.test(e.COMMAND_ID) || !e.VERSION || !SAFE.test(e.VERSION) || !e.PREVIOUS || !SAFE.test(e.PREVIOUS) || !Number.isInteger(commitBy)) return undefined;
  return { commandId: e.COMMAND_ID, version: e.VERSION, previous: e.PREVIOUS, commitBy };
}

/** Reads and changes the installation under `dir`. */
export class AgentInstallation {
  /** `bakedDir`: where an agent baked into the image lives (BAKED_AGENT_ROOT on a host), if it may run from there. */
  constructor(readonly dir: string, readonly bakedDir?: string) {}

  private path(...p: string[]): string {
    return join(this.dir, ...p);
  }

  /** The version `current` points at, if the layout exists. */
  async currentVersion(): Promise<string | undefined> {
    const target = await readlink(this.path('current')).catch(() => undefined);
    const v = target?.replace(/^versions\//, '').replace(/\/$/, '');
    return v && SAFE.test(v) ? v : undefined;
  }

  async readPending(): Promise<PendingUpdate | undefined> {
    const text = await readFile(this.path(PENDING_FILE), 'utf8').catch(() => undefined);
    return text ? pendingOf(parseEnv(text)) : undefined;
  }

  async readFellBack(): Promise<FellBack | undefined> {
    const text = await readFile(this.path(FELL_BACK_FILE), 'utf8').catch(() => undefined);
    if (!text) return undefined;
    const e = parseEnv(text);
    const p = pendingOf(e);
    return p ? { ...p, reason: e.REASON || 'the guard fell back' } : undefined;
  }

  async clearPending(): Promise<void> {
    await rm(this.path(PENDING_FILE), { force: true });
  }

  async clearFellBack(): Promise<void> {
    await rm(this.path(FELL_BACK_FILE), { force: true });
  }

  async hasVersion(version: string): Promise<boolean> {
    return lstat(this.path('versions', version, AGENT_EXECUTABLE)).then(() => true, () => false);
  }

  /**
   * Keeps the running agent as `versions/<running>` before anything changes: installed by the
   * install script it is there already; an older install script left a plain executable at
   * <dir>/edgefleet-agent (copied); an agent baked into the image runs from `bakedDir`, read-only
   * image content, which `versions/<running>` then links to (falling back goes back to it).
   */
  async keepRunning(running: string): Promise<void> {
    if (await this.hasVersion(running)) return;
    const plain = this.path(AGENT_EXECUTABLE);
    const st = await lstat(plain).catch(() => undefined);
    if (!st?.isFile()) {
      if (this.bakedDir && await access(join(this.bakedDir, AGENT_EXECUTABLE), constants.X_OK).then(() => true, () => false)) {
        await mkdir(this.path('versions'), { recursive: true });
        const tmp = this.path('versions', `.${running}.link.tmp`);
        await rm(tmp, { force: true });
        await symlink(this.bakedDir, tmp);
        await rename(tmp, this.path('versions', running));
        return;
      }
      throw new Error(`cannot keep the running agent ${running}: neither ${this.path('versions', running, AGENT_EXECUTABLE)} nor a plain ${plain}${this.bakedDir ? ` nor a baked ${join(this.bakedDir, AGENT_EXECUTABLE)}` : ''} exists, so there would be nothing to fall back to; reinstall the agent (render the user-data again)`);
    }
    await mkdir(this.path('versions', running), { recursive: true });
    await copyFile(plain, this.path('versions', running, `${AGENT_EXECUTABLE}.tmp`));
    await chmod(this.path('versions', running, `${AGENT_EXECUTABLE}.tmp`), 0o755);
    await rename(this.path('versions', running, `${AGENT_EXECUTABLE}.tmp`), this.path('versions', running, AGENT_EXECUTABLE));
  }

  /** Installs a verified executable and its signed manifest as versions/<version>. */
  async install(version: string, executable: string, manifest: Uint8Array, signature: Uint8Array): Promise<void> {
    const dir = this.path('versions', version);
    const staging = this.path('versions', `.${version}.tmp`);
    await rm(staging, { recursive: true, force: true });
    await mkdir(staging, { recursive: true });
    await copyFile(executable, join(staging, AGENT_EXECUTABLE));
    await chmod(join(staging, AGENT_EXECUTABLE), 0o755);
    await writeFile(join(staging, 'manifest.json'), manifest);
    await writeFile(join(staging, 'manifest.json.sig'), signature);
    await rm(dir, { recursive: true, force: true });
    await rename(staging, dir);
  }

  /** Writes the guard script (before the switch, so it is there whatever the new version does). */
  async writeGuard(scriptDir = this.dir): Promise<void> {
    await writeFile(this.path(`${GUARD_SCRIPT}.tmp`), agentGuardScript(scriptDir), { mode: 0o755 });
    await rename(this.path(`${GUARD_SCRIPT}.tmp`), this.path(GUARD_SCRIPT));
  }

  private async link(name: string, target: string): Promise<void> {
    const tmp = this.path(`.${name}.tmp`);
    await rm(tmp, { force: true });
    await symlink(target, tmp);
    await rename(tmp, this.path(name));
  }

  /** Records the pending update, then points previous at the running version and current at the new one. */
  async switchTo(p: PendingUpdate): Promise<void> {
    await writeFile(this.path(`${PENDING_FILE}.tmp`), renderEnv({ COMMAND_ID: p.commandId, VERSION: p.version, PREVIOUS: p.previous, COMMIT_BY: p.commitBy }));
    await rename(this.path(`${PENDING_FILE}.tmp`), this.path(PENDING_FILE));
    await this.clearFellBack();
    await this.link('previous', `versions/${p.previous}`);
    await this.link('current', `versions/${p.version}`);
    const exe = await lstat(this.path(AGENT_EXECUTABLE)).catch(() => undefined);
    if (!exe?.isSymbolicLink()) await this.link(AGENT_EXECUTABLE, `current/${AGENT_EXECUTABLE}`);
  }
}

/**
 * The real host's restart into `current`: the guard's systemd pieces and the ExecStart drop-in
 * (which also moves a baked agent's unit to <dir>/edgefleet-agent) go next to the unit and into
 * <dir>/systemd/ (what the boot stage restores), then the service is restarted without waiting (systemd stops this process). Through the allow-listed runner.
 */
export async function systemdRestart(runner: CommandRunner, dir: string, unitDir = '/etc/systemd/system'): Promise<void> {
  await writeSystemdPieces(dir, unitDir);
  await runner.run('systemctl', ['daemon-reload']);
  await runner.run('systemctl', ['start', 'edgefleet-agent-guard.timer']);
  await runner.run('systemctl', ['restart', '--no-block', 'edgefleet-agent']);
}

/**
 * The guard's systemd pieces and the unit's ExecStart drop-in, into `unitDir` and into
 * `<dir>/systemd/` (the persistent copy the boot stage puts back into /etc/systemd/system).
 */
export async function writeSystemdPieces(dir: string, unitDir: string): Promise<void> {
  for (const [name, content] of Object.entries(guardUnits(dir))) {
    for (const base of [join(dir, SYSTEMD_COPY_DIR), unitDir]) {
      await mkdir(dirname(join(base, name)), { recursive: true });
      await writeFile(join(base, `${name}.tmp`), content, { mode: 0o644 });
      await rename(join(base, `${name}.tmp`), join(base, name));
    }
  }
}
