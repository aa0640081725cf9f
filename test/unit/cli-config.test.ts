import { mkdtempSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFilePath, dataDirPath, readSavedConfig, requireConnection, resolveConfig, saveConfig } from '../../cli/config.js';
import { CliError, EXIT } from '../../cli/errors.js';

describe('CLI configuration resolution', () => {
  let dir: string;
  let cfgPath: string;
  let cwd: string;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ef-cli-config-'));
    cfgPath = join(dir, 'home', 'config.json');
    cwd = join(dir, 'work');
    mkdirSync(join(cwd, '.edgefleet'), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const writeLocal = (url = 'http://127.0.0.1:9999', adminToken = 'local-token') =>
    writeFileSync(join(cwd, '.edgefleet', 'local.json'), JSON.stringify({ url, adminToken, pid: 1 }));
  const writeSaved = (cfg: object) => {
    mkdirSync(join(dir, 'home'), { recursive: true });
    writeFileSync(cfgPath, JSON.stringify(cfg));
  };

  it('prefers flags over env over the config file over local.json, per setting', () => {
    writeLocal();
    writeSaved({ url: 'http://saved:1', token: 'saved-token' });
    const env = { EDGEFLEET_CONFIG: cfgPath, EDGEFLEET_URL: 'http://env:2', EDGEFLEET_TOKEN: 'env-token' };

    const all = resolveConfig({ flags: { url: 'http://flag:3/', token: 'flag-token' }, env, cwd });
    expect([all.url, all.urlSource, all.token, all.tokenSource]).toEqual(['http://flag:3', '--url', 'flag-token', '--token']);

    const fromEnv = resolveConfig({ flags: {}, env, cwd });
    expect([fromEnv.url, fromEnv.token, fromEnv.tokenSource]).toEqual(['http://env:2', 'env-token', 'EDGEFLEET_TOKEN']);

    const fromSaved = resolveConfig({ flags: {}, env: { EDGEFLEET_CONFIG: cfgPath }, cwd });
    expect([fromSaved.url, fromSaved.token, fromSaved.urlSource]).toEqual(['http://saved:1', 'saved-token', cfgPath]);

    const fromLocal = resolveConfig({ flags: {}, env: { EDGEFLEET_CONFIG: join(dir, 'missing.json') }, cwd });
    expect([fromLocal.url, fromLocal.token]).toEqual(['http://127.0.0.1:9999', 'local-token']);
    expect(fromLocal.tokenSource).toBe(join(cwd, '.edgefleet', 'local.json'));
  });

  it('mixes sources when one setting is missing (flag URL, token from env)', () => {
    const r = resolveConfig({ flags: { url: 'http://flag:3' }, env: { EDGEFLEET_TOKEN: 't', EDGEFLEET_CONFIG: cfgPath }, cwd });
    expect([r.urlSource, r.tokenSource]).toEqual(['--url', 'EDGEFLEET_TOKEN']);
  });

  it('reads local.json from EDGEFLEET_DATA_DIR (relative to cwd) when set', () => {
    mkdirSync(join(cwd, 'data'));
    writeFileSync(join(cwd, 'data', 'local.json'), JSON.stringify({ url: 'http://data:4', adminToken: 'data-token' }));
    writeLocal();
    const r = resolveConfig({ flags: {}, env: { EDGEFLEET_DATA_DIR: 'data', EDGEFLEET_CONFIG: cfgPath }, cwd });
    expect([r.url, r.token]).toEqual(['http://data:4', 'data-token']);
    expect(dataDirPath({}, cwd, '/abs')).toBe('/abs');
  });

  it('resolves the project: flag, env, the project saved with the saved URL, default', () => {
    writeSaved({ url: 'http://saved:1', token: 't', project: 'shops' });
    const env = { EDGEFLEET_CONFIG: cfgPath };
    expect(resolveConfig({ flags: { project: 'p1' }, env: { ...env, EDGEFLEET_PROJECT: 'p2' }, cwd }).project).toBe('p1');
    expect(resolveConfig({ flags: {}, env: { ...env, EDGEFLEET_PROJECT: 'p2' }, cwd }).project).toBe('p2');
    expect(resolveConfig({ flags: {}, env, cwd }).project).toBe('shops');
    // A saved project is not applied to another control plane given by env.
    const other = resolveConfig({ flags: {}, env: { ...env, EDGEFLEET_URL: 'http://other', EDGEFLEET_TOKEN: 'x' }, cwd });
    expect([other.project, other.projectSource]).toEqual(['default', 'default']);
  });

  it('defaults the config path to ~/.config/edgefleet/config.json', () => {
    expect(configFilePath({ HOME: '/home/op' })).toBe('/home/op/.config/edgefleet/config.json');
    expect(configFilePath({ HOME: '/home/op', EDGEFLEET_CONFIG: '/etc/ef.json' })).toBe('/etc/ef.json');
  });

  it('saves the config with mode 0600 and reads it back', () => {
    saveConfig(cfgPath, { url: 'http://x', token: 'secret', project: 'p' });
    expect(statSync(cfgPath).mode & 0o777).toBe(0o600);
    expect(readSavedConfig(cfgPath)).toEqual({ url: 'http://x', token: 'secret', project: 'p' });
  });

  it('names the broken config file instead of ignoring it', () => {
    writeSaved({});
    writeFileSync(cfgPath, '{not json');
    expect(() => resolveConfig({ flags: {}, env: { EDGEFLEET_CONFIG: cfgPath }, cwd })).toThrow(/config file .*config\.json is not valid JSON/);
  });

  it('fails with exit 5 and lists where it looked when nothing is configured', () => {
    const r = resolveConfig({ flags: {}, env: { EDGEFLEET_CONFIG: cfgPath }, cwd });
    let err: unknown;
    try {
      requireConnection(r);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(CliError);
    expect((err as CliError).exitCode).toBe(EXIT.auth);
    expect((err as CliError).hints.join('\n')).toContain(cfgPath);
  });
});
