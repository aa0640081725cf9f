import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnElement } from 'aws-cdk-lib';
import { EdgeFleetStack, type EdgeFleetStackProps } from '../../lib/edgefleet-stack.js';
import type { ApiGroup } from '../../lib/api-routes.js';

/**
 * The cloud assemblies of this test file's apps, removed after its tests. An App without an
 * outdir makes a `cdk.out*` temp directory of its own that nothing removes (about 23 MB with the
 * stack's assets staged): a full run left 50 of them behind.
 */
const outdirs: string[] = [];
afterAll(() => {
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fast app: no esbuild bundling; its assembly in a temp directory removed after the file's tests. */
export const testApp = (context: Record<string, unknown> = {}): App => {
  const outdir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-test-cdk-'));
  outdirs.push(outdir);
  return new App({ outdir, context: { 'aws:cdk:bundling-stacks': [], ...context } });
};

export interface Synthesized {
  readonly stack: EdgeFleetStack;
  readonly template: Template;
}

export function synthStack(context: Record<string, unknown> = {}, props: EdgeFleetStackProps = {}): Synthesized {
  const stack = new EdgeFleetStack(testApp(context), 'TestStack', props);
  return { stack, template: Template.fromStack(stack) };
}

export const logicalIdOf = (construct: { node: { defaultChild?: unknown } }): string => {
  const cfn = construct.node.defaultChild as CfnElement;
  return Stack.of(cfn).getLogicalId(cfn);
};

/** Logical id of the Lambda function serving an API group, found by its Powertools service name. */
export function functionIdOf(template: Template, group: ApiGroup): string {
  const fns = template.findResources('AWS::Lambda::Function', {
    Properties: { Environment: { Variables: { POWERTOOLS_SERVICE_NAME: `edgefleet-api-${group}` } } },
  });
  const ids = Object.keys(fns);
  if (ids.length !== 1) throw new Error(`expected one function for ${group}, found ${ids.length}`);
  return ids[0]!;
}

export interface Statement {
  readonly Effect: string;
  readonly Action: string | string[];
  readonly Resource: unknown;
}

/** Every IAM statement attached (inline) to the execution role of `functionId`. */
export function statementsOfFunction(template: Template, functionId: string): Statement[] {
  const fn = template.toJSON().Resources[functionId];
  const roleId: string = fn.Properties.Role['Fn::GetAtt'][0];
  const policies = Object.values(template.findResources('AWS::IAM::Policy')).filter((p: any) =>
    (p.Properties.Roles as unknown[]).some((r: any) => r?.Ref === roleId));
  return policies.flatMap((p: any) => p.Properties.PolicyDocument.Statement as Statement[]);
}

const refersTo = (value: unknown, logicalId: string): boolean => JSON.stringify(value).includes(`"${logicalId}"`);

/** The DynamoDB actions a function may perform on a table (by the table's logical id). */
export function tableActions(statements: readonly Statement[], tableId: string): Set<string> {
  const out = new Set<string>();
  for (const s of statements) {
    if (s.Effect !== 'Allow' || !refersTo(s.Resource, tableId)) continue;
    for (const a of [s.Action].flat()) out.add(a);
  }
  return out;
}

/**
 * Asserts that the resource `logicalId` (of `type`) matches `properties` with the assertions
 * library's matching (objects objectLike at every level, arrays exact; `Match.*` where given).
 */
export function expectResource(template: Template, type: string, logicalId: string, properties: Record<string, unknown>): void {
  const matching = Object.keys(template.findResources(type, { Properties: properties }));
  if (!matching.includes(logicalId)) {
    throw new Error(`${type} ${logicalId} does not match ${JSON.stringify(properties)}; it is ${JSON.stringify(template.findResources(type)[logicalId]?.Properties)}`);
  }
}
