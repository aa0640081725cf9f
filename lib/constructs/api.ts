import { Duration, Lazy } from 'aws-cdk-lib';
import { AccessLogFormat } from 'aws-cdk-lib/aws-apigateway';
import {
  CfnStage, CorsHttpMethod, HttpApi, HttpMethod, HttpNoneAuthorizer, HttpStage, LogGroupLogDestination,
  type IHttpRouteAuthorizer,
} from 'aws-cdk-lib/aws-apigatewayv2';
import { HttpJwtAuthorizer } from 'aws-cdk-lib/aws-apigatewayv2-authorizers';
import { HttpLambdaIntegration } from 'aws-cdk-lib/aws-apigatewayv2-integrations';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import {
  API_GROUPS, API_ROUTES, HANDLER_ENV, routeKey, type ApiGroup, type TableAccess,
} from '../api-routes.js';
import { acknowledgeNag } from '../nag.js';
import { DeviceIdentity } from './device-identity.js';
import { grantCommandPublish, grantHealthEvents } from './iot-rules.js';
import { grantSecureTunneling } from './secure-tunneling.js';
import { bindTable, EdgeFunction, type LogLevel } from './edge-function.js';
import { OperatorIdentity } from './operator-identity.js';

/** An external OIDC issuer whose access tokens the API accepts instead of the built-in pool. */
export interface JwtIssuerConfig {
  /** `iss` claim, an https URL (its `/.well-known/openid-configuration` must be reachable). */
  readonly issuer: string;
  /** Accepted `aud` (or `client_id`) values; at least one. */
  readonly audience: readonly string[];
}

export interface EdgeFleetApiProps {
  readonly stateTable: ITable;
  readonly auditTable: ITable;
  /**
   * JWT issuer and audience for `auth: 'jwt'` routes.
   * @default - a Cognito user pool, app client and role groups created here (`OperatorIdentity`)
   */
  readonly jwt?: JwtIssuerConfig;
  /**
   * Default-stage burst limit (requests). At most 5000, the account default.
   * @default 500
   */
  readonly throttlingBurstLimit?: number;
  /**
   * Default-stage steady rate limit (requests per second). At most 10000.
   * @default 200
   */
  readonly throttlingRateLimit?: number;
  /**
   * API Gateway's throttle of the public, unauthenticated `POST /v1/device/register` route: the
   * safety net above `registerAdmission` (its 429 carries no Retry-After; devices then back off
   * with full jitter, doubling up to 5 minutes). At least `registerAdmission.perSecond`. Keep it
   * well above the admission: a storm drains at the admission's rate only while most of its
   * requests reach the admission, whose 429 says when to come back. With 50/s (burst 100) in front
   * of 10/s, 1,000 hosts booting at once drained at about 4.6 a second, not 10 (`npm run
   * bench:admission`, BENCHMARKS.md).
   * @default the stage's own limits (`throttlingRateLimit`, `throttlingBurstLimit`)
   */
  readonly registerThrottle?: { readonly rateLimit: number; readonly burstLimit: number };
  /**
   * Registrations per second the control plane lets through to the AWS IoT registry
   * (CreateThing, CreateCertificateFromCsr, AttachPolicy… have account rate limits of ~10–15
   * requests/s), in the order devices first asked: each takes a turn from one admission clock,
   * and one whose turn is not yet due is answered 429 with the Retry-After of its turn, which is
   * kept for it until it comes back (domain/admission.ts). Registrations that wait for approval
   * call no registry and take no turn.
   * @default { perSecond: 10 }
   */
  readonly registerAdmission?: { readonly perSecond: number };
  /**
   * Retention of the access log group.
   * @default RetentionDays.THREE_MONTHS
   */
  readonly accessLogRetention?: RetentionDays;
  /**
   * Retention of each handler's log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly functionLogRetention?: RetentionDays;
  /**
   * `POWERTOOLS_LOG_LEVEL` of every handler.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Days an audit event is kept (its TTL), passed to handlers that write audit events.
   * @default 365
   */
  readonly auditRetentionDays?: number;
}

/** The public device-facing route with its own, lower throttle. */
export const REGISTER_ROUTE = 'POST /v1/device/register';

/** JSON access log line, one per request. */
const ACCESS_LOG_FORMAT = JSON.stringify({
  requestId: '$context.requestId',
  ip: '$context.identity.sourceIp',
  requestTime: '$context.requestTime',
  routeKey: '$context.routeKey',
  status: '$context.status',
  protocol: '$context.protocol',
  responseLength: '$context.responseLength',
  latencyMs: '$context.responseLatency',
  integrationLatencyMs: '$context.integrationLatency',
  integrationError: '$context.integrationErrorMessage',
  authorizerError: '$context.authorizer.error',
  sub: '$context.authorizer.claims.sub',
  userAgent: '$context.identity.userAgent',
});

const pascal = (s: string) => s.replace(/(^|-)([a-z])/g, (_m, _d, c: string) => c.toUpperCase());

const checkInt = (name: string, v: number, min: number, max: number): number => {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new Error(`EdgeFleetApi: ${name} must be an integer from ${min} to ${max}, got ${v}`);
  }
  return v;
};

/**
 * The operator/device HTTP API: an HttpApi whose routes, handlers, table grants and
 * authorization all come from `API_ROUTES` / `API_GROUPS` in `lib/api-routes.ts`.
 */
export class EdgeFleetApi extends Construct {
  public readonly httpApi: HttpApi;
  public readonly stage: HttpStage;
  /** Base URL without a trailing slash, e.g. `https://abc.execute-api.eu-west-1.amazonaws.com`. */
  public readonly url: string;
  public readonly accessLogGroup: LogGroup;
  public readonly authorizer: HttpJwtAuthorizer;
  public readonly jwtIssuer: string;
  public readonly jwtAudience: readonly string[];
  /** Set when no external issuer is given. */
  public readonly identity?: OperatorIdentity;
  public readonly functions: Readonly<Record<ApiGroup, EdgeFunction>>;
  /** IoT device policy and the registry grants of the device (provision) and hosts (decommission) handlers. */
  public readonly devices: DeviceIdentity;

  constructor(scope: Construct, id: string, props: EdgeFleetApiProps) {
    super(scope, id);
    const burst = checkInt('throttlingBurstLimit', props.throttlingBurstLimit ?? 500, 1, 5000);
    const rate = checkInt('throttlingRateLimit', props.throttlingRateLimit ?? 200, 1, 10000);
    const registerRate = checkInt('registerThrottle.rateLimit', props.registerThrottle?.rateLimit ?? rate, 1, rate);
    const registerBurst = checkInt('registerThrottle.burstLimit', props.registerThrottle?.burstLimit ?? burst, 1, burst);
    const admission = checkInt('registerAdmission.perSecond', props.registerAdmission?.perSecond ?? 10, 1, registerRate);
    const auditRetentionDays = checkInt('auditRetentionDays', props.auditRetentionDays ?? 365, 1, 3650);

    if (props.jwt) {
      validateJwt(props.jwt);
      this.jwtIssuer = props.jwt.issuer;
      this.jwtAudience = [...props.jwt.audience];
    } else {
      this.identity = new OperatorIdentity(this, 'Identity');
      this.jwtIssuer = this.identity.issuer;
      this.jwtAudience = this.identity.audience;
    }
    this.authorizer = new HttpJwtAuthorizer('JwtAuthorizer', this.jwtIssuer, {
      // Lazy: the console's app client joins the pool's audience after the API exists.
      jwtAudience: Lazy.list({ produce: () => [...this.jwtAudience] }),
      identitySource: ['$request.header.Authorization'],
    });

    this.httpApi = new HttpApi(this, 'HttpApi', {
      description: 'EdgeFleet control plane API',
      createDefaultStage: false,
      // The web console (CloudFront) calls from another origin with a bearer token, never a
      // cookie: any origin may read responses; the token is what authorizes. (Naming the
      // console's origin here would make the API depend on the distribution, whose headers name the API.)
      corsPreflight: {
        allowOrigins: ['*'],
        allowMethods: [CorsHttpMethod.ANY],
        allowHeaders: ['authorization', 'content-type', 'idempotency-key'],
        exposeHeaders: ['retry-after', 'location', 'etag'],
        maxAge: Duration.hours(1),
      },
    });
    this.accessLogGroup = new LogGroup(this, 'AccessLogs', {
      retention: props.accessLogRetention ?? RetentionDays.THREE_MONTHS,
    });
    this.stage = new HttpStage(this, 'DefaultStage', {
      httpApi: this.httpApi,
      stageName: '$default',
      autoDeploy: true,
      throttle: { burstLimit: burst, rateLimit: rate },
      accessLogSettings: {
        destination: new LogGroupLogDestination(this.accessLogGroup),
        format: AccessLogFormat.custom(ACCESS_LOG_FORMAT),
      },
    });
    this.url = this.httpApi.apiEndpoint;

    const functions = {} as Record<ApiGroup, EdgeFunction>;
    for (const [group, spec] of Object.entries(API_GROUPS) as [ApiGroup, (typeof API_GROUPS)[ApiGroup]][]) {
      const fn = new EdgeFunction(this, `${pascal(group)}Handler`, {
        entry: spec.entry,
        serviceName: `edgefleet-api-${group}`,
        description: `EdgeFleet HTTP API: ${group} routes`,
        memoryMb: spec.memoryMb ?? 512,
        timeoutSeconds: spec.timeoutSeconds ?? 10,
        logRetention: props.functionLogRetention,
        logLevel: props.logLevel,
        environment: { [HANDLER_ENV.apiUrl]: this.url },
      });
      bindTable(fn, props.stateTable, HANDLER_ENV.stateTable, spec.stateTable);
      // Audit events are append-only: no handler may rewrite or delete one.
      // Audit events are only ever queried (by actor, by day) and appended.
      bindTable(fn, props.auditTable, HANDLER_ENV.auditTable, spec.auditTable, {
        appendOnly: true,
        ...(spec.auditTable === 'read' ? { actions: ['dynamodb:Query'] } : {}),
      });
      if (writes(spec.auditTable)) {
        fn.function.addEnvironment(HANDLER_ENV.auditRetentionDays, String(auditRetentionDays));
      }
      functions[group] = fn;
    }
    this.functions = functions;
    this.devices = new DeviceIdentity(this, 'DeviceIdentity');
    // Registration provisions and revokes; only decommission (hosts) retires things.
    this.devices.grantProvision(functions.device);
    functions.device.function.addEnvironment(HANDLER_ENV.registerAdmissionPerSecond, String(admission));
    this.devices.grantDeprovision(functions.hosts);
    // Lifecycle changes (registration; create, approve, reject, decommission) derive the host's health.
    grantHealthEvents(functions.device);
    grantHealthEvents(functions.hosts);
    // Remote shell: Secure Tunneling, and the troubleshoot-user command to the host.
    grantSecureTunneling(functions.tunnels);
    grantCommandPublish(functions.tunnels);
    // A host's agent update: the agent-update command to the host.
    grantCommandPublish(functions.hosts);

    const integrations = new Map<ApiGroup, HttpLambdaIntegration>();
    const integrationFor = (group: ApiGroup) => {
      let integration = integrations.get(group);
      if (!integration) {
        // Never 'Default': that id collides with the API's default route.
        integration = new HttpLambdaIntegration(`${pascal(group)}Integration`, functions[group].function);
        integrations.set(group, integration);
      }
      return integration;
    };
    const none = new HttpNoneAuthorizer();
    for (const route of API_ROUTES) {
      const authorizer: IHttpRouteAuthorizer = route.auth === 'jwt' ? this.authorizer : none;
      const [created] = this.httpApi.addRoutes({
        path: route.path,
        methods: [HttpMethod[route.method]],
        integration: integrationFor(route.group),
        authorizer,
      });
      if (routeKey(route) === REGISTER_ROUTE) {
        const cfnStage = this.stage.node.defaultChild as CfnStage;
        // RouteSettings is free-form JSON in the L1: the keys are CloudFormation's own spelling.
        cfnStage.routeSettings = { [REGISTER_ROUTE]: { ThrottlingRateLimit: registerRate, ThrottlingBurstLimit: registerBurst } };
        // Route settings may only name a route that exists.
        cfnStage.node.addDependency(created!);
      }
      if (route.auth === 'none') {
        acknowledgeNag(created!, 'AwsSolutions-APIG4', route.group === 'device'
          ? `${routeKey(route)} is public by design (auth: 'none' in lib/api-routes.ts): devices have no ` +
            'JWT; the registration token in the body authenticates them, checked by the handler before any write.'
          : `${routeKey(route)} is public by design (auth: 'none' in lib/api-routes.ts): health ` +
            'checks and the OpenAPI document carry no tenant data and must work without a token.');
      }
    }
  }
}

const writes = (access: TableAccess) => access === 'write' || access === 'readwrite';

function validateJwt(jwt: JwtIssuerConfig): void {
  let url: URL;
  try {
    url = new URL(jwt.issuer);
  } catch {
    throw new Error(`EdgeFleetApi: jwt.issuer must be an https URL, got '${jwt.issuer}'`);
  }
  if (url.protocol !== 'https:') throw new Error(`EdgeFleetApi: jwt.issuer must use https, got '${jwt.issuer}'`);
  if (jwt.audience.length === 0 || jwt.audience.some((a) => a.trim() === '')) {
    throw new Error('EdgeFleetApi: jwt.audience must list at least one non-empty audience');
  }
}
