import { IOT_RULES } from '../../lambdas/contracts/iot.js';
import { MAX_DEVICE_PAYLOAD_BYTES } from '../../lambdas/contracts/mqtt.js';
import * as status from '../../lambdas/handlers/iot/status.js';
import * as presence from '../../lambdas/handlers/iot/presence.js';
import type { DeviceDeps } from '../../lambdas/use-cases/device-messages.js';
import { createIotRouter, topicMatches, type RuleHandler } from '../../local/iot-router.js';

process.env.POWERTOOLS_METRICS_DISABLED = 'true';
process.env.POWERTOOLS_LOG_LEVEL = 'SILENT';

function fakeDeps() {
  const calls: string[] = [];
  const deps: DeviceDeps = {
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    presence: { apply: async (h, s) => { calls.push(`presence ${h} ${s.presence} ${s.at}`); return true; } },
    status: { get: async () => undefined, put: async (h, s) => { calls.push(`status ${h} ${s.seq}`); return true; } },
    commands: { create: async () => true, get: async () => undefined, update: async () => true, listUnfinished: async () => [], listOverdue: async () => [], withParams: async (c) => c },
    publisher: { publish: async () => undefined },
    hostLifecycle: { lifecycle: async (h) => (h.startsWith('gone') ? { status: 'decommissioned' } : h.startsWith('nobody') ? undefined : { status: 'approved' }) },
  };
  return { deps, calls };
}

const status1 = { seq: 1, at: '2026-01-01T00:00:00Z', kind: 'change', boot: { state: 'active' }, agentVersion: '1.0.0' };

describe('IoT rule handlers: bad input is rejected, never thrown, nothing written', () => {
  it.each<[string, unknown, string]>([
    ['not an object', 'hello', 'not-a-json-object'],
    ['an array', [1, 2], 'not-a-json-object'],
    ['no host id', { ...status1 }, 'bad-host-id'],
    ['a bad host id', { ...status1, hostId: 'a/b' }, 'bad-host-id'],
    ['oversized', { ...status1, agentVersion: 'x'.repeat(MAX_DEVICE_PAYLOAD_BYTES), hostId: 'h1' }, 'payload-too-large'],
    ['wrong schema', { seq: -1, hostId: 'h1' }, 'invalid'],
    ['an unknown field', { ...status1, extra: 1, hostId: 'h1' }, 'invalid'],
  ])('status: %s', async (_n, event, reason) => {
    const { deps, calls } = fakeDeps();
    const out = await status.makeHandler(() => deps)(event);
    expect(out.outcome).toBe('rejected');
    expect(out.outcome === 'rejected' && out.reason).toMatch(new RegExp(`^${reason}`));
    expect(calls).toEqual([]);
  });

  it('status: a valid report (with the rule\'s hostId and receivedAt) is stored', async () => {
    const { deps, calls } = fakeDeps();
    expect(await status.makeHandler(() => deps)({ ...status1, hostId: 'h1', receivedAt: 1 })).toEqual({ outcome: 'accepted', detail: 'stored:first' });
    expect(calls).toEqual(['status h1 1']);
  });

  it('presence: the lifecycle event of another client than the topic\'s host is not applied', async () => {
    const { deps, calls } = fakeDeps();
    const h = presence.makeHandler(() => deps);
    await h({ clientId: 'h2', timestamp: 5, eventType: 'connected', hostId: 'h1' });
    expect(calls).toEqual([]);
    await h({ clientId: 'h1', timestamp: 5, eventType: 'connected', hostId: 'h1', ipAddress: '1.2.3.4' });
    expect(calls).toEqual(['presence h1 online 5']);
  });
});

describe('local router', () => {
  it.each<[string, string, boolean]>([
    ['edgefleet/hosts/+/status', 'edgefleet/hosts/h1/status', true],
    ['edgefleet/hosts/+/status', 'edgefleet/hosts/h1/status/x', false],
    ['edgefleet/hosts/+/commands/pending', 'edgefleet/hosts/h1/commands', false],
    ['$aws/events/presence/+/+', '$aws/events/presence/connected/h1', true],
    ['a/#', 'a', true],
    ['a/#', 'a/b/c', true],
  ])('%s ~ %s → %s', (filter, topic, expected) => {
    expect(topicMatches(filter, topic)).toBe(expected);
  });

  it('hands each rule the payload plus hostId and receivedAt; garbage never reaches a handler', async () => {
    const seen: Record<string, unknown[]> = {};
    const handler = (name: string): RuleHandler => async (e) => { (seen[name] ??= []).push(e); return { outcome: 'accepted' }; };
    const router = createIotRouter(Object.fromEntries(IOT_RULES.map((r) => [r.name, handler(r.name)])) as never);
    router.route('edgefleet/hosts/h1/status', Buffer.from('{"seq":1}'));
    router.route('edgefleet/hosts/h1/commands/pending', Buffer.from('{"at":"x"}'));
    router.route('$aws/events/presence/connected/h9', Buffer.from('{"clientId":"h9"}'));
    router.route('edgefleet/hosts/h1/results', Buffer.from('not json'));
    router.route('edgefleet/hosts/h1/results', Buffer.from('42'));
    router.route('edgefleet/hosts/h1/commands', Buffer.from('{}'));
    await router.whenIdle();
    expect(seen.status).toEqual([{ seq: 1, hostId: 'h1', receivedAt: expect.any(Number) }]);
    expect(seen['pending-commands']).toEqual([{ at: 'x', hostId: 'h1', receivedAt: expect.any(Number) }]);
    expect(seen.presence).toEqual([{ clientId: 'h9', hostId: 'h9', receivedAt: expect.any(Number) }]);
    expect(seen.results).toBeUndefined();
    expect(router.stats.results).toMatchObject({ accepted: 0, rejected: 2, failed: 0 });
    expect(router.stats.status).toMatchObject({ accepted: 1, rejected: 0, failed: 0 });
    expect(router.stats.status.durationMs).toBeGreaterThan(0);
  });

  it('a failing handler is counted, not thrown', async () => {
    const failing: RuleHandler = async () => { throw new Error('db down'); };
    const router = createIotRouter({ status: failing, results: failing, 'pending-commands': failing, presence: failing });
    router.route('edgefleet/hosts/h1/status', Buffer.from('{}'));
    await router.whenIdle();
    expect(router.stats.status.failed).toBe(1);
  });
});

describe('IoT rule handlers: messages of hosts that are not registered and active are dropped', () => {
  it.each<[string, string]>([['gone-1', 'host-decommissioned'], ['nobody-1', 'unknown-host']])('status of %s → rejected %s, nothing written', async (hostId, reason) => {
    const { deps, calls } = fakeDeps();
    expect(await status.makeHandler(() => deps)({ ...status1, hostId })).toEqual({ outcome: 'rejected', reason });
    expect(calls).toEqual([]);
  });

  it('presence: a decommissioned host\'s disconnect is recorded, its connect is not', async () => {
    const { deps, calls } = fakeDeps();
    const h = presence.makeHandler(() => deps);
    expect((await h({ clientId: 'gone-1', timestamp: 5, eventType: 'connected', hostId: 'gone-1' })).outcome).toBe('rejected');
    expect((await h({ clientId: 'gone-1', timestamp: 6, eventType: 'disconnected', hostId: 'gone-1' })).outcome).toBe('accepted');
    expect(calls).toEqual(['presence gone-1 offline 6']);
  });
});
