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

export const AGENT_INSTALL_DIR = '/usr/local/edgefleet/agent';
/** Where a baked image keeps the agent (read-only image content; /usr/local is the persistent partition). */
export const BAKED_AGENT_DIR = '/opt/edgefleet/agent';
export const AGENT_SIGNING_KEY_PATH = '/oem/edgefleet/agent-signing.pub';
export const AGENT_CA_BUNDLE_PATH = '/oem/edgefleet/ca-bundle.pem';
export const INSTALL_SCRIPT_PATH = '/oem/edgefleet/install-agent.sh';
export const AGENT_UNIT = 'edgefleet-agent.service';

export interface AgentInstallInput {
  readonly apiUrl: string;
  readonly mode: AgentInstallMode;
  /** PEM public key of the control plane's manifest signing key (download mode). */
  readonly signingKeyPem?: string;
  readonly proxy?: string;
  /** Extra CAs to trust for the download (e.g. a TLS-inspecting proxy), added to the system's. */
  readonly caBundle?: string;
}

/** Single-quoted for sh: no expansion of anything inside. */
export const shQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The installer script (download mode). Every path can be overridden by the environment (tests). */
export function installScript(i: { apiUrl: string; proxy?: string; caBundle?: boolean }): string {
  return `#!/bin/sh
# EdgeFleet agent installer, written by the install configuration (POST /v1/user-data).
# Fetches the agent from the control plane, checks the manifest's signature and every file's
# SHA-256, then installs and starts it. Nothing downloaded runs before both checks passed.
set -eu
API=${shQuote(i.apiUrl)}
[ -z "\${EDGEFLEET_API_URL:-}" ] || API="$EDGEFLEET_API_URL"
KEY="\${EDGEFLEET_SIGNING_KEY:-${AGENT_SIGNING_KEY_PATH}}"
DIR="\${EDGEFLEET_INSTALL_DIR:-${AGENT_INSTALL_DIR}}"
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
verified ${AGENT_UNIT}
mkdir -p "$DIR" "$UNIT_DIR"
cp "$W/edgefleet-agent-linux-$ARCH" "$DIR/edgefleet-agent.new" && chmod 0755 "$DIR/edgefleet-agent.new" && mv -f "$DIR/edgefleet-agent.new" "$DIR/edgefleet-agent"
cp "$W/${AGENT_UNIT}" "$DIR/${AGENT_UNIT}" && chmod 0644 "$DIR/${AGENT_UNIT}"
cp "$DIR/${AGENT_UNIT}" "$UNIT_DIR/${AGENT_UNIT}"
echo "edgefleet install-agent: installed agent $VERSION ($ARCH) into $DIR, signature and checksums verified"
if [ "\${EDGEFLEET_NO_SYSTEMD:-}" != 1 ]; then
  systemctl daemon-reload
  systemctl enable edgefleet-agent
  systemctl start --no-block edgefleet-agent
fi
`;
}

/**
 * The agent's part of the user-data: files for the `boot` stage (written to /oem) and the steps
 * of the `network` stage (which runs once the network is up), or, baked, a check and the start.
 */
export function agentInstallStages(i: AgentInstallInput): { bootFiles: Record<string, unknown>[]; boot: Record<string, unknown>[]; network: Record<string, unknown>[] } {
  if (i.mode === 'baked') {
    return {
      bootFiles: [],
      boot: [{ name: 'EdgeFleet agent service', systemctl: { enable: ['edgefleet-agent'], start: ['edgefleet-agent'] } }],
      network: [{
        name: 'EdgeFleet agent (baked into the image)',
        commands: [`test -x ${BAKED_AGENT_DIR}/edgefleet-agent || { echo "edgefleet: this image has no agent at ${BAKED_AGENT_DIR}/edgefleet-agent although the user-data says agentInstall: baked; render it with agentInstall: download or use an image built with the agent" >&2; exit 1; }`],
      }],
    };
  }
  if (!i.signingKeyPem) throw new Error('agentInstallStages: download mode needs the signing key');
  const bootFiles: Record<string, unknown>[] = [
    { path: AGENT_SIGNING_KEY_PATH, permissions: 0o644, content: i.signingKeyPem.endsWith('\n') ? i.signingKeyPem : `${i.signingKeyPem}\n` },
    { path: INSTALL_SCRIPT_PATH, permissions: 0o700, content: installScript({ apiUrl: i.apiUrl, ...(i.proxy ? { proxy: i.proxy } : {}), caBundle: !!i.caBundle }) },
  ];
  if (i.caBundle) bootFiles.push({ path: AGENT_CA_BUNDLE_PATH, permissions: 0o644, content: i.caBundle.endsWith('\n') ? i.caBundle : `${i.caBundle}\n` });
  // /etc is not persistent on Kairos: the unit kept next to the executable is put back every boot.
  const installed = `[ -x ${AGENT_INSTALL_DIR}/edgefleet-agent ] && [ -f ${AGENT_INSTALL_DIR}/${AGENT_UNIT} ]`;
  return {
    bootFiles,
    boot: [
      { name: 'EdgeFleet agent service unit', if: installed, commands: [`cp ${AGENT_INSTALL_DIR}/${AGENT_UNIT} /etc/systemd/system/${AGENT_UNIT}`, 'systemctl daemon-reload'] },
      { name: 'EdgeFleet agent service', if: installed, systemctl: { enable: ['edgefleet-agent'], start: ['edgefleet-agent'] } },
    ],
    network: [{
      name: 'EdgeFleet agent install (download, verify, start)',
      if: `[ ! -x ${AGENT_INSTALL_DIR}/edgefleet-agent ]`,
      commands: [`sh ${INSTALL_SCRIPT_PATH}`],
    }],
  };
}
