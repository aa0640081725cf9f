import { buildUpgradeBody, parseDrainTimeout, parseUpgradeTarget, parseWindow } from '../../cli/commands/upgrades.js';
import { EXIT } from '../../cli/errors.js';
import {
  describeUpgradePlan, nodeStepsDone, progressBar, renderUpgradeFrame, upgradeStopped, type Operation, type UpgradeNodePlan,
} from '../../cli/progress.js';
import { fakeApi, on, problem, sequence, type FakeRequest, type FakeRoute } from './cli-fake-api.js';

const T0 = Date.parse('2026-11-24T10:00:00Z');
const REPAVE = ['preflight', 'cordon', 'drain', 'upgrade', 'reboot', 'uncordon'].map((step) => ({ step, on: 'node' }));
const node = (hostId: string, role = 'control-plane', pool = 'control-plane', behaviour = 'repave', steps = REPAVE): UpgradeNodePlan => ({ hostId, role, pool, behaviour, steps });

interface PlanOver { controlPlane?: UpgradeNodePlan[]; workers?: UpgradeNodePlan[]; maxUnavailable?: number; downtime?: object; skippedWorkers?: boolean | string[] }
function upgrade(over: Partial<Operation> = {}, plan: PlanOver = {}, input: Record<string, unknown> = {}): Operation {
  return {
    id: 'up-1', project: 'default', type: 'upgrade-cluster', target: { type: 'cluster', id: 'c-1' }, status: 'queued', step: 'queued',
    startedAt: new Date(T0).toISOString(), hosts: { 'hw-1': { status: 'queued' }, 'hw-2': { status: 'queued' }, 'hw-3': { status: 'queued' } },
    input: {
      from: { name: 'edge-k3s', version: '1.0.0' }, to: { name: 'edge-k3s', version: '1.1.0' }, onFailure: 'rollback',
      plan: {
        behaviour: 'repave', changes: [{ layer: 'os', change: 'image', behaviour: 'repave', reason: 'new OS image' }],
        controlPlane: [node('hw-1'), node('hw-2'), node('hw-3')], workers: [], maxUnavailable: 1,
        target: { kubeletVersion: 'v1.31.2' }, downtime: { expected: false }, skippedWorkers: false, ...plan,
      },
      ...input,
    },
    ...over,
  };
}

const running = upgrade({
  status: 'running', step: 'upgrade-nodes',
  hosts: { 'hw-1': { status: 'succeeded', step: 'uncordon', detail: 'node Ready at v1.31.2' }, 'hw-2': { status: 'progress', step: 'upgrade', detail: 'writing image' }, 'hw-3': { status: 'queued' } },
});
const failed = upgrade({
  status: 'failed', step: 'rollback', reason: 'hw-2 booted into passive (Kairos fell back)', endedAt: '2026-11-24T10:09:30Z',
  hosts: { 'hw-1': { status: 'succeeded', step: 'uncordon' }, 'hw-2': { status: 'failed', step: 'reboot', detail: 'boot state passive' }, 'hw-3': { status: 'skipped' } },
}, {}, { rolledBackBy: 'up-2' });
const pausedOnFailure = upgrade({
  status: 'paused', step: 'upgrade-nodes', reason: 'hw-2 missed the health gate deadline',
  hosts: { 'hw-1': { status: 'succeeded', step: 'uncordon' }, 'hw-2': { status: 'timed-out', step: 'reboot' }, 'hw-3': { status: 'queued' } },
}, {}, { onFailure: 'pause' });
const succeeded = upgrade({
  status: 'succeeded', step: 'finish', endedAt: '2026-11-24T10:12:00Z',
  hosts: { 'hw-1': { status: 'succeeded' }, 'hw-2': { status: 'succeeded' }, 'hw-3': { status: 'succeeded' } },
});

describe('upgrade frames', () => {
  it('shows a queued upgrade: header, every node at 0 of its steps', () => {
    expect(renderUpgradeFrame(upgrade(), { now: T0 + 5_000, width: 100 })).toEqual([
      'Upgrade up-1  cluster c-1  edge-k3s@1.0.0 → edge-k3s@1.1.0',
      'Status: queued  behaviour: repave  maxUnavailable: 1  on failure: rollback  elapsed: 5s',
      '',
      'Control plane',
      '·  hw-1  [░░░░░░░░░░]  0/6  queued     -          repave',
      '·  hw-2  [░░░░░░░░░░]  0/6  queued     -          repave',
      '·  hw-3  [░░░░░░░░░░]  0/6  queued     -          repave',
    ]);
  });

  it('shows node 2 of 3 at its upgrade step: steps before it done, the current step and detail', () => {
    expect(renderUpgradeFrame(running, { now: T0 + 65_000, width: 100 }).slice(1)).toEqual([
      'Status: running  behaviour: repave  maxUnavailable: 1  on failure: rollback  elapsed: 1m05s',
      '',
      'Control plane',
      '✔  hw-1  [██████████]  6/6  succeeded  uncordon   repave  node Ready at v1.31.2',
      '▸  hw-2  [█████░░░░░]  3/6  progress   upgrade    repave  writing image',
      '·  hw-3  [░░░░░░░░░░]  0/6  queued     -          repave',
    ]);
  });

  it('ends a failed upgrade with the reason and points at the rollback upgrade', () => {
    const lines = renderUpgradeFrame(failed, { now: T0 + 999_999, width: 100 });
    expect(lines.slice(4)).toEqual([
      '✔  hw-1  [██████████]  6/6  succeeded  uncordon   repave',
      '✖  hw-2  [██████░░░░]  4/6  failed     reboot     repave  boot state passive',
      '-  hw-3  [██████████]  6/6  skipped    -          repave',
      '',
      'Failed after 9m30s at step rollback: hw-2 booted into passive (Kairos fell back)',
      'Rolled back by upgrade up-2: edgefleet upgrades get c-1 up-2',
    ]);
  });

  it('shows a paused upgrade with its reason and how to resume or cancel', () => {
    const lines = renderUpgradeFrame(pausedOnFailure, { now: T0, width: 120 });
    expect(lines.slice(-2)).toEqual([
      'Paused: hw-2 missed the health gate deadline',
      'Continue from each node\'s state: edgefleet upgrades resume c-1 up-1   or stop: edgefleet upgrades cancel c-1 up-1',
    ]);
    expect(lines[1]).toContain('on failure: pause');
  });

  it('states the expected downtime of a single-node upgrade', () => {
    const single = upgrade({ hosts: { 'hw-1': { status: 'queued' } } }, {
      controlPlane: [node('hw-1')], downtime: { expected: true, reason: 'a single-node cluster reboots once', estimatedSeconds: 180 },
    });
    expect(renderUpgradeFrame(single, { now: T0, width: 100 })[2]).toBe('Downtime expected (about 3m00s): a single-node cluster reboots once');
    expect(describeUpgradePlan(single).at(-1)).toBe('Downtime expected (about 3m00s): a single-node cluster reboots once');
    expect(renderUpgradeFrame(upgrade(), { now: T0, width: 100 }).join('\n')).not.toContain('Downtime');
  });

  it('names the upgrade a rollback undoes', () => {
    const op = upgrade({ id: 'up-2' }, {}, { rollbackOf: 'up-1', onFailure: 'none' });
    expect(renderUpgradeFrame(op, { now: T0, width: 100 })[2]).toBe('Rolls back upgrade up-1 (edgefleet upgrades get c-1 up-1)');
  });

  it('says when workers are left out by --skip-workers', () => {
    const op = upgrade({ hosts: {} }, { controlPlane: [node('cp-1')], skippedWorkers: true });
    expect(renderUpgradeFrame(op, { now: T0, width: 100 }).at(-1)).toBe('Workers stay at the current version (--skip-workers): control plane only');
  });

  it('groups control plane first, then workers in plan order with their batch size', () => {
    const op = upgrade({ hosts: {} }, { controlPlane: [node('cp-1')], workers: [node('w-9', 'worker', 'pos', 'reboot'), node('w-2', 'worker', 'pos', 'reboot')], maxUnavailable: 2 });
    const lines = renderUpgradeFrame(op, { now: T0, width: 100 });
    expect(lines.filter((l) => /^(Control|Workers|·)/.test(l)).map((l) => l.replace(/\s+\[.*$/, ''))).toEqual(['Control plane', '·  cp-1', 'Workers (2 at a time)', '·  w-9', '·  w-2']);
  });

  it('neutralizes hostile strings from the API: no escape sequences, no extra lines', () => {
    const evil = '\x1b[2J\x1b]0;pwned\x07x\ny\u202e';
    const op = upgrade(
      { status: 'failed', reason: `bad${evil}`, endedAt: '2026-11-24T10:01:00Z', hosts: { [`hw-1${evil}`]: { status: 'failed', step: `up${evil}`, detail: `d${evil}` } } },
      { controlPlane: [node(`hw-1${evil}`, 'control-plane', 'control-plane', `rep${evil}`)] },
      { from: { name: `n${evil}`, version: '1.0.0' }, rolledBackBy: `up-2${evil}` },
    );
    const lines = [...renderUpgradeFrame(op, { now: T0, width: 200 }), ...describeUpgradePlan(op)];
    for (const l of lines) {
      expect(l).not.toMatch(/[\x00-\x1f\x7f-\x9f\u202e]/);
      expect(l).not.toContain('pwned\x07');
    }
    expect(lines.join('\n')).toContain('  dx y');
  });

  it('fits every line to the width, and paints only the status when colored', () => {
    const op = upgrade({ status: 'running', hosts: { 'hw-1': { status: 'progress', step: 'drain', detail: 'x'.repeat(300) } } });
    const lines = renderUpgradeFrame(op, { now: T0, width: 40 });
    for (const l of lines) expect(Array.from(l).length).toBeLessThanOrEqual(40);
    expect(lines.find((l) => l.includes('hw-1'))).toMatch(/…$/);
    const colored = renderUpgradeFrame(op, { now: T0, width: 40, color: true });
    expect(colored.map((l) => l.replace(/\x1b\[[0-9;]*m/g, ''))).toEqual(lines);
  });

  it('still shows hosts when the plan is missing or malformed', () => {
    const op = upgrade({ status: 'running', hosts: { 'hw-1': { status: 'progress', step: 'drain' } }, input: { plan: 'garbage' } });
    const lines = renderUpgradeFrame(op, { now: T0, width: 100 });
    expect(lines[0]).toBe('Upgrade up-1  cluster c-1  ? → ?');
    expect(lines.slice(-2)).toEqual(['Other hosts', '▸  hw-1  [██████████]  0/0  progress   drain      -']);
  });

  it.each([
    ['no progress yet', undefined, 0],
    ['at the first step', { status: 'sent', step: 'preflight' }, 0],
    ['at the upgrade step', { status: 'progress', step: 'upgrade' }, 3],
    ['failed at reboot', { status: 'failed', step: 'reboot' }, 4],
    ['succeeded', { status: 'succeeded', step: 'uncordon' }, 6],
    ['skipped', { status: 'skipped' }, 6],
    ['at an unknown step', { status: 'progress', step: 'mystery' }, 0],
  ])('counts steps done for a node %s', (_name, h, done) => {
    expect(nodeStepsDone(node('hw-1'), h)).toEqual({ done, total: 6 });
  });

  it.each([[0, 6, '[░░░░░░░░░░]'], [3, 6, '[█████░░░░░]'], [6, 6, '[██████████]'], [0, 0, '[██████████]'], [9, 6, '[██████████]']])(
    'draws %d of %d as %s', (done, total, bar) => expect(progressBar(done, total)).toBe(bar),
  );

  it.each([
    ['running', running, false], ['paused by the operator', upgrade({ status: 'paused' }), false], ['paused on a failed node', pausedOnFailure, true],
    ['paused by its failure policy', upgrade({ status: 'paused', reason: 'hw-2 booted into passive; paused (policy pause): fix the node and resume, or cancel' }, {}, { onFailure: 'pause' }), true],
    ['paused by the operator under a pause policy', upgrade({ status: 'paused', reason: 'paused by ops; resume to continue' }, {}, { onFailure: 'pause' }), false],
    ['failed', failed, true], ['succeeded', succeeded, true],
  ])('decides whether a watch of a %s upgrade stops', (_name, op, stops) => expect(upgradeStopped(op)).toBe(stops));

  it('summarises the plan: changes, then each node in order with its steps', () => {
    const op = upgrade({}, { controlPlane: [node('cp-1')], workers: [node('w-1', 'worker', 'pos', 'restart', [{ step: 'restart', on: 'node' }])], skippedWorkers: ['w-7'] });
    expect(describeUpgradePlan(op)).toEqual([
      'Plan: edge-k3s@1.0.0 → edge-k3s@1.1.0, behaviour repave, workers 1 at a time, on failure rollback',
      '  change  os: image → repave (new OS image)',
      '  1. cp-1  control plane  repave: preflight → cordon → drain → upgrade → reboot → uncordon',
      '  2. w-1  worker pos  restart: restart',
      '  Workers staying at the current version (--skip-workers): w-7',
    ]);
  });
});

describe('upgrade flags', () => {
  it.each([['1.2.0', { version: '1.2.0' }], ['edge-k3s@1.2.0', { name: 'edge-k3s', version: '1.2.0' }]])('reads --to %s', (text, to) => {
    expect(parseUpgradeTarget(text)).toEqual(to);
  });
  it.each([['latest'], ['edge-k3s@'], ['Bad Name@1.0.0']])('refuses --to %s', (text) => expect(() => parseUpgradeTarget(text)).toThrow(/version|profile/));

  it('reads --window as two ISO times', () => {
    expect(parseWindow('2026-12-01T02:00:00Z/2026-12-01T05:00:00+01:00')).toEqual({ start: '2026-12-01T02:00:00.000Z', end: '2026-12-01T04:00:00.000Z' });
  });
  it.each([
    ['2026-12-01T02:00:00Z', /start and the end/], ['2026-12-01/2026-12-02', /not an ISO time/], ['2026-12-01T05:00:00Z/2026-12-01T02:00:00Z', /ends before it starts/],
  ])('refuses --window %s', (text, why) => expect(() => parseWindow(text)).toThrow(why));

  it.each([['10m', 600], ['90s', 90], ['1h', 3600], ['300', 300]])('reads --drain-timeout %s as %d s', (text, s) => expect(parseDrainTimeout(text)).toBe(s));
  it.each([['10s'], ['2h'], ['soon']])('refuses --drain-timeout %s', (text) => expect(() => parseDrainTimeout(text)).toThrow(/30s to 1h/));

  it('sends only what was given', () => {
    expect(buildUpgradeBody({ to: { version: '1.1.0' } })).toEqual({ to: { version: '1.1.0' } });
    expect(buildUpgradeBody({
      to: { name: 'edge-k3s', version: '1.1.0' }, maxUnavailable: 2, onFailure: 'pause', acknowledgeDowntime: true,
      window: { start: 'a', end: 'b' }, skipWorkers: true, drainTimeout: 120,
    })).toEqual({
      to: { name: 'edge-k3s', version: '1.1.0' }, maxUnavailable: 2, onFailure: 'pause', acknowledgeDowntime: true,
      maintenanceWindow: { start: 'a', end: 'b' }, skipWorkers: true, drainTimeoutSeconds: 120,
    });
  });

  it('sends --var and --var-file values (a version that newly requires a variable), a name in both refused', () => {
    const read = () => 'PASSWORD: s3cret\nREPLICAS: 2\n';
    expect(buildUpgradeBody({ to: { version: '2.0.0' }, var: { SITE: 'shop-1' }, varFile: 'v.yaml' }, read))
      .toEqual({ to: { version: '2.0.0' }, variables: { PASSWORD: 's3cret', REPLICAS: 2, SITE: 'shop-1' } });
    expect(() => buildUpgradeBody({ to: { version: '2.0.0' }, var: { REPLICAS: '3' }, varFile: 'v.yaml' }, read)).toThrow(/REPLICAS is given both/);
  });
});

// ---------- commands against a fake loopback API ----------

let routes: FakeRoute[] = [];
const seen: FakeRequest[] = [];
const sigintListeners = process.listenerCount('SIGINT');
const { run, gets } = fakeApi({ name: 'ef-cli-upgrades-', routes: () => routes, seen, query: (p) => p, columns: '120' });
beforeEach(() => {
  seen.length = 0;
  routes = [];
});

const UP = '/v1/clusters/c-1/upgrades/up-1';
const W = ['--interval', '250ms'];

/** A dry run's plan: the three control-plane nodes of `upgrade()`. */
const dryPlan = {
  behaviour: 'repave', changes: [], controlPlane: [node('hw-1'), node('hw-2'), node('hw-3')], workers: [], maxUnavailable: 1,
  target: { kubeletVersion: 'v1.31.2' }, downtime: { expected: false }, skippedWorkers: false,
};

describe('edgefleet clusters upgrade', () => {
  it('posts the body with an idempotency key and prints the upgrade id, plan and how to follow it', async () => {
    routes = [on('POST', '/v1/clusters/c-1/upgrades', { status: 202, body: upgrade() })];
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', 'edge-k3s@1.1.0', '--max-unavailable', '2', '--on-failure', 'pause', '--drain-timeout', '5m', '--idempotency-key', 'k-1']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toEqual({ to: { name: 'edge-k3s', version: '1.1.0' }, maxUnavailable: 2, onFailure: 'pause', drainTimeoutSeconds: 300 });
    expect(seen[0]!.headers['idempotency-key']).toBe('k-1');
    expect(r.stdout).toContain('Upgrade up-1 of cluster c-1 accepted; status queued.');
    expect(r.stdout).toContain('  1. hw-1  control plane  repave: preflight → cordon → drain → upgrade → reboot → uncordon');
    expect(r.stdout).toContain('follow live:  edgefleet upgrades watch c-1 up-1');
  });

  it.each([
    [409, 'downtime-not-acknowledged', 'a single-node cluster reboots once', EXIT.conflict, '--acknowledge-downtime'],
    [409, 'version-skew', 'workers would be 4 minors behind', EXIT.conflict, 'drop --skip-workers'],
    [409, 'cluster-busy', 'cluster shop-9 is running operation op-3', EXIT.conflict, 'edgefleet operations list --cluster c-1'],
    [409, 'reconfigure-in-progress', 'a reconfigure runs', EXIT.conflict, 'edgefleet clusters reconfigure c-1'],
    [400, 'profile-mismatch', 'cluster shop-9 is built from profile edge-k3s', EXIT.invalid, 'give just the version'],
  ])('explains a %d %s refusal with advice', async (status, code, detail, exit, advice) => {
    routes = [on('POST', '/v1/clusters/c-1/upgrades', problem(status, code, `${detail}\x1b[31m`))];
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', '1.1.0']);
    expect(r.code).toBe(exit);
    expect(r.stderr).toContain(`error: cannot upgrade cluster "c-1" to 1.1.0: ${detail} (code ${code}, HTTP ${status})`);
    expect(r.stderr).toContain(advice);
    expect(r.stderr).toContain('request id: req-9');
    expect(r.stderr).not.toContain('\x1b');
  });

  it('--dry-run posts dryRun without an idempotency key and prints the plan and that it would start (exit 0)', async () => {
    const plan = dryPlan;
    routes = [on('POST', '/v1/clusters/c-1/upgrades', { status: 200, body: { dryRun: true, clusterId: 'c-1', from: { name: 'edge-k3s', version: '1.0.0' }, to: { name: 'edge-k3s', version: '1.1.0' }, wouldStart: true, plan, order: [['hw-1'], ['hw-2'], ['hw-3']] } })];
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', '1.1.0', '--dry-run']);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toEqual({ to: { version: '1.1.0' }, dryRun: true });
    expect(seen[0]!.headers['idempotency-key']).toBeUndefined();
    expect(r.stdout).toContain('Dry run: the upgrade of cluster c-1 to 1.1.0 would start now; nothing was started.');
    expect(r.stdout).toContain('  3. hw-3  control plane  repave: preflight → cordon → drain → upgrade → reboot → uncordon');
  });

  it('--dry-run of a refused upgrade says why, with advice and the plan once lifted (exit 4)', async () => {
    const plan = dryPlan;
    routes = [on('POST', '/v1/clusters/c-1/upgrades', { status: 200, body: {
      dryRun: true, clusterId: 'c-1', from: { name: 'edge-k3s', version: '1.0.0' }, to: { name: 'edge-k3s', version: '1.1.0' }, wouldStart: false,
      refusal: { code: 'downtime-not-acknowledged', message: 'this upgrade cannot avoid downtime\x1b[31m' }, plan, order: [['hw-1']],
    } })];
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', '1.1.0', '--dry-run']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stdout).toContain('would be refused; nothing was started.');
    expect(r.stdout).toContain('Refused: this upgrade cannot avoid downtime');
    expect(r.stdout).toContain('--acknowledge-downtime');
    expect(r.stdout).toContain('Once that is lifted, it runs this plan:');
    expect(r.stdout).not.toContain('\x1b');
  });

  it('refuses a bad --to before calling the API', async () => {
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', 'latest']);
    expect(r.code).toBe(EXIT.usage);
    expect(seen).toHaveLength(0);
  });

  it('--watch follows the upgrade line by line and exits 0 when it succeeds', async () => {
    routes = [on('POST', '/v1/clusters/c-1/upgrades', { status: 202, body: upgrade() }), sequence(UP, running, succeeded)];
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', '1.1.0', '--acknowledge-downtime', '--watch', ...W]);
    expect(r.code).toBe(EXIT.ok);
    expect(seen[0]!.body).toMatchObject({ acknowledgeDowntime: true });
    const log = r.stdout.split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d {2}/, ''));
    expect(log).toContain('host hw-2  ▸ progress  upgrade: writing image');
    expect(log).toContain('status running → succeeded');
    expect(log).toContain('Succeeded after 12m00s.');
    expect(r.stdout).not.toContain('follow live');
  });

  it('--watch exits 4 on a failure and prints the reason and the rollback upgrade', async () => {
    routes = [on('POST', '/v1/clusters/c-1/upgrades', { status: 202, body: upgrade() }), sequence(UP, running, failed)];
    const r = await run(['clusters', 'upgrade', 'c-1', '--to', '1.1.0', '--watch', ...W]);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stdout).toContain('Failed after 9m30s at step rollback: hw-2 booted into passive (Kairos fell back)');
    expect(r.stdout).toContain('Rolled back by upgrade up-2: edgefleet upgrades get c-1 up-2');
    expect(r.stderr).toContain('Details: edgefleet upgrades get c-1 up-1');
  });
});

describe('edgefleet upgrades', () => {
  it('watch stops at a pause caused by a failed node and exits 4 with how to continue', async () => {
    routes = [sequence(UP, running, pausedOnFailure, running)];
    const r = await run(['upgrades', 'watch', 'c-1', 'up-1', ...W]);
    expect(r.code).toBe(EXIT.conflict);
    expect(gets()).toBe(2);
    expect(r.stdout).toContain('Paused: hw-2 missed the health gate deadline');
    expect(r.stdout).toContain('edgefleet upgrades resume c-1 up-1');
  });

  it('watch keeps following through an operator pause until the upgrade ends', async () => {
    routes = [sequence(UP, upgrade({ status: 'paused' }), running, succeeded)];
    const r = await run(['upgrades', 'watch', 'c-1', 'up-1', ...W]);
    expect(r.code).toBe(EXIT.ok);
    expect(gets()).toBe(3);
  });

  it('watch -o json writes JSON lines ending with the outcome and the rollback pointer', async () => {
    routes = [sequence(UP, running, failed)];
    const r = await run(['upgrades', 'watch', 'c-1', 'up-1', '-o', 'json', ...W]);
    expect(r.code).toBe(EXIT.conflict);
    const events = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(events[0]).toMatchObject({ what: 'started', upgradeId: 'up-1', clusterId: 'c-1' });
    expect(events.at(-1)).toMatchObject({ what: 'outcome', status: 'failed', rolledBackBy: 'up-2' });
  });

  it('watch redraws the progress bars in place on a terminal, without hostile sequences', async () => {
    const hostile = upgrade({ status: 'running', hosts: { 'hw-1': { status: 'progress', step: 'drain', detail: 'evil\x1b[2J\ninjected' } } });
    routes = [sequence(UP, hostile, succeeded)];
    const r = await run(['upgrades', 'watch', 'c-1', 'up-1', ...W], { isTTY: true });
    expect(r.code).toBe(EXIT.ok);
    const rows = renderUpgradeFrame(hostile, { now: Date.now(), width: 120 }).length;
    expect(r.stdout).toContain(`\x1b[${rows}A\r\x1b[0J`);
    expect(r.stdout).toContain('[███░░░░░░░]  2/6');
    expect(r.stdout).toContain('evil injected');
    expect(r.stdout).not.toContain('\x1b[2J');
  });

  it('watch stops on Ctrl-C without touching the upgrade and exits 130', async () => {
    routes = [sequence(UP, running)];
    const watching = run(['upgrades', 'watch', 'c-1', 'up-1', ...W]);
    while (gets() < 2) await new Promise((r) => setTimeout(r, 20));
    process.emit('SIGINT');
    const r = await watching;
    expect(r.code).toBe(EXIT.interrupted);
    expect(r.stderr).toContain('Stopped watching upgrade up-1; it keeps running (nothing was paused or cancelled).');
    expect(r.stderr).toContain('Resume watching: edgefleet upgrades watch c-1 up-1');
    expect(seen.every((q) => q.method === 'GET')).toBe(true);
    expect(process.listenerCount('SIGINT')).toBe(sigintListeners);
  });

  it('get prints the frame once, or the operation as JSON', async () => {
    routes = [sequence(UP, running)];
    const text = await run(['upgrades', 'get', 'c-1', 'up-1']);
    expect(text.code).toBe(EXIT.ok);
    expect(text.stdout).toContain('▸  hw-2  [█████░░░░░]  3/6  progress   upgrade    repave  writing image');
    expect(text.stderr).toContain('Follow it live: edgefleet upgrades watch c-1 up-1');
    const json = await run(['upgrades', 'get', 'c-1', 'up-1', '-o', 'json']);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: 'up-1', status: 'running' });
  });

  it('get exits 3 with advice when the upgrade does not exist', async () => {
    routes = [on('GET', UP, problem(404, 'upgrade-not-found', 'upgrade up-1 of cluster c-1 does not exist in this project'))];
    const r = await run(['upgrades', 'get', 'c-1', 'up-1']);
    expect(r.code).toBe(EXIT.notFound);
    expect(r.stderr).toContain('edgefleet operations list --cluster c-1');
  });

  it('pause and resume post to the upgrade; resume says it continues from each node\'s real state', async () => {
    routes = [
      on('POST', `${UP}/pause`, { status: 200, body: upgrade({ status: 'paused' }) }),
      on('POST', `${UP}/resume`, { status: 202, body: upgrade({ status: 'queued' }) }),
    ];
    const p = await run(['upgrades', 'pause', 'c-1', 'up-1']);
    expect(p.code).toBe(EXIT.ok);
    expect(p.stdout).toContain('Upgrade up-1 is paused');
    const r = await run(['upgrades', 'resume', 'c-1', 'up-1']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain("it continues from each node's real state");
    expect(seen.map((q) => `${q.method} ${q.path}`)).toEqual([`POST ${UP}/pause`, `POST ${UP}/resume`]);
  });

  it('resume of an upgrade that is not paused exits 4 with the server\'s reason', async () => {
    routes = [on('POST', `${UP}/resume`, problem(409, 'upgrade-not-paused', 'upgrade up-1 is running, not paused'))];
    const r = await run(['upgrades', 'resume', 'c-1', 'up-1']);
    expect(r.code).toBe(EXIT.conflict);
    expect(r.stderr).toContain('upgrade up-1 is running, not paused');
  });

  it('cancel refuses without confirmation when there is no terminal, and cancels with --yes', async () => {
    routes = [on('POST', `${UP}/cancel`, { status: 200, body: upgrade({ status: 'cancelled', reason: 'cancelled by ops during upgrade-nodes' }) })];
    const refused = await run(['upgrades', 'cancel', 'c-1', 'up-1']);
    expect(refused.code).toBe(EXIT.usage);
    expect(refused.stderr).toContain('add --yes to confirm');
    expect(seen).toHaveLength(0);
    const r = await run(['upgrades', 'cancel', 'c-1', 'up-1', '--yes']);
    expect(r.code).toBe(EXIT.ok);
    expect(r.stdout).toContain('Upgrade up-1 cancelled: cancelled by ops during upgrade-nodes');
  });
});
