import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StateStore, writeFileAtomic } from '../../../device/state-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-state-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('state store', () => {
  test('atomic write: mode 0600, no temporary file left, content replaced whole', async () => {
    const p = join(dir, 'f.txt');
    await writeFileAtomic(p, 'one');
    await writeFileAtomic(p, 'two');
    expect(await readFile(p, 'utf8')).toBe('two');
    expect((await stat(p)).mode & 0o777).toBe(0o600);
    expect(await readdir(dir)).toEqual(['f.txt']);
  });

  test('a leftover temporary file from a crash is ignored and cleaned; the last complete value survives', async () => {
    const s1 = new StateStore(dir);
    await s1.init();
    await s1.writeKey('KEY-1');
    // A crash between writing the temporary file and the rename:
    await writeFile(join(dir, '.device-key.pem.123.deadbeef.tmp'), 'KEY-2-PARTIAL');
    const s2 = new StateStore(dir);
    await s2.init();
    expect(await s2.readKey()).toBe('KEY-1');
    expect((await readdir(dir)).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  test('keys, credentials and registration round-trip; missing ones are undefined', async () => {
    const s = new StateStore(join(dir, 'nested'));
    await s.init();
    expect((await stat(s.dir)).mode & 0o777).toBe(0o700);
    expect(await s.readKey()).toBeUndefined();
    expect(await s.readCredentials()).toBeUndefined();
    expect(await s.readRegistration()).toBeUndefined();
    await s.writeCredentials({ certificatePem: 'C', caPem: 'CA' });
    await s.writeRegistration({ hostId: 'h1', thingName: 'h1', mqtt: { endpoint: 'localhost', port: 8883 } });
    expect(await s.readCredentials()).toEqual({ certificatePem: 'C', caPem: 'CA' });
    expect(await new StateStore(s.dir).readRegistration()).toEqual({ hostId: 'h1', thingName: 'h1', mqtt: { endpoint: 'localhost', port: 8883 } });
  });

  test('command ids: recorded once, durable, bounded', async () => {
    const s = new StateStore(dir, 3);
    await s.init();
    expect(await s.recordCommand('a')).toBe(true);
    expect(await s.recordCommand('a')).toBe(false);
    const again = new StateStore(dir, 3);
    expect(await again.hasCommand('a')).toBe(true);
    for (const id of ['b', 'c', 'd']) await again.recordCommand(id);
    expect(await again.hasCommand('a')).toBe(false);
    expect(await new StateStore(dir, 3).hasCommand('d')).toBe(true);
  });

  test('a corrupt commands file does not crash the agent', async () => {
    await writeFile(join(dir, 'commands.json'), '{{{');
    const s = new StateStore(dir);
    expect(await s.hasCommand('x')).toBe(false);
    expect(await s.recordCommand('x')).toBe(true);
  });

  test('outcomes are kept with their ids and dropped with them', async () => {
    const s = new StateStore(dir, 2);
    await s.recordOutcome('nope', { phase: 'failed' });
    expect(await s.outcomeOf('nope')).toBeUndefined();
    await s.recordCommand('a');
    await s.recordOutcome('a', { phase: 'succeeded', detail: 'done' });
    expect(await new StateStore(dir, 2).outcomeOf('a')).toEqual({ phase: 'succeeded', detail: 'done' });
    await s.recordCommand('b');
    await s.recordCommand('c');
    const again = new StateStore(dir, 2);
    expect(await again.outcomeOf('a')).toBeUndefined();
    expect(await again.hasCommand('c')).toBe(true);
  });
});
