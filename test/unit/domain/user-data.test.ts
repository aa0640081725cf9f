import { parse, stringify } from 'yaml';
import { installedAgentGuard } from '../../../lambdas/use-cases/render-user-data.js';
import { AGENT_LAYOUT } from '../../../lambdas/contracts/agent-layout.js';
import { INSTALL_SCRIPT_PATH } from '../../../lambdas/domain/agent-install.js';
import { AGENT_CONFIG_PATH, renderUserData, SSHD_DROP_IN, TUNNEL_KEYS_DIR, type UserDataInput } from '../../../lambdas/domain/user-data.js';

interface FileEntry { path: string; permissions: number; content: string }
interface Stage { name: string; files?: FileEntry[]; systemctl?: { enable: string[]; start: string[] }; environment?: Record<string, string> }
interface CloudConfig {
  hostname: string;
  install: { auto: boolean; device: string; reboot: boolean };
  users: { name: string; groups: string[]; ssh_authorized_keys?: string[] }[];
  stages: { initramfs?: Stage[]; boot: Stage[]; network: Stage[] };
}

const BASE: UserDataInput = {
  apiUrl: 'https://api.example.com/v1',
  registrationToken: 'eft_0123456789abcdef_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0',
  project: 'default',
  site: 'store-042',
  tags: { region: 'eu-west', tier: 'pos' },
  agentSigningKeyPem: '-----BEGIN PUBLIC KEY-----\nMFkw\n-----END PUBLIC KEY-----\n', agentGuard: installedAgentGuard(), agentLayout: AGENT_LAYOUT,
};

const render = (i: Partial<UserDataInput> = {}) => renderUserData({ ...BASE, ...i });
const doc = (text: string) => parse(text) as CloudConfig;
const files = (d: CloudConfig) => [...(d.stages.initramfs ?? []), ...d.stages.boot].flatMap((s) => s.files ?? []);
const agentConfig = (d: CloudConfig) => JSON.parse(files(d).find((f) => f.path === AGENT_CONFIG_PATH)!.content) as Record<string, unknown>;

/** Every mapping key anywhere in a parsed document. */
function keysOf(value: unknown): string[] {
  if (Array.isArray(value)) return value.flatMap(keysOf);
  if (value && typeof value === 'object') return Object.entries(value).flatMap(([k, v]) => [k, ...keysOf(v)]);
  return [];
}

const NETWORK_PATH = '/etc/systemd/network/10-edgefleet.network';
const STATIC = { interface: 'eth0', address: '192.0.2.10/24', gateway: '192.0.2.1', dns: ['192.0.2.53', '198.51.100.53'] };

const VARIANTS: [string, Partial<UserDataInput>][] = [
  ['minimal', { tags: undefined }],
  ['with tags', {}],
  ['static network', { network: STATIC }],
  ['dhcp on a named interface', { network: { interface: 'enp1s0' } }],
  ['proxy', { network: { proxy: 'http://proxy.example.com:3128' } }],
  ['ssh keys', { sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ops@example', 'ecdsa-sha2-nistp256 AAAAE2 x'] }],
  ['explicit hostname and install device', { hostname: 'kiosk-1', installDevice: '/dev/nvme0n1' }],
  ['ca bundle', { caBundle: '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n' }],
];

describe('renderUserData()', () => {
  describe.each(VARIANTS)('%s', (_label, input) => {
    const text = render(input);

    it('starts with #cloud-config on its own line', () => {
      expect(text.startsWith('#cloud-config\n')).toBe(true);
    });

    it('parses as YAML and round-trips', () => {
      const parsed = parse(text) as unknown;
      expect(parsed).toEqual(expect.objectContaining({ install: expect.any(Object), stages: expect.any(Object) }));
      expect(parse(stringify(parsed))).toEqual(parsed);
    });

    it('writes the agent config (owner-only) and starts the agent', () => {
      const d = doc(text);
      const file = files(d).find((f) => f.path === AGENT_CONFIG_PATH);
      expect(file).toBeDefined();
      expect(file!.permissions).toBe(0o600);
      expect(agentConfig(d)).toMatchObject({
        apiUrl: BASE.apiUrl, registrationToken: BASE.registrationToken, project: 'default', site: 'store-042',
        tags: input.tags === undefined && 'tags' in input ? {} : BASE.tags,
      });
      expect(d.stages.boot.some((s) => s.systemctl?.enable.includes('edgefleet-agent') && s.systemctl.start.includes('edgefleet-agent'))).toBe(true);
    });

    it('is deterministic', () => {
      expect(render(input)).toBe(text);
    });
  });

  it('installs automatically and reboots', () => {
    expect(doc(render()).install).toEqual({ auto: true, device: 'auto', reboot: true });
    expect(doc(render({ installDevice: '/dev/sda' })).install.device).toBe('/dev/sda');
  });

  it('renders a static network file only when given', () => {
    const without = doc(render());
    expect(without.stages.initramfs).toBeUndefined();
    expect(files(without).map((f) => f.path)).toEqual([SSHD_DROP_IN, AGENT_CONFIG_PATH, AGENT_LAYOUT.signingKey, INSTALL_SCRIPT_PATH]);

    const file = files(doc(render({ network: STATIC }))).find((f) => f.path === NETWORK_PATH)!;
    expect(file.content.split('\n')).toEqual([
      '[Match]', 'Name=eth0', '', '[Network]', 'Address=192.0.2.10/24', 'Gateway=192.0.2.1', 'DNS=192.0.2.53', 'DNS=198.51.100.53', '',
    ]);
  });

  it.each([
    ['interface only → DHCP on it', { interface: 'enp1s0' }, ['Name=enp1s0', 'DHCP=yes']],
    ['dns only → DHCP on every ethernet', { dns: ['192.0.2.53'] }, ['Name=e*', 'DHCP=yes', 'DNS=192.0.2.53']],
    ['an address turns DHCP off', { address: '192.0.2.10/24', dhcp: true }, ['Address=192.0.2.10/24']],
  ] as [string, NonNullable<UserDataInput['network']>, string[]][])('network: %s', (_label, network, lines) => {
    const content = files(doc(render({ network }))).find((f) => f.path === NETWORK_PATH)!.content;
    for (const line of lines) expect(content.split('\n')).toContain(line);
    if (network.address) expect(content).not.toContain('DHCP=yes');
  });

  it('a proxy goes to the environment and the agent config, without a network file', () => {
    const proxy = 'http://proxy.example.com:3128';
    const d = doc(render({ network: { proxy } }));
    expect(files(d).some((f) => f.path === NETWORK_PATH)).toBe(false);
    expect(d.stages.initramfs!.find((s) => s.environment)!.environment).toMatchObject({ HTTPS_PROXY: proxy, HTTP_PROXY: proxy });
    expect(agentConfig(d).proxy).toBe(proxy);
    expect(agentConfig(doc(render())).proxy).toBeUndefined();
  });

  it('ssh keys are present only when given', () => {
    const keys = ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIB ops@example'];
    expect(doc(render({ sshAuthorizedKeys: keys })).users[0]!.ssh_authorized_keys).toEqual(keys);
    expect(doc(render()).users[0]).not.toHaveProperty('ssh_authorized_keys');
    expect(doc(render({ sshAuthorizedKeys: [] })).users[0]).not.toHaveProperty('ssh_authorized_keys');
    expect(render()).not.toContain('ssh_authorized_keys');
  });

  it.each([
    ['an explicit hostname is used as is', { hostname: 'kiosk-1' }, 'kiosk-1'],
    ['default: site + machine id', {}, 'store-042-{{ trunc 6 .MachineID }}'],
    ['site is lowercased and made DNS-safe', { site: 'Store_042.Main' }, 'store-042-main-{{ trunc 6 .MachineID }}'],
    ['a 63-character site is cut so the hostname stays one DNS label', { site: 'S'.repeat(63) }, `${'s'.repeat(56)}-{{ trunc 6 .MachineID }}`],
    ['no "-" left dangling at the cut', { site: `${'a'.repeat(55)}_b` }, `${'a'.repeat(55)}-{{ trunc 6 .MachineID }}`],
  ])('hostname: %s', (_label, input, expected) => {
    const hostname = doc(render(input)).hostname;
    expect(hostname).toBe(expected);
    // Kairos replaces the template with 6 characters; the result must be a valid DNS label.
    const rendered = hostname.replace('{{ trunc 6 .MachineID }}', 'a1b2c3');
    expect(rendered).toMatch(/^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/);
  });

  describe.each([
    ['site', { site: 'shop\n  evil: true' }],
    ['site with a document marker', { site: 'shop\n---\nevil: true' }],
    ['site with a flow mapping', { site: '{evil: true}' }],
    ['tag value', { tags: { env: 'prod\nevil: true', x: '"\n  evil: true\n"' } }],
    ['tag key', { tags: { 'a\nevil: true': 'b', 'evil: true #': 'c' } }],
    ['ssh key', { sshAuthorizedKeys: ['ssh-ed25519 AAAA\n    evil: true'] }],
    ['registration token', { registrationToken: 'x"\n  evil: true' }],
    ['api url', { apiUrl: 'https://x\nevil: true' }],
    ['proxy', { network: { proxy: 'http://p\n  evil: true' } }],
    ['explicit hostname', { hostname: 'h\nevil: true' }],
  ] as const)('a hostile %s', (_label, hostile) => {
    const text = render(hostile as Partial<UserDataInput>);
    const d = doc(text);

    it('cannot inject YAML keys', () => {
      expect(keysOf(d)).not.toContain('evil');
      expect(Object.keys(d).sort()).toEqual(['hostname', 'install', 'stages', 'users']);
      expect(parse(stringify(d))).toEqual(d);
    });

    it('still parses as one YAML document', () => {
      expect(() => parse(text)).not.toThrow();
    });

    it('reaches the agent config unchanged (no loss, no injection)', () => {
      const cfg = agentConfig(d);
      expect(Object.keys(cfg)).not.toContain('evil');
      const h = hostile as Partial<UserDataInput>;
      if (h.site) expect(cfg.site).toBe(h.site);
      if (h.tags) expect(cfg.tags).toEqual(h.tags);
      if (h.registrationToken) expect(cfg.registrationToken).toBe(h.registrationToken);
      if (h.apiUrl) expect(cfg.apiUrl).toBe(h.apiUrl);
    });
  });
});

describe('renderUserData(): the remote-access switch', () => {
  it('by default lets sshd read the temporary keys of remote-shell tunnels, and the agent keeps remote access on', () => {
    const d = doc(render());
    expect(files(d).find((f) => f.path === SSHD_DROP_IN)!.content).toBe(`AuthorizedKeysFile .ssh/authorized_keys ${TUNNEL_KEYS_DIR}/%u\n`);
    expect(JSON.parse(files(d).find((f) => f.path === AGENT_CONFIG_PATH)!.content).remoteAccess).toBeUndefined();
  });

  it('remoteAccess: false tells the agent and leaves sshd alone', () => {
    const d = doc(render({ remoteAccess: false }));
    expect(files(d).map((f) => f.path)).not.toContain(SSHD_DROP_IN);
    expect(JSON.parse(files(d).find((f) => f.path === AGENT_CONFIG_PATH)!.content).remoteAccess).toBe(false);
  });
});
