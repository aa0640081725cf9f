/**
 * API Gateway's throttling of an HTTP API stage, as the synthesized template declares it: each
 * route has its own token bucket ("a token counts for a request"), of `ThrottlingBurstLimit`
 * tokens refilled at `ThrottlingRateLimit` a second, from the stage's `RouteSettings` for that
 * route key or else its `DefaultRouteSettings` (API Gateway's "Throttling requests to your HTTP
 * API"). A request that finds its bucket empty is answered `429 {"message":"Too Many Requests"}`
 * before any function runs. Applied by the API's front door (api-front-thread.ts), together with
 * the account's own bucket: API Gateway examines "the rate and a burst of request submissions
 * against all APIs in your account, per Region" (10,000 requests/s, burst 5,000 by default, a
 * quota AWS raises on request), so every request takes a token from it first, whatever its route.
 * Here the account has this one API.
 */

/** API Gateway's default account-level throttle per Region (Amazon API Gateway quotas). */
export const ACCOUNT_API_THROTTLE: ThrottleLimit = { rateLimit: 10_000, burstLimit: 5_000 };

export interface ThrottleLimit {
  /** Requests a second, steady state. */
  readonly rateLimit: number;
  /** The bucket's size: requests at once before the first 429. */
  readonly burstLimit: number;
}

export interface StageThrottles {
  /** Every route's limit unless its route key has its own. */
  readonly default?: ThrottleLimit;
  /** By route key ("POST /v1/device/register"). */
  readonly routes: Readonly<Record<string, ThrottleLimit>>;
  /** The account's bucket, shared by every route and taken from first (ACCOUNT_API_THROTTLE on this machine). @default none */
  readonly account?: ThrottleLimit;
}

/** A token bucket: full at first, refilled continuously, never above its burst. */
export class TokenBucket {
  private tokens: number;
  private at: number;

  constructor(private readonly limit: ThrottleLimit, now: number) {
    this.tokens = limit.burstLimit;
    this.at = now;
  }

  /** Takes a token if there is one (the request goes on); false: throttled. */
  take(now: number): boolean {
    this.tokens = Math.min(this.limit.burstLimit, this.tokens + (Math.max(0, now - this.at) / 1000) * this.limit.rateLimit);
    this.at = Math.max(this.at, now);
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }
}

const limitFrom = (v: unknown): ThrottleLimit | undefined => {
  if (v === null || typeof v !== 'object') return undefined;
  const { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst } = v as Record<string, unknown>;
  return typeof rate === 'number' && typeof burst === 'number' ? { rateLimit: rate, burstLimit: burst } : undefined;
};

/** The throttles of the template's HTTP API stage; none when it declares none. */
export function stageThrottles(template: Readonly<Record<string, unknown>>): StageThrottles {
  const resources = (template.Resources ?? {}) as Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  const stages = Object.values(resources).filter((r) => r?.Type === 'AWS::ApiGatewayV2::Stage');
  if (stages.length > 1) throw new Error(`the template has ${stages.length} API Gateway stages; the local API serves one`);
  const p = stages[0]?.Properties ?? {};
  const routes: Record<string, ThrottleLimit> = {};
  for (const [key, v] of Object.entries((p.RouteSettings ?? {}) as Record<string, unknown>)) {
    const limit = limitFrom(v);
    if (limit) routes[key] = limit;
  }
  const fallback = limitFrom(p.DefaultRouteSettings);
  return { ...(fallback ? { default: fallback } : {}), routes };
}
