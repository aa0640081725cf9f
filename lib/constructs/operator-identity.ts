import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AccountRecovery, FeaturePlan, Mfa, UserPool, UserPoolClient, UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { acknowledgeNag } from '../nag.js';

/** Roles, highest first; Cognito group names are `project:role` (see lambdas/domain/authz.ts). */
export const OPERATOR_ROLES = ['admin', 'operator', 'viewer'] as const;

export interface OperatorIdentityProps {
  /**
   * Project whose role groups are created (`<project>:admin`, `…:operator`, `…:viewer`).
   * @default 'default'
   */
  readonly project?: string;
  /**
   * Whether users must enrol a TOTP second factor. `optional` lets each user choose.
   * @default 'required'
   */
  readonly mfa?: 'required' | 'optional';
  /**
   * What happens to the user pool when it leaves the stack.
   * @default RemovalPolicy.RETAIN
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * The default JWT issuer: a Cognito user pool for operators (no self sign-up, strong passwords,
 * TOTP MFA), one public app client for the CLI (SRP sign-in), and the role groups.
 * The issuer is `https://cognito-idp.<region>.amazonaws.com/<poolId>`; the audience is the
 * client id (HTTP API JWT authorizers match it against the access token's `client_id`).
 */
export class OperatorIdentity extends Construct {
  public readonly userPool: UserPool;
  public readonly client: UserPoolClient;
  public readonly groups: readonly UserPoolGroup[];
  public readonly issuer: string;
  public readonly audience: readonly string[];

  constructor(scope: Construct, id: string, props: OperatorIdentityProps = {}) {
    super(scope, id);
    const project = props.project ?? 'default';
    if (!/^[a-z0-9][a-z0-9-]{0,62}$/.test(project)) {
      throw new Error(`OperatorIdentity: project must match [a-z0-9][a-z0-9-]{0,62}, got '${project}'`);
    }
    this.userPool = new UserPool(this, 'UserPool', {
      selfSignUpEnabled: false,
      signInAliases: { username: true, email: true },
      signInCaseSensitive: false,
      passwordPolicy: {
        minLength: 12,
        requireLowercase: true,
        requireUppercase: true,
        requireDigits: true,
        requireSymbols: true,
        tempPasswordValidity: Duration.days(3),
      },
      mfa: (props.mfa ?? 'required') === 'required' ? Mfa.REQUIRED : Mfa.OPTIONAL,
      mfaSecondFactor: { otp: true, sms: false },
      accountRecovery: AccountRecovery.EMAIL_ONLY,
      featurePlan: FeaturePlan.ESSENTIALS,
      deletionProtection: true,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    acknowledgeNag(this.userPool, 'AwsSolutions-COG8',
      'The Plus feature plan (threat protection) is billed per monthly active user; the pool only ' +
      'holds a handful of operators with TOTP MFA required. Enable Plus per deployment if wanted.');
    this.client = this.userPool.addClient('CliClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      disableOAuth: true,
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });
    this.groups = OPERATOR_ROLES.map((role, precedence) => new UserPoolGroup(this, `Group-${role}`, {
      userPool: this.userPool,
      groupName: `${project}:${role}`,
      description: `EdgeFleet ${role} of project ${project}`,
      precedence,
    }));
    this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
    this.audience = [this.client.userPoolClientId];
  }
}
