import type { IdempotencyBegin, IdempotencyStore } from '../../ports/index.js';
import type { MemoryState } from './state.js';

/** Responses are kept for a day; an abandoned in-progress reservation frees itself after a minute. */
const KEEP_SECONDS = 86_400;
const LOCK_SECONDS = 60;

/** Idempotency keys in memory; expiry is checked on read, as the DynamoDB store does (TTL deletion lags). */
export class MemoryIdempotencyStore implements IdempotencyStore {
  constructor(private readonly state: MemoryState) {}

  async begin(key: string, fingerprint: string, now: Date): Promise<IdempotencyBegin> {
    const nowS = Math.floor(now.getTime() / 1000);
    const item = this.state.idempotency.get(key);
    const free = !item || item.expiresAtEpoch < nowS || (item.state === 'in-progress' && item.lockedUntil < nowS);
    if (free) {
      this.state.idempotency.set(key, { fingerprint, state: 'in-progress', lockedUntil: nowS + LOCK_SECONDS, expiresAtEpoch: nowS + KEEP_SECONDS });
      return { state: 'new' };
    }
    if (item.fingerprint !== fingerprint) return { state: 'mismatch' };
    if (item.state !== 'done' || !item.response) return { state: 'in-progress' };
    return { state: 'replay', status: item.response.status, body: item.response.body, headers: { ...item.response.headers } };
  }

  async complete(key: string, response: { status: number; body: string; headers: Record<string, string> }, now: Date): Promise<void> {
    const item = this.state.idempotency.get(key);
    this.state.idempotency.set(key, {
      fingerprint: item?.fingerprint ?? '', lockedUntil: item?.lockedUntil ?? 0,
      state: 'done', response: { ...response, headers: { ...response.headers } }, expiresAtEpoch: Math.floor(now.getTime() / 1000) + KEEP_SECONDS,
    });
  }

  async release(key: string): Promise<void> {
    this.state.idempotency.delete(key);
  }
}
