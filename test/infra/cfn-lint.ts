/**
 * cfn-lint over the synthesized template and over every state machine definition on its own
 * (used by .ci/run and test/infra/cfn-lint.test.ts). In the template a definition is a
 * DefinitionString built with Fn::Join, which cfn-lint cannot see into; here each one is
 * resolved (account 123456789012, eu-west-1) and written as the `Definition` object of a
 * one-resource template, where cfn-lint validates the Amazon States Language (E3601).
 *
 *   npx tsx test/infra/cfn-lint.ts <template.json> [...]   → exit 0 when cfn-lint reports no error
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TemplateResolver } from './template-resolver.js';

export const LINT_ENV = { account: '123456789012', region: 'eu-west-1', partition: 'aws' } as const;

/** Writes one template per state machine of `templateFile` into `outDir`; returns their paths. */
export function extractStateMachines(templateFile: string, outDir: string): string[] {
  const template = JSON.parse(readFileSync(templateFile, 'utf8'));
  const resolver = new TemplateResolver(template, LINT_ENV);
  mkdirSync(outDir, { recursive: true });
  const files: string[] = [];
  for (const [id, r] of Object.entries(template.Resources as Record<string, any>)) {
    if (r.Type !== 'AWS::StepFunctions::StateMachine') continue;
    const raw = r.Properties.DefinitionString ?? r.Properties.Definition;
    const definition = typeof raw === 'string' || raw?.['Fn::Join'] ? JSON.parse(resolver.resolve(raw)) : resolver.resolve(raw);
    const file = path.join(outDir, `${id}.template.json`);
    writeFileSync(file, JSON.stringify({
      AWSTemplateFormatVersion: '2010-09-09',
      Description: `State machine ${id} of ${path.basename(templateFile)}, extracted for cfn-lint`,
      Resources: {
        [id]: {
          Type: 'AWS::StepFunctions::StateMachine',
          Properties: { RoleArn: `arn:aws:iam::${LINT_ENV.account}:role/lint`, StateMachineType: 'STANDARD', Definition: definition },
        },
      },
    }, null, 2));
    files.push(file);
  }
  return files;
}

export interface LintResult {
  readonly status: number;
  /** cfn-lint's exit status is a bit mask: 2 = errors, 4 = warnings, 8 = informational; 1 = it failed. */
  readonly errors: boolean;
  readonly output: string;
}

export function cfnLint(files: readonly string[]): LintResult {
  const run = spawnSync('cfn-lint', ['--format', 'parseable', '--', ...files], { encoding: 'utf8' });
  if (run.error) throw new Error(`cannot run cfn-lint (${run.error.message}); install it with pip install cfn-lint`);
  const status = run.status ?? 1;
  return { status, errors: status === 1 || (status & 2) !== 0, output: `${run.stdout}${run.stderr}` };
}

export function cfnLintAvailable(): boolean {
  return !spawnSync('cfn-lint', ['--version'], { encoding: 'utf8' }).error;
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const templates = process.argv.slice(2);
  if (templates.length === 0) {
    console.error('usage: tsx test/infra/cfn-lint.ts <template.json> [...]');
    process.exit(64);
  }
  const machines = templates.flatMap((t) => extractStateMachines(t, path.join(path.dirname(t), 'state-machines')));
  const result = cfnLint([...templates, ...machines]);
  console.log(result.output.trim() || 'cfn-lint: no findings');
  console.log(`cfn-lint: ${templates.length} template(s) and ${machines.length} state machine definition(s): ${result.errors ? 'ERRORS' : 'no errors'} (exit status ${result.status})`);
  process.exit(result.errors ? 1 : 0);
}
