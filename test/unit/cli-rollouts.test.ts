import {
  buildRolloutBody, parseClusterIds, parseNumber, parseRolloutVersion, parseSiteSelector, parseTimeOfDay, parseWeekdays, type RolloutCreateOpts,
} from '../../cli/commands/rollouts-create.js';
import { parseTimeZone } from '../../cli/commands/templates.js';
import { EXIT } from '../../cli/errors.js';
import { renderRolloutFrame } from '../../cli/rollout-progress.js';
import type { RolloutView } from '../../lambdas/contracts/rollouts.js';
import { aborted, at, counts, rollout, target } from './cli-rollout-fixtures.js';
import { fakeApi, on, problem, sequence, type FakeRequest, type FakeRoute } from './cli-fake-api.js';

// ---------- flags → body (pure) ----------

describe('rollouts create: flags → body', () => {
  const base: RolloutCreateOpts = { template: 'shop', to: '1.3.0' };

  it('sends only the target and the version when nothing else is given', () => {
    expect(buildRolloutBody(base)).toEqual({ targets: { template: 'shop' }, to: { version: '1.3.0' } });
  });

  it.each<[string, RolloutCreateOpts, unknown]>([
    ['listed hosts', { kind: 'agent-update', version: '0.2.0', hosts: ['h-1', 'h-2'], canary: 1, abortCount: 1 },
      { kind: 'agent-update', version: '0.2.0', targets: { hostIds: ['h-1', 'h-2'] }, policy: { waves: { canary: { clusters: 1 } }, abort: { failureCount: 1 } } }],
    ['a site prefix and a tag', { kind: 'agent-update', version: '0.2.0', site: 'shop-*', tag: { tier: 'edge' } }, { kind: 'agent-update', version: '0.2.0', targets: { site: 'shop-*', tags: { tier: 'edge' } } }],
    ['every approved host', { kind: 'agent-update', version: '0.2.0', allHosts: true }, { kind: 'agent-update', version: '0.2.0', targets: { all: true } }],
  ])('--kind agent-update: %s', (_n, o, want) => expect(buildRolloutBody(o)).toEqual(want));

  it('maps every flag to its place in the body', () => {
    expect(buildRolloutBody({
      site: 'shop-*', tag: { tier: 'edge', region: 'eu' }, to: '1.x', profile: 'edge-k3s', name: 'spring refresh',
      canary: 3, soak: 30, manualPromotion: true, growth: 1.5, maxConcurrent: 40,
      abortPercent: 10, abortCount: 5, minFinished: 8,
      windowStart: '02:00', windowMinutes: 180, windowDays: ['mon', 'tue'],
      onFailure: 'pause', acknowledgeDowntime: true, retryMinutes: 10, giveUpMinutes: 600,
    })).toEqual({
      name: 'spring refresh',
      targets: { site: 'shop-*', tags: { tier: 'edge', region: 'eu' } },
      to: { version: '1.x', name: 'edge-k3s' },
      policy: {
        waves: { canary: { clusters: 3 }, soakMinutes: 30, promotion: 'manual', growth: 1.5, maxConcurrent: 40 },
        abort: { failurePercent: 10, failureCount: 5, minFinished: 8 },
        deferral: { retryMinutes: 10, giveUpMinutes: 600 },
        upgrade: { onFailure: 'pause', acknowledgeDowntime: true },
        maintenanceWindow: { start: '02:00', durationMinutes: 180, days: ['mon', 'tue'] },
      },
    });
  });

  it.each<[string, Partial<RolloutCreateOpts>, object]>([
    ['--clusters', { template: undefined, clusters: ['c-1', 'c-2'] }, { targets: { clusterIds: ['c-1', 'c-2'] } }],
    ['--site alone', { template: undefined, site: 'shop-12' }, { targets: { site: 'shop-12' } }],
    ['--tag alone', { template: undefined, tag: { tier: 'edge' } }, { targets: { tags: { tier: 'edge' } } }],
    ['--canary-percent', { canaryPercent: 5 }, { policy: { waves: { canary: { percent: 5 } } } }],
    ['--window-start without days', { windowStart: '23:30', windowMinutes: 60 }, { policy: { maintenanceWindow: { start: '23:30', durationMinutes: 60 } } }],
    ['--abort-percent 0 (abort on the first failure)', { abortPercent: 0 }, { policy: { abort: { failurePercent: 0 } } }],
    ['--soak 0', { soak: 0 }, { policy: { waves: { soakMinutes: 0 } } }],
  ])('maps %s', (_name, over, expected) => {
    expect(buildRolloutBody({ ...base, ...over })).toMatchObject(expected);
  });

  it.each<[string, Partial<RolloutCreateOpts>, RegExp]>([
    ['no target', { template: undefined }, /no target clusters given; nothing was sent/],
    ['--template with --clusters', { clusters: ['c-1'] }, /--template and --clusters both choose the target clusters/],
    ['--template with --tag', { tag: { tier: 'edge' } }, /--template and --site\/--tag both choose/],
    ['--canary with --canary-percent', { canary: 2, canaryPercent: 5 }, /--canary and --canary-percent both size the canary wave/],
    ['--window-minutes without --window-start', { windowMinutes: 60 }, /--window-minutes and --window-days need --window-start/],
    ['--window-days without --window-start', { windowDays: ['mon'] }, /need --window-start/],
    ['--window-start without --window-minutes', { windowStart: '02:00' }, /--window-start needs --window-minutes/],
    ['a give-up time shorter than the retry time', { retryMinutes: 30, giveUpMinutes: 10 }, /skipped before it is tried again/],
  ])('refuses %s', (_name, over, why) => {
    expect(() => buildRolloutBody({ ...base, ...over })).toThrow(why);
  });

  it.each([['1.2.0'], ['1.x'], ['1.4.x'], ['2.0.0-rc.1']])('reads --to %s', (v) => expect(parseRolloutVersion(v)).toBe(v));
  it.each([['latest'], ['1'], ['x.1'], ['edge-k3s@1.2.0']])('refuses --to %s', (v) => expect(() => parseRolloutVersion(v)).toThrow(/published version such as 1.2.0 or a channel/));
  it.each([['02:00'], ['23:59'], ['00:00']])('reads --window-start %s', (t) => expect(parseTimeOfDay(t)).toBe(t));
  it.each([['2:00'], ['24:00'], ['12:60'], ['noon'], ['02:00:00']])('refuses --window-start %s', (t) => expect(() => parseTimeOfDay(t)).toThrow(/HH:MM/));
  it('reads --window-days, refusing unknown and repeated days', () => {
    expect(parseWeekdays('Mon, tue,sat')).toEqual(['mon', 'tue', 'sat']);
    expect(() => parseWeekdays('mon,funday')).toThrow(/"funday" is not a day/);
    expect(() => parseWeekdays('mon,mon')).toThrow(/listed twice/);
  });
  it('reads --clusters, refusing bad and repeated ids', () => {
    expect(parseClusterIds(' c-1, c-2 ,')).toEqual(['c-1', 'c-2']);
    expect(() => parseClusterIds('c-1,c 2')).toThrow(/cluster id "c 2"/);
    expect(() => parseClusterIds('c-1,c-1')).toThrow(/listed twice/);
    expect(() => parseClusterIds(',')).toThrow(/one or more cluster ids/);
  });
  it('reads --site as a name or a prefix*', () => {
    expect(parseSiteSelector('shop-*')).toBe('shop-*');
    expect(() => parseSiteSelector('*shop')).toThrow(/prefix ending in \*/);
  });
  it('keeps numbers in their ranges', () => {
    expect(parseNumber(0.01, 100)('2.5')).toBe(2.5);
    expect(() => parseNumber(0.01, 100)('0')).toThrow(/from 0.01 to 100/);
    expect(() => parseNumber(30, 1440, { int: true, unit: 'minutes' })('20')).toThrow(/whole number from 30 to 1440 minutes/);
    expect(() => parseNumber(1, 10)('-1')).toThrow(/from 1 to 10/);
  });
  it('reads a time zone in its canonical spelling, refusing offsets and unknown names', () => {
    expect(parseTimeZone('Europe/Berlin')).toBe('Europe/Berlin');
    expect(parseTimeZone('europe/berlin')).toBe('Europe/Berlin');
    expect(parseTimeZone('UTC')).toBe('UTC');
    expect(() => parseTimeZone('+01:00')).toThrow(/IANA time zone/);
    expect(() => parseTimeZone('Mars/Olympus')).toThrow(/"Mars\/Olympus" is not a known time zone/);
  });
});

// ---------- commands against a fake loopback API ----------

let routes: FakeRoute[] = [];
const seen: FakeRequest[] = [];
const sigintListeners = process.listenerCount('SIGINT');
const { run, gets } = fakeApi({ name: 'ef-cli-rollouts-', routes: () => routes, seen, query: (p) => p, columns: '160' });
beforeEach(() => {
  seen.length = 0;
  routes = [];
});

const RO = '/v1/rollouts/ro-1';
const W = ['--interval', '250ms'];
const planning = rollout({ status: 'planning', waves: [], waveSizes: [], counts: counts({ pending: 20 }), deferred: [], eta: undefined });
const succeeded = rollout({
  status: 'succeeded', endedAt: at(30), eta: undefined, counts: counts({ succeeded: 20 }), deferred: [],
  waves: rollout().waves.map((w) => ({ ...w, counts: counts({ succeeded: w.size }), startedAt: w.startedAt ?? at(10), endedAt: w.endedAt ?? at(30) })),
});
const stripTime = (out: string): string[] => out.split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d {2}/, ''));

describe('edgefleet rollouts create', () => {
  it('posts every flag with an idempotency key and prints how to follow the rollout', async () => {
    routes = [on('POST', '/v1/rollouts', { status: 202, body: planning })];
    const r = await run([
      'rollouts', 'create', '--site', 'shop-*', '--tag', 'tier=edge', '--to', '1.x', '--profile', 'edge-k3s', '--canary-percent', '5',
      '--soak', '15', '--manual-promotion', '--growth', '3', '--max-concurrent', '25', '--abort-percent', '10', '--abort-count', '4',
      '--min-finished', '6', '--window-start', '01:30', '--window-minutes', '120', '--window-days', 'sat,sun', '--on-failure', 'rollback',
      '--acknowledge-downtime', '--retry-minutes', '2', '--give-up-minutes', '120', '--idempotency-key', 'k-1',
    ]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(EXIT.ok);
    expect(seen).toHaveLength(1);
    expect(seen[0]!.headers['idempotency-key']).toBe('k-1');
    expect(seen[0]!.body).toEqual({
      targets: { site: 'shop-*', tags: { tier: 'edge' } },
      to: { version: '1.x', name: 'edge-k3s' },
      policy: {
        waves: { canary: { percent: 5 }, soakMinutes: 15, promotion: 'manual', growth: 3, maxConcurrent: 25 },
        abort: { failurePercent: 10, failureCount: 4, minFinished: 6 },
        deferral: { retryMinutes: 2, giveUpMinutes: 120 },
        upgrade: { onFailure: 'rollback', acknowledgeDowntime: true },
        maintenanceWindow: { start: '01:30', durationMinutes: 120, days: ['sat', 'sun'] },
      },
    });
    expect(r.stdout).toContain('Rollout ro-1 accepted (planning): edge-k3s@1.3.0 (asked 1.x) to the clusters of template shop.');
    expect(r.stdout).toContain('follow live:  edgefleet rollouts watch ro-1');
  });

  it('sends a fresh idempotency key when none is given', async () => {
    routes = [on('POST', '/v1/rollouts', { status: 202, body: planning })];
    await run(['rollouts', 'create', '--template', 'shop', '--to', '1.3.0']);
    expect(seen[0]!.headers['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it.each([
    [['--template', 'shop', '--to', '1.3.0', '--canary', '2', '--canary-percent', '5'], '--canary and --canary-percent both size the canary wave'],
    [['--to', '1.3.0'], 'no target clusters given'],
    [['--template', 'shop', '--clusters', 'c-1', '--to', '1.3.0'], '--template and --clusters both choose'],
    [['--template', 'shop', '--to', '1.3.0', '--window-start', '25:00', '--window-minutes', '60'], "option '--window-start <HH:MM>' argument '25:00' is invalid"],
    [['--template', 'shop', '--to', '1.3.0', '--window-start', '02:00'], '--window-start needs --window-minutes'],
    [['--template', 'shop', '--to', '1.3.0', '--window-minutes', '10', '--window-start', '02:00'], 'whole number from 30 to 1440 minutes'],
    [['--template', 'shop', '--to', 'latest'], 'a published version such as 1.2.0'],
    [['--template', 'shop'], '--to <version|channel> is required to upgrade clusters'],
    [['--kind', 'agent-update', '--all-hosts'], '--kind agent-update needs --version <V>'],
    [['--kind', 'agent-update', '--version', '0.2.0'], 'no target hosts given'],
    [['--kind', 'agent-update', '--version', '0.2.0', '--hosts', 'a', '--all-hosts'], '--hosts and --all-hosts both choose the target hosts'],
    [['--kind', 'agent-update', '--version', '0.2.0', '--template', 'shop'], '--template belongs to cluster upgrades'],
    [['--kind', 'agent-update', '--version', 'latest', '--all-hosts'], 'expected an agent version such as 0.2.0'],
    [['--kind', 'agent-update', '--version', '0.2.0', '--hosts', 'a,a'], 'host id "a" is listed twice'],
    [['--kind', 'os', '--version', '0.2.0', '--all-hosts'], 'expected cluster-upgrade (the default) or agent-update'],
    [['--all-hosts', '--to', '1.0.0'], '--all-hosts belong to agent updates; add --kind agent-update'],
    [['--template', 'shop', '--to', '1.3.0', '--on-failure', 'ignore'], 'expected rollback or pause'],
  ])('refuses %j before any request (exit 2)', async (args, why) => {
    const r = await run(['rollouts', 'create', ...args]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(why);
    expect(seen).toHaveLength(0);
  });

  it('explains a refusal of the API with its code and advice', async () => {
    routes = [on('POST', '/v1/rollouts', problem(409, 'rollout-in-progress', 'rollout ro-0 of template shop is running'))];
    const r = await run(['rollouts', 'create', '--template', 'shop', '--to', '1.3.0']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stderr).toContain('rollout ro-0 of template shop is running (code rollout-in-progress, HTTP 409)');
    expect(r.stderr).toContain('edgefleet rollouts list --status running');
  });

  it('--watch follows the rollout after creating it and exits 0 when it succeeded', async () => {
    routes = [on('POST', '/v1/rollouts', { status: 202, body: planning }), sequence(RO, rollout(), succeeded)];
    const r = await run(['rollouts', 'create', '--template', 'shop', '--to', '1.3.0', '--watch', ...W]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Rollout ro-1 succeeded after 30m00s: all 20 cluster(s) passed their upgrade gate.');
    expect(r.stdout).not.toContain('follow live');
  });
});

describe('edgefleet rollouts watch', () => {
  it('prints one line per change on a non-terminal and a final summary; exit 9 when aborted', async () => {
    routes = [sequence(RO, rollout(), aborted)];
    const r = await run(['rollouts', 'watch', 'ro-1', ...W]);
    expect(r.code).toBe(EXIT.rolloutAborted);
    const log = stripTime(r.stdout);
    expect(log[0]).toBe('rollout of edge-k3s@1.3.0 to 20 cluster(s) in 5 wave(s): running');
    expect(log).toContain('cluster c-9 (shop-9) deferred: offline since 09:40; tried again at 10:10:00 UTC');
    expect(log).toContain('status running → aborted: 2 of 5 finished clusters failed (40 % > 20 %)');
    expect(log).toContain('cluster c-5 (shop-5) failed: boot state passive after reboot');
    expect(log).toContain('  c-6 (shop-6): node not Ready within 10m');
    expect(log).toContain('  edgefleet rollouts clusters ro-1 --state failed     # why each one failed');
    expect(r.stdout).not.toContain('\x1b[');
    expect(r.stderr).toContain('Watching rollout ro-1 (Ctrl-C stops watching; the rollout continues).');
    expect(r.stderr).toContain('Details: edgefleet rollouts get ro-1');
  });

  it.each<[RolloutView['status'], number]>([
    ['succeeded', EXIT.ok], ['incomplete', EXIT.rolloutIncomplete], ['aborted', EXIT.rolloutAborted],
    ['cancelled', EXIT.rolloutCancelled], ['superseded', EXIT.rolloutCancelled], ['failed', EXIT.conflict],
  ])('exits for %s with %d', async (status, code) => {
    routes = [sequence(RO, rollout({ status, endedAt: at(20) }))];
    expect((await run(['rollouts', 'watch', 'ro-1', ...W])).code).toBe(code);
  });

  it('keeps watching through a pause until the rollout ends', async () => {
    routes = [sequence(RO, rollout({ status: 'paused', reason: 'paused by ops' }), rollout(), succeeded)];
    const r = await run(['rollouts', 'watch', 'ro-1', ...W]);
    expect(r.code).toBe(EXIT.ok);
    expect(gets()).toBe(3);
    expect(stripTime(r.stdout)).toContain('status paused → running');
  });

  it('redraws one bar per wave in place on a terminal, without hostile sequences', async () => {
    const hostile = rollout({ reason: 'evil\x1b[2J\ninjected' });
    routes = [sequence(RO, hostile, succeeded)];
    const r = await run(['rollouts', 'watch', 'ro-1', ...W], { isTTY: true });
    expect(r.code).toBe(EXIT.ok);
    const rows = renderRolloutFrame(hostile, { now: Date.now(), width: 160, live: true }).length;
    expect(r.stdout).toContain(`\x1b[${rows}A\r\x1b[0J`);
    expect(r.stdout).toContain('Wave 2         [▒▒▒▒▒▒▒▒▒▒▒▒▒▒▒~~~~~]  0/4  3 running, 1 deferred');
    expect(r.stdout).toContain('evil injected');
    expect(r.stdout).toContain('(Ctrl-C stops watching; the rollout continues)');
    expect(r.stdout).not.toContain('\x1b[2J');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('Clusters: 20 succeeded (of 20).');
  });

  it('-o json writes JSON lines ending with the outcome, the failed clusters and the exit code', async () => {
    routes = [sequence(RO, rollout(), aborted)];
    const r = await run(['rollouts', 'watch', 'ro-1', '-o', 'json', ...W]);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ what: 'started', rolloutId: 'ro-1', total: 20 });
    expect(events.at(-1)).toMatchObject({ what: 'outcome', status: 'aborted', exitCode: EXIT.rolloutAborted, failed: [{ clusterId: 'c-5' }, { clusterId: 'c-6' }] });
  });

  it('honours Retry-After and retries a throttled poll', async () => {
    let n = 0;
    routes = [on('GET', RO, () => (++n === 1 ? { ...problem(429, 'throttled', 'slow down'), headers: { 'retry-after': '0' } } : { status: 200, body: succeeded }))];
    const r = await run(['rollouts', 'watch', 'ro-1', ...W]);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stderr).toContain('note: the control plane is throttling (HTTP 429); retrying in 1s');
  });

  it('stops on Ctrl-C without touching the rollout and exits 130', async () => {
    routes = [sequence(RO, rollout())];
    const watching = run(['rollouts', 'watch', 'ro-1', ...W]);
    while (gets() < 2) await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGINT');
    const r = await watching;
    expect(r.code).toBe(EXIT.interrupted);
    expect(r.stderr).toContain('Stopped watching rollout ro-1; it keeps running (nothing was paused or cancelled).');
    expect(r.stderr).toContain('Resume watching: edgefleet rollouts watch ro-1');
    expect(seen.every((q) => q.method === 'GET')).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
  });

  it('exits 3 with advice when the rollout does not exist', async () => {
    routes = [on('GET', RO, problem(404, 'rollout-not-found', 'rollout ro-1 does not exist in this project'))];
    const r = await run(['rollouts', 'watch', 'ro-1', ...W]);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toContain('edgefleet rollouts list');
  });
});

describe('edgefleet rollouts get|list|clusters|pause|resume|cancel|promote', () => {
  it('get prints counts, a table per wave, ETA, and the failed clusters with reasons', async () => {
    const v = rollout({ counts: counts({ succeeded: 3, failed: 1, running: 2, deferred: 1, pending: 13 }), failed: [target('c-5', { reason: 'boot state passive', rollbackOperationId: 'op-77', operationId: 'op-70' })] });
    routes = [sequence(RO, v)];
    const r = await run(['rollouts', 'get', 'ro-1']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toMatch(/^Clusters: +4\/20 done: 3 succeeded, 1 failed, 2 running, 1 deferred, 13 pending$/m);
    expect(r.stdout).toMatch(/^ETA: +10:20:00 UTC/m);
    expect(r.stdout).toMatch(/^WAVE +SIZE +SUCCEEDED +FAILED +RUNNING +DEFERRED +WAITING +SKIPPED +STARTED +ENDED$/m);
    expect(r.stdout).toMatch(/^0 canary +1 +1 +0 +0 +0 +0 +0 +2026-11-24T10:00:00.000Z +2026-11-24T10:02:00.000Z$/m);
    expect(r.stdout).toMatch(/^c-5 +shop-5 +1 +failed +boot state passive +- +op-70, rollback op-77$/m);
    expect(r.stdout).toMatch(/^c-9 +shop-9 +2 +deferred +offline since 09:40 +10:10:00 UTC/m);
    const json = await run(['rollouts', 'get', 'ro-1', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'ro-1', status: 'running' });
  });

  it('list passes --status and shows progress per rollout', async () => {
    routes = [on('GET', '/v1/rollouts', { status: 200, body: { items: [rollout(), aborted], nextCursor: 'n-2' } })];
    const r = await run(['rollouts', 'list', '--status', 'running', '--limit', '5']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.query.get('status')).toBe('running');
    expect(seen[0]!.query.get('limit')).toBe('5');
    expect(r.stdout).toMatch(/^ro-1 +aborted +edge-k3s@1.3.0 +the clusters of template shop +20\/20 \(2 failed\)/m);
    expect(r.stderr).toContain('--cursor n-2');
    const bad = await run(['rollouts', 'list', '--status', 'done']);
    expect(bad.code).toBe(EXIT.usage);
  });

  it('clusters passes --state and --wave and lists each cluster with its reason and retry time', async () => {
    routes = [on('GET', `${RO}/clusters`, { status: 200, body: { items: [target('c-5', { reason: 'boot state passive' })] } })];
    const r = await run(['rollouts', 'clusters', 'ro-1', '--state', 'failed', '--wave', '0']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.query.get('state')).toBe('failed');
    expect(seen[0]!.query.get('wave')).toBe('0');
    expect(r.stdout).toMatch(/^c-5 +shop-5 +1 +failed +boot state passive/m);
    const bad = await run(['rollouts', 'clusters', 'ro-1', '--state', 'broken']);
    expect(bad.code).toBe(EXIT.usage);
  });

  it.each([['pause', 'paused', 'no new cluster starts'], ['resume', 'running', 'edgefleet rollouts watch ro-1'], ['cancel', 'cancelling', 'upgrades already running finish'], ['promote', 'running', 'the next waves start']] as const)(
    '%s posts {reason} to the rollout', async (verb, status, says) => {
      routes = [on('POST', `${RO}/${verb}`, { status: 200, body: rollout({ status }) })];
      const r = await run(['rollouts', verb, 'ro-1', '--reason', 'checkout errors']);
      expect(r.code).toBe(EXIT.ok);
      expect(seen.map((q) => `${q.method} ${q.path}`)).toEqual([`POST ${RO}/${verb}`]);
      expect(seen[0]!.body).toEqual({ reason: 'checkout errors' });
      expect(r.stdout).toContain(says);
      const plain = await run(['rollouts', verb, 'ro-1']);
      expect(plain.code).toBe(EXIT.ok);
      expect(seen[1]!.body).toEqual({});
    },
  );

  it('an action the rollout is not in a state for exits 4 with the reason', async () => {
    routes = [on('POST', `${RO}/promote`, problem(409, 'rollout-not-waiting', 'rollout ro-1 is not waiting for promotion'))];
    const r = await run(['rollouts', 'promote', 'ro-1']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stderr).toContain('rollout ro-1 is not waiting for promotion');
    expect(r.stderr).toContain('edgefleet rollouts get ro-1');
  });
});

describe('edgefleet sites set-timezone and templates upgrade', () => {
  it('set-timezone PATCHes the site with the canonical zone name', async () => {
    routes = [on('PATCH', '/v1/sites/shop-12', (q) => ({ status: 200, body: { site: 'shop-12', project: 'default', timezone: (q.body as { timezone: string }).timezone, updatedAt: at(0) } }))];
    const r = await run(['sites', 'set-timezone', 'shop-12', 'america/new_york']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toEqual({ timezone: 'America/New_York' });
    expect(r.stdout).toMatch(/^Site shop-12 uses time zone America\/New_York \(\w{3} \d\d:\d\d there now\); rollout maintenance windows of its clusters are evaluated in it\.$/m);
  });

  it.each([[['shop 12', 'UTC'], "argument 'site'"], [['shop-12', 'CEST+2'], 'IANA time zone']])('set-timezone refuses %j before any request', async (args, why) => {
    const r = await run(['sites', 'set-timezone', ...args]);
    expect(r.code).toBe(EXIT.usage);
    expect(r.stderr).toContain(why);
    expect(seen).toHaveLength(0);
  });

  const template = { id: 't-1', project: 'default', name: 'shop', profile: { name: 'edge-k3s', version: '1.2.0' }, topology: { controlPlane: [{ hosts: 1, size: 1 }] }, selector: { site: 'shop-*' }, createdBy: 'ops', version: 4, createdAt: at(0), updatedAt: at(0) };

  it('templates upgrade PATCHes the profile version with the version read and follows the rollout it started', async () => {
    routes = [
      on('GET', '/v1/cluster-templates/shop', { status: 200, body: template }),
      on('PATCH', '/v1/cluster-templates/shop', { status: 200, body: { ...template, profile: { name: 'edge-k3s', version: '1.3.0' }, version: 5, rolloutId: 'ro-1' } }),
      sequence(RO, rollout(), succeeded),
    ];
    const r = await run(['templates', 'upgrade', 'shop', '--to', '1.3.0', '--watch', ...W]);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[1]!.body).toEqual({ version: 4, profile: { name: 'edge-k3s', version: '1.3.0' } });
    expect(r.stdout).toContain('Cluster template shop now builds edge-k3s@1.3.0.');
    expect(r.stdout).toContain('Rollout ro-1 started for its attached clusters.');
    expect(r.stdout).toContain('Rollout ro-1 succeeded');
  });

  it('templates upgrade says so when no rollout was started', async () => {
    routes = [
      on('GET', '/v1/cluster-templates/shop', { status: 200, body: template }),
      on('PATCH', '/v1/cluster-templates/shop', { status: 200, body: { ...template, profile: { name: 'edge-k3s', version: '1.3.0' }, version: 5 } }),
    ];
    const r = await run(['templates', 'upgrade', 'shop', '--to', '1.3.0', '--watch']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('No rollout was started');
    expect(gets()).toBe(1);
  });
});
