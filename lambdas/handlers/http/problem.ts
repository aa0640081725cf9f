import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import type { Problem } from '../../contracts/common.js';
import { EdgeFleetError, ThrottledError, type ErrorKind } from '../../domain/errors.js';
import { getLogger, getMetrics } from '../observability.js';

export const STATUS_BY_KIND: Readonly<Record<ErrorKind, number>> = {
  validation: 400,
  unprocessable: 422,
  unauthenticated: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'precondition-failed': 412,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  throttled: 429,
  internal: 500,
  unavailable: 503,
};

const TITLES: Readonly<Record<number, string>> = {
  400: 'Bad Request', 401: 'Unauthorized', 403: 'Forbidden', 404: 'Not Found', 409: 'Conflict', 412: 'Precondition Failed', 422: 'Unprocessable Content',
  413: 'Content Too Large', 415: 'Unsupported Media Type', 429: 'Too Many Requests', 500: 'Internal Server Error', 503: 'Service Unavailable',
};

/** The one mapping from the error hierarchy to RFC 9457 problem+json. */
export function problemResponse(error: unknown, requestId: string, instance?: string): APIGatewayProxyStructuredResultV2 {
  let p: Problem;
  const retryAfter = error instanceof ThrottledError ? error.retryAfterSeconds ?? 2 : 2;
  if (error instanceof EdgeFleetError) {
    const status = STATUS_BY_KIND[error.kind];
    p = {
      type: `urn:edgefleet:problem:${error.code}`, title: TITLES[status] ?? 'Error', status, code: error.code, detail: error.message,
      requestId, ...(instance ? { instance } : {}), ...(error.errors ? { errors: [...error.errors] } : {}),
    };
    if (status >= 500) getLogger().error('request failed', { requestId, code: error.code, error });
    else getLogger().info('request refused', { requestId, code: error.code, status });
  } else {
    getLogger().error('unexpected error', { requestId, error: error as Error });
    p = {
      type: 'urn:edgefleet:problem:internal', title: TITLES[500]!, status: 500, code: 'internal',
      detail: `something went wrong on our side; nothing you sent was wrong. Retry, and if it keeps failing report request id ${requestId}`,
      requestId, ...(instance ? { instance } : {}),
    };
  }
  const metrics = getMetrics();
  metrics.addMetric(p.status >= 500 ? 'ServerErrors' : 'ClientErrors', 'Count', 1);
  metrics.publishStoredMetrics();
  return {
    statusCode: p.status,
    headers: { 'content-type': 'application/problem+json', 'x-request-id': requestId, ...(p.status === 429 ? { 'retry-after': String(retryAfter) } : {}) },
    body: JSON.stringify(p),
  };
}
