import { LAMBDA_ASYNC_DEFAULTS, type AsyncRetryPolicy } from './async-invoke.js';
import { InvocationSlots, type LocalFunction } from './lambda-invocation.js';

interface FunctionResource {
  readonly Type?: string;
  readonly Properties?: {
    readonly Timeout?: unknown; readonly Environment?: { readonly Variables?: Record<string, unknown> };
    // AWS::Lambda::EventInvokeConfig
    readonly FunctionName?: unknown; readonly MaximumRetryAttempts?: unknown; readonly MaximumEventAgeInSeconds?: unknown;
    // AWS::ApiGatewayV2::Integration
    readonly IntegrationUri?: unknown; readonly TimeoutInMillis?: unknown;
  };
}

/**
 * How long an HTTP API waits for its integration when the integration sets no `TimeoutInMillis`:
 * "between 50 and 30,000 milliseconds for HTTP APIs. The default timeout is … 30 seconds for HTTP
 * APIs" (API Gateway's Integration reference). Then the caller gets 503 {"message":"Service Unavailable"}.
 */
export const HTTP_API_INTEGRATION_TIMEOUT_MS = 30_000;

/** The integration timeout of every function behind an HTTP API Lambda integration, by the function's logical id. */
function integrationTimeoutByFunction(resources: Readonly<Record<string, FunctionResource>>): Map<string, number> {
  const out = new Map<string, number>();
  for (const r of Object.values(resources)) {
    if (r?.Type !== 'AWS::ApiGatewayV2::Integration') continue;
    const uri = r.Properties?.IntegrationUri;
    const getAtt = uri !== null && typeof uri === 'object' && 'Fn::GetAtt' in uri ? uri['Fn::GetAtt'] : undefined;
    if (!Array.isArray(getAtt) || typeof getAtt[0] !== 'string') continue;
    const ms = r.Properties?.TimeoutInMillis;
    out.set(getAtt[0], typeof ms === 'number' ? ms : HTTP_API_INTEGRATION_TIMEOUT_MS);
  }
  return out;
}

/** Each function's asynchronous retry settings (`AWS::Lambda::EventInvokeConfig` on `$LATEST`), by the function's logical id. */
function asyncRetryByFunction(resources: Readonly<Record<string, FunctionResource>>): Map<string, AsyncRetryPolicy> {
  const out = new Map<string, AsyncRetryPolicy>();
  for (const r of Object.values(resources)) {
    if (r?.Type !== 'AWS::Lambda::EventInvokeConfig') continue;
    const p = r.Properties ?? {};
    const ref = p.FunctionName !== null && typeof p.FunctionName === 'object' && 'Ref' in p.FunctionName ? p.FunctionName.Ref : undefined;
    if (typeof ref !== 'string') continue;
    out.set(ref, {
      retries: typeof p.MaximumRetryAttempts === 'number' ? p.MaximumRetryAttempts : LAMBDA_ASYNC_DEFAULTS.retries,
      maxAgeMs: typeof p.MaximumEventAgeInSeconds === 'number' ? p.MaximumEventAgeInSeconds * 1000 : LAMBDA_ASYNC_DEFAULTS.maxAgeMs,
    });
  }
  return out;
}

/**
 * The timeout of every function of the synthesized template, by its Powertools service name
 * (`POWERTOOLS_SERVICE_NAME`, e.g. `edgefleet-api-hosts`) and by logical id: what Lambda would
 * enforce, declared once in lib/ (EdgeFunction `timeoutSeconds`). `overrides` (seconds, by
 * service name) shorten a timeout on this machine only (tests); the product's values stay.
 * `concurrency` bounds each function's concurrent invocations on this machine (lambda-invocation.ts).
 * Each function also carries Lambda's retry settings for its asynchronous invocations (its
 * EventInvokeConfig, or Lambda's defaults), which local/async-invoke.ts applies, and, behind an
 * HTTP API, how long the API waits for it (its integration's `TimeoutInMillis`, or the HTTP API default).
 */
export class FunctionTimeouts {
  private readonly byName = new Map<string, LocalFunction>();
  private readonly byLogicalId = new Map<string, LocalFunction>();

  constructor(template: Readonly<Record<string, unknown>>, overrides: Readonly<Record<string, number>> = {}, concurrency?: number) {
    const resources = (template.Resources ?? {}) as Record<string, FunctionResource>;
    const retries = asyncRetryByFunction(resources);
    const integrationTimeouts = integrationTimeoutByFunction(resources);
    for (const [logicalId, r] of Object.entries(resources)) {
      if (r?.Type !== 'AWS::Lambda::Function') continue;
      const name = r.Properties?.Environment?.Variables?.POWERTOOLS_SERVICE_NAME;
      const seconds = r.Properties?.Timeout;
      if (typeof name !== 'string') continue;
      if (typeof seconds !== 'number') throw new Error(`function ${logicalId} (${name}) has no Timeout in the synthesized template; synthesize the stack again`);
      const integrationTimeoutMs = integrationTimeouts.get(logicalId);
      const fn: LocalFunction = {
        name, timeoutMs: (overrides[name] ?? seconds) * 1000, asyncRetry: retries.get(logicalId) ?? LAMBDA_ASYNC_DEFAULTS,
        ...(integrationTimeoutMs === undefined ? {} : { integrationTimeoutMs }),
        ...(concurrency === undefined ? {} : { slots: new InvocationSlots(concurrency) }),
      };
      this.byName.set(name, fn);
      this.byLogicalId.set(logicalId, fn);
    }
    const unknown = Object.keys(overrides).filter((n) => !this.byName.has(n));
    if (unknown.length > 0) throw new Error(`functionTimeoutSeconds names no function of the template: ${unknown.join(', ')} (known: ${[...this.byName.keys()].sort().join(', ')})`);
  }

  /** The function with this service name; throws when the template has none (a local handler with no deployed function). */
  named(name: string): LocalFunction {
    const fn = this.byName.get(name);
    if (!fn) throw new Error(`the synthesized template has no function with POWERTOOLS_SERVICE_NAME ${name}; the local runtime calls one, so lib/ must deploy it`);
    return fn;
  }

  /** The function of this logical id (the Step Functions tasks name their functions so). */
  resource(logicalId: string): LocalFunction | undefined {
    return this.byLogicalId.get(logicalId);
  }
}
