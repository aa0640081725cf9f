import { loadTracer, tracingEnabled } from '../../lambdas/handlers/observability.js';

describe('tracing is loaded only when on', () => {
  it.each<[string, Record<string, string | undefined>, boolean]>([
    ['in Lambda, tracing not switched off', { AWS_LAMBDA_FUNCTION_NAME: 'edgefleet-api-device' }, true],
    ['in Lambda, POWERTOOLS_TRACE_ENABLED=true', { AWS_LAMBDA_FUNCTION_NAME: 'f', POWERTOOLS_TRACE_ENABLED: 'true' }, true],
    ['in Lambda, switched off', { AWS_LAMBDA_FUNCTION_NAME: 'f', POWERTOOLS_TRACE_ENABLED: 'false' }, false],
    ['in Lambda, switched off in capitals', { AWS_LAMBDA_FUNCTION_NAME: 'f', POWERTOOLS_TRACE_ENABLED: 'FALSE' }, false],
    ['outside Lambda (the local runtime, tests)', {}, false],
  ])('%s', (_n, env, on) => {
    expect(tracingEnabled(env)).toBe(on);
  });

  it('outside Lambda no tracer is created (nothing of X-Ray is loaded)', async () => {
    delete process.env.AWS_LAMBDA_FUNCTION_NAME;
    await expect(loadTracer()).resolves.toBeUndefined();
  });
});
