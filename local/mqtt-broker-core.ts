import { createHash, randomUUID } from 'node:crypto';
import type { AddressInfo, Socket } from 'node:net';
import tls, { type TLSSocket } from 'node:tls';
import { Aedes, type AedesPublishPacket, type AuthenticateError, type Client } from 'aedes';
import { devicePolicyDocument } from '../lambdas/contracts/iot.js';
import { TOPICS } from '../lambdas/contracts/mqtt.js';
import { isAllowed, type IotAction } from './iot-policy.js';
import { LISTEN_BACKLOG } from './listen-backlog.js';

export interface BrokerStats {
  connected: number;
  refusedConnections: number;
  deniedPublishes: number;
  deniedSubscribes: number;
  droppedForwards: number;
  oversizedPublishes: number;
  /** Live sessions closed because their certificate was revoked or their thing retired. */
  closedSessions: number;
  /**
   * What AWS IoT Core would meter as messages (its "additional metering details": 5 KB units of
   * topic + payload): PUBLISH received from devices, PUBLISH sent by the service (commands,
   * tunnel notifications, lifecycle events), PUBACKs received from devices (MQTT 3.1.1: one
   * 5 KB message each), CONNECTs and SUBSCRIBEs. PINGREQ/PINGRESP, CONNACK, SUBACK, DISCONNECT
   * and the service's PUBACKs are free.
   */
  metered: { publishesIn: number; publishesOut: number; pubacksIn: number; connects: number; subscribes: number };
}

/** IoT Core meters a message in 5 KB units of its topic and payload. */
export const meteredUnits = (topic: string, payload: Buffer | string): number => Math.max(1, Math.ceil((Buffer.byteLength(topic) + Buffer.byteLength(payload)) / 5120));

/** Which live sessions to close: a thing's, or every one using a certificate. */
export type SessionMatch = { readonly thing: string } | { readonly certificateId: string };

/** A message that reached the broker: from a device (clientId) or from the broker itself. */
export type MessageListener = (topic: string, payload: Buffer, clientId: string | undefined) => void;

/** Where and how the broker listens: plain data, handed to its thread as is. */
export interface BrokerEndpoint {
  /** The broker's TLS key and certificate (signed by the local CA), and the CA that device certificates must chain to. */
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly host: string;
  readonly maxPayloadBytes: number;
}

/** What the broker needs: its endpoint, and the main thread's answers and listeners. */
export interface BrokerCoreOptions extends BrokerEndpoint {
  /** Is this certificate revoked, and is it attached to this thing (`iot:Connection.Thing.IsAttached`)? */
  readonly admit: (thing: string, certificateId: string) => Promise<{ readonly revoked: boolean; readonly attached: boolean }>;
  /** Every PUBLISH that reached the broker, in order. */
  readonly onMessage: MessageListener;
  /** Told when a counter in `stats` changed. */
  readonly onStats: () => void;
}

export interface BrokerCore {
  readonly port: number;
  readonly stats: Readonly<BrokerStats>;
  publish(topic: string, payload: string | Buffer, qos?: 0 | 1): Promise<void>;
  /** Closes matching live sessions now; returns how many. */
  closeSessions(match: SessionMatch): number;
  stop(): Promise<void>;
}

const THING_VAR = 'iot:Connection.Thing.ThingName';
const ATTACHED = 'iot:Connection.Thing.IsAttached';

const authError = (message: string): AuthenticateError => Object.assign(new Error(message), { returnCode: 5 as const }) as AuthenticateError;

/** The certificate's id as IoT Core and the local CA name it: SHA-256 of its DER, hex (local-ca.ts certificateIdOf). */
const certificateIdOfDer = (der: Buffer): string => createHash('sha256').update(der).digest('hex');

/**
 * The local stand-in for IoT Core's broker: aedes (MQTT 3.1.1) on mutual TLS against the local
 * CA. A device connects only as the thing named in its certificate (CN = clientId), with a
 * certificate that is not revoked and is attached to the thing, and may then only do what
 * devicePolicyDocument() allows it (evaluated with its thing name). Lifecycle events go to
 * $aws/events/presence/... in IoT's shape. Runs in its own thread (mqtt-broker-thread.ts), so
 * that it accepts connections and does TLS handshakes at its own pace, as IoT Core does.
 */
export async function serveBroker(opts: BrokerCoreOptions): Promise<BrokerCore> {
  const policy = devicePolicyDocument();
  const maxPayload = opts.maxPayloadBytes;
  const stats: BrokerStats = { connected: 0, refusedConnections: 0, deniedPublishes: 0, deniedSubscribes: 0, droppedForwards: 0, oversizedPublishes: 0, closedSessions: 0, metered: { publishesIn: 0, publishesOut: 0, pubacksIn: 0, connects: 0, subscribes: 0 } };
  const identities = new WeakMap<Client, { thing: string; session: string; certificateId: string }>();
  const versions = new Map<string, number>();
  /** Connected clients (aedes keeps its own map, but does not type it). */
  const live = new Set<Client>();
  const lastEventAt = new Map<string, number>();

  const allowed = (client: Client | null, action: IotAction, resource: string): boolean => {
    const id = client ? identities.get(client) : undefined;
    if (!id) return false;
    return isAllowed(policy, { action, resource, variables: { [THING_VAR]: id.thing }, context: { [ATTACHED]: 'true' } });
  };

  const aedes = await Aedes.createBroker({
    maxClientsIdLength: 128,
    authenticate: (client, _username, _password, done) => {
      void (async () => {
        const socket = client.conn as unknown as TLSSocket;
        const cert = typeof socket.getPeerCertificate === 'function' ? socket.getPeerCertificate() : undefined;
        const cn = cert?.subject?.CN;
        if (!cert?.raw || typeof cn !== 'string') throw authError('no client certificate');
        if (cn !== client.id) throw authError(`clientId ${client.id} is not the certificate's thing ${cn}`);
        const certificateId = certificateIdOfDer(cert.raw);
        const { revoked, attached } = await opts.admit(cn, certificateId);
        if (revoked) throw authError('the certificate is revoked');
        const ok = isAllowed(policy, {
          action: 'iot:Connect', resource: `client/${client.id}`, variables: { [THING_VAR]: cn }, context: { [ATTACHED]: String(attached) },
        });
        if (!ok) throw authError('iot:Connect is not allowed');
        identities.set(client, { thing: cn, session: randomUUID(), certificateId });
      })().then(() => done(null, true), (e: Error) => {
        stats.refusedConnections++;
        opts.onStats();
        done(authError(e.message), false);
      });
    },
    authorizePublish: (client, packet, done) => {
      if (!client) return done(null);
      if (packet.payload.length > maxPayload) {
        stats.oversizedPublishes++;
        opts.onStats();
        return done(new Error(`payload of ${packet.payload.length} bytes exceeds ${maxPayload}`));
      }
      if (!allowed(client, 'iot:Publish', `topic/${packet.topic}`)) {
        stats.deniedPublishes++;
        opts.onStats();
        return done(new Error(`iot:Publish to ${packet.topic} is not allowed`));
      }
      done(null);
    },
    authorizeSubscribe: (client, sub, done) => {
      if (!allowed(client, 'iot:Subscribe', `topicfilter/${sub.topic}`)) {
        stats.deniedSubscribes++;
        opts.onStats();
        return done(null, null); // SUBACK 0x80 for this filter
      }
      done(null, sub);
    },
    authorizeForward: (client, packet) => {
      if (allowed(client, 'iot:Receive', `topic/${packet.topic}`)) return packet;
      stats.droppedForwards++;
      opts.onStats();
      return null;
    },
  });

  const publish = (topic: string, payload: string | Buffer, qos: 0 | 1 = 1) => new Promise<void>((resolve, reject) => {
    aedes.publish({ cmd: 'publish', topic, payload: Buffer.from(payload), qos, retain: false, dup: false }, (err) => (err ? reject(err) : resolve()));
  });

  const lifecycle = (client: Client, eventType: 'connected' | 'disconnected') => {
    const id = identities.get(client);
    if (!id) return;
    // Strictly increasing per client, so connect/disconnect in the same millisecond keep their order.
    const timestamp = Math.max(Date.now(), (lastEventAt.get(client.id) ?? 0) + 1);
    lastEventAt.set(client.id, timestamp);
    if (eventType === 'connected') versions.set(client.id, (versions.get(client.id) ?? 0) + 1);
    const event = {
      clientId: client.id, timestamp, eventType, sessionIdentifier: id.session, principalIdentifier: id.thing,
      versionNumber: versions.get(client.id) ?? 0,
      ...(eventType === 'disconnected' ? { clientInitiatedDisconnect: false, disconnectReason: 'CONNECTION_LOST' } : {}),
    };
    publish(TOPICS.presence(eventType, client.id), JSON.stringify(event), 1).catch(() => undefined);
  };
  aedes.on('clientReady', (client) => { live.add(client); stats.connected++; stats.metered.connects++; opts.onStats(); lifecycle(client, 'connected'); });
  aedes.on('subscribe', (subscriptions) => { stats.metered.subscribes += subscriptions.length; opts.onStats(); });
  aedes.on('ack', (_packet, client) => { if (client) { stats.metered.pubacksIn++; opts.onStats(); } });
  aedes.on('clientDisconnect', (client) => { live.delete(client); stats.connected = Math.max(0, stats.connected - 1); opts.onStats(); lifecycle(client, 'disconnected'); });
  aedes.on('publish', (packet: AedesPublishPacket, client: Client | null) => {
    if (packet.topic.startsWith('$SYS/')) return;
    const units = meteredUnits(packet.topic, packet.payload as Buffer);
    if (client) stats.metered.publishesIn += units;
    else stats.metered.publishesOut += units;
    opts.onStats();
    opts.onMessage(packet.topic, packet.payload as Buffer, client?.id);
  });

  const server = tls.createServer({
    key: opts.keyPem, cert: opts.certPem, ca: [opts.caPem], requestCert: true, rejectUnauthorized: true,
    ALPNProtocols: ['x-amzn-mqtt-ca', 'mqtt'], minVersion: 'TLSv1.2',
  }, (socket) => { if (stopping) socket.destroy(); else aedes.handle(socket as never); });
  server.on('tlsClientError', () => { stats.refusedConnections++; opts.onStats(); });
  // Every accepted connection, handshaking or not: a stopping broker closes them all.
  const sockets = new Set<Socket>();
  server.on('connection', (s: Socket) => { sockets.add(s); s.once('close', () => sockets.delete(s)); });
  let stopping = false;
  const host = opts.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e: NodeJS.ErrnoException) => reject(e.code === 'EADDRINUSE'
      ? new Error(`MQTT port ${opts.port} is already in use; stop what is using it or choose another MQTT port`)
      : e));
    server.listen({ port: opts.port, host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;

  return {
    port, stats,
    publish,
    closeSessions: (match) => {
      let closed = 0;
      for (const client of [...live]) {
        const id = identities.get(client);
        if (!id) continue;
        if ('thing' in match ? id.thing !== match.thing : id.certificateId !== match.certificateId) continue;
        client.close();
        closed++;
      }
      stats.closedSessions += closed;
      if (closed) opts.onStats();
      return closed;
    },
    // A broker that is going away accepts nothing more (a connect is refused, not left without a
    // CONNACK), closes its sessions (their lifecycle events are published), then drops what was
    // still handshaking or had not sent CONNECT.
    stop: async () => {
      stopping = true;
      const unlistened = new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => aedes.close(() => r()));
      for (const s of sockets) s.destroy();
      await unlistened;
    },
  };
}
