/** request-diagnostics, get-diagnostics and the record following its command, on the in-memory adapters. */
import { memoryAdapters } from '../../../lambdas/adapters/memory/index.js';
import { ForbiddenError } from '../../../lambdas/domain/errors.js';
import { expireOverdueCommands, recordResult, sendPendingCommands } from '../../../lambdas/use-cases/device-messages.js';
import { getDiagnostics, listDiagnostics } from '../../../lambdas/use-cases/get-diagnostics.js';
import { requestDiagnostics } from '../../../lambdas/use-cases/request-diagnostics.js';
import { ctxOf } from './world.js';

const PROJECT = 'p';
const T0 = '2026-11-30T10:00:00.000Z';

async function world(status: 'approved' | 'pending' = 'approved') {
  const a = memoryAdapters({ now: T0 });
  await a.hosts.create({ id: 'h1', uid: 'H1', project: PROJECT, tags: {}, status, version: 1, createdAt: T0, updatedAt: T0 });
  const deps = { ...a, device: a };
  return { a, deps, device: { ...a, diagnostics: a.diagnostics } };
}
const operator = ctxOf('operator');
const viewer = ctxOf('viewer', 'victor');
const REQ = { window: '1h', windowSeconds: 3600, reason: 'POS freezes' };

describe('request-diagnostics', () => {
  it('records the request, presigns a bounded upload that expires with the command, sends the command, audits', async () => {
    const { a, deps } = await world();
    const r = await requestDiagnostics(deps, operator, 'h1', REQ);
    expect(r).toMatchObject({ status: 'requested', hostId: 'h1', since: '2026-11-30T09:00:00.000Z', deadline: '2026-11-30T10:15:00.000Z', requestedBy: 'alice', reason: 'POS freezes' });
    expect(await a.diagnostics.get('h1', r.id)).toEqual(r);
    expect(a.bundles.uploads).toEqual([{ key: `diagnostics/p/h1/${r.id}.tar.gz`, maxBytes: r.maxBytes, expiresAt: new Date(r.deadline) }]);
    const [sent] = a.publisher.to('h1');
    expect(sent).toMatchObject({ commandId: `diag-${r.id}`, type: 'collect-diagnostics', deadline: r.deadline, params: { since: r.since, maxBytes: r.maxBytes, uploadUrl: 'https://bundles.invalid/' } });
    expect(JSON.parse(String(sent!.params.uploadFields))).toEqual({ key: `diagnostics/p/h1/${r.id}.tar.gz`, policy: 'memory' });
    // The upload form exists only on the wire: the stored command holds the key and the bound.
    expect((await a.commands.get('h1', r.commandId))!.params).toEqual({ since: r.since, objectKey: r.objectKey, maxBytes: r.maxBytes });
    const audit = (await a.audit.list(PROJECT, {}, { limit: 10 })).items;
    expect(audit).toEqual([expect.objectContaining({ action: 'host.diagnostics.request', outcome: 'success', actor: 'alice', resource: `host/h1/diagnostics/${r.id}`, detail: 'window 1h; reason: POS freezes' })]);
  });

  it('a host that reconnects gets the command again with a freshly signed upload form', async () => {
    const { a, deps, device } = await world();
    const r = await requestDiagnostics(deps, operator, 'h1', REQ);
    await sendPendingCommands(device, 'h1');
    const sent = a.publisher.to('h1');
    expect(sent).toHaveLength(2);
    expect(sent[1]!.params).toMatchObject({ uploadUrl: 'https://bundles.invalid/', since: r.since, maxBytes: r.maxBytes });
    expect(sent[1]!.params).not.toHaveProperty('objectKey');
    expect(a.bundles.uploads).toHaveLength(2);
  });

  it('a viewer is refused (audited as denied) and nothing is recorded or sent', async () => {
    const { a, deps } = await world();
    await expect(requestDiagnostics(deps, viewer, 'h1', REQ)).rejects.toBeInstanceOf(ForbiddenError);
    expect(a.diagnostics.items.size).toBe(0);
    expect(a.publisher.published).toEqual([]);
    expect((await a.audit.list(PROJECT, {}, { limit: 10 })).items).toEqual([expect.objectContaining({ action: 'host.diagnostics.request', outcome: 'denied', actor: 'victor' })]);
  });

  it('a host without an agent to ask is refused with the reason; one of another project is not found', async () => {
    const { deps } = await world('pending');
    await expect(requestDiagnostics(deps, operator, 'h1', REQ)).rejects.toMatchObject({ code: 'host-cannot-collect', message: expect.stringContaining('approve it first') });
    await expect(requestDiagnostics(deps, ctxOf('operator', 'bob'), 'nope', REQ)).rejects.toMatchObject({ code: 'host-not-found' });
  });
});

describe('list-diagnostics', () => {
  it('lists the host\'s requests newest first, without download URLs; a viewer is refused; another host\'s are not shown', async () => {
    const { a, deps } = await world();
    await a.hosts.create({ id: 'h2', uid: 'H2', project: PROJECT, tags: {}, status: 'approved', version: 1, createdAt: T0, updatedAt: T0 });
    const first = await requestDiagnostics(deps, operator, 'h1', REQ);
    a.clock.advance(60_000);
    const second = await requestDiagnostics(deps, operator, 'h1', { window: '30m', windowSeconds: 1800 });
    await requestDiagnostics(deps, operator, 'h2', REQ);
    const listed = await listDiagnostics(deps, operator, 'h1');
    expect(listed).toEqual({ items: [second, first], more: false });
    expect(listed.items.some((r) => 'download' in r)).toBe(false);
    await expect(listDiagnostics(deps, viewer, 'h1')).rejects.toBeInstanceOf(ForbiddenError);
    await expect(listDiagnostics(deps, operator, 'nope')).rejects.toMatchObject({ code: 'host-not-found' });
  });
});

describe('the request follows the host', () => {
  it('accepted → collecting; succeeded with the bundle → uploaded, and GET hands out an audited download URL', async () => {
    const { a, deps, device } = await world();
    const r = await requestDiagnostics(deps, operator, 'h1', REQ);
    expect(await getDiagnostics(deps, operator, 'h1', r.id)).not.toHaveProperty('download');
    await recordResult(device, 'h1', r.commandId, { phase: 'accepted' });
    expect((await a.diagnostics.get('h1', r.id))!.status).toBe('collecting');
    const bundle = { bytes: 4242, sha256: 'b'.repeat(64) };
    await recordResult(device, 'h1', r.commandId, { phase: 'succeeded', detail: 'bundle uploaded', bundle });
    const got = await getDiagnostics(deps, operator, 'h1', r.id);
    expect(got).toMatchObject({ status: 'uploaded', bundle, download: { url: `https://bundles.invalid/${r.objectKey}` } });
    const actions = (await a.audit.list(PROJECT, {}, { limit: 10 })).items.map((e) => e.action);
    expect(actions).toContain('host.diagnostics.download');
    await expect(getDiagnostics(deps, viewer, 'h1', r.id)).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('a host that never answers: the deadline sweep ends the request failed, with the reason', async () => {
    const { a, deps, device } = await world();
    const r = await requestDiagnostics(deps, operator, 'h1', REQ);
    a.clock.advance(16 * 60_000);
    await expireOverdueCommands(device);
    expect(await a.diagnostics.get('h1', r.id)).toMatchObject({ status: 'failed', statusReason: expect.stringContaining('did not upload the bundle before') });
  });
});
