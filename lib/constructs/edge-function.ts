import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { CfnElement, Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import type { TableAccess } from '../api-routes.js';
import { acknowledgeNag } from '../nag.js';

/** Repository root (this file lives in `lib/constructs/`). Handler entries are relative to it. */
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');

/** The Lambda runtime every EdgeFleet function uses. */
export const EDGE_RUNTIME = Runtime.NODEJS_22_X;

export const METRICS_NAMESPACE = 'EdgeFleet';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export interface EdgeFunctionProps {
  /** Handler module; absolute, or relative to the repository root. It must export `handler`. */
  readonly entry: string;
  /** Powertools service name (`POWERTOOLS_SERVICE_NAME`), e.g. `edgefleet-api-hosts`. */
  readonly serviceName: string;
  /** @default - none */
  readonly description?: string;
  /**
   * Memory in MB (128–10240).
   * @default 512
   */
  readonly memoryMb?: number;
  /**
   * Timeout in seconds (1–900).
   * @default 10
   */
  readonly timeoutSeconds?: number;
  /**
   * Retention of the function's own log group.
   * @default RetentionDays.ONE_MONTH
   */
  readonly logRetention?: RetentionDays;
  /**
   * `POWERTOOLS_LOG_LEVEL`.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
  /**
   * Extra environment variables. Table names are set with `bindTable`, not here.
   * @default - none
   */
  readonly environment?: Readonly<Record<string, string>>;
  /**
   * Where asynchronous invocations (IoT rules, schedules) that still fail after Lambda's
   * retries go. The role gets sqs:SendMessage on it and nothing more.
   * @default - none (synchronous callers see the error themselves)
   */
  readonly deadLetterQueue?: IQueue;
}

/**
 * A Node.js 22 / arm64 Lambda function bundled as ESM, with its own log group (retention),
 * X-Ray active tracing, Powertools settings, and a role without managed policies: the role
 * may only write to its own log group until something is bound to it.
 */
export class EdgeFunction extends Construct {
  public readonly function: NodejsFunction;
  public readonly role: Role;
  public readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: EdgeFunctionProps) {
    super(scope, id);
    const entry = path.isAbsolute(props.entry) ? props.entry : path.join(REPO_ROOT, props.entry);
    if (!/\.(ts|mts|js|mjs)$/.test(entry)) {
      throw new Error(`EdgeFunction ${id}: entry must be a .ts/.mts/.js/.mjs file, got ${props.entry}`);
    }
    if (!existsSync(entry)) throw new Error(`EdgeFunction ${id}: entry file not found: ${entry}`);
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(props.serviceName)) {
      throw new Error(`EdgeFunction ${id}: serviceName must match [A-Za-z0-9._-]{1,64}, got '${props.serviceName}'`);
    }
    const memoryMb = props.memoryMb ?? 512;
    if (!Number.isInteger(memoryMb) || memoryMb < 128 || memoryMb > 10240) {
      throw new Error(`EdgeFunction ${id}: memoryMb must be an integer from 128 to 10240, got ${memoryMb}`);
    }
    const timeoutSeconds = props.timeoutSeconds ?? 10;
    if (!Number.isInteger(timeoutSeconds) || timeoutSeconds < 1 || timeoutSeconds > 900) {
      throw new Error(`EdgeFunction ${id}: timeoutSeconds must be an integer from 1 to 900, got ${timeoutSeconds}`);
    }

    this.logGroup = new LogGroup(this, 'LogGroup', { retention: props.logRetention ?? RetentionDays.ONE_MONTH });
    this.role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: `Execution role of ${props.serviceName}`,
    });
    this.role.addToPolicy(new PolicyStatement({
      actions: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      resources: [this.logGroup.logGroupArn],
    }));

    this.function = new NodejsFunction(this, 'Function', {
      entry,
      handler: 'handler',
      description: props.description,
      runtime: EDGE_RUNTIME,
      architecture: Architecture.ARM_64,
      memorySize: memoryMb,
      timeout: Duration.seconds(timeoutSeconds),
      tracing: Tracing.ACTIVE,
      role: this.role,
      logGroup: this.logGroup,
      deadLetterQueue: props.deadLetterQueue,
      projectRoot: REPO_ROOT,
      depsLockFilePath: path.join(REPO_ROOT, 'package-lock.json'),
      environment: {
        POWERTOOLS_SERVICE_NAME: props.serviceName,
        POWERTOOLS_METRICS_NAMESPACE: METRICS_NAMESPACE,
        POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO',
        NODE_OPTIONS: '--enable-source-maps',
        ...props.environment,
      },
      bundling: {
        format: OutputFormat.ESM,
        target: 'node22',
        minify: true,
        sourceMap: true,
        mainFields: ['module', 'main'],
        banner: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
        externalModules: ['@aws-sdk/*'],
      },
    });

    acknowledgeNag(this, 'AwsSolutions-IAM5[Resource::*]',
      'X-Ray active tracing: xray:PutTraceSegments/PutTelemetryRecords support no resource-level ' +
      'permissions, so the statement CDK adds for Tracing.ACTIVE must use "*".');
    acknowledgeNag(this, 'AwsSolutions-L1',
      'Pinned to nodejs22.x on purpose: the bundles target node22 and the project toolchain ' +
      '(middy 6, local runtime) is validated on Node 20/22; move to a newer runtime deliberately.');
  }
}

/**
 * Exactly the DynamoDB actions the adapters send (lambdas/handlers/aws-calls.ts pins them to the
 * code): reads are GetItem, BatchGetItem and Query (also on the indexes); writes are PutItem,
 * UpdateItem and DeleteItem, which also authorize TransactWriteItems' Put/Update/Delete items.
 * No Scan, no BatchWriteItem, no streams, no DescribeTable: nothing sends them.
 */
export const TABLE_READ_ACTIONS = ['dynamodb:BatchGetItem', 'dynamodb:GetItem', 'dynamodb:Query'] as const;
export const TABLE_WRITE_ACTIONS = ['dynamodb:DeleteItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;
const APPEND_ACTIONS = ['dynamodb:PutItem'];

export interface BindTableOptions {
  /**
   * Writes may only add items (`dynamodb:PutItem`): no update or delete. For append-only
   * tables such as the audit log; reads are unaffected.
   * @default false
   */
  readonly appendOnly?: boolean;
  /**
   * Exactly these item actions instead of the ones `access` implies, for functions whose
   * adapters send fewer (e.g. only Query on the audit table). Each must belong to `access`.
   * @default - TABLE_READ_ACTIONS and/or TABLE_WRITE_ACTIONS (PutItem only when appendOnly)
   */
  readonly actions?: readonly string[];
}

/**
 * Gives `fn` exactly `access` to `table` and sets `envName` to the table name, in one place so
 * the grant and the variable cannot drift apart. `none` does neither. Writes cover the base
 * table only (writes never address an index); reads add Query on `<table>/index/*`.
 */
export function bindTable(
  fn: EdgeFunction, table: ITable, envName: string, access: TableAccess, options: BindTableOptions = {},
): void {
  if (!/^[A-Z][A-Z0-9_]*$/.test(envName)) throw new Error(`bindTable: bad environment variable name '${envName}'`);
  if (!['none', 'read', 'write', 'readwrite'].includes(access)) throw new Error(`bindTable: unknown access level '${String(access)}'`);
  if (access === 'none') return;
  const grant = (actions: readonly string[], resourceArns: string[]) =>
    Grant.addToPrincipal({ grantee: fn.function, actions: [...actions], resourceArns });
  const reads = access === 'read' || access === 'readwrite';
  const writes = access === 'write' || access === 'readwrite';
  const allowed = [...(reads ? TABLE_READ_ACTIONS : []), ...(writes ? (options.appendOnly ? APPEND_ACTIONS : TABLE_WRITE_ACTIONS) : [])];
  const outside = (options.actions ?? []).filter((a) => !allowed.includes(a));
  if (outside.length > 0 || options.actions?.length === 0) {
    throw new Error(`bindTable: ${fn.node.path} asks for ${outside.join(', ') || 'no action'} on ${table.node.path}, outside its '${access}' access`);
  }
  grant([...new Set(options.actions ?? allowed)].sort(), [table.tableArn]);
  if (reads && (options.actions ?? allowed).includes('dynamodb:Query')) {
    grant(['dynamodb:Query'], [`${table.tableArn}/index/*`]);
    acknowledgeIndexWildcard(fn, table);
  }
  fn.function.addEnvironment(envName, table.tableName);
}

/** Reads need `<table>/index/*` to Query the GSIs; acknowledge exactly that finding. */
function acknowledgeIndexWildcard(fn: EdgeFunction, table: ITable): void {
  const cfn = table.node.defaultChild;
  if (!(cfn instanceof CfnElement)) return; // imported table: no index ARN token to name
  const logicalId = Stack.of(cfn).getLogicalId(cfn);
  acknowledgeNag(fn, `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/index/*]`,
    `Queries the GSIs of ${table.node.path}; index ARNs are only addressable as <table>/index/*, ` +
    'and the statement is limited to this one table.');
}
