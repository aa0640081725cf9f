import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { NotFoundError } from '../../domain/errors.js';
import { agentResource, type AgentArtifactDeps } from '../../use-cases/agent-artifacts.js';
import { awsRoot } from '../composition-root.js';
import { entryPoint, lazy } from '../kit.js';
import { problemResponse } from './problem.js';

/**
 * GET /v1/agent/{manifest, manifest.sig, public-key.pem, artifacts/{file}} on AWS: device-facing,
 * no JWT (a host fetches these before it has registered; their integrity rests on the signature
 * and checksums the host checks, not on the transport). Small answers are returned whole
 * (base64 in the Lambda response, so API Gateway passes the exact bytes); an artifact is a 302
 * to a presigned S3 GET that the installer's `curl -L` follows.
 */
const PREFIX = '/v1/agent/';

export function makeHandler(deps: () => AgentArtifactDeps) {
  return entryPoint<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>({
    kind: 'http',
    name: 'edgefleet-api-agent',
    correlate: (event): Record<string, string> => (event.requestContext?.requestId ? { requestId: event.requestContext.requestId } : {}),
    middlewares: [{
      onError: async (request) => {
        request.response = problemResponse(request.error, request.event.requestContext?.requestId ?? 'unknown', request.event.rawPath);
      },
    }],
  }, async (event): Promise<APIGatewayProxyStructuredResultV2> => {
    const requestId = event.requestContext.requestId;
    const path = event.rawPath ?? '';
    if (!path.startsWith(PREFIX)) throw new NotFoundError('not-found', `no route ${event.routeKey}`);
    const r = await agentResource(deps(), path.slice(PREFIX.length));
    if (r.kind === 'redirect') {
      return { statusCode: 302, headers: { location: r.url, 'cache-control': 'no-store', 'x-request-id': requestId } };
    }
    if (r.kind === 'file') throw new Error('the agent function was wired with a file store: on AWS the artifacts are in S3');
    return {
      statusCode: 200,
      headers: { 'content-type': r.contentType, 'cache-control': 'no-cache', 'x-request-id': requestId },
      body: Buffer.from(r.body).toString('base64'),
      isBase64Encoded: true,
    };
  });
}

export const handler = lazy(() => makeHandler(() => awsRoot([]).agent));
