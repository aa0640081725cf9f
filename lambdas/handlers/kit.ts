/**
 * The handler kit: every Lambda entry point — HTTP routes, IoT rule targets, workflow tasks,
 * the schedule — is a middy handler with the Powertools tracer, logger (Lambda context) and
 * metrics, run inside its own correlation scope (see ./observability.ts): `requestId` plus the
 * `operationId`, `hostId` and `clusterId` its event names, on every log line it writes.
 * The runtimes that call a handler without a Lambda context (the local runtime, unit tests) get
 * one made up for the call.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import type { Metrics } from '@aws-lambda-powertools/metrics';
import type { Context } from 'aws-lambda';
import { setFailureContext } from '../use-cases/swallowed-failure.js';
import { correlation, getLogger, getMetrics, loadTracer, withCorrelation } from './observability.js';

export type EntryKind = 'http' | 'iot' | 'workflow' | 'schedule' | 'event';

/** The correlation keys the kit looks for in an event. */
export const CORRELATION_KEYS = ['operationId', 'hostId', 'clusterId'] as const;

/** Ids fit for a log key: short strings of id characters (the event is not validated yet). */
const ID = /^[A-Za-z0-9:._-]{1,128}$/;

/** Picks the well-formed correlation ids out of a record (path parameters, a payload). */
export function correlationIds(source: unknown, keys: readonly string[] = CORRELATION_KEYS): Record<string, string> {
  if (source === null || typeof source !== 'object') return {};
  const out: Record<string, string> = {};
  for (const key of keys) {
    const value: unknown = Reflect.get(source, key);
    if (typeof value === 'string' && ID.test(value)) out[key] = value;
  }
  return out;
}

export interface EntrySpec<E, R> {
  readonly kind: EntryKind;
  /** The function name used where Lambda gives none (local runtime, tests). */
  readonly name: string;
  /** The correlation keys this event carries (requestId included where the event has its own). */
  readonly correlate?: (event: E) => Record<string, string>;
  /** This kind's own middlewares (e.g. HTTP's problem+json), innermost. */
  readonly middlewares?: readonly middy.MiddlewareObj<E, R, Error, Context>[];
}

/** Flushes what the invocation counted (Powertools' logMetrics warns on every invocation that counted nothing). */
function flushMetrics<E, R>(metrics: Metrics): middy.MiddlewareObj<E, R, Error, Context> {
  const flush = async () => { if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics(); };
  return { after: flush, onError: flush };
}

/**
 * A Lambda context for runtimes that call a handler directly (the local runtime, tests): as
 * Lambda's, its remaining time counts down from the function's timeout, from this call on.
 */
export function syntheticContext(functionName: string, awsRequestId: string = randomUUID(), timeoutMs = 30_000): Context {
  const deadline = Date.now() + timeoutMs;
  return {
    callbackWaitsForEmptyEventLoop: false, functionName, functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:${functionName}`, memoryLimitInMB: '512',
    awsRequestId, logGroupName: `/aws/lambda/${functionName}`, logStreamName: 'local',
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()), done: () => undefined, fail: () => undefined, succeed: () => undefined,
  };
}

type Request = middy.Request<unknown, unknown, Error, Context>;
interface TracingMiddleware { before?: (r: Request) => unknown; after?: (r: Request) => unknown; onError?: (r: Request) => unknown }

/**
 * Powertools' captureLambdaHandler, loaded (with the tracer and the X-Ray SDK) on the first
 * invocation and only when tracing is on (observability.ts `loadTracer`): with tracing off nothing
 * of X-Ray is loaded and no async hook slows the process.
 */
function tracing(): middy.MiddlewareObj<unknown, unknown, Error, Context> {
  let real: Promise<TracingMiddleware | undefined> | undefined;
  const load = () => (real ??= loadTracer().then(async (t) => (t ? (await import('@aws-lambda-powertools/tracer/middleware')).captureLambdaHandler(t) : undefined)));
  return {
    before: async (r) => (await load())?.before?.(r),
    after: async (r) => (await load())?.after?.(r),
    onError: async (r) => (await load())?.onError?.(r),
  };
}

/** Builds one entry point. The returned function takes the context Lambda passes, or none. */
export function entryPoint<E, R>(spec: EntrySpec<E, R>, core: (event: E, context: Context) => Promise<R>): (event: E, context?: Context) => Promise<R> {
  // Swallowed failures (use cases) carry the invocation's keys too.
  setFailureContext(correlation);
  const chain = middy<E, R, Error, Context>()
    .use(tracing())
    .use(injectLambdaContext(getLogger()))
    .use(flushMetrics(getMetrics()));
  for (const m of spec.middlewares ?? []) chain.use(m);
  const handler = chain.handler(core);
  return (event, context) => {
    const ctx = context ?? syntheticContext(spec.name);
    let keys: Record<string, string>;
    try {
      keys = { requestId: ctx.awsRequestId, ...(spec.correlate?.(event) ?? {}) };
    } catch {
      keys = { requestId: ctx.awsRequestId };
    }
    return withCorrelation(keys, () => handler(event, ctx));
  };
}

/** The Lambda `handler` export: built on the first invocation, so importing a handler module reads no environment and creates nothing. */
export function lazy<A extends unknown[], R>(build: () => (...args: A) => R): (...args: A) => R {
  let built: ((...args: A) => R) | undefined;
  return (...args) => (built ??= build())(...args);
}
