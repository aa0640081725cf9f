import { Aws, RemovalPolicy } from 'aws-cdk-lib';
import { Effect, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { CfnPolicy } from 'aws-cdk-lib/aws-iot';
import { Construct } from 'constructs';
import { devicePolicyDocument } from '../../lambdas/contracts/iot.js';
import { HANDLER_ENV } from '../api-routes.js';
import { acknowledgeNag } from '../nag.js';
import { deployArn, wildcardFinding } from '../arns.js';
import type { EdgeFunction } from './edge-function.js';

/**
 * Device identity on AWS IoT Core: the per-thing device policy (the same document the local
 * broker enforces) and least-privilege grants for the functions that provision and retire
 * devices (things, certificates from CSRs, policy attachment).
 */
export class DeviceIdentity extends Construct {
  public readonly policy: CfnPolicy;
  /** The IoT policy name (CloudFormation-generated). */
  public readonly policyName: string;
  public readonly policyArn: string;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.policy = new CfnPolicy(this, 'DevicePolicy', {
      policyDocument: devicePolicyDocument(Aws.PARTITION, Aws.REGION, Aws.ACCOUNT_ID),
    });
    // An IoT policy attached to a certificate cannot be deleted (DeleteConflictException), and
    // every registered device's certificate has it: deleting it with the stack would either
    // fail the stack deletion or, if detached first, cut every device off. It is retained; the
    // README ("Deleting the stack") says how to remove it once the devices are gone.
    this.policy.applyRemovalPolicy(RemovalPolicy.RETAIN);
    this.policyName = this.policy.ref;
    this.policyArn = this.policy.attrArn;
  }

  private arn(resource: string): string {
    return deployArn({ service: 'iot', resource, resourceName: '*' });
  }

  /**
   * Registration: create things, sign CSRs, attach the device policy and certificates; revoke on
   * re-registration. Resource types as AWS's service authorization reference gives them:
   * AttachThingPrincipal and AttachPolicy are authorized on the certificate (`cert`), not on
   * the thing or the policy; CreateThing on the thing.
   */
  grantProvision(fn: EdgeFunction): void {
    fn.function.addEnvironment(HANDLER_ENV.iotPolicyName, this.policyName);
    // ListThingPrincipals and DetachThingPrincipal: a retried registration retires the certificates the host record does not name.
    fn.role.addToPrincipalPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions: ['iot:CreateThing', 'iot:ListThingPrincipals'], resources: [this.arn('thing')] }));
    fn.role.addToPrincipalPolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['iot:AttachPolicy', 'iot:AttachThingPrincipal', 'iot:DetachThingPrincipal', 'iot:UpdateCertificate'],
      resources: [this.arn('cert')],
    }));
    fn.role.addToPrincipalPolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['iot:CreateCertificateFromCsr', 'iot:DescribeEndpoint'],
      resources: ['*'],
    }));
    this.acknowledgeWildcards(fn, 'CreateCertificateFromCsr and DescribeEndpoint');
  }

  /** Decommission: revoke the certificate, detach it (authorized on the `cert`) and delete the thing. */
  grantDeprovision(fn: EdgeFunction): void {
    fn.function.addEnvironment(HANDLER_ENV.iotPolicyName, this.policyName);
    fn.role.addToPrincipalPolicy(new PolicyStatement({
      effect: Effect.ALLOW,
      actions: ['iot:ListThingPrincipals', 'iot:DeleteThing'],
      resources: [this.arn('thing')],
    }));
    fn.role.addToPrincipalPolicy(new PolicyStatement({
      effect: Effect.ALLOW, actions: ['iot:DetachThingPrincipal', 'iot:UpdateCertificate'], resources: [this.arn('cert')],
    }));
    this.acknowledgeWildcards(fn, 'thing and certificate names');
  }

  private acknowledgeWildcards(fn: EdgeFunction, what: string): void {
    acknowledgeNag(fn.role, 'AwsSolutions-IAM5[Resource::*]',
      `IoT ${what}: iot:CreateCertificateFromCsr and iot:DescribeEndpoint support no resource-level permissions, so IAM requires "*".`);
    for (const kind of ['thing', 'cert']) {
      acknowledgeNag(fn.role, wildcardFinding({ service: 'iot', resource: kind, resourceName: '*' }),
        `IoT ${what}: devices register at run time with names (hardware ids) and certificate ids unknown at deploy time; the grant stays within this account and region.`);
    }
  }
}
