import { FunctionTimeouts, HTTP_API_INTEGRATION_TIMEOUT_MS } from '../../../local/function-timeouts.js';

/*
 * How long the local HTTP API waits for each route's function: its integration's TimeoutInMillis
 * in the synthesized template, or, when the integration sets none, the HTTP API default of 30 s
 * (API Gateway's Integration reference: "between 50 and 30,000 milliseconds for HTTP APIs. The
 * default timeout is ... 30 seconds for HTTP APIs").
 */
const fnRes = (service: string) => ({ Type: 'AWS::Lambda::Function', Properties: { Timeout: 10, Environment: { Variables: { POWERTOOLS_SERVICE_NAME: service } } } });
const integration = (fn: string, extra: Record<string, unknown> = {}) => ({
  Type: 'AWS::ApiGatewayV2::Integration',
  Properties: { ApiId: { Ref: 'Api' }, IntegrationType: 'AWS_PROXY', IntegrationUri: { 'Fn::GetAtt': [fn, 'Arn'] }, PayloadFormatVersion: '2.0', ...extra },
});

describe('FunctionTimeouts: the HTTP API integration timeout of each function', () => {
  const template = {
    Resources: {
      Hosts: fnRes('edgefleet-api-hosts'),
      Device: fnRes('edgefleet-api-device'),
      Sweeper: fnRes('edgefleet-command-sweeper'),
      HostsIntegration: integration('Hosts'),
      DeviceIntegration: integration('Device', { TimeoutInMillis: 12_000 }),
      Other: { Type: 'AWS::ApiGatewayV2::Integration', Properties: { IntegrationType: 'HTTP_PROXY', IntegrationUri: 'https://example.invalid' } },
    },
  };

  it.each<[string, number | undefined, string]>([
    ['edgefleet-api-hosts', HTTP_API_INTEGRATION_TIMEOUT_MS, 'no TimeoutInMillis: the HTTP API default'],
    ['edgefleet-api-device', 12_000, 'its TimeoutInMillis'],
    ['edgefleet-command-sweeper', undefined, 'behind no API'],
  ])('%s: %p ms (%s)', (name, ms, _why) => {
    expect(new FunctionTimeouts(template).named(name).integrationTimeoutMs).toBe(ms);
  });

  it('the default is the documented 30 s', () => {
    expect(HTTP_API_INTEGRATION_TIMEOUT_MS).toBe(30_000);
  });
});
