import { agentState, atLeast, bytesText, compareVersions, diagnosticsPollMs, manifestVersion, shellCommand, tunnelActions } from '../../../console/src/logic/host-actions.js';
import { rolloutBody, type RolloutFields } from '../../../console/src/logic/rollout-form.js';

describe('tunnel actions', () => {
  it.each([
    ['an admin approves someone else\'s pending request', { state: 'pending-approval', actor: 'olga' }, 'ada', 'admin', { approve: true, close: true }],
    ['never one\'s own request', { state: 'pending-approval', actor: 'ada' }, 'ada', 'admin', { approve: false, close: true }],
    ['an open tunnel can be closed, not approved', { state: 'open', actor: 'olga' }, 'ada', 'operator', { approve: false, close: true }],
    ['a closed one offers nothing', { state: 'closed', actor: 'olga' }, 'ada', 'admin', { approve: false, close: false }],
    ['a viewer gets nothing', { state: 'pending-approval', actor: 'olga' }, 'vera', 'viewer', { approve: false, close: false }],
    ['no role gets nothing', { state: 'open', actor: 'olga' }, 'x', undefined, { approve: false, close: false }],
  ] as const)('%s', (_n, t, subject, role, want) => {
    expect(tunnelActions(t, subject, role)).toEqual(want);
  });
});

describe('agent versions', () => {
  it.each([
    ['0.1.0', '0.2.0', -1], ['0.10.0', '0.9.9', 1], ['1.0.0', '1.0.0', 0], ['1.0.0-rc.1', '1.0.0', -1], ['1.0.0', '1.0.0-rc.1', 1],
    ['1.0.0-rc.1', '1.0.0-rc.2', -1], ['1.0.0+build', '1.0.0', 0], ['latest', '1.0.0', undefined],
  ] as const)('%s vs %s', (a, b, want) => expect(compareVersions(a, b)).toBe(want));
  it.each([
    [undefined, '0.2.0', 'not-reported'], ['0.1.0', undefined, 'no-manifest'], ['0.1.0', '0.2.0', 'behind'],
    ['0.2.0', '0.2.0', 'current'], ['0.3.0', '0.2.0', 'ahead'], ['dev', '0.2.0', 'unknown'],
  ] as const)('reported %s, published %s → %s', (r, p, want) => expect(agentState(r, p)).toBe(want));
  it('reads the version of a manifest, and says why not', () => {
    expect(manifestVersion({ version: '0.2.0', artifacts: [] })).toEqual({ version: '0.2.0' });
    expect(manifestVersion({ version: 'latest' })).toEqual({ error: expect.stringContaining('no version') });
    expect(manifestVersion([1])).toEqual({ error: expect.stringContaining('not a JSON object') });
    expect(manifestVersion(null)).toEqual({ error: expect.stringContaining('not a JSON object') });
  });
});

describe('diagnostics and counts', () => {
  it.each([
    [undefined, 10_000], [[], undefined], [[{ status: 'uploaded' }, { status: 'failed' }], undefined],
    [[{ status: 'uploaded' }, { status: 'collecting' }], 3_000], [[{ status: 'requested' }], 3_000],
  ] as const)('poll %j → %s', (items, want) => expect(diagnosticsPollMs(items)).toBe(want));
  it.each([[0, '0 B'], [999, '999 B'], [1558, '1.6 kB'], [2_500_000, '2.5 MB'], [3e12, '3000.0 GB']] as const)('%d bytes → %s', (n, want) => expect(bytesText(n)).toBe(want));
  it('a count from one filtered page is exact only without a next page', () => {
    expect(atLeast(7, undefined)).toBe('7');
    expect(atLeast(3, 'c2')).toBe('3+');
  });
  it('the shell command quotes the reason for a POSIX shell', () => {
    expect(shellCommand('sim-1', "it's down")).toBe(`edgefleet hosts shell sim-1 --reason 'it'\\''s down'`);
  });
});

describe('rollout form → POST /v1/rollouts body', () => {
  const base: RolloutFields = { targetKind: 'clusters', clusterIds: 'c-1, c-2 c-1', version: '2.1.0' };
  it.each<[string, RolloutFields, unknown]>([
    ['cluster ids, deduplicated; nothing else sent', base, { body: { targets: { clusterIds: ['c-1', 'c-2'] }, to: { version: '2.1.0' } } }],
    ['a template and a channel with a profile', { ...base, targetKind: 'template', template: 'shops', version: '2.x', profile: 'edge', name: 'spring' },
      { body: { name: 'spring', targets: { template: 'shops' }, to: { version: '2.x', name: 'edge' } } }],
    ['a site prefix and tags', { ...base, targetKind: 'selector', site: 'shop-*', tags: 'tier=b, region = eu' },
      { body: { targets: { site: 'shop-*', tags: { tier: 'b', region: 'eu' } }, to: { version: '2.1.0' } } }],
    ['waves, abort thresholds and downtime', { ...base, canary: '10%', growth: '3', maxConcurrent: '20', soakMinutes: '15', promotion: 'manual', failurePercent: '5', failureCount: '2', acknowledgeDowntime: true },
      { body: { targets: { clusterIds: ['c-1', 'c-2'] }, to: { version: '2.1.0' }, policy: { waves: { canary: { percent: 10 }, growth: 3, maxConcurrent: 20, soakMinutes: 15, promotion: 'manual' }, abort: { failurePercent: 5, failureCount: 2 }, upgrade: { acknowledgeDowntime: true } } } }],
    ['a canary of 2 clusters', { ...base, canary: '2' }, { body: { targets: { clusterIds: ['c-1', 'c-2'] }, to: { version: '2.1.0' }, policy: { waves: { canary: { clusters: 2 } } } } }],
    ['no cluster id', { ...base, clusterIds: ' , ' }, { error: expect.stringContaining('at least one cluster id') }],
    ['no template', { ...base, targetKind: 'template' }, { error: expect.stringContaining('template') }],
    ['an empty selector', { ...base, targetKind: 'selector' }, { error: expect.stringContaining('site') }],
    ['a tag without =', { ...base, targetKind: 'selector', tags: 'tier' }, { error: expect.stringContaining('"tier" is not') }],
    ['no version', { ...base, version: ' ' }, { error: expect.stringContaining('version') }],
    ['a bad canary', { ...base, canary: 'some' }, { error: expect.stringContaining('"some"') }],
    ['a growth that is no number', { ...base, growth: 'fast' }, { error: 'Growth must be a number (got "fast")' }],
  ])('%s', (_n, fields, want) => expect(rolloutBody(fields)).toEqual(want));
});
