import { parse } from 'yaml';
import { classifyChanges } from '../../../lambdas/domain/reconfigure.js';
import {
  changedVariables, checkValues, layersForComparison, renderTemplate, resolverFor, secretVariablePlaceholder, substituteLayers, type VariableDeclaration,
} from '../../../lambdas/domain/profile-variables.js';

const DECLARED: VariableDeclaration[] = [
  { name: 'HOST', regex: '[a-z0-9.-]+', required: true },
  { name: 'REPLICAS', type: 'number', default: 2 },
  { name: 'DEBUG', type: 'boolean' },
  { name: 'PASSWORD', secret: true, required: true },
  { name: 'NOTE' },
];

describe('checkValues()', () => {
  it('keeps non-secret values in the declared type and secret values apart', () => {
    const r = checkValues(DECLARED, { HOST: 'shop-12.example', REPLICAS: '3', DEBUG: 'true', PASSWORD: 's3cr3t!#:' });
    expect(r).toEqual({ ok: true, variables: { values: { HOST: 'shop-12.example', REPLICAS: 3, DEBUG: true }, secrets: ['PASSWORD'] }, secretValues: { PASSWORD: 's3cr3t!#:' } });
  });

  it.each([
    ['an unknown name', { HOST: 'a', PASSWORD: 'p', NOPE: 1 }, 'variables.NOPE', /NOPE is not declared by the profile version; it declares HOST, REPLICAS/],
    ['a required value missing', { PASSWORD: 'p' }, 'variables.HOST', /HOST is required.*--var HOST=/],
    ['a required secret missing', { HOST: 'a' }, 'variables.PASSWORD', /PASSWORD is required/],
    ['a number that is not one', { HOST: 'a', PASSWORD: 'p', REPLICAS: 'many' }, 'variables.REPLICAS', /"many" is not a number/],
    ['a boolean that is not one', { HOST: 'a', PASSWORD: 'p', DEBUG: 'yes' }, 'variables.DEBUG', /is not a boolean/],
    ['a regex mismatch', { HOST: 'UPPER', PASSWORD: 'p' }, 'variables.HOST', /"UPPER" does not match \[a-z0-9.-\]\+/],
    ['a regex that matches only part', { HOST: 'ok;rm -rf /', PASSWORD: 'p' }, 'variables.HOST', /does not match/],
    ['a secret with a quote', { HOST: 'a', PASSWORD: 'pa"ss' }, 'variables.PASSWORD', /may not contain quotes/],
    ['a secret with a line break', { HOST: 'a', PASSWORD: 'pa\nss' }, 'variables.PASSWORD', /control characters/],
    ['a value holding a secret placeholder', { HOST: 'a', PASSWORD: 'p', NOTE: '@@EDGEFLEET_SECRET_JOIN_TOKEN@@' }, 'variables.NOTE', /may not contain "@@EDGEFLEET_SECRET_"/],
  ] as const)('refuses %s', (_label, supplied, path, message) => {
    const r = checkValues(DECLARED, supplied);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.errors).toContainEqual({ path, message: expect.stringMatching(message) });
  });

  it('never shows a secret value in an error', () => {
    const r = checkValues([{ name: 'P', secret: true, regex: '[a-z]+' }], { P: 'Hunter2-Secret' });
    expect(JSON.stringify(r)).not.toContain('Hunter2-Secret');
  });

  it('reconfigure: what is not supplied keeps its current value; a secret stays set', () => {
    const r = checkValues(DECLARED, { REPLICAS: 5 }, { values: { HOST: 'a', NOTE: 'n' }, secrets: ['PASSWORD'] });
    expect(r).toEqual({ ok: true, variables: { values: { REPLICAS: 5, HOST: 'a', NOTE: 'n' }, secrets: ['PASSWORD'] }, secretValues: {} });
  });

  it('reconfigure: values of variables the new version no longer declares are dropped', () => {
    const r = checkValues([{ name: 'HOST' }], {}, { values: { HOST: 'a', OLD: 1 }, secrets: ['PASSWORD'] });
    expect(r).toEqual({ ok: true, variables: { values: { HOST: 'a' }, secrets: [] }, secretValues: {} });
  });
});

describe('renderTemplate()', () => {
  const render = (text: string, values: Record<string, string | number | boolean>, secrets: string[] = []) =>
    renderTemplate(text, resolverFor(DECLARED, { values, secrets }));

  it('puts each value in its scalar, typed when the reference is the whole value', () => {
    const r = render('replicas: {{ .vars.REPLICAS }}\ndebug: {{.vars.DEBUG}}\nurl: https://{{ .vars.HOST }}:443/x\nhost: "{{ .vars.HOST }}"\n', { REPLICAS: 3, DEBUG: false, HOST: 'shop.example' });
    expect(r.ok && parse(r.text)).toEqual({ replicas: 3, debug: false, url: 'https://shop.example:443/x', host: 'shop.example' });
  });

  it('renders a default when the cluster sets no value, and null when there is none', () => {
    const r = render('replicas: {{ .vars.REPLICAS }}\nnote: {{ .vars.NOTE }}\n', {});
    expect(r.ok && parse(r.text)).toEqual({ replicas: 2, note: null });
  });

  it('puts the placeholder of a secret, double-quoted, never its value', () => {
    const r = render('auth:\n  password: {{ .vars.PASSWORD }}\n  dsn: "user:{{ .vars.PASSWORD }}@db"\n', {}, ['PASSWORD']);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(parse(r.text)).toEqual({ auth: { password: secretVariablePlaceholder('PASSWORD'), dsn: `user:${secretVariablePlaceholder('PASSWORD')}@db` } });
    expect(r.text).toContain(`"${secretVariablePlaceholder('PASSWORD')}"`);
  });

  // Hostile values: whatever the text, the document keeps its shape and the value its text.
  it.each([
    'a\nb: c',
    'x: y',
    '] } [ {',
    '&anchor *alias',
    '# not a comment',
    '"quoted" and \'single\'',
    '|\n  block',
    '--- \n...\n',
    '{{ .vars.HOST }}',
    '!!python/object:os.system',
    'null',
    '3',
  ])('a hostile value stays one scalar: %j', (hostile) => {
    const text = 'a: {{ .vars.NOTE }}\nb:\n  c: pre-{{ .vars.NOTE }}-post\n  d: 1\n';
    const r = render(text, { NOTE: hostile });
    expect(r.ok).toBe(true);
    if (r.ok) expect(parse(r.text)).toEqual({ a: hostile, b: { c: `pre-${hostile}-post`, d: 1 } });
  });

  it('leaves a reference in a comment as written', () => {
    const r = render('# uses {{ .vars.HOST }}\na: {{ .vars.HOST }}\n', { HOST: 'h' });
    expect(r.ok && r.text).toBe('# uses {{ .vars.HOST }}\na: h\n');
  });
});

describe('substituteLayers()', () => {
  const layers = [
    { type: 'k8s', pack: 'k3s', values: 'node-label:\n  - site={{ .vars.HOST }}\n' },
    { type: 'addon', pack: 'app', values: 'password: {{ .vars.PASSWORD }}\n' },
    { type: 'addon', pack: 'plain', values: 'a: 1\n' },
  ];

  it('fills every layer and lists the secrets the command needs', () => {
    const r = substituteLayers(layers, DECLARED, { values: { HOST: 'shop' }, secrets: ['PASSWORD'] }, 'c-1');
    expect(r.problems).toEqual([]);
    expect(parse(r.layers[0]!.values!)).toEqual({ 'node-label': ['site=shop'] });
    expect(parse(r.layers[1]!.values!)).toEqual({ password: secretVariablePlaceholder('PASSWORD') });
    expect(r.layers[2]).toBe(layers[2]);
    expect(r.secrets).toEqual({ [secretVariablePlaceholder('PASSWORD')]: 'clusters/c-1/vars/PASSWORD' });
  });
});

describe('reconfigure with new values: classified like a layer value change', () => {
  // The classification itself is domain/reconfigure.ts classifyChanges over the filled-in layers.
  const LAYERS = [
    { type: 'os' as const, pack: 'ubuntu', version: '24.04' },
    { type: 'k8s' as const, pack: 'k3s', version: '1.31.2', values: 'node-label:\n  - site={{ .vars.HOST }}\n' },
    { type: 'addon' as const, pack: 'app', version: '1.0.0', values: 'replicas: {{ .vars.REPLICAS }}\npassword: {{ .vars.PASSWORD }}\n' },
  ];
  const before = { values: { HOST: 'a', REPLICAS: 1 }, secrets: ['PASSWORD'] };
  const classify = (after: typeof before, newSecrets: string[] = []) =>
    classifyChanges(layersForComparison(LAYERS, DECLARED, before), layersForComparison(LAYERS, DECLARED, after, newSecrets));

  it.each([
    ['an add-on value → reload', { ...before, values: { HOST: 'a', REPLICAS: 3 } }, [], 'reload', ['addon:app'], ['REPLICAS']],
    ['a k8s value → service restart', { ...before, values: { HOST: 'b', REPLICAS: 1 } }, [], 'service-restart', ['k8s:k3s'], ['HOST']],
    ['a new secret value → reload of the layers using it', before, ['PASSWORD'], 'reload', ['addon:app'], ['PASSWORD']],
    ['the same values → no-op', before, [], 'no-op', [], []],
  ] as const)('%s', (_label, after, newSecrets, behaviour, layers, changed) => {
    const plan = classify(after, [...newSecrets]);
    expect(plan.behaviour).toBe(behaviour);
    expect(plan.changes.map((c) => c.layer)).toEqual(layers);
    expect(changedVariables(before, after, newSecrets)).toEqual(changed);
  });
});
