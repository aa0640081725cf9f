import { isMap, isScalar, parseDocument, visit, type Scalar } from 'yaml';
import type { FieldError } from './errors.js';

/**
 * Profile variables: declared on a profile version, used in layer values as `{{ .vars.NAME }}`,
 * given values by each cluster. Pure: declaration checks (at publish), value checks (at create
 * and reconfigure) and the YAML-safe substitution (when a node configuration is rendered).
 *
 * Substitution works on the parsed YAML, never on text: the template is parsed with a plain
 * token where each reference stands, and the value is put into that scalar. A value is always
 * one scalar, so no value ("a\nb: c", "]", "&x", "#") can change the document's shape. A
 * reference that is the whole scalar takes the value's type (number, boolean); inside a longer
 * string it is text. A secret variable is never in the document: its scalar holds the
 * placeholder `@@EDGEFLEET_SECRET_VAR_<NAME>@@` (double-quoted), which the control plane fills in
 * only on the wire to the host (the same path as the join token).
 */

export type VariableType = 'string' | 'number' | 'boolean';
export type VariableValue = string | number | boolean;

/** A declared variable (contracts/api.ts `profileVariable`; domain/profile.ts `ProfileVariable`). */
export interface VariableDeclaration {
  readonly name: string;
  readonly type?: VariableType;
  readonly default?: VariableValue;
  readonly required?: boolean;
  readonly secret?: boolean;
  readonly regex?: string;
}

/** A cluster's variables: non-secret values, and the names of secret ones (their values live in the secret store). */
export interface ClusterVariables {
  readonly values: Readonly<Record<string, VariableValue>>;
  readonly secrets: readonly string[];
}

export const NO_VARIABLES: ClusterVariables = { values: {}, secrets: [] };

/** `{{ .vars.NAME }}`, with optional spaces inside the braces. */
const REFERENCE = /\{\{\s*\.vars\.([A-Za-z_][A-Za-z0-9_]*)\s*\}\}/g;
const ANY_TEMPLATE = /\{\{[\s\S]*?\}\}/g;
/** Text of every secret placeholder the control plane fills in; no value may contain it. */
export const SECRET_PLACEHOLDER_PREFIX = '@@EDGEFLEET_SECRET_';
export const secretVariablePlaceholder = (name: string) => `${SECRET_PLACEHOLDER_PREFIX}VAR_${name}@@`;
/** Where a cluster's secret variable is kept in the secret store. */
export const secretVariableName = (clusterId: string, name: string) => `clusters/${clusterId}/vars/${name}`;

/**
 * Characters a secret value may not hold: it is filled into the rendered configuration as
 * text, inside a double-quoted YAML scalar that is itself nested in further YAML documents,
 * where quotes, backslashes and line breaks would need escaping at each level.
 */
const SECRET_UNSAFE = /["'\\\p{Cc}\u2028\u2029]/u;

/** The variables a values text refers to, in order of first use. */
export function referencedVariables(text: string | undefined): string[] {
  if (!text) return [];
  return [...new Set([...text.matchAll(REFERENCE)].map((m) => m[1]!))];
}

const TOKEN = (i: number) => `__EFVAR${i}__`;
const TOKEN_RE = /__EFVAR(\d+)__/g;

/** What a reference becomes: a value, a secret (its placeholder), or nothing (null / empty text). */
export type Resolved = { readonly value: VariableValue } | { readonly secret: string } | undefined;

export type RenderResult = { ok: true; text: string } | { ok: false; problems: string[] };

/**
 * Substitutes every `{{ .vars.NAME }}` of a YAML values text. Problems: a template expression
 * that is not a variable reference, a reference in a key, YAML that does not parse, or a
 * document that is not a mapping.
 */
export function renderTemplate(text: string, resolve: (name: string) => Resolved): RenderResult {
  const problems: string[] = [];
  for (const m of text.matchAll(ANY_TEMPLATE)) {
    if (!new RegExp(`^${REFERENCE.source}$`).test(m[0])) {
      problems.push(`"${m[0].slice(0, 60)}" is not a variable reference; the only template expression is {{ .vars.NAME }}`);
    }
  }
  if (problems.length > 0) return { ok: false, problems };
  const names: string[] = [];
  const tokenized = text.replace(REFERENCE, (_all, name: string) => {
    let i = names.indexOf(name);
    if (i < 0) i = names.push(name) - 1;
    return TOKEN(i);
  });
  const doc = parseDocument(tokenized, { uniqueKeys: true });
  if (doc.errors.length > 0) {
    return { ok: false, problems: [`is not valid YAML where the variables stand (a reference must be a whole value or part of one): ${doc.errors[0]!.message.split('\n')[0]}`] };
  }
  if (doc.contents !== null && !isMap(doc.contents)) return { ok: false, problems: ['must be a YAML mapping (key: value lines)'] };
  const nameOf = (i: string) => names[Number(i)]!;
  visit(doc, {
    Pair(_k, pair) {
      if (isScalar(pair.key) && typeof pair.key.value === 'string' && /__EFVAR\d+__/.test(pair.key.value)) {
        problems.push(`a variable is used as a key ("${pair.key.value.replace(TOKEN_RE, (_a, i: string) => `{{ .vars.${nameOf(i)} }}`)}"); variables may only stand in values`);
      }
    },
    Scalar(_k, node) { fill(node, resolve, nameOf); },
  });
  if (problems.length > 0) return { ok: false, problems };
  // A reference in a comment is left as written.
  return { ok: true, text: doc.toString({ lineWidth: 0 }).replace(TOKEN_RE, (_a, i: string) => `{{ .vars.${nameOf(i)} }}`) };
}

function fill(node: Scalar, resolve: (name: string) => Resolved, nameOf: (i: string) => string): void {
  if (typeof node.value !== 'string' || !node.value.includes('__EFVAR')) return;
  const whole = /^__EFVAR(\d+)__$/.exec(node.value);
  if (whole) {
    const r = resolve(nameOf(whole[1]!));
    if (r === undefined) node.value = null;
    else if ('secret' in r) { node.value = r.secret; node.type = 'QUOTE_DOUBLE'; }
    else node.value = r.value;
    return;
  }
  let secret = false;
  node.value = node.value.replace(TOKEN_RE, (_a, i: string) => {
    const r = resolve(nameOf(i));
    if (r === undefined) return '';
    if ('secret' in r) { secret = true; return r.secret; }
    return String(r.value);
  });
  if (secret) node.type = 'QUOTE_DOUBLE';
}

/** A sample value of each type, to validate a template at publish. */
const SAMPLE: Readonly<Record<VariableType, VariableValue>> = { string: 'sample', number: 1, boolean: true };

/** Problems of a layer's values at publish: references declared, the template valid, a YAML mapping once filled in. */
export function valuesProblems(text: string, declared: readonly VariableDeclaration[]): string[] {
  const byName = new Map(declared.map((d) => [d.name, d]));
  const undeclared = referencedVariables(text).filter((n) => !byName.has(n));
  if (undeclared.length > 0) return undeclared.map((n) => `use variable ${n}, which the profile version does not declare; add it to variables or remove {{ .vars.${n} }}`);
  const r = renderTemplate(text, (name) => {
    const d = byName.get(name)!;
    return d.secret ? { secret: secretVariablePlaceholder(name) } : { value: SAMPLE[d.type ?? 'string'] };
  });
  return r.ok ? [] : r.problems;
}

/** Whether `value` has the variable's type (its default type is string). */
const hasType = (d: VariableDeclaration, value: VariableValue) => typeof value === (d.type ?? 'string');

function compile(regex: string): RegExp | undefined {
  try { return new RegExp(`^(?:${regex})$`, 'u'); } catch { return undefined; }
}

/** Problems of a profile version's variable declarations (at publish). */
export function declarationErrors(vars: readonly VariableDeclaration[]): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Map<string, number>();
  vars.forEach((d, i) => {
    const at = (f: string) => `variables.${i}${f ? `.${f}` : ''}`;
    const first = seen.get(d.name);
    if (first !== undefined) errors.push({ path: at('name'), message: `variable ${d.name} is declared twice (variables ${first} and ${i})` });
    else seen.set(d.name, i);
    const re = d.regex === undefined ? undefined : compile(d.regex);
    if (d.regex !== undefined && !re) errors.push({ path: at('regex'), message: `variable ${d.name}: regex ${JSON.stringify(d.regex)} is not a valid regular expression` });
    if (d.regex !== undefined && (d.type ?? 'string') !== 'string') errors.push({ path: at('regex'), message: `variable ${d.name}: a regex applies to string variables only, not ${d.type}` });
    if (d.default === undefined) return;
    if (d.secret) {
      errors.push({ path: at('default'), message: `variable ${d.name} is secret and cannot have a default: a profile is readable by every viewer; let each cluster supply the value` });
      return;
    }
    if (!hasType(d, d.default)) errors.push({ path: at('default'), message: `variable ${d.name}: default ${JSON.stringify(d.default)} is not a ${d.type ?? 'string'}` });
    else if (re && typeof d.default === 'string' && !re.test(d.default)) errors.push({ path: at('default'), message: `variable ${d.name}: default ${JSON.stringify(d.default)} does not match its regex ${d.regex}` });
  });
  return errors;
}

/** A supplied value in the declared type: "3" for a number and "true" for a boolean are accepted (the CLI sends text). */
function coerce(d: VariableDeclaration, v: VariableValue): VariableValue | undefined {
  const type = d.type ?? 'string';
  if (typeof v === type) return v;
  if (typeof v !== 'string') return type === 'string' ? String(v) : undefined;
  if (type === 'number') return v.trim() !== '' && Number.isFinite(Number(v)) ? Number(v) : undefined;
  if (type === 'boolean') return v === 'true' ? true : v === 'false' ? false : undefined;
  return v;
}

export type CheckedValues =
  | { ok: true; variables: ClusterVariables; secretValues: Readonly<Record<string, string>> }
  | { ok: false; errors: FieldError[] };

/**
 * Checks a cluster's supplied values against the declarations. `current` (reconfigure) is what
 * the cluster has now: a variable not supplied keeps its current value (a secret its stored
 * one). Unknown names, missing required values, wrong types and regex mismatches are refused.
 * Defaults are not copied: a variable without a value renders its default.
 */
export function checkValues(declared: readonly VariableDeclaration[], supplied: Readonly<Record<string, VariableValue>>, current: ClusterVariables = NO_VARIABLES, path = 'variables'): CheckedValues {
  const errors: FieldError[] = [];
  const byName = new Map(declared.map((d) => [d.name, d]));
  const values: Record<string, VariableValue> = {};
  const secretValues: Record<string, string> = {};
  const secrets = new Set<string>();
  for (const [name, raw] of Object.entries(supplied)) {
    const d = byName.get(name);
    const at = `${path}.${name}`;
    if (!d) {
      const known = declared.map((x) => x.name);
      errors.push({ path: at, message: `variable ${name} is not declared by the profile version${known.length ? `; it declares ${known.join(', ')}` : ', which declares no variables'}` });
      continue;
    }
    const v = coerce(d, raw);
    const shown = d.secret ? '(secret value)' : JSON.stringify(raw);
    if (v === undefined) { errors.push({ path: at, message: `variable ${name}: ${shown} is not a ${d.type ?? 'string'}` }); continue; }
    if (typeof v === 'string' && v.includes(SECRET_PLACEHOLDER_PREFIX)) { errors.push({ path: at, message: `variable ${name}: a value may not contain "${SECRET_PLACEHOLDER_PREFIX}"` }); continue; }
    const re = d.regex === undefined ? undefined : compile(d.regex);
    if (re && typeof v === 'string' && !re.test(v)) { errors.push({ path: at, message: `variable ${name}: ${shown} does not match ${d.regex}` }); continue; }
    if (d.secret) {
      const s = String(v);
      if (SECRET_UNSAFE.test(s)) { errors.push({ path: at, message: `variable ${name}: a secret value may not contain quotes ("), apostrophes ('), backslashes or control characters (line breaks, tabs)` }); continue; }
      secretValues[name] = s;
      secrets.add(name);
    } else values[name] = v;
  }
  // What is not supplied stays as it is (reconfigure), if it is still declared so.
  for (const [name, v] of Object.entries(current.values)) {
    const d = byName.get(name);
    if (d && !d.secret && !(name in supplied) && coerce(d, v) !== undefined) values[name] = coerce(d, v)!;
  }
  for (const name of current.secrets) if (byName.get(name)?.secret && !(name in supplied)) secrets.add(name);
  for (const d of declared) {
    if (d.required && d.default === undefined && !(d.name in values) && !secrets.has(d.name)) {
      errors.push({ path: `${path}.${d.name}`, message: `variable ${d.name} is required by the profile version and has no default; supply it (--var ${d.name}=…)` });
    }
  }
  if (errors.length > 0) return { ok: false, errors };
  return { ok: true, variables: { values, secrets: [...secrets].sort() }, secretValues };
}

/** How each variable renders for a cluster: its value, else its default; a secret as its placeholder. */
export function resolverFor(declared: readonly VariableDeclaration[], vars: ClusterVariables): (name: string) => Resolved {
  const byName = new Map(declared.map((d) => [d.name, d]));
  return (name) => {
    const d = byName.get(name);
    if (d?.secret || vars.secrets.includes(name)) return vars.secrets.includes(name) ? { secret: secretVariablePlaceholder(name) } : undefined;
    const v = vars.values[name] ?? d?.default;
    return v === undefined ? undefined : { value: v };
  };
}

/** A layer whose values may use variables (domain/profile.ts `Layer`). */
export interface ValuesLayer {
  readonly type: string;
  readonly pack: string;
  readonly values?: string;
}

/**
 * The layers with their variables filled in for one cluster, and the secrets the result needs
 * (placeholder → secret-store name) for the command's `secrets` map. Throws nothing: a template
 * that no longer renders (it was validated at publish) is reported in `problems`.
 */
export function substituteLayers<L extends ValuesLayer>(layers: readonly L[], declared: readonly VariableDeclaration[], vars: ClusterVariables, clusterId: string):
  { layers: L[]; secrets: Record<string, string>; problems: string[] } {
  const resolve = resolverFor(declared, vars);
  const secrets: Record<string, string> = {};
  const problems: string[] = [];
  const out = layers.map((l) => {
    if (!l.values || referencedVariables(l.values).length === 0) return l;
    for (const name of referencedVariables(l.values)) {
      if (vars.secrets.includes(name)) secrets[secretVariablePlaceholder(name)] = secretVariableName(clusterId, name);
    }
    const r = renderTemplate(l.values, resolve);
    if (!r.ok) { problems.push(...r.problems.map((p) => `${l.type} ${l.pack} values ${p}`)); return l; }
    return { ...l, values: r.text };
  });
  return { layers: out, secrets, problems };
}

/** The variables whose value differs between `before` and `after` (secrets: those given a new value). */
export function changedVariables(before: ClusterVariables, after: ClusterVariables, newSecrets: readonly string[]): string[] {
  const names = new Set([...Object.keys(before.values), ...Object.keys(after.values)]);
  const changed = [...names].filter((n) => before.values[n] !== after.values[n]);
  const secretSetChanged = [...before.secrets, ...after.secrets].filter((n) => before.secrets.includes(n) !== after.secrets.includes(n));
  return [...new Set([...changed, ...secretSetChanged, ...newSecrets])].sort();
}

/**
 * The layers as a node would get them, for comparing two states of a cluster (reconfigure's
 * classification): values filled in; a secret stands as its placeholder, marked when it is
 * given a new value, so that a new secret value changes the layers that use it.
 */
export function layersForComparison<L extends ValuesLayer>(layers: readonly L[], declared: readonly VariableDeclaration[], vars: ClusterVariables, newSecrets: readonly string[] = []): L[] {
  const base = resolverFor(declared, vars);
  const resolve = (name: string): Resolved => {
    const r = base(name);
    return r && 'secret' in r && newSecrets.includes(name) ? { secret: `${r.secret}(new value)` } : r;
  };
  return layers.map((l) => {
    if (!l.values || referencedVariables(l.values).length === 0) return l;
    const r = renderTemplate(l.values, resolve);
    return r.ok ? { ...l, values: r.text } : l;
  });
}
