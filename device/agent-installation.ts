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
import { chmod, copyFile, lstat, mkdir, readFile, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { CommandRunner } from './command-runner.js';

export const AGENT_EXECUTABLE = 'edgefleet-agent';
export const GUARD_SCRIPT = 'guard.sh';
export const PENDING_FILE = 'pending-update.env';
export const FELL_BACK_FILE = 'fell-back.env';

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

/** The guard (see the file's comment). Paths and the clock can be overridden by the environment (tests, the simulator). */
export function agentGuardScript(dir: string): string {
  return `#!/bin/sh
# EdgeFleet agent update guard, written by the agent before it restarts into a new version.
# Run before every start of edgefleet-agent (ExecStartPre) and by edgefleet-agent-guard.timer.
# Once a pending update's commit deadline has passed, puts the previous version back.
set -eu
DIR="\${EDGEFLEET_AGENT_DIR:-${dir}}"
NOW="\${EDGEFLEET_NOW:-$(date +%s)}"
P="$DIR/${PENDING_FILE}"
[ -f "$P" ] || exit 0
COMMAND_ID=; VERSION=; PREVIOUS=; COMMIT_BY=
while IFS='=' read -r k v; do
  case "$k" in COMMAND_ID) COMMAND_ID=$v ;; VERSION) VERSION=$v ;; PREVIOUS) PREVIOUS=$v ;; COMMIT_BY) COMMIT_BY=$v ;; esac
done < "$P"
case "$COMMIT_BY" in ''|*[!0-9]*) COMMIT_BY=0 ;; esac
[ "$NOW" -gt "$COMMIT_BY" ] || exit 0
if [ -z "$PREVIOUS" ] || [ ! -x "$DIR/versions/$PREVIOUS/${AGENT_EXECUTABLE}" ]; then
  echo "edgefleet agent guard: agent $VERSION did not commit in time, but the previous version ($PREVIOUS) is not installed: leaving $VERSION in place" >&2
  exit 0
fi
ln -sfn "versions/$PREVIOUS" "$DIR/current"
printf 'COMMAND_ID=%s\\nVERSION=%s\\nPREVIOUS=%s\\nCOMMIT_BY=%s\\nREASON=%s\\n' "$COMMAND_ID" "$VERSION" "$PREVIOUS" "$COMMIT_BY" \\
  "agent $VERSION did not come online and commit by its deadline (epoch $COMMIT_BY, $((NOW - COMMIT_BY)) s ago): it did not start, or did not reach the control plane (journalctl -u edgefleet-agent)" > "$DIR/${FELL_BACK_FILE}.tmp"
mv -f "$DIR/${FELL_BACK_FILE}.tmp" "$DIR/${FELL_BACK_FILE}"
rm -f "$P"
echo "edgefleet agent guard: agent $VERSION did not commit by its deadline; fell back to $PREVIOUS" >&2
if [ "\${1:-}" = --restart ] && [ "\${EDGEFLEET_NO_SYSTEMD:-}" != 1 ]; then systemctl restart --no-block edgefleet-agent; fi
`;
}

/** The systemd pieces that run the guard (written next to the unit; /etc is rewritten every update). */
export function guardUnits(dir: string): Record<string, string> {
  return {
    'edgefleet-agent.service.d/10-update-guard.conf': `[Service]\nExecStartPre=/bin/sh ${dir}/${GUARD_SCRIPT}\n`,
    'edgefleet-agent-guard.service': `[Unit]\nDescription=EdgeFleet agent update guard\n\n[Service]\nType=oneshot\nExecStart=/bin/sh ${dir}/${GUARD_SCRIPT} --restart\n`,
    'edgefleet-agent-guard.timer': `[Unit]\nDescription=EdgeFleet agent update guard (every 30 s)\n\n[Timer]\nOnActiveSec=30s\nOnUnitActiveSec=30s\nAccuracySec=5s\n\n[Install]\nWantedBy=timers.target\n`,
  };
}

/** Reads and changes the installation under `dir`. */
export class AgentInstallation {
  constructor(readonly dir: string) {}

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
   * Keeps the running agent as `versions/<running>` before anything changes: a host installed
   * by the install script has a plain executable at <dir>/edgefleet-agent.
   */
  async keepRunning(running: string): Promise<void> {
    if (await this.hasVersion(running)) return;
    const plain = this.path(AGENT_EXECUTABLE);
    const st = await lstat(plain).catch(() => undefined);
    if (!st?.isFile()) throw new Error(`cannot keep the running agent ${running}: neither ${this.path('versions', running, AGENT_EXECUTABLE)} nor a plain ${plain} exists, so there would be nothing to fall back to; reinstall the agent (render the user-data again)`);
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
 * The real host's restart into `current`: the guard's systemd pieces go next to the unit (/etc
 * is not persistent on Kairos, so they are written before every update), then the service is
 * restarted without waiting (systemd stops this process). Through the allow-listed runner.
 */
export async function systemdRestart(runner: CommandRunner, dir: string, unitDir = '/etc/systemd/system'): Promise<void> {
  for (const [name, content] of Object.entries(guardUnits(dir))) {
    await mkdir(dirname(join(unitDir, name)), { recursive: true });
    await writeFile(join(unitDir, name), content, { mode: 0o644 });
  }
  await runner.run('systemctl', ['daemon-reload']);
  await runner.run('systemctl', ['start', 'edgefleet-agent-guard.timer']);
  await runner.run('systemctl', ['restart', '--no-block', 'edgefleet-agent']);
}
