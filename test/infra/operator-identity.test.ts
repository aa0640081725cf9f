/**
 * The operator sign-in the stack deploys: a Cognito managed login domain, an app client that
 * allows the authorization code grant (PKCE) with loopback redirects on the port the CLI uses,
 * and the meta handler's environment behind GET /v1/auth/config; or, with an external issuer,
 * that issuer and its CLI client.
 */
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { Stack } from 'aws-cdk-lib';
import { AUTH_ENV, DEFAULT_CLI_REDIRECT_PORT } from '../../lambdas/contracts/auth-config.js';
import { OperatorIdentity } from '../../lib/constructs/operator-identity.js';
import { functionIdOf, logicalIdOf, synthStack, testApp } from './helpers.js';

/** The meta handler's environment (the function found by its service name, its variables captured). */
function metaEnv(t: ReturnType<typeof synthStack>['template']): Record<string, unknown> {
  functionIdOf(t, 'meta'); // exactly one
  const vars = new Capture(Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'edgefleet-api-meta' }));
  t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: vars } });
  return vars.asObject();
}

describe('OperatorIdentity: sign-in with the CLI (Cognito)', () => {
  const { stack, template } = synthStack();
  const identity = stack.api.identity!;

  it('lets the CLI client use the authorization code grant with loopback callbacks on one fixed port', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      AllowedOAuthFlowsUserPoolClient: true,
      AllowedOAuthFlows: ['code'],
      AllowedOAuthScopes: Match.arrayWith(['openid']),
      CallbackURLs: [`http://127.0.0.1:${DEFAULT_CLI_REDIRECT_PORT}/callback`, `http://localhost:${DEFAULT_CLI_REDIRECT_PORT}/callback`],
      SupportedIdentityProviders: ['COGNITO'],
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_REFRESH_TOKEN_AUTH']),
      EnableTokenRevocation: true,
    });
    // No implicit grant: tokens never travel in a browser URL.
    template.resourcePropertiesCountIs('AWS::Cognito::UserPoolClient', { AllowedOAuthFlows: Match.arrayWith(['implicit']) }, 0);
  });

  it('creates a managed login domain with a branding style for the CLI client', () => {
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', {
      ManagedLoginVersion: 2,
      UserPoolId: { Ref: logicalIdOf(identity.userPool) },
    });
    const domain = new Capture();
    template.hasResourceProperties('AWS::Cognito::UserPoolDomain', { Domain: domain });
    const value: unknown = (() => { try { return domain.asString(); } catch { return domain.asObject(); } })();
    expect(JSON.stringify(value)).toMatch(/"edgefleet-"|"edgefleet-[0-9]+-[0-9a-f]{8}"/);
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', {
      ClientId: { Ref: logicalIdOf(identity.client) },
      UseCognitoProvidedValues: true,
    });
  });

  it('serves the issuer, client id, scopes and redirect port at GET /v1/auth/config (meta handler env)', () => {
    const env = metaEnv(template);
    expect(env[AUTH_ENV.clientId]).toEqual({ Ref: logicalIdOf(identity.client) });
    expect(env[AUTH_ENV.scopes]).toBe('openid email profile');
    expect(env[AUTH_ENV.redirectPort]).toBe(String(DEFAULT_CLI_REDIRECT_PORT));
    expect(JSON.stringify(env[AUTH_ENV.issuer])).toContain('cognito-idp.');
  });

  it('outputs what the CLI and the first admin need', () => {
    for (const name of ['ApiUrl', 'JwtIssuer', 'UserPoolId', 'UserPoolClientId', 'CliClientId', 'LoginDomain', 'LoginCommand']) {
      template.hasOutput(name, { Value: Match.anyValue() });
    }
  });

  it('refuses a redirect port Cognito or the CLI cannot use and a domain prefix Cognito refuses', () => {
    const stack = new Stack(testApp(), 'S');
    expect(() => new OperatorIdentity(stack, 'A', { cliRedirectPort: 80 })).toThrow(/cliRedirectPort must be an integer from 1024/);
    expect(() => new OperatorIdentity(stack, 'B', { domainPrefix: 'my-cognito-login' })).toThrow(/domainPrefix/);
    expect(() => new OperatorIdentity(stack, 'C', { domainPrefix: 'Edge' })).toThrow(/domainPrefix/);
  });
});

describe('sign-in with an external issuer', () => {
  it('names the first audience as the CLI client and asks for refresh tokens', () => {
    const { template } = synthStack({ 'edgefleet:jwtIssuer': 'https://login.example.com/realms/edge', 'edgefleet:jwtAudience': 'edgefleet-cli, edgefleet-ui' });
    expect(metaEnv(template)).toMatchObject({
      [AUTH_ENV.issuer]: 'https://login.example.com/realms/edge',
      [AUTH_ENV.clientId]: 'edgefleet-cli',
      [AUTH_ENV.scopes]: 'openid offline_access',
    });
    expect(AUTH_ENV.redirectPort in metaEnv(template)).toBe(false);
    template.hasOutput('CliClientId', { Value: 'edgefleet-cli' });
    template.resourceCountIs('AWS::Cognito::UserPoolDomain', 0);
  });

  it('takes the CLI client from edgefleet:cliClientId when the audience is an API identifier', () => {
    const { template } = synthStack({
      'edgefleet:jwtIssuer': 'https://login.example.com', 'edgefleet:jwtAudience': 'https://api.edgefleet.example', 'edgefleet:cliClientId': 'cli-public',
    });
    expect(metaEnv(template)[AUTH_ENV.clientId]).toBe('cli-public');
  });
});
