import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readlinkSync, renameSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AGENT_EXECUTABLE, GUARD_SCRIPT } from '../device/agent-installation.js';

/**
 * The simulated host's agent service (what systemd does on a real host), over the same on-disk
 * layout as a real host (device/agent-installation.ts) under `<stateDir>/agent`:
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

/** The installed agent a simulated host boots with: versions/<version>/ with a manifest naming it, `current` pointing at it. */
export function seedAgentInstallation(dir: string, version: string): void {
  if (existsSync(join(dir, 'current'))) return;
  const v = join(dir, 'versions', version);
  mkdirSync(v, { recursive: true });
  writeFileSync(join(v, AGENT_EXECUTABLE), `#!/bin/sh\n# simulated edgefleet agent ${version}\n`, { mode: 0o755 });
  writeFileSync(join(v, 'manifest.json'), `${JSON.stringify({ version, node: process.version, builtAt: new Date(0).toISOString(), artifacts: [] })}\n`);
  symlinkSync(`versions/${version}`, join(dir, '.current.tmp'));
  renameSync(join(dir, '.current.tmp'), join(dir, 'current'));
}

/** The version of the agent `current` points at, from its manifest on the disk. */
export function installedAgentVersion(dir: string): string {
  const target = readlinkSync(join(dir, 'current'));
  const parsed: unknown = JSON.parse(readFileSync(join(dir, target, 'manifest.json'), 'utf8'));
  const version = parsed && typeof parsed === 'object' && 'version' in parsed ? parsed.version : undefined;
  if (typeof version !== 'string') throw new Error(`the simulated host's ${join(dir, target, 'manifest.json')} names no version`);
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
export async function restartAgentService(dir: string, host: ServiceHost, failVersions: ReadonlySet<string>, pauseMs = 20): Promise<void> {
  await host.stop();
  let skew = 0;
  for (let attempt = 0; attempt < 10_000; attempt++) {
    if (host.stopped()) return;
    await runGuard(dir, Math.floor(Date.now() / 1000) + skew);
    if (!failVersions.has(installedAgentVersion(dir))) {
      host.start();
      return;
    }
    skew += RESTART_SECONDS;
    await new Promise((r) => setTimeout(r, pauseMs));
  }
}
