import { commandFromItem, commandItem, COMPRESS_PARAMS_BYTES } from '../../../lambdas/adapters/dynamodb/device-plane-stores.js';
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
});
