import { execFile } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, realpathSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AGENT_EXECUTABLE, GUARD_SCRIPT } from '../device/agent-installation.js';

/**
 * The simulated host's agent service (what systemd does on a real host), over the same on-disk
 * layout as a real host (device/agent-installation.ts) under `<stateDir>/agent`, and for a host
 * whose image carries the agent, the baked agent under `<stateDir>/baked-agent` (/opt/edgefleet/agent):
 * - the agent that starts is the one `current` points at, and the version it reports is the
 *   version in that directory's signed manifest: what was written to the disk, not what a
 *   command asked for;
 * - a restart stops the agent, runs the real guard script (`sh guard.sh`, as ExecStartPre does)
 *   and starts what `current` then points at;
 * - a version in `failVersions` does not come online (its executable exits at start): like
 *   systemd with RestartSec=10s, the start is tried again, the guard running before each try,
 *   until the guard falls back to the previous version. The host's service clock advances
 *   RESTART_SECONDS per failed start (a simulated host does not wait for real seconds, as its
 *   reboots do not), and the guard reads it through EDGEFLEET_NOW.
 */
export const RESTART_SECONDS = 10;

/**
 * The installed agent a simulated host boots with, as the install script leaves it:
 * versions/<version>/ with a manifest naming it, `current` pointing at it, and the unit's
 * executable `edgefleet-agent -> current/edgefleet-agent`.
 */
export function seedAgentInstallation(dir: string, version: string): void {
  if (existsSync(join(dir, 'current'))) return;
  const v = join(dir, 'versions', version);
  mkdirSync(v, { recursive: true });
  writeSimulatedAgent(v, version);
  for (const [name, target] of [['current', `versions/${version}`], [AGENT_EXECUTABLE, `current/${AGENT_EXECUTABLE}`]] as const) {
    symlinkSync(target, join(dir, `.${name}.tmp`));
    renameSync(join(dir, `.${name}.tmp`), join(dir, name));
  }
}

/**
 * An agent baked into the simulated host's image (edgefleet images build-context puts it in
 * /opt/edgefleet/agent): the executable and its manifest, read-only files; the writable agent
 * dir stays empty until the first update.
 */
export function seedBakedAgent(bakedDir: string, version: string): void {
  if (existsSync(join(bakedDir, AGENT_EXECUTABLE))) return;
  mkdirSync(bakedDir, { recursive: true });
  writeSimulatedAgent(bakedDir, version);
  // Read-only files (the directory stays removable, so a test can clean up without root).
  chmodSync(join(bakedDir, AGENT_EXECUTABLE), 0o555);
  chmodSync(join(bakedDir, 'manifest.json'), 0o444);
}

function writeSimulatedAgent(dir: string, version: string): void {
  writeFileSync(join(dir, AGENT_EXECUTABLE), `#!/bin/sh\n# simulated edgefleet agent ${version}\n`, { mode: 0o755 });
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify({ version, node: process.version, builtAt: new Date(0).toISOString(), artifacts: [] })}\n`);
}

/**
 * The version of the agent the unit starts, from the manifest next to its executable on the
 * disk: `<dir>/edgefleet-agent` (a link through current/) once the writable layout exists
 * (older layouts: `current`), else the baked one in `bakedDir`.
 */
export function installedAgentVersion(dir: string, bakedDir?: string): string {
  let home: string;
  if (existsSync(join(dir, AGENT_EXECUTABLE))) home = dirname(realpathSync(join(dir, AGENT_EXECUTABLE)));
  else if (existsSync(join(dir, 'current'))) home = realpathSync(join(dir, 'current'));
  else if (bakedDir && existsSync(join(bakedDir, AGENT_EXECUTABLE))) home = bakedDir;
  else throw new Error(`the simulated host has no agent: neither ${join(dir, AGENT_EXECUTABLE)} nor ${join(dir, 'current')}${bakedDir ? ` nor ${join(bakedDir, AGENT_EXECUTABLE)}` : ''} exists`);
  const file = join(home, 'manifest.json');
  const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
  const version = parsed && typeof parsed === 'object' && 'version' in parsed ? parsed.version : undefined;
  if (typeof version !== 'string') throw new Error(`the simulated host's ${file} names no version`);
  return version;
}

/** Runs the guard the agent wrote, as systemd's ExecStartPre would (no systemctl: the caller restarts). */
export function runGuard(dir: string, nowSeconds: number): Promise<void> {
  const script = join(dir, GUARD_SCRIPT);
  if (!existsSync(script)) return Promise.resolve();
  return new Promise((resolve, reject) => {
    execFile('sh', [script], { env: { ...process.env, EDGEFLEET_AGENT_DIR: dir, EDGEFLEET_NOW: String(nowSeconds), EDGEFLEET_NO_SYSTEMD: '1' } }, (e, _out, stderr) => {
      if (e) reject(new Error(`the agent guard failed: ${String(stderr).trim() || e.message}`));
      else resolve();
    });
  });
}

export interface ServiceHost {
  stop(): Promise<void>;
  start(): void;
  readonly stopped: () => boolean;
}

/**
 * Restarts the simulated agent service: stop, guard, start — the failed starts of a version in
 * `failVersions` included. Resolves once an agent runs again (or the fleet stopped).
 */
export async function restartAgentService(dir: string, host: ServiceHost, failVersions: ReadonlySet<string>, pauseMs = 20, bakedDir?: string): Promise<void> {
  await host.stop();
  let skew = 0;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if (host.stopped()) return;
    await runGuard(dir, Math.floor(Date.now() / 1000) + skew);
    if (!failVersions.has(installedAgentVersion(dir, bakedDir))) {
      host.start();
      return;
    }
    skew += RESTART_SECONDS;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
