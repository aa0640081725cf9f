import { Validations, type App } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';

/**
 * Acknowledges one AwsSolutions finding on `scope` and everything below it (cdk-nag 3 /
 * CDK validation acknowledgements). `rule` is the id cdk-nag prints after `AwsSolutions::`,
 * e.g. `AwsSolutions-L1` or `AwsSolutions-IAM5[Resource::*]`. Keep the scope as narrow as the
 * cause, and say why in `reason`.
 */
export function acknowledgeNag(scope: IConstruct, rule: string, reason: string): void {
  if (!/^AwsSolutions-[A-Z]+[0-9]+(\[.+\])?$/.test(rule)) throw new Error(`acknowledgeNag: bad rule id '${rule}'`);
  if (reason.trim().length < 20) throw new Error(`acknowledgeNag: give a real reason for ${rule}`);
  Validations.of(scope).acknowledge({ id: `AwsSolutions::${rule}`, reason });
}

/** Runs the AwsSolutions pack on every stack of `app` at synth; synth fails on a finding. */
export function addNagChecks(app: App): void {
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
}
