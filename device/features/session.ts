import { TOPICS } from '../../lambdas/contracts/mqtt.js';
import { tunnelNotifyTopic } from '../../lambdas/contracts/tunnels.js';
import type { Log } from '../registration.js';
import type { Credentials, Registration } from '../state-store.js';
import type { MqttTransport, TransportFactory } from '../transport.js';
import { countRetry, type AgentPhase, type AgentState, type Feature } from './feature.js';

/** What registration leaves for the session: who the host is and how it connects. */
export interface Identity {
  readonly registration: Registration;
  readonly credentials: Credentials;
  readonly keyPem: string;
}

export interface SessionOptions {
  readonly identity: Identity;
  readonly transportFactory: TransportFactory;
  readonly state: AgentState;
  readonly log: Log;
  readonly now: () => Date;
  readonly random?: () => number;
  /** The phase once (re)connected: `rebooting` while a reboot is under way, else `online`. */
  readonly connectedPhase: () => AgentPhase;
  /** A message on this host's commands topic (other topics are dropped). */
  readonly onCommand: (payload: string) => void;
  /** A Secure Tunneling notification for this thing (subscribed only when given). */
  readonly onTunnelNotify?: (payload: string) => void;
  /** After every (re)connect, once subscribed and the pending commands were asked for. */
  readonly onConnected?: (info: { readonly reconnect: boolean }) => void;
}

/**
 * The MQTT session of the host (its thing): the transport is built with the device
 * credentials when the session is created, so that messages published before `start()` wait
 * in its outbox; `start()` subscribes to the commands topic and connects. On every (re)connect
 * it subscribes again and asks for the commands stored while the host was away (they are not
 * retained on the topic); the transport reconnects by itself until `stop()`.
 */
export class SessionFeature implements Feature {
  private readonly transport: MqttTransport;
  private readonly hostId: string;
  private readonly notifyTopic: string;

  constructor(private readonly o: SessionOptions) {
    const { registration, credentials, keyPem } = o.identity;
    this.hostId = registration.hostId;
    this.transport = o.transportFactory({
      endpoint: registration.mqtt.endpoint, port: registration.mqtt.port, clientId: registration.thingName,
      certificatePem: credentials.certificatePem, keyPem, caPem: credentials.caPem, log: o.log, random: o.random,
      onProgress: ({ step, retries, reason }) => {
        o.state.step = step === 'connecting' ? 'mqtt-connecting' : 'mqtt-backoff';
        o.state.mqttRetries = retries;
        if (step === 'backoff') countRetry(o.state, 'mqtt', reason);
      },
    });
    this.notifyTopic = tunnelNotifyTopic(registration.thingName);
    this.transport.onMessage((topic, payload) => {
      if (topic === TOPICS.commands(this.hostId)) o.onCommand(payload);
      else if (topic === this.notifyTopic) o.onTunnelNotify?.(payload);
    });
    this.transport.onConnected(async ({ reconnect }) => {
      o.state.phase = o.connectedPhase();
      o.state.step = 'connected';
      await this.transport.subscribe(TOPICS.commands(this.hostId));
      if (o.onTunnelNotify) await this.transport.subscribe(this.notifyTopic);
      void this.publish(TOPICS.pendingCommands(this.hostId), { at: o.now().toISOString() });
      o.onConnected?.({ reconnect });
    });
    this.transport.onDisconnected(() => {
      if (o.state.phase === 'online') o.state.phase = 'offline';
    });
  }

  getName(): string {
    return 'session';
  }

  /** Resolves once connected the first time. */
  async start(): Promise<void> {
    await this.transport.subscribe(TOPICS.commands(this.hostId));
    if (this.o.onTunnelNotify) await this.transport.subscribe(this.notifyTopic);
    await this.transport.connect();
  }

  async stop(): Promise<void> {
    await this.transport.disconnect().catch(() => undefined);
  }

  /** QoS 1 (waits in the outbox while offline); a failure is logged, never thrown. */
  publish(topic: string, body: unknown): Promise<void> {
    return this.transport.publish(topic, JSON.stringify(body)).catch((e: unknown) => {
      this.o.log('warn', `publish to ${topic} failed: ${(e as Error).message}`);
    });
  }
}
