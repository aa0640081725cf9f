import { existsSync } from 'node:fs';
import path from 'node:path';
import { Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import type { ICertificate } from 'aws-cdk-lib/aws-certificatemanager';
import {
  AllowedMethods, CachePolicy, Distribution, HeadersFrameOption, HeadersReferrerPolicy, HttpVersion, PriceClass,
  ResponseHeadersPolicy, SecurityPolicyProtocol, ViewerProtocolPolicy, type ResponseCustomHeader,
  type ResponseSecurityHeadersBehavior,
} from 'aws-cdk-lib/aws-cloudfront';
import { S3BucketOrigin } from 'aws-cdk-lib/aws-cloudfront-origins';
import { Effect, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type CfnBucket } from 'aws-cdk-lib/aws-s3';
import { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import { BucketDeployment, Source, type ISource, type SourceConfig } from 'aws-cdk-lib/aws-s3-deployment';
import { Construct } from 'constructs';
import { consoleSecurityHeaders } from '../console-headers.js';
import { acknowledgeNag } from '../nag.js';
import { REPO_ROOT } from './edge-function.js';

/** Where `npm run console:build` (Vite) writes the console. */
export const CONSOLE_BUILD_DIR = path.join(REPO_ROOT, 'console', 'dist');
/** Deployed next to index.html: where the console finds the API (the local runtime has none: same origin). */
export const CONSOLE_CONFIG_FILE = 'config.json';

export interface ConsoleSiteProps {
  /** Base URL of the HTTP API (`EdgeFleetApi.url`): written to config.json and allowed in `connect-src`. */
  readonly apiUrl: string;
  /**
   * More origins the console calls, e.g. the OIDC issuer's token endpoint (CSP source expressions).
   * @default - none
   */
  readonly connectSrc?: readonly string[];
  /**
   * The built console (must hold index.html).
   * @default - console/dist (`npm run console:build`; bin/app.ts builds it before synth when missing)
   */
  readonly buildDir?: string;
  /**
   * Your own host names for the console, with an ACM certificate in us-east-1 covering them.
   * With them viewers need TLS 1.2 or newer (TLSv1.2_2021); on the `*.cloudfront.net` name
   * CloudFront decides the protocols itself.
   * @default - the distribution's `*.cloudfront.net` name only
   */
  readonly domain?: { readonly names: readonly string[]; readonly certificate: ICertificate };
  /**
   * Edge locations that serve the console.
   * @default PriceClass.PRICE_CLASS_100 (North America and Europe)
   */
  readonly priceClass?: PriceClass;
}

/** False in regions without CloudFront (AWS GovCloud, ISO); true where the region is unknown at synth. */
export function consoleHosted(stack: Stack): boolean {
  return Token.isUnresolved(stack.region) || !/^(us-gov-|us-iso)/.test(stack.region);
}

/** A source bound once, so its asset's bucket and key are known to grant exactly them. */
const bound = (config: SourceConfig): ISource => ({ bind: () => config });

/**
 * The web console on AWS: a private bucket (no public access, TLS only, SSE-S3, no website
 * hosting) that only this CloudFront distribution reads (origin access control); HTTPS only
 * (HTTP redirects), index.html at `/` and for any path the bucket does not have (the app routes
 * itself), and the same security headers as the local runtime (lib/console-headers.ts) plus HSTS.
 * A BucketDeployment copies the build and a config.json naming the API, then invalidates the
 * cache; its role may read those two assets, write this bucket and invalidate this distribution.
 */
export class ConsoleSite extends Construct {
  public readonly bucket: Bucket;
  public readonly distribution: Distribution;
  public readonly deployment: BucketDeployment;
  public readonly headers: ResponseHeadersPolicy;
  /** `https://<name>` without a trailing slash: the console's URL (and its OAuth redirect URI). */
  public readonly url: string;

  constructor(scope: Construct, id: string, props: ConsoleSiteProps) {
    super(scope, id);
    const buildDir = props.buildDir ?? CONSOLE_BUILD_DIR;
    for (const src of props.connectSrc ?? []) {
      if (!Token.isUnresolved(src) && !/^https:\/\/[a-z0-9.*-]+(:\d+)?$/i.test(src)) {
        throw new Error(`ConsoleSite: connectSrc entries must be https origins (https://host[:port]), got '${src}'`);
      }
    }
    if (props.domain && props.domain.names.length === 0) throw new Error('ConsoleSite: domain.names must name at least one host name');

    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      // The build is redeployed from the repository: nothing here to keep.
      removalPolicy: RemovalPolicy.DESTROY,
    });
    acknowledgeNag(this.bucket, 'AwsSolutions-S1',
      'The bucket holds only the public console build, written by the deployment; viewers reach it through CloudFront, which is where requests would be logged.');

    this.headers = new ResponseHeadersPolicy(this, 'Headers', {
      comment: 'EdgeFleet console security headers (lib/console-headers.ts)',
      ...cloudFrontHeaders(consoleSecurityHeaders([originOf(props.apiUrl), ...(props.connectSrc ?? [])])),
    });
    this.distribution = new Distribution(this, 'Distribution', {
      comment: 'EdgeFleet web console',
      defaultBehavior: {
        origin: S3BucketOrigin.withOriginAccessControl(this.bucket),
        viewerProtocolPolicy: ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
        allowedMethods: AllowedMethods.ALLOW_GET_HEAD,
        cachePolicy: CachePolicy.CACHING_OPTIMIZED,
        responseHeadersPolicy: this.headers,
        compress: true,
      },
      defaultRootObject: 'index.html',
      // The app routes in the fragment (#/hosts); any other path is the app too. Without
      // s3:ListBucket a missing key is 403 from S3.
      errorResponses: [403, 404].map((httpStatus) => ({ httpStatus, responseHttpStatus: 200, responsePagePath: '/index.html', ttl: Duration.seconds(0) })),
      httpVersion: HttpVersion.HTTP2_AND_3,
      priceClass: props.priceClass ?? PriceClass.PRICE_CLASS_100,
      // TLS 1.2+ needs a certificate of your own: the *.cloudfront.net one's policy is CloudFront's.
      ...(props.domain ? { domainNames: [...props.domain.names], certificate: props.domain.certificate, minimumProtocolVersion: SecurityPolicyProtocol.TLS_V1_2_2021 } : {}),
    });
    acknowledgeNag(this.distribution, 'AwsSolutions-CFR1', 'Operators sign in from wherever their fleet is; the API refuses anyone without a token.');
    acknowledgeNag(this.distribution, 'AwsSolutions-CFR2', 'A static build with no server-side logic; the API behind it has its own throttles. Attach a WAF web ACL per deployment if wanted.');
    acknowledgeNag(this.distribution, 'AwsSolutions-CFR3', 'The distribution serves only the static console build; every operator action is an API call, which the API logs and audits.');
    if (!props.domain) {
      acknowledgeNag(this.distribution, 'AwsSolutions-CFR4',
        'Without a custom domain CloudFront serves its *.cloudfront.net certificate and chooses the protocols; set ConsoleSite domain (names + certificate) to require TLS 1.2 or newer.');
    }
    this.url = `https://${props.domain?.names[0] ?? this.distribution.distributionDomainName}`;

    this.deployment = this.deploy(buildDir, props.apiUrl);
  }

  private deploy(buildDir: string, apiUrl: string): BucketDeployment {
    const stack = Stack.of(this);
    let build: ISource;
    if (existsSync(path.join(buildDir, 'index.html'))) {
      build = Source.asset(buildDir);
    } else if (!stack.bundlingRequired) {
      // Bundling is skipped for this stack (tests, the local runtime, `-c edgefleet:skipBundling=true`):
      // like the functions' code, the build is a placeholder, never deployed.
      build = Source.data('index.html', '<!doctype html><title>EdgeFleet console placeholder (synthesized without bundling)</title>');
    } else {
      throw new Error(`ConsoleSite: the web console is not built (${path.join(buildDir, 'index.html')} is missing); run \`npm run console:build\`, then synthesize or deploy again`);
    }
    const logGroup = new LogGroup(this, 'DeploymentLogs', { retention: RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const role = new Role(this, 'DeploymentRole', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: 'EdgeFleet console deployment: reads the build assets, writes the console bucket, invalidates its distribution',
    });
    // The grants below are all it gets: the sources and BucketDeployment see a role that takes no policy updates.
    const fixedRole = role.withoutPolicyUpdates();
    const sources = [build, Source.jsonData(CONSOLE_CONFIG_FILE, { apiUrl })].map((s) => s.bind(this, { handlerRole: fixedRole }));
    const allow = (actions: string[], resources: string[]) => role.addToPolicy(new PolicyStatement({ effect: Effect.ALLOW, actions, resources }));
    allow(['s3:GetObject'], sources.map((s) => s.bucket.arnForObjects(s.zipObjectKey)));
    allow(['s3:ListBucket'], [this.bucket.bucketArn]);
    allow(['s3:PutObject', 's3:DeleteObject'], [this.bucket.arnForObjects('*')]);
    allow(['cloudfront:CreateInvalidation', 'cloudfront:GetInvalidation'], [this.distribution.distributionArn]);
    allow(['logs:CreateLogStream', 'logs:PutLogEvents'], [logGroup.logGroupArn]);
    acknowledgeNag(role, `AwsSolutions-IAM5[Resource::<${stack.getLogicalId(this.bucket.node.defaultChild as CfnBucket)}.Arn>/*]`,
      'The deployment syncs the whole console build: every key of this one bucket (put new files, delete stale ones).');

    const deployment = new BucketDeployment(this, 'Deployment', {
      sources: sources.map(bound),
      destinationBucket: this.bucket,
      distribution: this.distribution,
      distributionPaths: ['/*'],
      role: fixedRole,
      logGroup,
      memoryLimit: 256,
      // Stack deletion empties the bucket (it is DESTROY: the build is redeployable).
      retainOnDelete: false,
    });
    // The handler is a singleton at stack level (aws-cdk-lib picks its Python runtime): found by its role.
    for (const child of stack.node.children) {
      if (child instanceof LambdaFunction && child.role === fixedRole) {
        acknowledgeNag(child, 'AwsSolutions-L1', 'The runtime of the BucketDeployment handler is chosen by aws-cdk-lib and moves with its releases.');
      }
    }
    return deployment;
  }
}

/** `https://host` of a URL (token-safe: an unresolved URL is taken to be an origin already). */
function originOf(url: string): string {
  return Token.isUnresolved(url) ? url : new URL(url).origin;
}

const FRAME = new Map<string, HeadersFrameOption>(Object.values(HeadersFrameOption).map((v) => [v, v]));
const REFERRER = new Map<string, HeadersReferrerPolicy>(Object.values(HeadersReferrerPolicy).map((v) => [v, v]));

/**
 * The console's header set as a CloudFront response headers policy: the headers CloudFront
 * models as security headers go there (override: true), the rest are custom headers; HSTS added.
 */
export function cloudFrontHeaders(headers: Readonly<Record<string, string>>): {
  securityHeadersBehavior: ResponseSecurityHeadersBehavior; customHeadersBehavior: { customHeaders: ResponseCustomHeader[] };
} {
  const security: { -readonly [K in keyof ResponseSecurityHeadersBehavior]: ResponseSecurityHeadersBehavior[K] } = {
    strictTransportSecurity: { accessControlMaxAge: Duration.days(730), includeSubdomains: true, override: true },
  };
  const custom: ResponseCustomHeader[] = [];
  for (const [name, value] of Object.entries(headers)) {
    switch (name) {
      case 'content-security-policy': security.contentSecurityPolicy = { contentSecurityPolicy: value, override: true }; break;
      case 'x-content-type-options':
        if (value !== 'nosniff') throw new Error(`CloudFront can only send x-content-type-options: nosniff, not '${value}'`);
        security.contentTypeOptions = { override: true };
        break;
      case 'x-frame-options': security.frameOptions = { frameOption: known(FRAME, name, value), override: true }; break;
      case 'referrer-policy': security.referrerPolicy = { referrerPolicy: known(REFERRER, name, value), override: true }; break;
      default: custom.push({ header: name, value, override: true });
    }
  }
  return { securityHeadersBehavior: security, customHeadersBehavior: { customHeaders: custom } };
}

function known<T>(values: ReadonlyMap<string, T>, name: string, value: string): T {
  const v = values.get(value);
  if (v === undefined) throw new Error(`CloudFront has no ${name} value '${value}'; use one of ${[...values.keys()].join(', ')}`);
  return v;
}
