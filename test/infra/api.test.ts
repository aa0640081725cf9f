import { Stack } from 'aws-cdk-lib';
import { Capture, Match } from 'aws-cdk-lib/assertions';
import { AGENT_ROUTE_KEYS } from '../../lambdas/contracts/agent-artifacts.js';
import { API_GROUPS, API_ROUTES, HANDLER_ENV, routeKey, type ApiGroup } from '../../lib/api-routes.js';
import { EdgeFleetApi } from '../../lib/constructs/api.js';
import { DataTables } from '../../lib/constructs/data-tables.js';
import { EdgeFunction } from '../../lib/constructs/edge-function.js';
import { expectResource, functionIdOf, logicalIdOf, synthStack, testApp } from './helpers.js';

const GROUPS = Object.keys(API_GROUPS) as ApiGroup[];

describe('EdgeFleetApi (default: Cognito issuer)', () => {
  const { stack, template } = synthStack();

  it('has exactly one route per API_ROUTES entry (plus the agent routes of AgentArtifacts, their own integration)', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Api', 1);
    template.resourceCountIs('AWS::ApiGatewayV2::Route', API_ROUTES.length + AGENT_ROUTE_KEYS.length);
    template.resourceCountIs('AWS::ApiGatewayV2::Integration', GROUPS.length + 1);
  });

  it.each(API_ROUTES.map((r) => [routeKey(r), r] as const))('%s: authorization and handler group', (key, route) => {
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Route', { RouteKey: key }, 1);
    const integration = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Route', {
      RouteKey: key,
      ...(route.auth === 'jwt'
        ? { AuthorizationType: 'JWT', AuthorizerId: Match.objectEquals({ Ref: Match.stringLikeRegexp('.') }) }
        : { AuthorizationType: 'NONE', AuthorizerId: Match.absent() }),
      Target: { 'Fn::Join': [Match.anyValue(), [Match.anyValue(), { Ref: integration }]] },
    });
    // Route → integration → function: the function must be the route's group handler.
    expectResource(template, 'AWS::ApiGatewayV2::Integration', integration.asString(), {
      IntegrationUri: Match.objectEquals({ 'Fn::GetAtt': [functionIdOf(template, route.group), 'Arn'] }),
    });
  });

  it('uses one JWT authorizer with the Cognito issuer and the app client as audience', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Authorizer', 1);
    const issuer = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      AuthorizerType: 'JWT',
      IdentitySource: ['$request.header.Authorization'],
      // The CLI's client and the web console's (lib/constructs/console-site.ts).
      JwtConfiguration: { Audience: [{ Ref: logicalIdOf(stack.api.identity!.client) }, { Ref: logicalIdOf(stack.api.identity!.consoleClient!) }], Issuer: issuer },
    });
    expect(issuer.asObject()).toEqual({
      'Fn::Join': ['', ['https://cognito-idp.', { Ref: 'AWS::Region' }, '.amazonaws.com/', { Ref: logicalIdOf(stack.api.identity!.userPool) }]],
    });
  });

  it('creates a locked-down user pool, one SRP client and the project:role groups', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 1);
    template.hasResourceProperties('AWS::Cognito::UserPool', {
      AdminCreateUserConfig: { AllowAdminCreateUserOnly: true },
      MfaConfiguration: 'ON',
      EnabledMfas: ['SOFTWARE_TOKEN_MFA'],
      Policies: { PasswordPolicy: Match.objectLike({ MinimumLength: 12, RequireSymbols: true }) },
    });
    // The CLI's (SRP for SDKs) and the web console's (managed login only).
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 2);
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      GenerateSecret: false,
      ExplicitAuthFlows: Match.arrayWith(['ALLOW_USER_SRP_AUTH']),
    });
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', { GenerateSecret: false, ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'], AllowedOAuthFlows: ['code'] });
    for (const role of ['admin', 'operator', 'viewer']) {
      template.hasResourceProperties('AWS::Cognito::UserPoolGroup', { GroupName: `default:${role}` });
    }
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 3);
  });

  it('throttles the $default stage and writes JSON access logs to a retained-period log group', () => {
    template.resourceCountIs('AWS::ApiGatewayV2::Stage', 1);
    const format = new Capture();
    template.hasResourceProperties('AWS::ApiGatewayV2::Stage', {
      StageName: '$default',
      AutoDeploy: true,
      DefaultRouteSettings: { ThrottlingBurstLimit: 500, ThrottlingRateLimit: 200 },
      AccessLogSettings: { DestinationArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiAccessLogs'), 'Arn'] }, Format: format },
    });
    expect(JSON.parse(format.asString())).toMatchObject({ requestId: '$context.requestId', status: '$context.status' });
  });

  it.each(GROUPS)('%s handler: nodejs22.x, arm64, active tracing, Powertools env, sized from API_GROUPS', (group) => {
    const spec = API_GROUPS[group];
    const logGroup = new Capture();
    expectResource(template, 'AWS::Lambda::Function', functionIdOf(template, group), {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      TracingConfig: { Mode: 'Active' },
      MemorySize: spec.memoryMb ?? 512,
      Timeout: spec.timeoutSeconds ?? 10,
      Environment: {
        Variables: {
          POWERTOOLS_SERVICE_NAME: `edgefleet-api-${group}`,
          POWERTOOLS_METRICS_NAMESPACE: 'EdgeFleet',
          POWERTOOLS_LOG_LEVEL: 'INFO',
          [HANDLER_ENV.apiUrl]: { 'Fn::GetAtt': [Match.stringLikeRegexp('^ApiHttpApi'), 'ApiEndpoint'] },
        },
      },
      // Own log group with one-month retention.
      LoggingConfig: { LogGroup: { Ref: logGroup } },
    });
    expectResource(template, 'AWS::Logs::LogGroup', logGroup.asString(), { RetentionInDays: 30 });
  });

  it.each(GROUPS)('%s handler: table env vars exactly where API_GROUPS grants access', (group) => {
    const spec = API_GROUPS[group];
    const present = (yes: boolean, value: unknown) => (yes ? value : Match.absent());
    expectResource(template, 'AWS::Lambda::Function', functionIdOf(template, group), {
      Environment: {
        Variables: {
          [HANDLER_ENV.stateTable]: present(spec.stateTable !== 'none', Match.objectEquals({ Ref: logicalIdOf(stack.data.stateTable) })),
          [HANDLER_ENV.auditTable]: present(spec.auditTable !== 'none', Match.objectEquals({ Ref: logicalIdOf(stack.data.auditTable) })),
          [HANDLER_ENV.auditRetentionDays]: present(spec.auditTable === 'write' || spec.auditTable === 'readwrite', Match.anyValue()),
        },
      },
    });
  });

  it('uses execution roles without managed policies', () => {
    expect(Object.keys(template.findResources('AWS::IAM::Role')).length).toBeGreaterThanOrEqual(GROUPS.length);
    template.resourcePropertiesCountIs('AWS::IAM::Role', { ManagedPolicyArns: Match.anyValue() }, 0);
  });

  it('outputs the API URL, table names, issuer and user pool ids', () => {
    for (const name of ['ApiUrl', 'StateTableName', 'AuditTableName', 'JwtIssuer', 'UserPoolId', 'UserPoolClientId']) {
      template.hasOutput(name, { Value: Match.anyValue() });
    }
  });
});

describe('EdgeFleetApi with an external issuer (context)', () => {
  const { template } = synthStack({
    'edgefleet:jwtIssuer': 'https://login.example.com/realms/edge',
    'edgefleet:jwtAudience': 'edgefleet-cli, edgefleet-ui',
  });

  it('creates no user pool and trusts the given issuer and audiences', () => {
    template.resourceCountIs('AWS::Cognito::UserPool', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolGroup', 0);
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', {
      JwtConfiguration: { Issuer: 'https://login.example.com/realms/edge', Audience: ['edgefleet-cli', 'edgefleet-ui'] },
    });
    template.hasOutput('JwtIssuer', { Value: 'https://login.example.com/realms/edge' });
    expect(template.findOutputs('UserPoolId')).toEqual({});
  });
});

describe('bad configuration fails at synth', () => {
  const api = (props: Partial<ConstructorParameters<typeof EdgeFleetApi>[2]>) => {
    const stack = new Stack(testApp(), 'S');
    const data = new DataTables(stack, 'Data');
    return new EdgeFleetApi(stack, 'Api', { stateTable: data.stateTable, auditTable: data.auditTable, ...props });
  };

  it.each([
    [{ throttlingBurstLimit: 0 }, /throttlingBurstLimit/],
    [{ throttlingRateLimit: 20000 }, /throttlingRateLimit/],
    [{ auditRetentionDays: 0 }, /auditRetentionDays/],
    [{ jwt: { issuer: 'http://insecure.example.com', audience: ['a'] } }, /https/],
    [{ jwt: { issuer: 'not a url', audience: ['a'] } }, /https URL/],
    [{ jwt: { issuer: 'https://idp.example.com', audience: [] } }, /audience/],
  ])('EdgeFleetApi %j', (props, error) => {
    expect(() => api(props)).toThrow(error);
  });

  it('an issuer in context without an audience', () => {
    expect(() => synthStack({ 'edgefleet:jwtIssuer': 'https://idp.example.com' })).toThrow(/jwtAudience/);
  });

  it.each([
    [{ entry: 'lambdas/handlers/http/does-not-exist.ts' }, /entry file not found/],
    [{ entry: 'README.md' }, /\.ts\/\.mts\/\.js\/\.mjs/],
    [{ memoryMb: 64 }, /memoryMb/],
    [{ timeoutSeconds: 901 }, /timeoutSeconds/],
    [{ serviceName: 'has spaces' }, /serviceName/],
  ])('EdgeFunction %j', (override, error) => {
    const stack = new Stack(testApp(), 'F');
    expect(() => new EdgeFunction(stack, 'Fn', { entry: API_GROUPS.meta.entry, serviceName: 'svc', ...override })).toThrow(error);
  });
});
