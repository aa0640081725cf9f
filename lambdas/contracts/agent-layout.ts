/**
 * The agent's installation on a host: the on-disk layout that the installer (the user-data's
 * install script), the boot stage and the running agent (device/agent-installation.ts) share.
 * Pure strings, no I/O: the update guard script and the systemd pieces that run it.
 *
 *   <dir>/versions/<v>/edgefleet-agent, manifest.json(.sig)   each installed version
 *   <dir>/current -> versions/<v>, <dir>/previous -> versions/<v>
 *   <dir>/edgefleet-agent -> current/edgefleet-agent            what the unit starts
 *   <dir>/guard.sh, <dir>/systemd/...                           the guard and its systemd pieces,
 *       kept on the persistent partition and copied into /etc/systemd/system by the boot stage
 * A baked agent (edgefleet images build-context) stays in BAKED_AGENT_ROOT (image content): an
 * update links versions/<baked version> to it, so falling back goes back to it.
 */
export const AGENT_EXECUTABLE = 'edgefleet-agent';
export const GUARD_SCRIPT = 'guard.sh';
export const PENDING_FILE = 'pending-update.env';
export const FELL_BACK_FILE = 'fell-back.env';
/** Under the agent dir: the systemd pieces the boot stage copies into /etc/systemd/system. */
export const SYSTEMD_COPY_DIR = 'systemd';
export const AGENT_UNIT_NAME = 'edgefleet-agent.service';
export const GUARD_TIMER = 'edgefleet-agent-guard.timer';
/** The writable install (the persistent partition on Kairos). */
export const AGENT_INSTALL_ROOT = '/usr/local/edgefleet/agent';
/** Where a baked image carries the agent (read-only image content). */
export const BAKED_AGENT_ROOT = '/opt/edgefleet/agent';
/** The control plane's manifest signing key (PEM), written by the install configuration (/oem is kept across upgrades). */
export const AGENT_SIGNING_KEY_FILE = '/oem/edgefleet/agent-signing.pub';

/**
 * The layout as one value, for code that is handed it rather than importing it: the domain
 * renders the installer, the boot stages and the image build context from it (the use case or
 * the CLI passes it), so every path and name above has one definition.
 */
export const AGENT_LAYOUT = {
  installDir: AGENT_INSTALL_ROOT, bakedDir: BAKED_AGENT_ROOT, executable: AGENT_EXECUTABLE, unit: AGENT_UNIT_NAME,
  guardScript: GUARD_SCRIPT, guardTimer: GUARD_TIMER, pendingFile: PENDING_FILE, fellBackFile: FELL_BACK_FILE, systemdDir: SYSTEMD_COPY_DIR,
  signingKey: AGENT_SIGNING_KEY_FILE,
} as const;

/** The guard (device/agent-installation.ts describes what it does). Paths and the clock can be overridden by the environment (tests, the simulator). */
export function agentGuardScript(dir: string): string {
  return `#!/bin/sh
# EdgeFleet agent update guard, written by the agent installer and by the agent before it restarts into a new version.
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

/**
 * The systemd pieces of an installation under `dir`, by path below /etc/systemd/system: the
 * guard before every start (drop-in) and every 30 s (timer), and the unit started from
 * `<dir>/edgefleet-agent` (a drop-in that also moves a baked agent's unit to the writable layout).
 */
export function guardUnits(dir: string): Record<string, string> {
  return {
    'edgefleet-agent.service.d/20-edgefleet-agent-dir.conf': `[Service]\nExecStart=\nExecStart=${dir}/${AGENT_EXECUTABLE}\nEnvironment=EDGEFLEET_NATIVE_DIR=${dir}/.native\n`,
    'edgefleet-agent.service.d/10-update-guard.conf': `[Service]\nExecStartPre=/bin/sh ${dir}/${GUARD_SCRIPT}\n`,
    'edgefleet-agent-guard.service': `[Unit]\nDescription=EdgeFleet agent update guard\n\n[Service]\nType=oneshot\nExecStart=/bin/sh ${dir}/${GUARD_SCRIPT} --restart\n`,
    'edgefleet-agent-guard.timer': `[Unit]\nDescription=EdgeFleet agent update guard (every 30 s)\n\n[Timer]\nOnActiveSec=30s\nOnUnitActiveSec=30s\nAccuracySec=5s\n\n[Install]\nWantedBy=timers.target\n`,
  };
}

