import { ConfigError, loadConfig, sanitizeUid } from '../../../device/config.js';

const files = (m: Record<string, string>) => async (p: string) => m[p];
const base = { apiUrl: 'https://api.example.com/', registrationToken: 'tok', project: 'acme', site: 'store-12', tags: { region: 'eu' } };

describe('agent config', () => {
  test('reads the JSON file, applies defaults, trims the API URL', async () => {
    const c = await loadConfig({ env: {}, readText: files({ '/oem/edgefleet/agent.json': JSON.stringify(base), '/sys/class/dmi/id/product_uuid': '4C4C4544-0051-3510-8052-B4C04F4E3332\n' }) });
    expect(c).toEqual({ ...base, apiUrl: 'https://api.example.com', stateDir: '/oem/edgefleet/state', uid: '4c4c4544-0051-3510-8052-b4c04f4e3332', fullReportSeconds: 21_600 });
  });

  test('environment overrides the file, including the config path', async () => {
    const c = await loadConfig({
      env: { EDGEFLEET_AGENT_CONFIG: '/tmp/a.json', EDGEFLEET_API_URL: 'http://127.0.0.1:8080', EDGEFLEET_REGISTRATION_TOKEN: 'other', EDGEFLEET_STATE_DIR: '/tmp/s', EDGEFLEET_UID: 'Sim Host 1' },
      readText: files({ '/tmp/a.json': JSON.stringify(base) }),
    });
    expect(c).toMatchObject({ apiUrl: 'http://127.0.0.1:8080', registrationToken: 'other', stateDir: '/tmp/s', uid: 'sim-host-1' });
  });

  test('placeholder DMI uuids fall back to /etc/machine-id', async () => {
    const c = await loadConfig({ env: {}, readText: files({ '/oem/edgefleet/agent.json': JSON.stringify(base), '/sys/class/dmi/id/product_uuid': '03000200-0400-0500-0006-000700080009', '/etc/machine-id': 'abc123\n' }) });
    expect(c.uid).toBe('abc123');
  });

  test('lists every problem clearly', async () => {
    const err = await loadConfig({ env: {}, readText: files({ '/oem/edgefleet/agent.json': JSON.stringify({ apiUrl: 'ftp://x', project: 'ACME' }) }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    const m = (err as Error).message;
    expect(m).toContain('apiUrl');
    expect(m).toContain('registrationToken');
    expect(m).toContain('project');
    expect(m).toContain('site');
    expect(m).toContain('no hardware id found');
  });

  test('a file that is not JSON is named', async () => {
    await expect(loadConfig({ env: {}, readText: files({ '/oem/edgefleet/agent.json': '{nope' }) })).rejects.toThrow(/agent\.json is not valid JSON/);
  });

  test('unknown keys are refused', async () => {
    await expect(loadConfig({ env: { EDGEFLEET_UID: 'u' }, readText: files({ '/oem/edgefleet/agent.json': JSON.stringify({ ...base, shell: 'rm' }) }) })).rejects.toThrow(ConfigError);
  });

  test('sanitizeUid', () => {
    expect(sanitizeUid('  AB CD\u0000é ')).toBe('ab-cd');
    expect(sanitizeUid('00000000-0000-0000-0000-000000000000')).toBeUndefined();
    expect(sanitizeUid('')).toBeUndefined();
    expect(sanitizeUid('x'.repeat(200))).toHaveLength(128);
  });
});
