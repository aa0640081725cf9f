import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * The one logger, metrics sink and tracer (Powertools): structured JSON to stdout, CloudWatch EMF for
 * metrics. Created on first use so importing a handler has no side effects.
 */
let logger: Logger | undefined;
let metrics: Metrics | undefined;
let tracer: Tracer | undefined;

export function getLogger(): Logger {
  logger ??= new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'edgefleet' });
  return logger;
}

export function getMetrics(): Metrics {
  metrics ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeFleet', serviceName: 'edgefleet' });
  return metrics;
}

/** X-Ray through Powertools; off outside Lambda and when POWERTOOLS_TRACE_ENABLED=false (local runtime). */
export function getTracer(): Tracer {
  tracer ??= new Tracer({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'edgefleet' });
  return tracer;
}
