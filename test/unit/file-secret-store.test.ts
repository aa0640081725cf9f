import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { FileSecretStore } from '../../local/file-secret-store.js';
import { ValidationError } from '../../lambdas/domain/errors.js';

let root: string;
let dir: string;
let store: FileSecretStore;

beforeEach(() => {
  root = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-secrets-'));
  dir = path.join(root, 'nested', 'secrets');
  store = new FileSecretStore(dir);
});
afterEach(() => { rmSync(root, { recursive: true, force: true }); });

describe('FileSecretStore', () => {
  it('put creates or replaces a secret (0600), and a later put wins', async () => {
    await store.put('clusters/c1/vars/PASSWORD', 'first');
    expect(await store.get('clusters/c1/vars/PASSWORD')).toBe('first');
    await store.put('clusters/c1/vars/PASSWORD', 'second');
    expect(await new FileSecretStore(dir).get('clusters/c1/vars/PASSWORD')).toBe('second');
    expect(readdirSync(dir)).toHaveLength(1);
    expect(statSync(path.join(dir, readdirSync(dir)[0]!)).mode & 0o777).toBe(0o600);
  });

  it('creates a secret once and returns the stored value afterwards', async () => {
    let n = 0;
    const generate = () => `value-${++n}`;
    expect(await store.ensure('cluster/c1/join-token', generate)).toBe('value-1');
    expect(await store.ensure('cluster/c1/join-token', generate)).toBe('value-1');
    expect(n).toBe(1);
    expect(await new FileSecretStore(dir).get('cluster/c1/join-token')).toBe('value-1');
  });

  it('10 parallel ensures agree on one value and leave one file behind', async () => {
    let n = 0;
    const values = await Promise.all(Array.from({ length: 10 }, () => store.ensure('race', () => `v${n++}`)));
    expect(new Set(values).size).toBe(1);
    expect(await store.get('race')).toBe(values[0]);
    expect(readdirSync(dir)).toHaveLength(1);
  });

  it('put creates a secret or replaces its value (0600, nothing left behind)', async () => {
    await store.put('clusters/c1/kubeconfig', 'first');
    expect(await store.get('clusters/c1/kubeconfig')).toBe('first');
    await store.put('clusters/c1/kubeconfig', 'second');
    expect(await new FileSecretStore(dir).get('clusters/c1/kubeconfig')).toBe('second');
    expect(readdirSync(dir)).toHaveLength(1);
    for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it('keeps the directory 0700 and every secret 0600', async () => {
    await store.ensure('perm', () => 'x');
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(dir)) expect(statSync(path.join(dir, f)).mode & 0o777).toBe(0o600);
  });

  it.each([
    ['../../etc/passwd'],
    ['/etc/shadow'],
    ['a/b/../../../c'],
    ['..'],
    ['clüster-ñame-日本'],
    ['with\0nul'],
  ])('stores the hostile or unusual name %j inside the directory', async (name) => {
    await store.ensure(name, () => 'inside');
    expect(await store.get(name)).toBe('inside');
    const files = readdirSync(dir);
    expect(files).toHaveLength(1);
    expect(files[0]).toMatch(/^[A-Za-z0-9_-]+$/);
    expect(readdirSync(root)).toEqual(['nested']);
    await store.delete(name);
    expect(readdirSync(dir)).toHaveLength(0);
  });

  it('refuses empty and overlong names', async () => {
    await expect(store.ensure('', () => 'x')).rejects.toBeInstanceOf(ValidationError);
    await expect(store.get('x'.repeat(300))).rejects.toBeInstanceOf(ValidationError);
  });

  it('get of an absent secret (even before the directory exists) is undefined; delete of one is fine', async () => {
    expect(await store.get('nothing')).toBeUndefined();
    await expect(store.delete('nothing')).resolves.toBeUndefined();
  });

  it('delete removes the secret, and a later ensure generates a new one', async () => {
    await store.ensure('rotate', () => 'old');
    await store.delete('rotate');
    expect(await store.get('rotate')).toBeUndefined();
    expect(await store.ensure('rotate', () => 'new')).toBe('new');
  });

  it('tightens a directory that already existed with looser permissions', async () => {
    const loose = path.join(root, 'loose');
    mkdirSync(loose, { mode: 0o755 });
    expect(statSync(loose).mode & 0o777).toBe(0o755);
    await new FileSecretStore(loose).ensure('a', () => 'b');
    expect(statSync(loose).mode & 0o777).toBe(0o700);
  });
});
