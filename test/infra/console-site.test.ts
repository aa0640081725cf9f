/**
 * The web console on AWS: a private bucket only this distribution reads (origin access control),
 * the local runtime's security headers on CloudFront, the deployment of the build, and the
 * console's Cognito app client (code + PKCE, no secret, the CloudFront URL as callback).
 */
import { Stack } from 'aws-cdk-lib';
import { Capture, Match, Template } from 'aws-cdk-lib/assertions';
import { Certificate } from 'aws-cdk-lib/aws-certificatemanager';
import { authConfigFromEnv } from '../../lambdas/contracts/auth-config.js';
import { consoleCsp, consoleSecurityHeaders } from '../../lib/console-headers.js';
import { ConsoleSite } from '../../lib/constructs/console-site.js';
import { CONSOLE_HEADERS } from '../../local/console-site.js';
import { logicalIdOf, synthStack, testApp } from './helpers.js';
import { TemplateResolver } from './template-resolver.js';

const ENV = { account: '123456789012', region: 'eu-west-1', partition: 'aws' } as const;
const the = (template: Template, type: string): [string, any] => {
  const all = Object.entries(template.findResources(type));
  if (all.length !== 1) throw new Error(`expected one ${type}, found ${all.length}`);
  return all[0]!;
};

/** The meta handler's variables, resolved. */
function metaEnv(template: Template): Record<string, string> {
  const vars = new Capture(Match.objectLike({ POWERTOOLS_SERVICE_NAME: 'edgefleet-api-meta' }));
  template.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: vars } });
  return new TemplateResolver(template.toJSON() as any, ENV).resolve(vars.asObject());
}

describe('ConsoleSite in the stack (Cognito)', () => {
  const { stack, template } = synthStack({}, { env: { account: ENV.account, region: ENV.region } });
  const resolver = new TemplateResolver(template.toJSON() as any, ENV);
  const bucketId = logicalIdOf(stack.console!.bucket);
  const distributionId = logicalIdOf(stack.console!.distribution);
  const distributionArn = { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':cloudfront::', { Ref: 'AWS::AccountId' }, ':distribution/', { Ref: distributionId }]] };

  it('the bucket is private: all public access blocked, encrypted, owner-enforced, no website hosting', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      OwnershipControls: { Rules: [{ ObjectOwnership: 'BucketOwnerEnforced' }] },
      Tags: Match.anyValue(),
    });
    expect(template.toJSON().Resources[bucketId].Properties.WebsiteConfiguration).toBeUndefined();
  });

  it('the bucket policy: TLS only, and reads only by CloudFront on behalf of this distribution', () => {
    const policies = Object.values(template.findResources('AWS::S3::BucketPolicy', { Properties: { Bucket: { Ref: bucketId } } }));
    expect(policies).toHaveLength(1);
    const statements: any[] = (policies[0] as any).Properties.PolicyDocument.Statement;
    expect(statements.filter((s) => s.Effect === 'Deny')).toEqual([expect.objectContaining({ Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } })]);
    expect(statements.filter((s) => s.Effect === 'Allow')).toEqual([{
      Effect: 'Allow',
      Action: 's3:GetObject',
      Principal: { Service: 'cloudfront.amazonaws.com' },
      Condition: { StringEquals: { 'AWS:SourceArn': distributionArn } },
      Resource: { 'Fn::Join': ['', [{ 'Fn::GetAtt': [bucketId, 'Arn'] }, '/*']] },
    }]);
  });

  it('the distribution reads the bucket through origin access control (no OAI), HTTPS only, index.html at / and as the SPA fallback', () => {
    const [oacId] = the(template, 'AWS::CloudFront::OriginAccessControl');
    template.hasResourceProperties('AWS::CloudFront::OriginAccessControl', { OriginAccessControlConfig: { OriginAccessControlOriginType: 's3', SigningBehavior: 'always', SigningProtocol: 'sigv4' } });
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: {
        Origins: [{ DomainName: { 'Fn::GetAtt': [bucketId, 'RegionalDomainName'] }, OriginAccessControlId: { 'Fn::GetAtt': [oacId, 'Id'] }, S3OriginConfig: { OriginAccessIdentity: '' }, Id: Match.anyValue() }],
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: { ViewerProtocolPolicy: 'redirect-to-https', AllowedMethods: ['GET', 'HEAD'], ResponseHeadersPolicyId: { Ref: logicalIdOf(stack.console!.headers) } },
        CustomErrorResponses: [403, 404].map((ErrorCode) => ({ ErrorCode, ResponseCode: 200, ResponsePagePath: '/index.html', ErrorCachingMinTTL: 0 })),
      },
    });
  });

  it('sends the local runtime\'s headers (one definition), with the API and the Cognito token endpoint in connect-src, plus HSTS', () => {
    const [, policy] = the(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    const config = policy.Properties.ResponseHeadersPolicyConfig;
    const apiId = logicalIdOf(stack.api.httpApi);
    const domainId = logicalIdOf(stack.api.identity!.domain);
    expect(resolver.resolve(config.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy))
      .toBe(consoleCsp([`${apiId}.ApiEndpoint`, `https://${domainId}.auth.eu-west-1.amazoncognito.com`]));
    // Everything but connect-src is what the local runtime sends.
    expect(consoleCsp().replace(/connect-src[^;]*/, '')).toBe(CONSOLE_HEADERS['content-security-policy']!.replace(/connect-src[^;]*/, ''));
    expect(config.SecurityHeadersConfig).toMatchObject({
      ContentTypeOptions: { Override: true },
      FrameOptions: { FrameOption: 'DENY', Override: true },
      ReferrerPolicy: { ReferrerPolicy: 'no-referrer', Override: true },
      StrictTransportSecurity: { AccessControlMaxAgeSec: 63072000, IncludeSubdomains: true, Override: true },
    });
    const local = consoleSecurityHeaders();
    expect(config.CustomHeadersConfig.Items).toEqual(['cross-origin-opener-policy', 'permissions-policy'].map((h) => ({ Header: h, Value: local[h], Override: true })));
    expect(local).toEqual(CONSOLE_HEADERS);
  });

  it('the console\'s app client: authorization code only, no secret, the CloudFront URL as callback and sign-out URL', () => {
    const url = { 'Fn::Join': ['', ['https://', { 'Fn::GetAtt': [distributionId, 'DomainName'] }]] };
    template.hasResourceProperties('AWS::Cognito::UserPoolClient', {
      AllowedOAuthFlows: ['code'],
      AllowedOAuthFlowsUserPoolClient: true,
      GenerateSecret: false,
      CallbackURLs: [url],
      LogoutURLs: [url],
      AllowedOAuthScopes: ['openid', 'email', 'profile'],
      SupportedIdentityProviders: ['COGNITO'],
      ExplicitAuthFlows: ['ALLOW_REFRESH_TOKEN_AUTH'],
    });
    const client = logicalIdOf(stack.api.identity!.consoleClient!);
    // Managed login shows its page to the console client too, and the API accepts its tokens.
    template.hasResourceProperties('AWS::Cognito::ManagedLoginBranding', { ClientId: { Ref: client }, UseCognitoProvidedValues: true });
    template.hasResourceProperties('AWS::ApiGatewayV2::Authorizer', { JwtConfiguration: { Audience: [{ Ref: logicalIdOf(stack.api.identity!.client) }, { Ref: client }] } });
    template.hasOutput('ConsoleUrl', { Value: url });
  });

  it('GET /v1/auth/config tells the console its client and the managed login endpoints', () => {
    const env = metaEnv(template);
    const domain = `https://${logicalIdOf(stack.api.identity!.domain)}.auth.eu-west-1.amazoncognito.com`;
    expect(authConfigFromEnv(env)?.console).toEqual({
      clientId: logicalIdOf(stack.api.identity!.consoleClient!),
      scopes: ['openid', 'email', 'profile'],
      redirectUri: `https://${distributionId}.DomainName`,
      authorizationEndpoint: `${domain}/oauth2/authorize`,
      tokenEndpoint: `${domain}/oauth2/token`,
      endSessionEndpoint: `${domain}/logout`,
    });
  });

  it('deploys the build and a config.json naming the API; its role gets only the two assets, this bucket and this distribution', () => {
    template.hasResourceProperties('Custom::CDKBucketDeployment', {
      DestinationBucketName: { Ref: bucketId },
      DistributionId: { Ref: distributionId },
      Prune: true,
      SourceMarkers: [{}, Match.objectLike({})],
    });
    const policy = Object.values(template.findResources('AWS::IAM::Policy', { Properties: { Roles: [{ Ref: logicalIdOf(stack.console!.deployment.handlerRole) }] } }));
    expect(policy).toHaveLength(1);
    const statements = resolver.resolve((policy[0] as any).Properties.PolicyDocument.Statement);
    const assets = `arn:aws:s3:::cdk-hnb659fds-assets-${ENV.account}-${ENV.region}/`;
    expect(statements).toEqual([
      { Effect: 'Allow', Action: 's3:GetObject', Resource: [expect.stringMatching(new RegExp(`^${assets}[0-9a-f]{64}\\.zip$`)), expect.stringMatching(new RegExp(`^${assets}[0-9a-f]{64}\\.zip$`))] },
      { Effect: 'Allow', Action: 's3:ListBucket', Resource: `arn:aws:s3:::${bucketId}` },
      { Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: `arn:aws:s3:::${bucketId}/*` },
      { Effect: 'Allow', Action: ['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], Resource: `arn:aws:cloudfront::${ENV.account}:distribution/${distributionId}` },
      { Effect: 'Allow', Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Resource: expect.stringMatching(/^arn:aws:logs:eu-west-1:123456789012:log-group:ConsoleDeploymentLogs[0-9A-F]+:\*$/) },
    ]);
    expect(template.toJSON().Resources[logicalIdOf(stack.console!.deployment.handlerRole)].Properties.ManagedPolicyArns).toBeUndefined();
  });

  it('the HTTP API answers the console\'s CORS preflight (bearer tokens, no cookies)', () => {
    template.hasResourceProperties('AWS::ApiGatewayV2::Api', {
      CorsConfiguration: { AllowOrigins: ['*'], AllowHeaders: Match.arrayWith(['authorization', 'idempotency-key']), ExposeHeaders: Match.arrayWith(['retry-after']) },
    });
    template.resourcePropertiesCountIs('AWS::ApiGatewayV2::Api', { CorsConfiguration: { AllowCredentials: true } }, 0);
  });
});

describe('ConsoleSite with an external OIDC issuer', () => {
  const { stack, template } = synthStack({
    'edgefleet:jwtIssuer': 'https://login.example.com/tenant/v2.0', 'edgefleet:jwtAudience': 'cli-app,console-app',
    'edgefleet:consoleClientId': 'console-app', 'edgefleet:consoleConnectSrc': 'https://tokens.example.net',
  }, { env: { account: ENV.account, region: ENV.region } });

  it('the console signs in with the named client, endpoints left to discovery; the issuer (and extra origins) in connect-src', () => {
    expect(authConfigFromEnv(metaEnv(template))?.console).toEqual({
      clientId: 'console-app', scopes: ['openid', 'profile', 'email'], redirectUri: `https://${logicalIdOf(stack.console!.distribution)}.DomainName`,
    });
    const [, policy] = the(template, 'AWS::CloudFront::ResponseHeadersPolicy');
    const csp: string = new TemplateResolver(template.toJSON() as any, ENV).resolve(policy.Properties.ResponseHeadersPolicyConfig.SecurityHeadersConfig.ContentSecurityPolicy.ContentSecurityPolicy);
    expect(csp).toContain(`connect-src 'self' ${logicalIdOf(stack.api.httpApi)}.ApiEndpoint https://login.example.com https://tokens.example.net;`);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 0);
  });
});

describe('where the stack has no console', () => {
  it.each([
    ['console: false', {}, { console: false as const }],
    ['a GovCloud region (no CloudFront)', {}, { env: { account: ENV.account, region: 'us-gov-west-1' } }],
  ])('%s: no bucket, no distribution, no console client, no ConsoleUrl; the CLI sign-in unchanged', (_name, context, props) => {
    const { stack, template } = synthStack(context, props);
    expect(stack.console).toBeUndefined();
    template.resourceCountIs('AWS::CloudFront::Distribution', 0);
    template.resourceCountIs('Custom::CDKBucketDeployment', 0);
    template.resourceCountIs('AWS::Cognito::UserPoolClient', 1);
    expect(template.toJSON().Outputs.ConsoleUrl).toBeUndefined();
    const env = metaEnv(template);
    expect(env.EDGEFLEET_AUTH_CONSOLE).toBeUndefined();
    expect(env.EDGEFLEET_AUTH_CLIENT_ID).toBeDefined();
  });
});

describe('ConsoleSite on its own', () => {
  it('fails fast, naming npm run console:build, when the build is missing and the stack is really bundled', () => {
    const stack = new Stack(testApp({ 'aws:cdk:bundling-stacks': ['**'] }), 'S');
    expect(() => new ConsoleSite(stack, 'C', { apiUrl: 'https://api.example.com', buildDir: '/nonexistent/console/dist' }))
      .toThrow(/the web console is not built \(\/nonexistent\/console\/dist\/index\.html is missing\); run `npm run console:build`/);
  });

  it('synthesizes a placeholder when bundling is skipped (tests, the local runtime)', () => {
    const stack = new Stack(testApp(), 'S');
    new ConsoleSite(stack, 'C', { apiUrl: 'https://api.example.com', buildDir: '/nonexistent/console/dist' });
    Template.fromStack(stack).resourceCountIs('Custom::CDKBucketDeployment', 1);
  });

  it.each([['http://plain.example.com'], ['https://x.example.com/path'], ["'unsafe-inline'"]])('refuses connectSrc %s', (src) => {
    const stack = new Stack(testApp(), 'S');
    expect(() => new ConsoleSite(stack, 'C', { apiUrl: 'https://api.example.com', connectSrc: [src] })).toThrow(/connectSrc entries must be https origins/);
  });

  it('with a custom domain and certificate, viewers need TLS 1.2 or newer (SNI)', () => {
    const stack = new Stack(testApp(), 'S', { env: { account: ENV.account, region: 'us-east-1' } });
    const certificate = Certificate.fromCertificateArn(stack, 'Cert', 'arn:aws:acm:us-east-1:123456789012:certificate/abc');
    const site = new ConsoleSite(stack, 'C', { apiUrl: 'https://api.example.com', domain: { names: ['console.example.com'], certificate } });
    expect(site.url).toBe('https://console.example.com');
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: { Aliases: ['console.example.com'], ViewerCertificate: { AcmCertificateArn: 'arn:aws:acm:us-east-1:123456789012:certificate/abc', MinimumProtocolVersion: 'TLSv1.2_2021', SslSupportMethod: 'sni-only' } },
    });
  });

  it('allows the API origin (not its path) in connect-src', () => {
    const stack = new Stack(testApp(), 'S');
    new ConsoleSite(stack, 'C', { apiUrl: 'https://api.example.com/prod/', connectSrc: ['https://idp.example.com'] });
    Template.fromStack(stack).hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: { SecurityHeadersConfig: { ContentSecurityPolicy: { ContentSecurityPolicy: consoleCsp(['https://api.example.com', 'https://idp.example.com']) } } },
    });
  });
});
