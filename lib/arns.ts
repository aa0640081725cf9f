import { Arn, ArnFormat, Aws } from 'aws-cdk-lib';

export interface ArnParts {
  readonly service: string;
  readonly resource: string;
  readonly resourceName?: string;
  /** @default ArnFormat.SLASH_RESOURCE_NAME */
  readonly arnFormat?: ArnFormat;
}

/**
 * An ARN in the deploying account, region and partition, always spelled with the pseudo
 * parameters (`${AWS::Region}`…), never with the stack's resolved `env`. The template and every
 * cdk-nag finding about a wildcard in it are then the same whether the stack is synthesized
 * environment-agnostic or for an account and region (as `cdk deploy` does), so acknowledgements
 * made with `wildcardFinding` hold in both.
 */
export function deployArn(parts: ArnParts): string {
  return Arn.format({
    partition: Aws.PARTITION, region: Aws.REGION, account: Aws.ACCOUNT_ID,
    arnFormat: ArnFormat.SLASH_RESOURCE_NAME, ...parts,
  });
}

/** The cdk-nag AwsSolutions-IAM5 finding id of a wildcard resource built with `deployArn`. */
export function wildcardFinding(parts: ArnParts): string {
  const sep = parts.arnFormat === ArnFormat.COLON_RESOURCE_NAME ? ':' : '/';
  const tail = parts.resourceName === undefined ? '' : `${sep}${parts.resourceName}`;
  return `AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:${parts.service}:<AWS::Region>:<AWS::AccountId>:${parts.resource}${tail}]`;
}
