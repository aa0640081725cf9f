import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import {
  AccountRecovery, CfnManagedLoginBranding, CfnUserPoolClient, FeaturePlan, ManagedLoginVersion, Mfa, OAuthScope, UserPool,
  UserPoolClient, UserPoolClientIdentityProvider, UserPoolDomain, UserPoolGroup,
} from 'aws-cdk-lib/aws-cognito';
import { Construct } from 'constructs';
import { AUTH_ENV, CLI_CALLBACK_PATH, DEFAULT_CLI_REDIRECT_PORT, type ConsoleSignIn } from '../../lambdas/contracts/auth-config.js';
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
  /**
   * Prefix of the managed login domain `https://<prefix>.auth.<region>.amazoncognito.com`
   * (lowercase letters, digits and hyphens, unique in the region; may not contain aws, amazon
   * or cognito).
   * @default - `edgefleet-<account id>-<8 characters of this construct's address>`
   */
  readonly domainPrefix?: string;
  /**
   * Loopback port of the CLI's redirect URI. Cognito matches callback URLs exactly, port
   * included, so `edgefleet login` listens on this port (it learns it from `GET /v1/auth/config`).
   * @default 8976
   */
  readonly cliRedirectPort?: number;
}

/**
 * The default JWT issuer: a Cognito user pool for operators (no self sign-up, strong passwords,
 * TOTP MFA), its managed login domain, one public app client for the CLI (authorization code
 * grant with PKCE through managed login and a loopback redirect, RFC 8252; SRP for SDKs), and
 * the role groups. The issuer is `https://cognito-idp.<region>.amazonaws.com/<poolId>`; the
 * audience is the client id (HTTP API JWT authorizers match it against the access token's
 * `client_id`).
 */
export class OperatorIdentity extends Construct {
  public readonly userPool: UserPool;
  public readonly client: UserPoolClient;
  public readonly groups: readonly UserPoolGroup[];
  public readonly issuer: string;
  /** The CLI's client id, then the console's once `addConsoleClient` made it (the API accepts both). */
  public readonly audience: readonly string[];
  private readonly clientIds: string[] = [];
  /** The web console's app client (`addConsoleClient`). */
  public consoleClient?: UserPoolClient;
  public readonly domain: UserPoolDomain;
  /** Base URL of the managed login pages, e.g. `https://edgefleet-….auth.eu-west-1.amazoncognito.com`. */
  public readonly domainUrl: string;
  /** What `edgefleet login` asks for: `openid` (Cognito issues a refresh token with every code grant). */
  public readonly cliScopes: readonly string[] = ['openid', 'email', 'profile'];
  public readonly cliRedirectPort: number;

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
    this.cliRedirectPort = props.cliRedirectPort ?? DEFAULT_CLI_REDIRECT_PORT;
    if (!Number.isInteger(this.cliRedirectPort) || this.cliRedirectPort < 1024 || this.cliRedirectPort > 65535) {
      throw new Error(`OperatorIdentity: cliRedirectPort must be an integer from 1024 to 65535, got ${this.cliRedirectPort}`);
    }
    const prefix = props.domainPrefix ?? `edgefleet-${Stack.of(this).account}-${this.node.addr.slice(0, 8)}`;
    if (!Token.isUnresolved(prefix) && (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(prefix) || /aws|amazon|cognito/.test(prefix))) {
      throw new Error(`OperatorIdentity: domainPrefix must be lowercase letters, digits and hyphens without aws, amazon or cognito, got '${prefix}'`);
    }
    this.domain = this.userPool.addDomain('Domain', {
      cognitoDomain: { domainPrefix: prefix },
      managedLoginVersion: ManagedLoginVersion.NEWER_MANAGED_LOGIN,
    });
    this.domainUrl = this.domain.baseUrl();
    this.client = this.userPool.addClient('CliClient', {
      authFlows: { userSrp: true },
      generateSecret: false,
      // Loopback redirects (RFC 8252 §7.3); Cognito allows plain http only for these hosts.
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [
          `http://127.0.0.1:${this.cliRedirectPort}${CLI_CALLBACK_PATH}`,
          `http://localhost:${this.cliRedirectPort}${CLI_CALLBACK_PATH}`,
        ],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.days(30),
    });
    // Managed login (v2) shows a page only for app clients with a branding style: Cognito's default one.
    new CfnManagedLoginBranding(this, 'CliLoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.client.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    this.groups = OPERATOR_ROLES.map((role, precedence) => new UserPoolGroup(this, `Group-${role}`, {
      userPool: this.userPool,
      groupName: `${project}:${role}`,
      description: `EdgeFleet ${role} of project ${project}`,
      precedence,
    }));
    this.issuer = `https://cognito-idp.${Stack.of(this).region}.amazonaws.com/${this.userPool.userPoolId}`;
    this.clientIds.push(this.client.userPoolClientId);
    this.audience = this.clientIds;
  }

  /**
   * The web console's public app client: authorization code grant with PKCE (Cognito requires
   * PKCE of public clients with managed login), no secret, the console's URL as its only callback
   * and sign-out URL; its id joins `audience`. Once per pool.
   */
  addConsoleClient(consoleUrl: string): UserPoolClient {
    if (this.consoleClient) throw new Error('OperatorIdentity: the console client exists already (addConsoleClient is called once)');
    this.consoleClient = this.userPool.addClient('ConsoleClient', {
      generateSecret: false,
      oAuth: {
        flows: { authorizationCodeGrant: true },
        scopes: [OAuthScope.OPENID, OAuthScope.EMAIL, OAuthScope.PROFILE],
        callbackUrls: [consoleUrl],
        logoutUrls: [consoleUrl],
      },
      supportedIdentityProviders: [UserPoolClientIdentityProvider.COGNITO],
      preventUserExistenceErrors: true,
      enableTokenRevocation: true,
      accessTokenValidity: Duration.hours(1),
      idTokenValidity: Duration.hours(1),
      refreshTokenValidity: Duration.hours(12),
    });
    // No password, SRP or custom flows of its own (Cognito's default without a list): the browser
    // only goes through managed login, and refreshes.
    (this.consoleClient.node.defaultChild as CfnUserPoolClient).explicitAuthFlows = ['ALLOW_REFRESH_TOKEN_AUTH'];
    new CfnManagedLoginBranding(this, 'ConsoleLoginBranding', {
      userPoolId: this.userPool.userPoolId,
      clientId: this.consoleClient.userPoolClientId,
      useCognitoProvidedValues: true,
    });
    this.clientIds.push(this.consoleClient.userPoolClientId);
    return this.consoleClient;
  }
}

/** Context keys of the console's client at an external issuer. */
export const CONSOLE_CONTEXT = {
  /** Its public client id (default: the CLI's client); the API's audience must accept its tokens. */
  clientId: 'edgefleet:consoleClientId',
  /** Comma-separated origins besides the issuer's that the console calls (a token endpoint elsewhere). */
  connectSrc: 'edgefleet:consoleConnectSrc',
} as const;

/** What the console signs in with, and the origins its sign-in calls (for the CSP's connect-src). */
export interface ConsoleSignInPlan {
  /** Origins the sign-in calls besides the API. */
  readonly connectSrc: readonly string[];
  /** Made once the console's URL is known (its redirect URI). */
  readonly settings: (consoleUrl: string) => ConsoleSignIn;
}

/**
 * The stack's Cognito: a console client, managed login's authorize/token/logout endpoints.
 * An external issuer: the client named by `edgefleet:consoleClientId` (default the CLI's), the
 * endpoints left to the console to discover at `<issuer>/.well-known/openid-configuration`.
 */
export function consoleSignInPlan(scope: Construct, issuer: string, cliSettings: Readonly<Record<string, string>>, identity?: OperatorIdentity): ConsoleSignInPlan {
  if (identity) {
    const base = identity.domainUrl;
    return {
      connectSrc: [base],
      settings: (consoleUrl) => ({
        clientId: identity.addConsoleClient(consoleUrl).userPoolClientId,
        scopes: [...identity.cliScopes],
        redirectUri: consoleUrl,
        authorizationEndpoint: `${base}/oauth2/authorize`,
        tokenEndpoint: `${base}/oauth2/token`,
        endSessionEndpoint: `${base}/logout`,
      }),
    };
  }
  const named = scope.node.tryGetContext(CONSOLE_CONTEXT.clientId) as unknown;
  const clientId = typeof named === 'string' && named.trim() !== '' ? named.trim() : cliSettings[AUTH_ENV.clientId];
  if (!clientId) throw new Error(`Set ${CONSOLE_CONTEXT.clientId} to the public OIDC client the web console signs in with`);
  const extra = scope.node.tryGetContext(CONSOLE_CONTEXT.connectSrc) as unknown;
  const origins = typeof extra === 'string' ? extra.split(',').map((o) => o.trim()).filter(Boolean) : [];
  return {
    connectSrc: [new URL(issuer).origin, ...origins],
    settings: (consoleUrl) => ({ clientId, scopes: ['openid', 'profile', 'email'], redirectUri: consoleUrl }),
  };
}

/** Context key naming the CLI's public client at an external issuer (default: its first audience). */
export const CLI_CLIENT_ID_CONTEXT = 'edgefleet:cliClientId';

/**
 * What `GET /v1/auth/config` serves (as the meta handler's environment): the stack's Cognito
 * app client, or for an external issuer the client named by `edgefleet:cliClientId` (default
 * the first audience) with `openid offline_access` (refresh tokens) and any loopback port.
 */
export function cliSignInEnvironment(scope: Construct, issuer: string, audience: readonly string[], identity?: OperatorIdentity): Record<string, string> {
  if (identity) {
    return {
      [AUTH_ENV.issuer]: issuer,
      [AUTH_ENV.clientId]: identity.client.userPoolClientId,
      [AUTH_ENV.scopes]: identity.cliScopes.join(' '),
      [AUTH_ENV.redirectPort]: String(identity.cliRedirectPort),
    };
  }
  const named = scope.node.tryGetContext(CLI_CLIENT_ID_CONTEXT) as unknown;
  const clientId = typeof named === 'string' && named.trim() !== '' ? named.trim() : audience[0];
  if (!clientId) throw new Error(`Set ${CLI_CLIENT_ID_CONTEXT} to the public OIDC client the CLI signs in with`);
  return { [AUTH_ENV.issuer]: issuer, [AUTH_ENV.clientId]: clientId, [AUTH_ENV.scopes]: 'openid offline_access' };
}
