import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { EdgeFleetStack } from '../../lib/edgefleet-stack.js';
import { cfnLint, cfnLintAvailable, extractStateMachines, LINT_ENV } from './cfn-lint.js';

const available = cfnLintAvailable();
if (!available) console.warn('cfn-lint is not installed: test/infra/cfn-lint.test.ts is SKIPPED (pip install cfn-lint); .ci/run says so too');

(available ? describe : describe.skip)('cfn-lint (the stack synthesized for 123456789012 / eu-west-1)', () => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-cfn-lint-'));
  afterAll(() => rmSync(outdir, { recursive: true, force: true }));
  const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [] } });
  const stack = new EdgeFleetStack(app, 'EdgeFleet', { env: { account: LINT_ENV.account, region: LINT_ENV.region } });
  const assembly = app.synth();
  const templateFile = path.join(outdir, assembly.getStackByName(stack.stackName).templateFile);
  const machines = extractStateMachines(templateFile, path.join(outdir, 'state-machines'));

  it('reports no error on the template and the seven state machine definitions (six cluster workflows and the rollout)', () => {
    expect(machines).toHaveLength(7);
    const result = cfnLint([templateFile, ...machines]);
    expect({ errors: result.errors, output: result.output.split('\n').filter((l) => /:E\d{4}:/.test(l)) }).toEqual({ errors: false, output: [] });
  }, 120_000);

  it('catches a broken state machine definition (ASL is really checked)', () => {
    const t = JSON.parse(readFileSync(machines[0]!, 'utf8'));
    const [id] = Object.keys(t.Resources) as [string];
    const definition = t.Resources[id].Properties.Definition;
    definition.States[definition.StartAt].Type = 'Taks';
    const broken = path.join(outdir, 'broken.template.json');
    writeFileSync(broken, JSON.stringify(t));
    const result = cfnLint([broken]);
    expect(result.errors).toBe(true);
    expect(result.output).toMatch(/E3601/);
  }, 60_000);
});
