import { stringify } from 'yaml';
import { agentInstallStages, type AgentGuardFiles, type AgentInstallMode, type AgentLayout } from './agent-install.js';

export interface UserDataInput {
  readonly apiUrl: string;
  readonly registrationToken: string;
  readonly project: string;
  readonly site: string;
  readonly tags?: Readonly<Record<string, string>>;
  readonly hostname?: string;
  readonly sshAuthorizedKeys?: readonly string[];
  readonly network?: {
    readonly interface?: string;
    readonly dhcp?: boolean;
    readonly address?: string;
    readonly gateway?: string;
    readonly dns?: readonly string[];
    readonly proxy?: string;
  };
  readonly installDevice?: string;
  readonly caBundle?: string;
  /** false: the agent refuses remote-shell tunnels entirely (and says so in its status). @default true */
  readonly remoteAccess?: boolean;
  /** download: fetch, verify and install the agent from the control plane; baked: the image has it. @default 'download' */
  readonly agentInstall?: AgentInstallMode;
  /** The control plane's manifest signing key (PEM), needed for `download`. */
  readonly agentSigningKeyPem?: string;
  /** The agent-update guard the installer writes (download mode): lambdas/contracts/agent-layout.ts rendered for the layout's installDir. */
  readonly agentGuard?: AgentGuardFiles;
  /** The agent's on-disk layout (lambdas/contracts/agent-layout.ts AGENT_LAYOUT). */
  readonly agentLayout: AgentLayout;
}

/**
 * Where the agent puts a tunnel's temporary key (`<dir>/<user>`), and the sshd drop-in that
 * makes sshd read it next to the users' own authorized_keys.
 */
export const TUNNEL_KEYS_DIR = '/run/edgefleet/authorized-keys';
export const SSHD_DROP_IN = '/etc/ssh/sshd_config.d/50-edgefleet-tunnels.conf';

/** Where the agent reads its settings on the installed host (persistent OEM partition). */
export const AGENT_CONFIG_PATH = '/oem/edgefleet/agent.json';

function networkFile(n: NonNullable<UserDataInput['network']>): string {
  const lines = ['[Match]', `Name=${n.interface ?? 'e*'}`, '', '[Network]'];
  if (n.dhcp !== false && !n.address) lines.push('DHCP=yes');
  if (n.address) lines.push(`Address=${n.address}`);
  if (n.gateway) lines.push(`Gateway=${n.gateway}`);
  for (const d of n.dns ?? []) lines.push(`DNS=${d}`);
  return `${lines.join('\n')}\n`;
}

/** Characters Kairos appends to the site-derived hostname: "-" and six of the machine id. */
const MACHINE_SUFFIX = '-{{ trunc 6 .MachineID }}';
const MACHINE_SUFFIX_LENGTH = 7;

/**
 * `<site>-<6 chars of machine id>`, kept a valid DNS label (at most 63 characters, no leading
 * or trailing "-") because it becomes the Kubernetes node name.
 */
function defaultHostname(site: string): string {
  const prefix = site
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+/, '')
    .slice(0, 63 - MACHINE_SUFFIX_LENGTH)
    .replace(/-+$/, '');
  return `${prefix || 'edge'}${MACHINE_SUFFIX}`;
}

/**
 * Renders the Kairos `#cloud-config` for a site: install block, the agent's settings written
 * into /oem, network settings, users and SSH keys, and the agent: downloaded, verified and
 * installed from the control plane (or, baked into the image, checked) and started.
 * Pure: the same input always renders the same document.
 */
export function renderUserData(i: UserDataInput): string {
  const agent = {
    apiUrl: i.apiUrl, registrationToken: i.registrationToken, project: i.project, site: i.site,
    tags: i.tags ?? {}, ...(i.caBundle ? { caBundle: i.caBundle } : {}), ...(i.network?.proxy ? { proxy: i.network.proxy } : {}),
    ...(i.remoteAccess === false ? { remoteAccess: false } : {}),
  };
  const install = agentInstallStages({
    apiUrl: i.apiUrl, mode: i.agentInstall ?? 'download', layout: i.agentLayout,
    ...(i.agentSigningKeyPem ? { signingKeyPem: i.agentSigningKeyPem } : {}), ...(i.agentGuard ? { guard: i.agentGuard } : {}),
    ...(i.network?.proxy ? { proxy: i.network.proxy } : {}), ...(i.caBundle ? { caBundle: i.caBundle } : {}),
  });
  const boot: Record<string, unknown>[] = [
    {
      name: 'EdgeFleet agent configuration',
      files: [{ path: AGENT_CONFIG_PATH, permissions: 0o600, content: `${JSON.stringify(agent, null, 2)}\n` }, ...install.bootFiles],
    },
    ...install.boot,
  ];
  if (i.remoteAccess !== false) {
    boot.unshift({
      name: 'EdgeFleet remote shell keys',
      files: [{ path: SSHD_DROP_IN, permissions: 0o644, content: `AuthorizedKeysFile .ssh/authorized_keys ${TUNNEL_KEYS_DIR}/%u\n` }],
    });
  }
  const initramfs: Record<string, unknown>[] = [];
  if (i.network && (i.network.address || i.network.interface || i.network.dns)) {
    initramfs.push({ name: 'EdgeFleet site network', files: [{ path: '/etc/systemd/network/10-edgefleet.network', permissions: 0o644, content: networkFile(i.network) }] });
  }
  if (i.network?.proxy) {
    initramfs.push({ name: 'EdgeFleet proxy', environment_file: '/etc/environment', environment: { HTTPS_PROXY: i.network.proxy, HTTP_PROXY: i.network.proxy, NO_PROXY: 'localhost,127.0.0.1,10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,.svc,.cluster.local' } });
  }
  const doc: Record<string, unknown> = {
    hostname: i.hostname ?? defaultHostname(i.site),
    install: { auto: true, device: i.installDevice ?? 'auto', reboot: true },
    users: [{ name: 'kairos', groups: ['admin'], ...(i.sshAuthorizedKeys?.length ? { ssh_authorized_keys: [...i.sshAuthorizedKeys] } : {}) }],
    stages: { ...(initramfs.length ? { initramfs } : {}), boot, network: install.network },
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
