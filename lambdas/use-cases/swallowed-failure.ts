/**
 * A failure a use case swallows by design (the caller must not fail: the work is retried by
 * another path) still leaves a trace: one structured JSON line for the operator, which is also
 * a CloudWatch Embedded Metric Format record counting `metric` (Lambda turns EMF lines on
 * stdout into metrics, no API call). Written at WARN; hidden when the log level is above it.
 */
export interface SwallowedFailure {
  /** Counted metric name, e.g. `CommandPublishFailed`. */
  readonly metric: string;
  /** What happened and to what, for an operator. */
  readonly message: string;
  /** What to do about it. */
  readonly action: string;
  readonly error: unknown;
  /** Correlation keys: hostId, commandId, operationId… */
  readonly [key: string]: unknown;
}

const QUIET = new Set(['ERROR', 'CRITICAL', 'SILENT']);

export type FailureSink = (line: string) => void;
let sink: FailureSink = (line) => { process.stdout.write(`${line}\n`); };

/**
 * The correlation keys of the invocation running now (request, operation, host, cluster): the
 * handler kit installs its source; the line's own keys win over these.
 */
export type FailureContext = () => Readonly<Record<string, unknown>>;
let context: FailureContext = () => ({});

export function setFailureContext(next: FailureContext): FailureContext {
  const previous = context;
  context = next;
  return previous;
}

/** Tests read what would be written. Returns the previous sink. */
export function setFailureSink(next: FailureSink): FailureSink {
  const previous = sink;
  sink = next;
  return previous;
}

export function reportSwallowed(f: SwallowedFailure): void {
  if (QUIET.has((process.env.POWERTOOLS_LOG_LEVEL ?? 'INFO').toUpperCase())) return;
  const { metric, error, ...fields } = f;
  const err = error instanceof Error ? { name: error.name, message: error.message } : { message: String(error) };
  sink(JSON.stringify({
    level: 'WARN', timestamp: new Date().toISOString(), service: process.env.POWERTOOLS_SERVICE_NAME ?? 'edgefleet',
    // A key the line leaves undefined (e.g. a command of no operation) keeps the invocation's value.
    ...context(), ...Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== undefined)), error: err,
    _aws: { Timestamp: Date.now(), CloudWatchMetrics: [{ Namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'EdgeFleet', Dimensions: [[]], Metrics: [{ Name: metric, Unit: 'Count' }] }] },
    [metric]: 1,
  }));
}
