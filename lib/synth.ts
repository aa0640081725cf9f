import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { EdgeFleetStack } from './edgefleet-stack.js';

/** Stack name used for in-process synthesis (the local runtime's view of the deployment). */
export const LOCAL_STACK_NAME = 'EdgeFleet';

export interface SynthesizeOptions {
  /** Extra CDK context, e.g. `{ 'edgefleet:jwtIssuer': …, 'edgefleet:jwtAudience': … }`. */
  readonly context?: Record<string, unknown>;
}

/**
 * Synthesizes the EdgeFleet stack in-process and returns its CloudFormation template.
 * No esbuild bundling (`aws:cdk:bundling-stacks: []`), no cdk-nag, no environment (account and
 * region stay tokens), path metadata on (the local runtime finds resources by `aws:cdk:path`).
 * The cloud assembly goes to a fresh temp directory that is removed before returning.
 * Handler entry files must exist (NodejsFunction checks them even without bundling).
 */
export function synthesizeTemplate(opts: SynthesizeOptions = {}): Record<string, any> {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-synth-'));
  try {
    const app = new App({
      outdir,
      context: {
        ...opts.context,
        'aws:cdk:bundling-stacks': [],
        'aws:cdk:enable-path-metadata': true,
      },
    });
    const stack = new EdgeFleetStack(app, LOCAL_STACK_NAME);
    const assembly = app.synth();
    return assembly.getStackByName(stack.stackName).template as Record<string, any>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
