import {
  batchHostsBody, createClusterBody, createHostBody, createProfileVersionBody, createTokenBody, layer, patchHostBody, userDataBody,
} from '../../../lambdas/contracts/api.js';
import { hostUid, safeText, tags } from '../../../lambdas/contracts/common.js';

const tagsOf = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, `v${i}`]));

describe('strict request bodies reject unknown fields', () => {
  it.each([
    ['createTokenBody', createTokenBody, { name: 't' }],
    ['createHostBody', createHostBody, { uid: 'AA:BB' }],
    ['patchHostBody', patchHostBody, { version: 1 }],
    ['userDataBody', userDataBody, { token: 'eft_x', site: 'store-1' }],
    ['createProfileVersionBody', createProfileVersionBody, {
      version: '1.0.0', layers: [{ type: 'os', pack: 'ubuntu', version: '22.04' }, { type: 'k8s', pack: 'k3s', version: 'v1.30.4+k3s1' }],
    }],
    ['createClusterBody', createClusterBody, { name: 'c', profile: { name: 'p', version: '1.0.0' }, controlPlane: { hostIds: ['h-1'] } }],
  ] as const)('%s', (_label, schema, valid) => {
    expect(schema.safeParse(valid).success).toBe(true);
    const result = schema.safeParse({ ...valid, extra: true });
    expect(result.success).toBe(false);
    expect(result.error!.issues).toContainEqual(expect.objectContaining({ code: 'unrecognized_keys', keys: ['extra'] }));
  });

  it.each([
    ['a layer', () => layer.safeParse({ type: 'os', pack: 'ubuntu', version: '22.04', sudo: true })],
    ['a nested cluster profile', () => createClusterBody.safeParse({ name: 'c', profile: { name: 'p', version: '1.0.0', x: 1 }, controlPlane: { hostIds: ['h'] } })],
    ['a nested network', () => userDataBody.safeParse({ token: 't', site: 's', network: { dhcp: true, mtu: 9000 } })],
    ['a batch entry', () => batchHostsBody.safeParse({ hosts: [{ uid: 'a', clusterId: 'c-1' }] })],
  ])('nested: %s', (_label, run) => {
    expect(run().success).toBe(false);
  });
});

describe('hostUid', () => {
  it.each(['AA:BB:CC:DD:EE:FF', 'Dell/SVC.TAG_7XK', '!~', 'x'.repeat(128)])('accepts %p', (uid) => {
    expect(hostUid.safeParse(uid).success).toBe(true);
  });

  it.each([
    ['a space', 'AA BB'],
    ['a tab', 'AA\tBB'],
    ['a newline', 'AA\nBB'],
    ['NUL', 'AA\u0000'],
    ['DEL', 'AA\u007f'],
    ['ESC', '\u001b[31m'],
    ['non-ASCII', 'Ünïcödé'],
    ['right-to-left override', 'AA\u202eBB'],
    ['empty', ''],
    ['129 characters', 'x'.repeat(129)],
  ])('rejects %s', (_label, uid) => {
    expect(hostUid.safeParse(uid).success).toBe(false);
    expect(createHostBody.safeParse({ uid }).success).toBe(false);
  });
});

describe('tags', () => {
  it.each([0, 1, 20])('accepts %i tags', (n) => {
    expect(tags.safeParse(tagsOf(n)).success).toBe(true);
  });

  it.each([21, 100])('rejects %i tags', (n) => {
    const result = createHostBody.safeParse({ uid: 'a', tags: tagsOf(n) });
    expect(result.success).toBe(false);
    expect(result.error!.issues.map((i) => i.message)).toContain('at most 20 tags');
  });

  it.each([
    ['a newline in a value', { env: 'prod\nevil: true' }],
    ['a colon in a value', { env: 'a: b' }],
    ['a key starting with "-"', { '-x': 'y' }],
    ['an empty key', { '': 'y' }],
    ['a 64-character value', { k: 'v'.repeat(64) }],
  ])('rejects %s', (_label, value) => {
    expect(tags.safeParse(value).success).toBe(false);
  });
});

describe('batchHostsBody', () => {
  const hosts = (n: number) => Array.from({ length: n }, (_, i) => ({ uid: `uid-${i}` }));

  it.each([[1, true], [10_000, true], [10_001, false], [0, false]])('%i hosts → ok=%s', (n, ok) => {
    expect(batchHostsBody.safeParse({ hosts: hosts(n) }).success).toBe(ok);
  });
});

describe('safeText', () => {
  const text = safeText(20);

  it.each(['Shop 42', 'Café Müller', '東京店', 'emoji 🚀', 'tabs are\u0020fine'])('accepts %p', (value) => {
    expect(text.safeParse(value).success).toBe(true);
  });

  it.each([
    ['NUL', 'a\u0000b'],
    ['newline', 'a\nb'],
    ['carriage return', 'a\rb'],
    ['tab', 'a\tb'],
    ['escape', '\u001b[2J'],
    ['DEL', 'a\u007f'],
    ['C1 control', 'a\u0085b'],
    ['right-to-left override', 'abc\u202egpj.exe'],
    ['zero-width space', 'a\u200bb'],
    ['byte order mark', '\ufeffabc'],
    ['empty', ''],
    ['too long', 'x'.repeat(21)],
  ])('rejects %s', (_label, value) => {
    expect(text.safeParse(value).success).toBe(false);
  });

  it('guards the request bodies that carry free text', () => {
    expect(createTokenBody.safeParse({ name: 'ok\u0000' }).success).toBe(false);
    expect(createHostBody.safeParse({ uid: 'a', name: 'x\u202e' }).success).toBe(false);
  });
});
