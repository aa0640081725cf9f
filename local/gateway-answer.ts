import type http from 'node:http';

/**
 * API Gateway's own answers (its refusals, throttles and integration failures) are not
 * problem+json: they are `{"message": "…"}` with the status, as in `429 {"message":"Too Many
 * Requests"}` or `503 {"message":"Service Unavailable"}`. Used by the front door
 * (api-front-thread.ts) and the functions' server (api-gateway.ts).
 */
export function gatewayError(res: http.ServerResponse, status: number, message: string): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ message }));
}
