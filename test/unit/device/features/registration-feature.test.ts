import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sleep } from '../../../../device/backoff.js';
import type { AgentConfig } from '../../../../device/config.js';
import type { AgentPhase } from '../../../../device/features/feature.js';
import { RegistrationFeature } from '../../../../device/features/registration-feature.js';
import { RegistrationRefused } from '../../../../device/registration.js';
import { StateStore } from '../../../../device/state-store.js';
import { approved, inventory, waitFor } from '../agent-harness.js';
import { activeTimeouts, agentState, fakeHost } from './feature-harness.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'ef-registration-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const config = (): AgentConfig => ({ apiUrl: 'http://127.0.0.1:1', registrationToken: 'tok', project: 'acme', site: 's1', tags: {}, stateDir: dir, uid: 'host-1', fullReportSeconds: 3600 });
const reply = (status: number, body: unknown) => new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json' } });

function registration(answer: () => Response) {
  let fetches = 0;
  const phases: AgentPhase[] = [];
  const state = agentState();
  state.phase = 'starting';
  const f = new RegistrationFeature({
    config: config(), store: new StateStore(dir), readState: () => fakeHost().state(), inventory: async () => inventory,
    state, log: () => undefined, now: () => new Date(), sleep, random: () => 0.5, showPairing: () => phases.push(state.phase),
    fetch: (async () => {
      fetches += 1;
      phases.push(state.phase);
      return answer();
    }) as typeof fetch,
  });
  return { f, state, fetches: () => fetches, phases };
}

describe('registration feature', () => {
  test('registers once and keeps the identity: a second start on the same state dir asks nobody', async () => {
    const a = registration(() => reply(200, approved));
    await a.f.start();
    expect(a.fetches()).toBe(1);
    expect(a.phases[0]).toBe('registering');
    expect(a.f.identity).toMatchObject({ registration: { hostId: 'host-1', thingName: 'host-1', mqtt: { endpoint: 'localhost', port: 8883 } }, keyPem: expect.stringMatching(/BEGIN PRIVATE KEY/) });
    const b = registration(() => reply(500, {}));
    await b.f.start();
    expect(b.fetches()).toBe(0);
    expect(b.state.phase).toBe('starting');
    expect(b.f.identity).toEqual(a.f.identity);
  });

  test('a terminal refusal rejects start() with the technician message', async () => {
    const x = registration(() => reply(403, { status: 403, code: 'token-expired', title: 'expired' }));
    await expect(x.f.start()).rejects.toThrow(RegistrationRefused);
    expect(x.f.identity).toBeUndefined();
  });

  test('stop() while waiting for approval ends the poll timer; start() resolves without an identity', async () => {
    const before = activeTimeouts();
    const x = registration(() => reply(202, { status: 'pending', hostId: 'host-1', pairingCode: 'ABC234', pollAfterSeconds: 3600 }));
    const started = x.f.start();
    await waitFor(() => x.fetches() === 1 && activeTimeouts() === before + 1, 'waiting for approval');
    await x.f.stop();
    await started;
    expect(x.f.identity).toBeUndefined();
    expect(activeTimeouts()).toBe(before);
  });
});
