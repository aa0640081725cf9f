import { IOT_RULES, type IotRule, type IotRuleName } from '../lambdas/contracts/iot.js';
import type { IotOutcome } from '../lambdas/handlers/iot/framework.js';

export type RuleHandler = (event: unknown) => Promise<IotOutcome>;

export interface RuleStats {
  accepted: number;
  rejected: number;
  /** The handler's first attempt failed (e.g. the database failed, or it timed out); Lambda runs it again later (local/async-invoke.ts). */
  failed: number;
  /** Time spent in the handler, all invocations (what Lambda would bill as duration, measured in-process). */
  durationMs: number;
}

export interface IotRouter {
  /** Feed every message the broker sees (device and broker publishes). */
  route(topic: string, payload: Buffer): void;
  readonly stats: Readonly<Record<IotRuleName, RuleStats>>;
  /** Resolves when no handler call is in flight. */
  whenIdle(): Promise<void>;
}

/** MQTT filter match: `+` one level, `#` the rest (including none). */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length) return false;
    if (f[i] !== '+' && f[i] !== t[i]) return false;
  }
  return f.length === t.length;
}

export type RouterLog = (level: 'warn' | 'error', message: string, detail: Record<string, unknown>) => void;

/**
 * The local topic-rule engine: for every message that matches a rule of IOT_RULES it builds
 * what the rule's SQL (`ruleSql`) selects — the JSON payload plus `hostId` (the rule's topic
 * segment) and `receivedAt` — and calls that rule's handler. A payload that is not a JSON
 * object never reaches a handler (counted as rejected), as IoT's `SELECT *` cannot read it.
 */
export function createIotRouter(handlers: Readonly<Record<IotRuleName, RuleHandler>>, log: RouterLog = () => undefined, rules: readonly IotRule[] = IOT_RULES): IotRouter {
  const stats = Object.fromEntries(rules.map((r) => [r.name, { accepted: 0, rejected: 0, failed: 0, durationMs: 0 }])) as Record<IotRuleName, RuleStats>;
  let inflight = 0;
  let waiters: (() => void)[] = [];
  const settle = () => {
    if (--inflight > 0) return;
    const w = waiters;
    waiters = [];
    for (const f of w) f();
  };

  const dispatch = (rule: IotRule, topic: string, payload: Buffer) => {
    const s = stats[rule.name];
    let body: unknown;
    try {
      body = JSON.parse(payload.toString('utf8'));
    } catch {
      s.rejected++;
      log('warn', 'iot message rejected', { rule: rule.name, topic, reason: 'not-json' });
      return;
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      s.rejected++;
      log('warn', 'iot message rejected', { rule: rule.name, topic, reason: 'not-a-json-object' });
      return;
    }
    const event = { ...(body as Record<string, unknown>), hostId: topic.split('/')[rule.hostIdSegment - 1], receivedAt: Date.now() };
    inflight++;
    const began = performance.now();
    handlers[rule.name](event).then((out) => {
      if (out.outcome === 'accepted') s.accepted++;
      else s.rejected++;
    }, (e: Error) => {
      s.failed++;
      log('error', 'iot rule handler failed', { rule: rule.name, topic, error: e.message });
    }).finally(() => {
      s.durationMs += performance.now() - began;
      settle();
    });
  };

  return {
    stats,
    route(topic, payload) {
      for (const rule of rules) if (topicMatches(rule.topicFilter, topic)) dispatch(rule, topic, payload);
    },
    whenIdle: () => (inflight === 0 ? Promise.resolve() : new Promise<void>((r) => waiters.push(r))),
  };
}
