/**
 * How the install configuration gets the agent onto a host (pure; rendered into the user-data).
 *
 * `download` (default): a POSIX sh script written to /oem runs in the Kairos `network` stage when
 * the agent is missing (first boot, and again after a statereset wiped /usr/local); on later boots
 * the `boot` stage puts the unit kept next to the executable back into /etc (not persistent). With curl,
 * openssl and sha256sum (no Node.js) it fetches the manifest and its signature from the control
 * plane, checks the signature with the public key from this user-data, then fetches the
 * executable for the host's architecture and the systemd unit, checks each SHA-256 against the
 * signed manifest, and only then installs them and starts the service. Any failed check stops
 * it with the reason; nothing downloaded is run or installed.
 *
 * `baked`: the image carries the agent (EdgeForge-style build): the configuration only checks
 * that it is there and starts it.
 */
export type AgentInstallMode = 'download' | 'baked';

/**
 * The agent's on-disk layout, as the agent itself uses it (lambdas/contracts/agent-layout.ts
 * `AGENT_LAYOUT`, handed in by the caller: the domain imports nothing outside itself).
 */
export interface AgentLayout {
  /** The writable install (the persistent partition on Kairos: /usr/local). */
  readonly installDir: string;
  /** Where a baked image keeps the agent (read-only image content). */
  readonly bakedDir: string;
  /** The executable's name in a version directory and, as a link, in installDir. */
  readonly executable: string;
  readonly unit: string;
  readonly guardScript: string;
  readonly guardTimer: string;
  readonly pendingFile: string;
  readonly fellBackFile: string;
  /** Under installDir: the systemd pieces the boot stage copies into /etc/systemd/system. */
  readonly systemdDir: string;
  /** Where the install configuration writes the control plane's manifest signing key. */
  readonly signingKey: string;
}

export const AGENT_CA_BUNDLE_PATH = '/oem/edgefleet/ca-bundle.pem';
export const INSTALL_SCRIPT_PATH = '/oem/edgefleet/install-agent.sh';

/**
 * The agent-update guard as the agent writes it (lambdas/contracts/agent-layout.ts, rendered
 * for the layout's installDir by the caller): the script and its systemd pieces by path below
 * /etc/systemd/system. The installer writes them too, so a host rebooted during its first
 * update still has its guard.
 */
export interface AgentGuardFiles {
  readonly script: string;
  readonly units: Readonly<Record<string, string>>;
}

export interface AgentInstallInput {
  readonly apiUrl: string;
  readonly mode: AgentInstallMode;
  readonly layout: AgentLayout;
  /** The update guard the installer writes (download mode). */
  readonly guard?: AgentGuardFiles;
  /** PEM public key of the control plane's manifest signing key (download mode). */
  readonly signingKeyPem?: string;
  readonly proxy?: string;
  /** Extra CAs to trust for the download (e.g. a TLS-inspecting proxy), added to the system's. */
  readonly caBundle?: string;
}

/** Single-quoted for sh: no expansion of anything inside. */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

const HEREDOC_END = 'EDGEFLEET_FILE_END';

/** sh lines that write `content` to the path held in `target` (a quoted heredoc: nothing is expanded), atomically. */
function writeFileLines(target: string, content: string, mode: string): string {
  if (content.split('\n').includes(HEREDOC_END)) throw new Error(`installScript: a file's content has the line ${HEREDOC_END}`);
  const body = content.endsWith('\n') ? content : `${content}\n`;
  return `mkdir -p "$(dirname "${target}")"\ncat > "${target}.tmp" <<'${HEREDOC_END}'\n${body}${HEREDOC_END}\nchmod ${mode} "${target}.tmp" && mv -f "${target}.tmp" "${target}"\n`;
}

/** The installer script (download mode). Every path can be overridden by the environment (tests). */
export function installScript(i: { apiUrl: string; proxy?: string; caBundle?: boolean; guard: AgentGuardFiles; layout: AgentLayout }): string {
  const l = i.layout;
  const guardFiles = writeFileLines(`$DIR/${l.guardScript}`, i.guard.script, '0755')
    + Object.entries(i.guard.units).map(([name, content]) => writeFileLines(`$DIR/${l.systemdDir}/${name}`, content, '0644')).join('');
  return `#!/bin/sh
# EdgeFleet agent installer, written by the install configuration (POST /v1/user-data).
# Fetches the agent from the control plane, checks the manifest's signature and every file's
# SHA-256, then installs and starts it. Nothing downloaded runs before both checks passed.
set -eu
API=${shQuote(i.apiUrl)}
[ -z "\${EDGEFLEET_API_URL:-}" ] || API="$EDGEFLEET_API_URL"
KEY="\${EDGEFLEET_SIGNING_KEY:-${l.signingKey}}"
DIR="\${EDGEFLEET_INSTALL_DIR:-${l.installDir}}"
UNIT_DIR="\${EDGEFLEET_UNIT_DIR:-/etc/systemd/system}"
EXTRA_CA="\${EDGEFLEET_CA_BUNDLE:-${i.caBundle ? AGENT_CA_BUNDLE_PATH : ''}}"
PROXY=${shQuote(i.proxy ?? '')}
fail() { echo "edgefleet install-agent: $*" >&2; exit 1; }
for t in curl openssl sha256sum; do
  command -v "$t" >/dev/null 2>&1 || fail "$t is not in this image, so the agent cannot be downloaded and verified: use an image that has curl, openssl and sha256sum, or bake the agent into the image and render the user-data with agentInstall: baked"
done
case "$(uname -m)" in
  x86_64|amd64) ARCH=x64 ;;
  aarch64|arm64) ARCH=arm64 ;;
  *) fail "no agent is built for this machine's architecture $(uname -m) (there are x86_64 and aarch64)" ;;
esac
[ -s "$KEY" ] || fail "the control plane's signing key $KEY is missing: it comes with the install configuration; render the user-data again"
W=$(mktemp -d)
trap 'rm -rf "$W"' EXIT
if [ -n "$PROXY" ]; then export https_proxy="$PROXY" http_proxy="$PROXY"; fi
CA=
if [ -n "$EXTRA_CA" ]; then
  CA="$W/ca.pem"
  for s in /etc/ssl/certs/ca-certificates.crt /etc/pki/tls/certs/ca-bundle.crt /etc/ssl/ca-bundle.pem /etc/ssl/cert.pem; do
    if [ -f "$s" ]; then cat "$s" > "$CA"; break; fi
  done
  cat "$EXTRA_CA" >> "$CA"
fi
fetch() {
  if [ -n "$CA" ]; then set -- "$1" "$2" --cacert "$CA"; fi
  curl -fsSL --retry 5 --connect-timeout 20 --max-time 1800 -o "$2" "$API/v1/agent/$1" \${3:+"$3"} \${4:+"$4"} \\
    || fail "could not download $API/v1/agent/$1: check the network, the proxy (\${PROXY:-none}) and that the control plane serves the agent; the next boot tries again"
}
fetch manifest "$W/manifest.json"
fetch manifest.sig "$W/manifest.sig"
openssl dgst -sha256 -verify "$KEY" -signature "$W/manifest.sig" "$W/manifest.json" >/dev/null 2>&1 \\
  || fail "the agent manifest from $API is not signed by this control plane's key ($KEY): refusing to install anything. Something between the host and the control plane changed it, or the user-data comes from another control plane"
VERSION=$(sed -n 's/.*"version":"\\([^"]*\\)".*/\\1/p' "$W/manifest.json" | head -n 1)
verified() {
  line=$(grep -F "\\"file\\":\\"$1\\"" "$W/manifest.json" | head -n 1)
  sha=$(printf '%s\\n' "$line" | sed -n 's/.*"sha256":"\\([0-9a-f]\\{64\\}\\)".*/\\1/p')
  [ -n "$sha" ] || fail "the signed agent manifest $VERSION lists no $1: build the agent for $ARCH (npm run device:build) and publish it"
  fetch "artifacts/$1" "$W/$1"
  echo "$sha  $W/$1" | sha256sum -c - >/dev/null 2>&1 \\
    || fail "$1 from $API does not match the SHA-256 in the signed manifest (expected $sha, got $(sha256sum "$W/$1" | cut -d' ' -f1)): refusing to install it. Something between the host and the control plane changed it"
}
verified "edgefleet-agent-linux-$ARCH"
verified ${l.unit}
case "$VERSION" in
  ''|*[!A-Za-z0-9._+-]*) fail "the signed agent manifest names no usable version ('$VERSION'): run npm run device:build again and publish it" ;;
esac
# The layout agent updates use: versions/<v>/ (with the signed manifest), current, and the
# unit's executable as a link to current/edgefleet-agent (an older flat install is replaced).
mkdir -p "$DIR/versions" "$UNIT_DIR"
S="$DIR/versions/.$VERSION.tmp"
rm -rf "$S" && mkdir -p "$S"
cp "$W/edgefleet-agent-linux-$ARCH" "$S/${l.executable}" && chmod 0755 "$S/${l.executable}"
cp "$W/manifest.json" "$S/manifest.json" && cp "$W/manifest.sig" "$S/manifest.json.sig"
rm -rf "$DIR/versions/$VERSION" && mv "$S" "$DIR/versions/$VERSION"
ln -sfn "versions/$VERSION" "$DIR/current"
ln -sfn "current/${l.executable}" "$DIR/${l.executable}"
# A fresh install commits nothing: no update of an earlier install is pending any more.
rm -f "$DIR/${l.pendingFile}" "$DIR/${l.fellBackFile}"
cp "$W/${l.unit}" "$DIR/${l.unit}" && chmod 0644 "$DIR/${l.unit}"
cp "$DIR/${l.unit}" "$UNIT_DIR/${l.unit}"
# The update guard and its systemd pieces: kept under $DIR (persistent) and copied next to the unit.
${guardFiles}cp -R "$DIR/${l.systemdDir}/." "$UNIT_DIR/"
echo "edgefleet install-agent: installed agent $VERSION ($ARCH) into $DIR/versions/$VERSION, signature and checksums verified"
if [ "\${EDGEFLEET_NO_SYSTEMD:-}" != 1 ]; then
  systemctl daemon-reload
  systemctl enable edgefleet-agent
  systemctl start ${l.guardTimer}
  systemctl start --no-block edgefleet-agent
fi
`;
}

/**
 * The agent's part of the user-data: files for the `boot` stage (written to /oem) and the steps
 * of the `network` stage (which runs once the network is up), or, baked, a check and the start.
 */
export function agentInstallStages(i: AgentInstallInput): { bootFiles: Record<string, unknown>[]; boot: Record<string, unknown>[]; network: Record<string, unknown>[] } {
  // /usr/local is Kairos' persistent partition; /etc is an overlay (only some of it is kept):
  // the guard's systemd pieces, kept in the agent dir, go back next to the unit every boot,
  // before the service starts, so a host rebooted during an uncommitted update keeps its guard.
  const l = i.layout;
  const dir = l.installDir;
  const systemdCopy = `${dir}/${l.systemdDir}`;
  const restoreGuard = { name: 'EdgeFleet agent update guard (restored every boot)', if: `[ -f ${dir}/${l.guardScript} ] && [ -d ${systemdCopy} ]`,
    commands: [`cp -R ${systemdCopy}/. /etc/systemd/system/`, 'systemctl daemon-reload'] };
  const guardTimer = { name: 'EdgeFleet agent update guard timer', if: `[ -f /etc/systemd/system/${l.guardTimer} ]`, systemctl: { start: [l.guardTimer] } };
  if (i.mode === 'baked') {
    return {
      bootFiles: [],
      // Updated once, the baked agent's unit starts <install dir>/edgefleet-agent (the restored drop-in).
      boot: [restoreGuard, { name: 'EdgeFleet agent service', systemctl: { enable: ['edgefleet-agent'], start: ['edgefleet-agent'] } }, guardTimer],
      network: [{
        name: 'EdgeFleet agent (baked into the image)',
        commands: [`test -x ${l.bakedDir}/${l.executable} || { echo "edgefleet: this image has no agent at ${l.bakedDir}/${l.executable} although the user-data says agentInstall: baked; render it with agentInstall: download or use an image built with the agent" >&2; exit 1; }`],
      }],
    };
  }
  if (!i.signingKeyPem) throw new Error('agentInstallStages: download mode needs the signing key');
  if (!i.guard) throw new Error('agentInstallStages: download mode needs the update guard (agentGuardScript and guardUnits of lambdas/contracts/agent-layout.ts)');
  const bootFiles: Record<string, unknown>[] = [
    { path: l.signingKey, permissions: 0o644, content: i.signingKeyPem.endsWith('\n') ? i.signingKeyPem : `${i.signingKeyPem}\n` },
    { path: INSTALL_SCRIPT_PATH, permissions: 0o700, content: installScript({ apiUrl: i.apiUrl, ...(i.proxy ? { proxy: i.proxy } : {}), caBundle: !!i.caBundle, guard: i.guard, layout: l }) },
  ];
  if (i.caBundle) bootFiles.push({ path: AGENT_CA_BUNDLE_PATH, permissions: 0o644, content: i.caBundle.endsWith('\n') ? i.caBundle : `${i.caBundle}\n` });
  // /etc is not persistent on Kairos: the unit kept next to the executable is put back every boot.
  const installed = `[ -x ${dir}/${l.executable} ] && [ -f ${dir}/${l.unit} ]`;
  return {
    bootFiles,
    boot: [
      { name: 'EdgeFleet agent service unit', if: installed, commands: [`cp ${dir}/${l.unit} /etc/systemd/system/${l.unit}`, 'systemctl daemon-reload'] },
      restoreGuard,
      { name: 'EdgeFleet agent service', if: installed, systemctl: { enable: ['edgefleet-agent'], start: ['edgefleet-agent'] } },
      guardTimer,
    ],
    network: [{
      name: 'EdgeFleet agent install (download, verify, start)',
      if: `[ ! -x ${dir}/${l.executable} ]`,
      commands: [`sh ${INSTALL_SCRIPT_PATH}`],
    }],
  };
}
