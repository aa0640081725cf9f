/**
 * Alert notification over the in-memory adapters: the event path (first, duplicate, resolved)
 * and the re-notify sweep (due, persisting, resolved, de-duplicated across concurrent sweeps,
 * bounded per run, dropping entries whose rule is gone).
 */
import { MemoryAlertRuleRepository, MemoryNotificationLedger, RecordingWebhookSender } from '../../../lambdas/adapters/memory/index.js';
import type { AlertRule } from '../../../lambdas/domain/alerts.js';
import { recordPresence } from '../../../lambdas/use-cases/device-messages.js';
import { dispatchHealthEvent, type DispatchDeps } from '../../../lambdas/use-cases/dispatch-alerts.js';
import { refreshHostHealth, type HealthDeps } from '../../../lambdas/use-cases/refresh-health.js';
import { renotifyOpenAlerts, type AlertSweepDeps } from '../../../lambdas/use-cases/renotify-alerts.js';
import { CP, PROJECT, T0, world, WORKERS } from './world.js';

const MIN = 60_000;

/** A lifecycle event one second later than anything before (the world's hosts connected at T0). */
async function presence(w: { clock: { advance(ms: number): void; now(): Date } }, deps: Parameters<typeof recordPresence>[0], hostId: string, eventType: 'connected' | 'disconnected') {
  w.clock.advance(1000);
  expect(await recordPresence(deps, hostId, { eventType, at: w.clock.now().getTime() })).toBe(true);
}

async function alertWorld(rules: Partial<AlertRule>[] = [{}]) {
  const w = await world();
  const alertRules = new MemoryAlertRuleRepository();
  const ledger = new MemoryNotificationLedger();
  const webhooks = new RecordingWebhookSender();
  for (const [i, r] of rules.entries()) {
    await alertRules.create({
      id: `r${i}`, project: PROJECT, name: `rule ${i}`, match: { states: ['unhealthy'], kinds: ['host'] },
      target: { type: 'webhook', url: 'https://hooks.example.com/x', secretName: `alert-rules/r${i}/webhook-secret` },
      renotifyMinutes: 5, createdAt: T0, createdBy: 'alice', ...r,
    });
    await w.secrets.put(`alert-rules/r${i}/webhook-secret`, 'k'.repeat(43));
  }
  const send = { clock: w.clock, ids: w.ids, secrets: w.secrets, webhooks, webhookAttempts: 1 };
  const dispatch: DispatchDeps = { ...send, alertRules, ledger };
  const sweep: AlertSweepDeps = { ...send, alertRules, ledger, health: w.healthStore, clusters: w.clusters };
  // The event path: health changes go straight to the dispatcher (EventBridge's rule).
  const health: HealthDeps = { clock: w.clock, store: w.healthStore, clusters: w.clusters, events: { publish: async (e) => { await dispatchHealthEvent(dispatch, e); } } };
  for (const id of [CP, ...WORKERS]) await refreshHostHealth(health, id);
  const sent = () => webhooks.sent.map((s) => JSON.parse(s.body) as { reason: string; ruleId: string; event: { hostId?: string; state: string; previousState?: string } });
  return { w, alertRules, ledger, webhooks, sweep, deps: { ...w.deps, health }, sent };
}

describe('alerts: event path and re-notify sweep', () => {
  it('an open alert is sent again each interval while the host stays offline, then once as resolved when it returns', async () => {
    const { w, sweep, deps, sent, ledger } = await alertWorld();
    await presence(w, deps, WORKERS[0]!, 'disconnected');
    expect(sent().map((s) => [s.reason, s.event.hostId, s.event.state])).toEqual([['first', WORKERS[0], 'unhealthy']]);
    // Before the interval: nothing is due.
    w.clock.advance(5 * MIN - 1);
    expect(await renotifyOpenAlerts(sweep)).toEqual([]);
    w.clock.advance(1);
    expect(await renotifyOpenAlerts(sweep)).toEqual([{ ruleId: 'r0', resource: `host/${WORKERS[0]}`, outcome: 'renotify-due' }]);
    expect(sent().at(-1)).toMatchObject({ reason: 'renotify-due', event: { hostId: WORKERS[0], state: 'unhealthy', reasons: [expect.stringMatching(/^offline since /)] } });
    // The interval starts again: the same minute's second run sends nothing.
    expect(await renotifyOpenAlerts(sweep)).toEqual([]);
    w.clock.advance(5 * MIN);
    expect((await renotifyOpenAlerts(sweep)).map((s) => s.outcome)).toEqual(['renotify-due']);
    expect(sent()).toHaveLength(3);
    // Back online: one `resolved` from the event path; the entry leaves the due index.
    w.clock.advance(1000);
    await presence(w, deps, WORKERS[0]!, 'connected');
    expect(sent().at(-1)).toMatchObject({ reason: 'resolved', event: { hostId: WORKERS[0], state: 'healthy', previousState: 'unhealthy' } });
    expect(await ledger.get('r0', `host/${WORKERS[0]}`)).toEqual({ state: 'healthy', sentAt: w.clock.now().getTime() });
    w.clock.advance(60 * MIN);
    expect(await renotifyOpenAlerts(sweep)).toEqual([]);
    expect(sent()).toHaveLength(4);
  });

  it('a resolution the event path missed is sent by the sweep as resolved, once', async () => {
    const { w, sweep, deps, sent, webhooks } = await alertWorld();
    await presence(w, deps, CP, 'disconnected');
    // The receiver is down when the host comes back: the `resolved` delivery fails and is put back.
    webhooks.status = 503;
    w.clock.advance(1000);
    await presence(w, deps, CP, 'connected');
    webhooks.status = 204;
    w.clock.advance(5 * MIN);
    expect(await renotifyOpenAlerts(sweep)).toEqual([{ ruleId: 'r0', resource: `host/${CP}`, outcome: 'resolved' }]);
    expect(await renotifyOpenAlerts(sweep)).toEqual([]);
    expect(sent().map((s) => s.reason)).toEqual(['first', 'resolved', 'resolved']);
    expect(webhooks.sent.map((s) => s.headers['edgefleet-signature'])).toEqual(Array(3).fill(expect.stringMatching(/^t=\d+,v1=[0-9a-f]{64}$/)));
  });

  it('two sweeps at once deliver each due alert once (the conditional claim on sentAt)', async () => {
    const { w, sweep, deps, sent } = await alertWorld();
    for (const id of WORKERS) await presence(w, deps, id, 'disconnected');
    w.clock.advance(5 * MIN);
    const [a, b] = await Promise.all([renotifyOpenAlerts(sweep), renotifyOpenAlerts(sweep)]);
    const outcomes = [...a, ...b].map((s) => s.outcome).sort();
    expect(outcomes).toEqual(['lost-race', 'lost-race', 'renotify-due', 'renotify-due']);
    expect(sent().filter((s) => s.reason === 'renotify-due').map((s) => s.event.hostId).sort()).toEqual([...WORKERS].sort());
  });

  it('a run takes at most its cap, earliest first; the rest is taken by the next run', async () => {
    const { w, sweep, deps } = await alertWorld();
    for (const id of [CP, ...WORKERS]) {
      await presence(w, deps, id, 'disconnected');
      w.clock.advance(1000);
    }
    w.clock.advance(5 * MIN);
    expect((await renotifyOpenAlerts(sweep, 2)).map((s) => s.resource)).toEqual([`host/${CP}`, `host/${WORKERS[0]}`]);
    expect((await renotifyOpenAlerts(sweep, 2)).map((s) => s.resource)).toEqual([`host/${WORKERS[1]}`]);
  });

  it('a deleted rule\'s open alerts are dropped, not sent', async () => {
    const { w, sweep, deps, sent, alertRules, ledger } = await alertWorld();
    await presence(w, deps, CP, 'disconnected');
    await alertRules.delete('r0');
    w.clock.advance(5 * MIN);
    expect(await renotifyOpenAlerts(sweep)).toEqual([{ ruleId: 'r0', resource: `host/${CP}`, outcome: 'dropped' }]);
    expect(await ledger.get('r0', `host/${CP}`)).toBeUndefined();
    expect(sent()).toHaveLength(1);
  });

  it('a rule on healthy as well gets state changes, never a resolved, and healthy is not re-sent', async () => {
    const { w, sweep, deps, sent } = await alertWorld([{ match: { states: ['unhealthy', 'healthy'], kinds: ['host'] } }]);
    // The world's hosts were first evaluated healthy: that was notified (first) for each.
    expect(sent().map((s) => s.reason)).toEqual(['first', 'first', 'first']);
    await presence(w, deps, CP, 'disconnected');
    w.clock.advance(1000);
    await presence(w, deps, CP, 'connected');
    expect(sent().slice(3).map((s) => `${s.reason}:${s.event.state}`)).toEqual(['state-changed:unhealthy', 'state-changed:healthy']);
    w.clock.advance(600 * MIN);
    expect(await renotifyOpenAlerts(sweep)).toEqual([]);
  });
});
