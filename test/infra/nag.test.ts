import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { EdgeFleetStack } from '../../lib/edgefleet-stack.js';
import { addNagChecks } from '../../lib/nag.js';
import { fakeAgentBuild } from './agent-build.js';
import { testApp } from './helpers.js';

interface NagRun {
  readonly error?: Error;
  readonly violations: { ruleName: string; violatingConstructs: { constructPath: string }[] }[];
}

/** Synthesizes `build(app)` with the AwsSolutions pack and returns the validation report. */
function synthWithNag(build: (app: App) => void, context: Record<string, unknown> = {}): NagRun {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-nag-'));
  try {
    const app = new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
    build(app);
    addNagChecks(app);
    let error: Error | undefined;
    try {
      app.synth();
    } catch (e) {
      error = e as Error;
    }
    const reportFile = path.join(outdir, 'validation-report.json');
    const report = existsSync(reportFile) ? JSON.parse(readFileSync(reportFile, 'utf8')) : { pluginReports: [] };
    const violations = (report.pluginReports ?? []).flatMap((p: any) => p.violations ?? []);
    return { error, violations };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const summary = (run: NagRun) => run.violations.map((v) => `${v.ruleName} @ ${v.violatingConstructs.map((c) => c.constructPath).join(', ')}`);

/** `cdk deploy` always resolves both (CDK_DEFAULT_ACCOUNT/REGION); in-process synth leaves them tokens. */
const ENVIRONMENTS = [
  ['environment-agnostic', undefined],
  ['for account 123456789012 in eu-west-1 (as cdk deploy)', { account: '123456789012', region: 'eu-west-1' }],
  ['for account 210987654321 in us-gov-west-1', { account: '210987654321', region: 'us-gov-west-1' }],
] as const;

describe('cdk-nag AwsSolutions', () => {
  it.each(ENVIRONMENTS)('the EdgeFleet stack (Cognito issuer) synthesized %s has zero unacknowledged findings', (_label, env) => {
    const run = synthWithNag((app) => new EdgeFleetStack(app, 'NagStack', { env }));
    expect(summary(run)).toEqual([]);
    expect(run.error).toBeUndefined();
  });

  it.each(ENVIRONMENTS)('the EdgeFleet stack with an external issuer synthesized %s has zero unacknowledged findings', (_label, env) => {
    const run = synthWithNag((app) => new EdgeFleetStack(app, 'NagStack', { env }), {
      'edgefleet:jwtIssuer': 'https://idp.example.com', 'edgefleet:jwtAudience': 'cli',
    });
    expect(summary(run)).toEqual([]);
    expect(run.error).toBeUndefined();
  });

  it('the EdgeFleet stack publishing an agent build (BucketDeployment) has zero unacknowledged findings', () => {
    const build = fakeAgentBuild();
    try {
      const run = synthWithNag((app) => new EdgeFleetStack(app, 'NagStack', { env: ENVIRONMENTS[1][1] }), { 'edgefleet:agentArtifacts': build.dir });
      expect(summary(run)).toEqual([]);
      expect(run.error).toBeUndefined();
    } finally {
      rmSync(build.dir, { recursive: true, force: true });
    }
  });

  it('is really running: an unacknowledged finding next to the stack fails synth', () => {
    const run = synthWithNag((app) => {
      new EdgeFleetStack(app, 'NagStack');
      const other = new Stack(app, 'Other');
      new Queue(other, 'Bare');
    });
    expect(run.error).toBeDefined();
    expect(summary(run).length).toBeGreaterThan(0);
    for (const line of summary(run)) expect(line).toMatch(/^AwsSolutions-SQS\d @ Other\/Bare\//);
  });
});

describe('acknowledgeNag', () => {
  it('demands a rule id and a real reason', async () => {
    const { acknowledgeNag } = await import('../../lib/nag.js');
    const stack = new Stack(testApp(), 'Ack');
    expect(() => acknowledgeNag(stack, 'IAM5', 'a reason that is long enough')).toThrow(/bad rule id/);
    expect(() => acknowledgeNag(stack, 'AwsSolutions-L1', 'because')).toThrow(/real reason/);
    expect(() => acknowledgeNag(stack, 'AwsSolutions-IAM5[Resource::*]', 'X-Ray has no resource-level permissions')).not.toThrow();
  });
});
