import { MAX_DEVICE_PAYLOAD_BYTES } from '../lambdas/contracts/mqtt.js';
import type { LocalCa } from './local-ca.js';
import { startTsWorker } from './ts-worker.js';
import type { BrokerStats, MessageListener, SessionMatch } from './mqtt-broker-core.js';
import type { BrokerThreadStart, FromBroker, ToBroker } from './mqtt-broker-messages.js';

export { meteredUnits, type BrokerStats, type MessageListener, type SessionMatch } from './mqtt-broker-core.js';

export interface BrokerOptions {
  readonly ca: LocalCa;
  /** 0 picks a free port. @default 8883 */
  readonly port?: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * `iot:Connection.Thing.IsAttached`: is this certificate attached to this thing? The device
   * registry provides it; without one every certificate the CA issued is treated as attached.
   */
  readonly isAttached?: (thingName: string, certificateId: string) => boolean | Promise<boolean>;
  /** @default MAX_DEVICE_PAYLOAD_BYTES */
  readonly maxPayloadBytes?: number;
}

export interface LocalBroker {
  readonly port: number;
  readonly url: string;
  /** The broker's counters, as of the last message or change it reported (its thread counts them). */
  readonly stats: Readonly<BrokerStats>;
  onMessage(listener: MessageListener): void;
  /** Server-side publish (the cloud's side of IoT Core: commands, lifecycle events). */
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>;
  /**
   * Closes matching live sessions (IoT Core drops the connections of a revoked certificate
   * within minutes, and DeleteConnection closes one at once). Asynchronous, as on AWS:
   * `stats.closedSessions` counts them once closed.
   */
  closeSessions(match: SessionMatch): void;
  stop(): Promise<void>;
}

const THREAD = new URL('./mqtt-broker-thread.ts', import.meta.url);

const zeroStats = (): BrokerStats => ({ connected: 0, refusedConnections: 0, deniedPublishes: 0, deniedSubscribes: 0, droppedForwards: 0, oversizedPublishes: 0, closedSessions: 0, metered: { publishesIn: 0, publishesOut: 0, pubacksIn: 0, connects: 0, subscribes: 0 } });

/**
 * The local stand-in for IoT Core's broker (mqtt-broker-core.ts), run in its own thread
 * (mqtt-broker-thread.ts): it accepts connections and does TLS handshakes on its own event loop,
 * as IoT Core's gateway does beside the Lambda functions, and asks this thread whether a
 * connecting certificate is revoked or attached (the local CA and the device registry live here).
 */
export async function startBroker(opts: BrokerOptions): Promise<LocalBroker> {
  const { keyPem, certPem } = await opts.ca.serverCertificate(['localhost', '127.0.0.1']);
  const host = opts.host ?? '127.0.0.1';
  const start: BrokerThreadStart = { keyPem, certPem, caPem: opts.ca.caPem, port: opts.port ?? 8883, host, maxPayloadBytes: opts.maxPayloadBytes ?? MAX_DEVICE_PAYLOAD_BYTES };
  const worker = startTsWorker(THREAD, start);
  const stats = zeroStats();
  const mirror = (s: BrokerStats) => {
    const { metered, ...counters } = s;
    Object.assign(stats, counters);
    Object.assign(stats.metered, metered);
  };
  const listeners: MessageListener[] = [];
  const published = new Map<number, { resolve: () => void; reject: (e: Error) => void }>();
  let nextPublish = 0;
  let stopRequested = false;
  let onStopped: (() => void) | undefined;
  let dead: Error | undefined;
  const post = (m: ToBroker) => worker.postMessage(m);

  const ready = new Promise<number>((resolve, reject) => {
    const die = (e: Error) => {
      dead ??= new Error(`the local MQTT broker (the IoT Core stand-in) stopped: ${e.message}; devices cannot connect until the runtime is restarted`);
      for (const p of published.values()) p.reject(dead);
      published.clear();
      reject(dead);
      onStopped?.();
    };
    worker.on('error', die);
    worker.on('exit', (code) => { if (!stopRequested) die(new Error(`its thread exited (code ${code})`)); else onStopped?.(); });
    worker.on('message', (m: FromBroker) => {
      switch (m.type) {
        case 'ready':
          mirror(m.stats);
          return resolve(m.port);
        case 'failed':
          return die(new Error(m.message));
        case 'admit':
          void (async () => {
            const revoked = opts.ca.isRevoked(m.certificateId);
            const attached = revoked ? false : opts.isAttached ? await opts.isAttached(m.thing, m.certificateId) : true;
            post({ type: 'admitted', id: m.id, revoked, attached });
          })().catch(() => post({ type: 'admitted', id: m.id, revoked: false, attached: false }));
          return;
        case 'message': {
          mirror(m.stats);
          const payload = Buffer.from(m.payload.buffer, m.payload.byteOffset, m.payload.byteLength);
          for (const l of listeners) l(m.topic, payload, m.clientId);
          return;
        }
        case 'stats':
          return mirror(m.stats);
        case 'published': {
          const p = published.get(m.id);
          published.delete(m.id);
          if (m.error === undefined) p?.resolve();
          else p?.reject(new Error(m.error));
          return;
        }
        case 'stopped':
          mirror(m.stats);
          onStopped?.();
          return;
      }
    });
  });
  let port: number;
  try {
    port = await ready;
  } catch (e) {
    await worker.terminate();
    throw e;
  }

  return {
    port, url: `mqtts://${host}:${port}`, stats,
    onMessage: (l) => { listeners.push(l); },
    publish: (topic, payload, qos = 1) => new Promise<void>((resolve, reject) => {
      if (dead) return reject(dead);
      const id = nextPublish++;
      published.set(id, { resolve, reject });
      post({ type: 'publish', id, topic, payload: typeof payload === 'string' ? payload : new Uint8Array(payload), qos });
    }),
    closeSessions: (match) => { if (!dead) post({ type: 'close-sessions', match }); },
    stop: async () => {
      stopRequested = true;
      if (!dead) {
        const done = new Promise<void>((r) => { onStopped = r; });
        post({ type: 'stop' });
        // Lifecycle events of the last disconnects arrive before 'stopped' (one channel, in order).
        await Promise.race([done, new Promise((r) => setTimeout(r, 10_000).unref())]);
      }
      await worker.terminate();
    },
  };
}
