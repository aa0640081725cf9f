/**
 * Guards the "one definition, two runtimes" promise for state machines: aws-local-stepfunctions
 * silently ignores JSONata and has no variables (`Assign`) and no heartbeats, so a definition
 * using them would behave differently on one machine than on AWS. Pure; no CDK import.
 */

export type UnsupportedAslFeature = 'JSONata' | 'Assign' | 'HeartbeatSeconds';

export interface AslFinding {
  readonly feature: UnsupportedAslFeature;
  /** Where, e.g. `States.Fan out.ItemProcessor.States.Notify.Assign`. */
  readonly path: string;
}

/**
 * Lists every use of a feature the local runtime cannot run faithfully: `QueryLanguage:
 * "JSONata"` (top level or per state) and `{% … %}` expressions, `Assign`, and
 * `HeartbeatSeconds(Path)`. Walks nested Map (`ItemProcessor`/`Iterator`) and Parallel
 * (`Branches`) states. `definition` is an ASL JSON string or an already parsed object.
 */
export function findUnsupportedAslFeatures(definition: string | object): AslFinding[] {
  const asl: any = typeof definition === 'string' ? JSON.parse(definition) : definition;
  if (!asl || typeof asl !== 'object' || typeof asl.States !== 'object') {
    throw new Error('findUnsupportedAslFeatures: not an ASL definition (no States)');
  }
  const findings: AslFinding[] = [];
  walkMachine(asl, '', findings);
  return findings;
}

function walkMachine(machine: any, at: string, out: AslFinding[]): void {
  if (machine.QueryLanguage === 'JSONata') out.push({ feature: 'JSONata', path: `${at}QueryLanguage` });
  for (const [name, state] of Object.entries<any>(machine.States ?? {})) {
    const here = `${at}States.${name}`;
    if (!state || typeof state !== 'object') continue;
    if (state.QueryLanguage === 'JSONata') out.push({ feature: 'JSONata', path: `${here}.QueryLanguage` });
    if ('Assign' in state) out.push({ feature: 'Assign', path: `${here}.Assign` });
    for (const key of ['HeartbeatSeconds', 'HeartbeatSecondsPath']) {
      if (key in state) out.push({ feature: 'HeartbeatSeconds', path: `${here}.${key}` });
    }
    for (const key of ['Catch', 'Choices']) {
      (Array.isArray(state[key]) ? state[key] : []).forEach((c: any, i: number) => {
        if (c && typeof c === 'object' && 'Assign' in c) out.push({ feature: 'Assign', path: `${here}.${key}[${i}].Assign` });
      });
    }
    if (containsJsonataExpression(state, ['States', 'ItemProcessor', 'Iterator', 'Branches'])) {
      out.push({ feature: 'JSONata', path: `${here} ({% … %} expression)` });
    }
    for (const key of ['ItemProcessor', 'Iterator']) {
      if (state[key]?.States) walkMachine(state[key], `${here}.${key}.`, out);
    }
    (Array.isArray(state.Branches) ? state.Branches : []).forEach((b: any, i: number) => {
      if (b?.States) walkMachine(b, `${here}.Branches[${i}].`, out);
    });
  }
}

/** True if any string value (outside the skipped keys) is a JSONata `{% … %}` expression. */
function containsJsonataExpression(value: unknown, skipKeys: readonly string[] = []): boolean {
  if (typeof value === 'string') return /^\s*\{%[\s\S]*%\}\s*$/.test(value);
  if (Array.isArray(value)) return value.some((v) => containsJsonataExpression(v));
  if (value && typeof value === 'object') {
    return Object.entries(value).some(([k, v]) => !skipKeys.includes(k) && containsJsonataExpression(v));
  }
  return false;
}

export interface TemplateAslScan {
  /** Logical ids of the AWS::StepFunctions::StateMachine resources examined. */
  readonly scanned: readonly string[];
  readonly findings: readonly (AslFinding & { readonly stateMachine: string })[];
}

/**
 * Runs `findUnsupportedAslFeatures` over every state machine of a synthesized template.
 * `DefinitionString` may be an `Fn::Join`; its non-literal parts (ARNs, names) are replaced by
 * a placeholder, which keeps the JSON valid because CDK only puts intrinsics inside strings.
 */
export function scanTemplateAsl(template: any): TemplateAslScan {
  const scanned: string[] = [];
  const findings: (AslFinding & { stateMachine: string })[] = [];
  for (const [id, res] of Object.entries<any>(template?.Resources ?? {})) {
    if (res?.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const p = res.Properties ?? {};
    const definition = p.Definition ?? flattenIntrinsics(p.DefinitionString);
    if (definition === undefined) throw new Error(`scanTemplateAsl: ${id} has no inline definition`);
    scanned.push(id);
    for (const f of findUnsupportedAslFeatures(definition)) findings.push({ ...f, stateMachine: id });
  }
  return { scanned, findings };
}

function flattenIntrinsics(v: unknown): string | undefined {
  if (v === undefined) return undefined;
  if (typeof v === 'string') return v;
  const join = (v as any)?.['Fn::Join'];
  if (Array.isArray(join) && Array.isArray(join[1])) {
    return join[1].map((part: unknown) => (typeof part === 'string' ? part : flattenIntrinsics(part) ?? 'TOKEN'))
      .join(join[0]);
  }
  return 'TOKEN';
}
