/**
 * When to look again at something that runs: the API's `Retry-After` (seconds, or an HTTP date)
 * or a body's `pollAfterSeconds` when it gives one, else the page's own pace; never faster than
 * 1 s nor slower than 60 s, so a bad header neither floods the API nor freezes the page. Pure.
 */
export function nextPollMs(retryAfter: string | null | undefined, pollAfterSeconds: number | undefined, fallbackMs: number, now = Date.now()): number {
  const clamp = (ms: number) => Math.min(60_000, Math.max(1_000, Math.round(ms)));
  if (typeof pollAfterSeconds === 'number' && Number.isFinite(pollAfterSeconds) && pollAfterSeconds >= 0) return clamp(pollAfterSeconds * 1000);
  const header = retryAfter?.trim();
  if (header) {
    if (/^\d+$/.test(header)) return clamp(Number(header) * 1000);
    const at = Date.parse(header);
    if (!Number.isNaN(at)) return clamp(at - now);
  }
  return clamp(fallbackMs);
}
