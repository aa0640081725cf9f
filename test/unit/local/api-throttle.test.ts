import { API_ROUTES, routeKey } from '../../../lib/api-routes.js';
import { stageThrottles, TokenBucket } from '../../../local/api-throttle.js';
import { cachedTemplate, CHECKOUT_TEMPLATE_CACHE } from '../../../local/template-cache.js';

/*
 * API Gateway throttles an HTTP API with a token bucket per route ("a token counts for a
 * request"): ThrottlingBurstLimit is the bucket's size, ThrottlingRateLimit its refill a second
 * (API Gateway's "Throttling requests to your HTTP API"). RouteSettings override the stage's
 * DefaultRouteSettings for their route key.
 */
describe('TokenBucket', () => {
  it.each([
    // [rate, burst, request times (ms), which go on]
    [50, 3, [0, 0, 0, 0], [true, true, true, false]],
    [1, 2, [0, 0, 0, 999, 1000, 1000], [true, true, false, false, true, false]],
    [10, 1, [0, 50, 100, 150, 200], [true, false, true, false, true]],
    [1, 2, [0, 0, 60_000, 60_000, 60_000], [true, true, true, true, false]], // refilled to its burst, not beyond
    [100, 0, [0, 1000], [false, false]], // a burst of 0 lets nothing through
  ])('rate %d/s, burst %d: requests at %j → %j', (rateLimit, burstLimit, times, expected) => {
    const bucket = new TokenBucket({ rateLimit, burstLimit }, 0);
    expect(times.map((t) => bucket.take(t))).toEqual(expected);
  });

  it('a clock that steps back takes nothing back and gives nothing', () => {
    const bucket = new TokenBucket({ rateLimit: 1, burstLimit: 1 }, 10_000);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(5_000)).toBe(false);
    expect(bucket.take(10_999)).toBe(false);
    expect(bucket.take(11_000)).toBe(true);
  });
});

describe('stageThrottles: what the template\'s stage declares', () => {
  it('reads the default route settings and each route key\'s own', () => {
    const t = stageThrottles({ Resources: { S: { Type: 'AWS::ApiGatewayV2::Stage', Properties: {
      DefaultRouteSettings: { ThrottlingBurstLimit: 500, ThrottlingRateLimit: 200 },
      RouteSettings: { 'POST /v1/device/register': { ThrottlingRateLimit: 50, ThrottlingBurstLimit: 100 }, 'GET /x': { DetailedMetricsEnabled: true } },
    } } } });
    expect(t).toEqual({ default: { rateLimit: 200, burstLimit: 500 }, routes: { 'POST /v1/device/register': { rateLimit: 50, burstLimit: 100 } } });
  });

  it('a stage with no throttle settings throttles nothing; two stages are refused', () => {
    expect(stageThrottles({ Resources: { S: { Type: 'AWS::ApiGatewayV2::Stage', Properties: { StageName: '$default' } } } })).toEqual({ routes: {} });
    expect(stageThrottles({})).toEqual({ routes: {} });
    const stage = { Type: 'AWS::ApiGatewayV2::Stage', Properties: {} };
    expect(() => stageThrottles({ Resources: { A: stage, B: stage } })).toThrow('the template has 2 API Gateway stages; the local API serves one');
  });

  it('the synthesized stack throttles every route, and each route setting names a route the API has (a typo would throttle nothing)', () => {
    const t = stageThrottles(cachedTemplate(CHECKOUT_TEMPLATE_CACHE));
    expect(t.default).toEqual({ rateLimit: expect.any(Number), burstLimit: expect.any(Number) });
    const keys = new Set(API_ROUTES.map(routeKey));
    expect(Object.keys(t.routes).length).toBeGreaterThan(0);
    for (const key of Object.keys(t.routes)) expect(keys).toContain(key);
    // The public registration route has its own setting, by default the stage's limits (so a
    // storm reaches the admission, whose 429 says when to come back: README, bench:admission).
    expect(t.routes['POST /v1/device/register']).toEqual(t.default);
  });
});
