import { commandFromItem, commandItem, COMPRESS_PARAMS_BYTES, paramsFromItem, paramsItem, PARAMS_KEEP_SECONDS } from '../../../lambdas/adapters/dynamodb/device-plane-stores.js';
import type { CommandRecord } from '../../../lambdas/domain/command.js';

const base: CommandRecord = {
  hostId: 'h-1', commandId: 'c-1', type: 'apply-cloud-config', params: {}, deadline: '2026-01-01T00:10:00.000Z',
  state: 'queued', version: 1, createdAt: '2026-01-01T00:00:00.000Z', updatedAt: '2026-01-01T00:00:00.000Z',
};

describe('command items', () => {
  it.each([
    ['small params stay plain', { mode: 'write', reboot: false, readyTimeoutSeconds: 60 }, false],
    ['a rendered cloud-config is stored gzipped', { cloudConfig: `#cloud-config\n${'cluster:\n  role: worker\n'.repeat(200)}`, mode: 'bootstrap' }, true],
    ['hostile text survives', { cloudConfig: `#cloud-config\n# "quotes" \\u0000 ünïcødé 🚀 ${'x'.repeat(COMPRESS_PARAMS_BYTES)}` }, true],
  ])('%s, and reads back unchanged', (_name, params, compressed) => {
    const record: CommandRecord = { ...base, params };
    const item = commandItem(record);
    expect('paramsGz' in item).toBe(compressed);
    expect('params' in item).toBe(!compressed);
    if (compressed) expect((item.paramsGz as Uint8Array).byteLength).toBeLessThan(JSON.stringify(params).length);
    expect(commandFromItem(item)).toEqual(record);
  });

  it('is in the (keys-only) deadline index only while unfinished, and never in gsi2', () => {
    expect(commandItem(base).gsi4pk).toMatch(/^CMDOPEN#/);
    expect(commandItem(base).gsi4sk).toBe(`${base.deadline}#${base.hostId}#${base.commandId}`);
    expect(commandItem({ ...base, state: 'sent' }).gsi4pk).toMatch(/^CMDOPEN#/);
    expect(commandItem({ ...base, state: 'succeeded' }).gsi4pk).toBeUndefined();
    expect(commandItem(base).gsi2pk).toBeUndefined();
  });

  it.each([
    ['small params stay in the command', { mode: 'write', reboot: false }, false],
    ['a rendered cloud-config goes apart', { cloudConfig: `#cloud-config\n${'cluster:\n  role: worker\n'.repeat(200)}`, mode: 'bootstrap' }, true],
    ['hostile text goes apart and survives', { cloudConfig: `# "quotes" \\u0000 ünïcødé 🚀 ${'x'.repeat(COMPRESS_PARAMS_BYTES)}` }, true],
  ])('params apart: %s', (_name, params, apart) => {
    const record: CommandRecord = { ...base, params };
    const split = paramsItem(record);
    expect(split !== undefined).toBe(apart);
    if (!split) return;
    expect(split.ref).toMatch(/^c-1#[A-Za-z0-9_-]{16}$/);
    expect(split.item).toMatchObject({ pk: 'HOST#h-1', sk: `CMDP#${split.ref}`, expiresAtEpoch: Date.parse(base.deadline) / 1000 + PARAMS_KEEP_SECONDS });
    expect(String(split.item.sk).startsWith('CMD#')).toBe(false);
    expect(paramsFromItem(split.item, 'c-1')).toEqual(params);
    // The same command and content give the same item (a retried create rewrites it unchanged); other content, another.
    expect(paramsItem(record)!.ref).toBe(split.ref);
    expect(paramsItem({ ...record, params: { ...params, mode: 'other' } })!.ref).not.toBe(split.ref);
    // The command item keeps the reference only, and reads back as a record that names it.
    const item = commandItem({ ...record, params: {}, paramsRef: split.ref });
    expect(item).not.toHaveProperty('params');
    expect(item).not.toHaveProperty('paramsGz');
    expect(commandFromItem(item)).toEqual({ ...record, params: {}, paramsRef: split.ref });
    // A record that was filled in (withParams) and is written again does not copy them back.
    expect(commandItem({ ...record, paramsRef: split.ref })).not.toHaveProperty('paramsGz');
    // Already apart: nothing more to split.
    expect(paramsItem({ ...record, paramsRef: split.ref })).toBeUndefined();
  });

  it('refuses a params item that is not a parameter map, naming the command', () => {
    expect(() => paramsFromItem({ br: 'not binary' }, 'command c-1')).toThrow(/command c-1/);
  });
});

