import { AsyncLocalStorage } from 'node:async_hooks';
import { LogFormatter, LogItem, Logger } from '@aws-lambda-powertools/logger';
import type { LogAttributes, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one logger, metrics sink and tracer (Powertools): structured JSON to stdout, CloudWatch EMF for
 * metrics. Created on first use so importing a handler has no side effects.
 *
 * Correlation keys (`requestId`, `operationId`, `hostId`, `clusterId`, …) belong to one
 * invocation. The handler kit opens a scope per invocation; every line the logger writes inside
 * it carries that scope's keys (a key given on the line itself wins). The scope lives in an
 * AsyncLocalStorage, not in the logger's shared temporary keys, because the local runtime runs
 * many invocations of one handler at once in one process: shared keys would bleed between them.
 */
export type CorrelationKeys = Readonly<Record<string, string>>;

const scope = new AsyncLocalStorage<Record<string, string>>();

/** Runs `fn` with its own correlation keys (nested scopes start from the outer scope's keys). */
export function withCorrelation<T>(keys: CorrelationKeys, fn: () => T): T {
  return scope.run({ ...(scope.getStore() ?? {}), ...keys }, fn);
}

/** Adds keys learnt during the invocation (e.g. the cluster of an operation) to the current scope. */
export function appendCorrelation(keys: CorrelationKeys): void {
  const store = scope.getStore();
  if (store) Object.assign(store, keys);
}

/** The keys of the current invocation ({} outside one). */
export function correlation(): CorrelationKeys {
  return { ...(scope.getStore() ?? {}) };
}

/** Powertools' standard JSON layout, plus the correlation keys of the current invocation. */
class CorrelatedFormatter extends LogFormatter {
  formatAttributes(attributes: UnformattedAttributes, additional: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        level: attributes.logLevel,
        message: attributes.message,
        timestamp: this.formatTimestamp(attributes.timestamp),
        service: attributes.serviceName,
        cold_start: attributes.lambdaContext?.coldStart,
        function_arn: attributes.lambdaContext?.invokedFunctionArn,
        function_memory_size: attributes.lambdaContext?.memoryLimitInMB,
        function_name: attributes.lambdaContext?.functionName,
        function_request_id: attributes.lambdaContext?.awsRequestId,
        sampling_rate: attributes.sampleRateValue,
        xray_trace_id: attributes.xRayTraceId,
      },
    }).addAttributes({ ...correlation(), ...additional });
  }
}

let logger: Logger | undefined;
let metrics: Metrics | undefined;
let tracer: Promise<Tracer | undefined> | undefined;
let loadedTracer: Tracer | undefined;

export function getLogger(): Logger {
  logger ??= new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'edgefleet', logFormatter: new CorrelatedFormatter() });
  return logger;
}

export function getMetrics(): Metrics {
  metrics ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeFleet', serviceName: 'edgefleet' });
  return metrics;
}

/** Whether this process traces: in Lambda, unless POWERTOOLS_TRACE_ENABLED=false (as Powertools decides; the local runtime sets it false). */
export function tracingEnabled(env: Readonly<Record<string, string | undefined>> = process.env): boolean {
  return env.POWERTOOLS_TRACE_ENABLED?.toLowerCase() !== 'false' && Boolean(env.AWS_LAMBDA_FUNCTION_NAME);
}

/**
 * X-Ray through Powertools, loaded only when tracing is on: importing the tracer loads the X-Ray
 * SDK, whose automatic mode enables a cls-hooked async hook (init/before/after/destroy) on every
 * promise and callback of the process for as long as it runs — on one machine serving a
 * registration storm that was a tenth of the control plane's CPU, with tracing off
 * (BENCHMARKS.md "Where a registration's CPU goes"). Undefined when tracing is off.
 */
export function loadTracer(): Promise<Tracer | undefined> {
  tracer ??= tracingEnabled()
    ? import('@aws-lambda-powertools/tracer').then((m) => (loadedTracer = new m.Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'edgefleet' })))
    : Promise.resolve(undefined);
  return tracer;
}

/** The tracer once `loadTracer()` settled with one (every entry point loads it before its handler runs), else undefined. */
export function currentTracer(): Tracer | undefined {
  return loadedTracer;
}
