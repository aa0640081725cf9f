import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { parse } from 'yaml';
import {
  AGENT_CA_BUNDLE_PATH, INSTALL_SCRIPT_PATH, agentInstallStages as stagesWith, installScript as scriptWith, shQuote,
} from '../../../lambdas/domain/agent-install.js';
import { renderUserData, type UserDataInput } from '../../../lambdas/domain/user-data.js';
import { AGENT_LAYOUT, GUARD_SCRIPT } from '../../../lambdas/contracts/agent-layout.js';
import { installedAgentGuard } from '../../../lambdas/use-cases/render-user-data.js';

const AGENT_INSTALL_DIR = AGENT_LAYOUT.installDir;
const BAKED_AGENT_DIR = AGENT_LAYOUT.bakedDir;
const AGENT_SIGNING_KEY_PATH = AGENT_LAYOUT.signingKey;
/** The domain's renderers with the agent's own layout, as the use case passes it. */
const agentInstallStages = (i: Omit<Parameters<typeof stagesWith>[0], 'layout'>) => stagesWith({ ...i, layout: AGENT_LAYOUT });
const installScript = (i: Omit<Parameters<typeof scriptWith>[0], 'layout'>) => scriptWith({ ...i, layout: AGENT_LAYOUT });
const KEY = '-----BEGIN PUBLIC KEY-----\nMFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE\n-----END PUBLIC KEY-----\n';
const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const BASE: UserDataInput = {
  apiUrl: 'https://api.example.com', registrationToken: 'eft_0123456789abcdef_c2VjcmV0', project: 'default', site: 'store-042', agentSigningKeyPem: KEY,
  agentGuard: installedAgentGuard(), agentLayout: AGENT_LAYOUT,
};
const guard = installedAgentGuard();

/**
 * Kairos' published schema (test/fixtures/kairos/ORIGIN.md) plus the `stages` rule of the
 * current Kairos sdk (sdk/schema/root_schema.go: stage name → steps whose `commands` is a list
 * of strings). `$schema` names Kairos' own URL, which is no meta-schema: it is left out.
 */
const published = JSON.parse(readFileSync(new URL('../../fixtures/kairos/cloud-config.v2.1.0-rc1.json', import.meta.url), 'utf8')) as Record<string, any>;
const { $schema: _origin, ...kairos } = published;
const schema = {
  ...kairos,
  properties: {
    ...kairos.properties,
    stages: { type: 'object', additionalProperties: { type: 'array', items: { type: 'object', properties: { commands: { type: 'array', items: { type: 'string' } } } } } },
  },
};
const validate = new Ajv({ strict: false, allErrors: true }).compile(schema);

/** The step fields yip reads (mudler/yip pkg/schema/schema.go `Stage`, plus `downloads`). */
const YIP_STEP_KEYS = new Set(['commands', 'files', 'directories', 'if', 'ensure_entities', 'delete_entities', 'dns', 'hostname', 'name', 'sysctl',
  'authorized_keys', 'node', 'users', 'modules', 'systemctl', 'environment', 'environment_file', 'datasource', 'layout', 'systemd_firstboot', 'timesyncd', 'downloads']);
/** Kairos' stages (docs "Stages"), each also with .before and .after. */
const KAIROS_STAGES = ['rootfs', 'initramfs', 'boot', 'fs', 'network', 'reconcile', 'after-install', 'after-upgrade', 'after-reset'];

const MODES: [string, Partial<UserDataInput>][] = [
  ['download (default)', {}],
  ['download through a proxy with an extra CA', { agentInstall: 'download', network: { proxy: 'http://proxy.example.com:3128' }, caBundle: CA }],
  ['baked', { agentInstall: 'baked', agentSigningKeyPem: undefined }],
];

describe('the user-data against the Kairos configuration schema', () => {
  test.each(MODES)('%s: valid, with only yip step keys and Kairos stages', (_label, input) => {
    const doc = parse(renderUserData({ ...BASE, ...input }));
    const ok = validate(doc);
    expect(validate.errors ?? []).toEqual([]);
    expect(ok).toBe(true);
    for (const [stage, steps] of Object.entries(doc.stages as Record<string, Record<string, unknown>[]>)) {
      expect(KAIROS_STAGES).toContain(stage.replace(/\.(before|after)$/, ''));
      for (const step of steps) expect(Object.keys(step).filter((k) => !YIP_STEP_KEYS.has(k))).toEqual([]);
    }
  });

  test('the schema can fail: a user-data without users, or with commands that are not strings, is refused', () => {
    expect(validate({ stages: {} })).toBe(false);
    expect(validate({ users: [{ name: 'kairos' }], stages: { boot: [{ commands: [{ evil: true }] }] } })).toBe(false);
    expect(validate({ users: [{ name: 'kairos' }], install: { reboot: true, poweroff: true } })).toBe(false);
  });
});

describe('agentInstallStages()', () => {
  test('download: the key, the installer (owner-only) and a network-stage step that runs it only when the agent is missing', () => {
    const s = agentInstallStages({ apiUrl: 'https://api.example.com', mode: 'download', signingKeyPem: KEY, guard });
    expect(s.bootFiles.map((f) => f.path)).toEqual([AGENT_SIGNING_KEY_PATH, INSTALL_SCRIPT_PATH]);
    expect(s.bootFiles[0]!.content).toBe(KEY);
    expect(s.bootFiles[1]!.permissions).toBe(0o700);
    expect(s.network).toEqual([expect.objectContaining({ if: `[ ! -x ${AGENT_INSTALL_DIR}/edgefleet-agent ]`, commands: [`sh ${INSTALL_SCRIPT_PATH}`] })]);
    // /etc is an overlay on Kairos: the unit and the guard's pieces go back every boot, before the service starts.
    expect(s.boot.map((b) => b.name)).toEqual([
      'EdgeFleet agent service unit', 'EdgeFleet agent update guard (restored every boot)', 'EdgeFleet agent service', 'EdgeFleet agent update guard timer',
    ]);
    expect(s.boot[1]).toMatchObject({ if: `[ -f ${AGENT_INSTALL_DIR}/guard.sh ] && [ -d ${AGENT_INSTALL_DIR}/systemd ]`, commands: [`cp -R ${AGENT_INSTALL_DIR}/systemd/. /etc/systemd/system/`, 'systemctl daemon-reload'] });
    expect(s.boot[3]).toMatchObject({ systemctl: { start: ['edgefleet-agent-guard.timer'] } });
  });

  test('the installer, the boot stages and the guard use the one layout (the persistent partition; the image content when baked)', () => {
    expect([AGENT_INSTALL_DIR, BAKED_AGENT_DIR]).toEqual(['/usr/local/edgefleet/agent', '/opt/edgefleet/agent']);
    const script = installScript({ apiUrl: 'https://api.example.com', guard });
    expect(script).toContain(`DIR="\${EDGEFLEET_INSTALL_DIR:-${AGENT_INSTALL_DIR}}"`);
    expect(script).toContain(`cat > "$DIR/${GUARD_SCRIPT}.tmp"`);
    expect(guard.script).toContain(`DIR="\${EDGEFLEET_AGENT_DIR:-${AGENT_INSTALL_DIR}}"`);
    expect(guard.units['edgefleet-agent.service.d/10-update-guard.conf']).toContain(`ExecStartPre=/bin/sh ${AGENT_INSTALL_DIR}/${GUARD_SCRIPT}`);
    expect(guard.units['edgefleet-agent.service.d/20-edgefleet-agent-dir.conf']).toContain(`ExecStart=\nExecStart=${AGENT_INSTALL_DIR}/edgefleet-agent`);
  });

  test('download without the guard is a programming error (a host could not undo its first update)', () => {
    expect(() => agentInstallStages({ apiUrl: 'https://a', mode: 'download', signingKeyPem: KEY })).toThrow(/update guard/);
  });

  test('download with an extra CA writes it and the installer adds it to the system CAs', () => {
    const s = agentInstallStages({ apiUrl: 'https://a', mode: 'download', signingKeyPem: KEY, caBundle: CA, guard });
    expect(s.bootFiles.find((f) => f.path === AGENT_CA_BUNDLE_PATH)?.content).toBe(CA);
    expect(String(s.bootFiles[1]!.content)).toContain(`EXTRA_CA="\${EDGEFLEET_CA_BUNDLE:-${AGENT_CA_BUNDLE_PATH}}"`);
  });

  test('baked: no download, a check that names the fix, and the service started', () => {
    const s = agentInstallStages({ apiUrl: 'https://a', mode: 'baked' });
    expect(s.bootFiles).toEqual([]);
    expect(JSON.stringify(s)).not.toContain('/v1/agent/');
    expect(String((s.network[0]!.commands as string[])[0])).toContain(`test -x ${BAKED_AGENT_DIR}/edgefleet-agent`);
    expect(s.boot.map((b) => b.name)).toEqual(['EdgeFleet agent update guard (restored every boot)', 'EdgeFleet agent service', 'EdgeFleet agent update guard timer']);
    // Once updated, the baked agent's unit starts the writable layout: its pieces come back before the start.
    expect(s.boot[0]!.if).toBe(`[ -f ${AGENT_INSTALL_DIR}/guard.sh ] && [ -d ${AGENT_INSTALL_DIR}/systemd ]`);
    expect(s.boot[1]!.systemctl).toEqual({ enable: ['edgefleet-agent'], start: ['edgefleet-agent'] });
  });

  test('download without a signing key is a programming error, not a config that cannot verify', () => {
    expect(() => agentInstallStages({ apiUrl: 'https://a', mode: 'download' })).toThrow(/signing key/);
  });
});

/** The script's settings as sh sees them: its lines up to `fail()`, then the values printed. */
function settings(script: string, env: Record<string, string> = {}): { API: string; PROXY: string } {
  const head = script.slice(0, script.indexOf('fail()'));
  const out = execFileSync('sh', ['-c', `${head}\nprintf '%s\\0%s' "$API" "$PROXY"`], { env: { PATH: process.env.PATH, ...env } }).toString();
  const [API, PROXY] = out.split('\0') as [string, string];
  return { API, PROXY };
}

describe('installScript()', () => {
  test('is valid sh and verifies the signature before any artifact, and each checksum before installing', () => {
    const script = installScript({ apiUrl: 'https://api.example.com', guard });
    execFileSync('sh', ['-n', '-c', script]);
    const at = (s: string) => script.indexOf(s);
    expect(at('openssl dgst -sha256 -verify')).toBeGreaterThan(at('fetch manifest.sig'));
    expect(at('fetch "artifacts/$1"')).toBeGreaterThan(at('openssl dgst -sha256 -verify'));
    expect(at('cp "$W/edgefleet-agent-linux-$ARCH"')).toBeGreaterThan(at('sha256sum -c'));
    // The guard is written whole (a quoted heredoc: nothing of it expanded by the installer).
    expect(script).toContain(guard.script);
    for (const unit of Object.values(guard.units)) expect(script).toContain(unit);
    expect(script).not.toMatch(/\bnode\b(?!-)/);
  });

  test.each([
    ['a quote and a command', "http://p'; touch /tmp/pwned; echo '"],
    ['command substitution', 'http://p/$(reboot)`reboot`'],
    ['a newline', 'http://p\nreboot'],
  ])('a hostile proxy or URL stays one literal string (%s)', (_label, value) => {
    expect(execFileSync('sh', ['-c', `printf %s ${shQuote(value)}`]).toString()).toBe(value);
    const script = installScript({ apiUrl: value, proxy: value, guard });
    execFileSync('sh', ['-n', '-c', script]);
    expect(settings(script)).toEqual({ API: value, PROXY: value });
  });

  test('the API URL is the rendered one unless EDGEFLEET_API_URL overrides it (tests, a moved control plane)', () => {
    const script = installScript({ apiUrl: 'https://api.example.com', guard });
    expect(settings(script).API).toBe('https://api.example.com');
    expect(settings(script, { EDGEFLEET_API_URL: 'http://127.0.0.1:1' }).API).toBe('http://127.0.0.1:1');
  });
});
