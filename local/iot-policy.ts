/**
 * A small evaluator of AWS IoT Core policy documents, enough for the device policy in
 * lambdas/contracts/iot.ts: Allow/Deny statements, `iot:*` actions, resource ARNs with `*`/`?`
 * wildcards after policy-variable substitution, and `Bool`/`StringEquals` conditions. As in
 * IoT, everything not explicitly allowed is denied, and an explicit Deny wins.
 */
export type IotAction = 'iot:Connect' | 'iot:Publish' | 'iot:Subscribe' | 'iot:Receive';

export interface PolicyRequest {
  readonly action: IotAction;
  /** e.g. `client/<clientId>`, `topic/<topic>`, `topicfilter/<filter>` (the ARN is built here). */
  readonly resource: string;
  /** Policy variables, e.g. `{ 'iot:Connection.Thing.ThingName': 'host-1' }`. */
  readonly variables: Readonly<Record<string, string>>;
  /** Condition keys, e.g. `{ 'iot:Connection.Thing.IsAttached': 'true' }`. */
  readonly context?: Readonly<Record<string, string>>;
}

interface Statement {
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string | readonly string[];
  readonly Resource: string | readonly string[];
  readonly Condition?: Readonly<Record<string, Readonly<Record<string, string | readonly string[]>>>>;
}

/** The ARN the request is checked against (region and account are placeholders locally). */
export const LOCAL_ARN_PREFIX = 'arn:aws:iot:local:000000000000:';

const list = <T>(v: T | readonly T[]): readonly T[] => (Array.isArray(v) ? v as readonly T[] : [v as T]);

/** Replaces `${var}`; an unknown variable makes the resource unmatchable (as in IoT). */
function substitute(pattern: string, variables: Readonly<Record<string, string>>): string | undefined {
  let unknown = false;
  const out = pattern.replace(/\$\{([^}]+)\}/g, (_m, name: string) => {
    const v = variables[name];
    if (v === undefined) unknown = true;
    return v ?? '';
  });
  return unknown ? undefined : out;
}

/** IAM-style glob on the whole string: `*` any run of characters, `?` one character. */
export function globMatch(pattern: string, value: string): boolean {
  const re = pattern.split('').map((ch) => (ch === '*' ? '.*' : ch === '?' ? '.' : ch.replace(/[.+^${}()|[\]\\/]/g, '\\$&'))).join('');
  return new RegExp(`^${re}$`, 's').test(value);
}

/** Variable values are literal: wildcard characters in them must not widen the pattern. */
const hasGlob = (vars: Readonly<Record<string, string>>) => Object.values(vars).some((v) => /[*?]/.test(v));

function conditionHolds(cond: Statement['Condition'], context: Readonly<Record<string, string>>): boolean {
  if (!cond) return true;
  for (const [op, checks] of Object.entries(cond)) {
    for (const [key, expected] of Object.entries(checks)) {
      const actual = context[key];
      if (actual === undefined) return false;
      const wanted = list(expected).map(String);
      if (op === 'Bool') {
        if (!wanted.some((w) => w.toLowerCase() === actual.toLowerCase())) return false;
      } else if (op === 'StringEquals') {
        if (!wanted.includes(actual)) return false;
      } else {
        return false; // unsupported operator: never satisfied (fail closed)
      }
    }
  }
  return true;
}

function matches(s: Statement, req: PolicyRequest): boolean {
  if (!list(s.Action).some((a) => a === '*' || a === 'iot:*' || globMatch(a, req.action))) return false;
  if (hasGlob(req.variables)) return false;
  const arn = LOCAL_ARN_PREFIX + req.resource;
  const resourceMatch = list(s.Resource).some((r) => {
    const p = substitute(r, req.variables);
    return p !== undefined && globMatch(p, arn);
  });
  return resourceMatch && conditionHolds(s.Condition, req.context ?? {});
}

/** True when the policy allows the request (some Allow matches and no Deny does). */
export function isAllowed(policy: Readonly<Record<string, unknown>>, req: PolicyRequest): boolean {
  const statements = list((policy.Statement ?? []) as Statement | readonly Statement[]);
  let allowed = false;
  for (const s of statements) {
    if (!matches(s, req)) continue;
    if (s.Effect === 'Deny') return false;
    if (s.Effect === 'Allow') allowed = true;
  }
  return allowed;
}
