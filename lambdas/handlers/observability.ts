import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';

/**
 * The one logger and metrics sink (Powertools): structured JSON to stdout, CloudWatch EMF for
 * metrics. Created on first use so importing a handler has no side effects.
 */
let logger: Logger | undefined;
let metrics: Metrics | undefined;

export function getLogger(): Logger {
  logger ??= new Logger({ serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'edgefleet' });
  return logger;
}

export function getMetrics(): Metrics {
  metrics ??= new Metrics({ namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeFleet', serviceName: 'edgefleet' });
  return metrics;
}
