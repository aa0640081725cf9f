import type { Inventory } from '../../lambdas/contracts/device.js';
import type { Sleep } from '../backoff.js';
import type { AgentConfig } from '../config.js';
import { createCsr, generateDeviceKey } from '../identity.js';
import type { KairosState } from '../kairos.js';
import { register, type Log } from '../registration.js';
import type { StateStore } from '../state-store.js';
import { countRetry, type AgentState, type Feature } from './feature.js';
import type { Identity } from './session.js';

export interface RegistrationOptions {
  readonly config: AgentConfig;
  readonly store: StateStore;
  readonly readState: () => Promise<KairosState>;
  readonly inventory: (s: KairosState) => Promise<Inventory>;
  readonly state: AgentState;
  readonly log: Log;
  readonly now: () => Date;
  readonly sleep: Sleep;
  readonly fetch?: typeof fetch;
  readonly random?: () => number;
  readonly showPairing?: (p: { hostId: string; pairingCode: string; qrText: string }) => void;
}

/**
 * The host's identity: a device key and CSR made once and kept in the state dir, and — unless
 * the state dir already holds them — registration with the control plane until approved
 * (backoff with full jitter, pairing code shown while pending; see registration.ts). `start()`
 * resolves with `identity` set, or unset when stopped first; a terminal refusal rejects with
 * `RegistrationRefused`. `stop()` cuts a backoff or a poll short.
 */
export class RegistrationFeature implements Feature {
  private readonly abort = new AbortController();
  private result: Identity | undefined;

  constructor(private readonly o: RegistrationOptions) {}

  getName(): string {
    return 'registration';
  }

  /** Set once `start()` resolved with the host registered. */
  get identity(): Identity | undefined {
    return this.result;
  }

  async start(): Promise<void> {
    const { config, store, log, state } = this.o;
    state.step = 'identity';
    await store.init();
    let keyPem = await store.readKey();
    if (!keyPem) {
      keyPem = generateDeviceKey();
      await store.writeKey(keyPem);
      log('info', 'generated the device key');
    }
    let csrPem = await store.readCsr();
    if (!csrPem) {
      csrPem = await createCsr(keyPem, config.uid);
      await store.writeCsr(csrPem);
    }

    let registration = await store.readRegistration();
    let credentials = await store.readCredentials();
    if (!registration || !credentials) {
      state.phase = 'registering';
      const inventory = await this.o.inventory(await this.o.readState());
      const approved = await register(
        { apiUrl: config.apiUrl, token: config.registrationToken, uid: config.uid, keyPem, csrPem, inventory, project: config.project, site: config.site, tags: config.tags },
        { fetch: this.o.fetch, sleep: this.o.sleep, random: this.o.random, now: this.o.now, log, showPairing: this.o.showPairing, signal: this.abort.signal,
          onProgress: ({ step, retries, reason }) => {
            state.step = step === 'request' ? 'register-request' : step === 'backoff' ? 'register-backoff' : 'awaiting-approval';
            state.registrationRetries = retries;
            if (step === 'backoff') countRetry(state, 'registration', reason);
          } },
      );
      if (!approved) return;
      credentials = { certificatePem: approved.certificatePem, caPem: approved.caPem };
      registration = { hostId: approved.hostId, thingName: approved.thingName, mqtt: approved.mqtt };
      await store.writeCredentials(credentials);
      await store.writeRegistration(registration);
    }
    this.result = { registration, credentials, keyPem };
  }

  async stop(): Promise<void> {
    if (!this.abort.signal.aborted) this.abort.abort();
  }
}
