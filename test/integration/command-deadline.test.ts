/**
 * A command whose host never comes back still ends in a named state: the deadline sweep (a
 * schedule on AWS, a timer in the local runtime) marks it timed out.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startLocal, type LocalRuntime } from '../../local/runtime.js';
import { CHECKOUT_TEMPLATE_CACHE } from '../../local/template-cache.js';
import { eventually } from './harness.js';

let rt: LocalRuntime;
let dataDir: string;

beforeAll(async () => {
  dataDir = mkdtempSync(path.join(os.tmpdir(), 'edgefleet-deadline-'));
  rt = await startLocal({
    port: 0, dataDir, inMemory: true, logLevel: 'CRITICAL', commandSweepMs: 150,
    templateCache: CHECKOUT_TEMPLATE_CACHE,
  });
});
afterAll(async () => {
  await rt?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

it('times out a command sent to a host that never reconnects, and leaves others alone', async () => {
  const soon = new Date(Date.now() + 400).toISOString();
  const later = new Date(Date.now() + 600_000).toISOString();
  // Nobody is connected as these hosts: publishing goes nowhere, the commands stay `sent`.
  expect(await rt.iot.sendCommand('gone-host', { commandId: 'will-expire', type: 'reboot', params: {}, deadline: soon })).toMatchObject({ created: true });
  await rt.iot.sendCommand('gone-host', { commandId: 'still-valid', type: 'reboot', params: {}, deadline: later });
  await rt.iot.sendCommand('other-host', { commandId: 'also-valid', type: 'report-state', params: {}, deadline: later });

  const expired = await eventually('the command to time out', async () => {
    const c = await rt.iot.deps.commands.get('gone-host', 'will-expire');
    return c?.state === 'timed-out' ? c : undefined;
  });
  expect(expired).toMatchObject({ state: 'timed-out', reason: 'deadline-passed', endedAt: expect.any(String) });
  expect((await rt.iot.deps.commands.get('gone-host', 'still-valid'))?.state).toBe('sent');
  expect((await rt.iot.deps.commands.get('other-host', 'also-valid'))?.state).toBe('sent');
  // A finished command leaves the overdue index: later sweeps find nothing more to do.
  expect(await rt.iot.deps.commands.listOverdue(new Date(Date.now() + 1000), 100)).toEqual([]);
});
