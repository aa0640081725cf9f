import { iot, mqtt } from 'aws-iot-device-sdk-v2';
import { Backoff, sleep } from './backoff.js';
import { MAX_OUTBOX, type MqttTransport, type TransportSettings } from './transport.js';

type Connected = Parameters<MqttTransport['onConnected']>[0];

/** The SDK rejects with plain strings ("Failed to connect: aws-c-io: AWS_IO_TLS_NEGOTIATION_TIMEOUT, …"), not Errors. */
export const reasonOf = (e: unknown): string => (e instanceof Error ? e.message : typeof e === 'string' ? e : JSON.stringify(e) ?? String(e));

/**
 * aws-iot-device-sdk-v2 MQTT 3.1.1 over mTLS (IoT Core, and aedes locally), persistent session.
 * Reconnects are ours, not the SDK's: exponential backoff with full jitter, so that thousands
 * of hosts losing the same uplink do not come back in lockstep. Each attempt uses a fresh
 * native connection (the SDK's disconnect() frees it for good) over the one TLS context.
 */
export class SdkMqttTransport implements MqttTransport {
  private readonly client = new mqtt.MqttClient();
  private connection: mqtt.MqttClientConnection | undefined;
  private connected = false;
  private everConnected = false;
  private stopped = false;
  private reconnecting: Promise<void> | undefined;
  private readonly subscriptions = new Set<string>();
  private readonly outbox: Array<{ topic: string; payload: string; resolve: () => void; reject: (e: Error) => void }> = [];
  private readonly messageHandlers: Array<(topic: string, payload: string) => void> = [];
  private readonly connectedHandlers: Connected[] = [];
  private readonly disconnectedHandlers: Array<(reason: string) => void> = [];
  private readonly backoff: Backoff;
  private readonly abort = new AbortController();
  private retries = 0;

  constructor(private readonly settings: TransportSettings) {
    this.backoff = new Backoff({ baseMs: settings.minReconnectMs ?? 1000, capMs: settings.maxReconnectMs ?? 120_000, random: settings.random });
  }

  private log(level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) {
    this.settings.log?.(level, message, fields);
  }

  /**
   * One builder for the transport's life: its first build() makes the TLS context (parsing the
   * certificate, key and CA, and loading the trust store: tens of milliseconds of CPU) and every
   * later build() reuses it, so a reconnect attempt costs a connection, not a TLS context.
   */
  private builder: iot.AwsIotMqttConnectionConfigBuilder | undefined;

  private build(): mqtt.MqttClientConnection {
    const s = this.settings;
    this.builder ??= iot.AwsIotMqttConnectionConfigBuilder.new_mtls_builder(s.certificatePem, s.keyPem)
      .with_certificate_authority(s.caPem)
      .with_endpoint(s.endpoint)
      .with_port(s.port)
      .with_client_id(s.clientId)
      .with_clean_session(false)
      .with_keep_alive_seconds(300);
    const c = this.client.new_connection(this.builder.build());
    c.on('message', (topic, payload) => {
      const text = Buffer.from(payload).toString('utf8');
      for (const h of this.messageHandlers) h(topic, text);
    });
    c.on('interrupt', (error) => {
      if (this.connection !== c) return;
      this.lost(`connection interrupted: ${reasonOf(error)}`);
    });
    // An attempt's own failure is logged once by the loop (the SDK also emits it, and the
    // disconnect that frees a failed attempt emits "not connected"): only a live connection's.
    c.on('error', (error) => { if (this.connection === c) this.log('warn', `mqtt error: ${reasonOf(error)}`); });
    return c;
  }

  private lost(reason: string) {
    if (!this.connected) return;
    this.connected = false;
    this.log('warn', `mqtt: ${reason}`);
    for (const h of this.disconnectedHandlers) h(reason);
    const old = this.connection;
    this.connection = undefined;
    // Free the old native connection outside its own callback; our loop takes over.
    setImmediate(() => void old?.disconnect().catch(() => undefined));
    void this.reconnectLoop();
  }

  connect(): Promise<void> {
    return this.reconnectLoop();
  }

  private reconnectLoop(): Promise<void> {
    if (!this.reconnecting) {
      this.reconnecting = (async () => {
        while (!this.stopped && !this.connected) {
          let c: mqtt.MqttClientConnection | undefined;
          try {
            this.settings.onProgress?.({ step: 'connecting', retries: this.retries });
            c = this.build();
            const sessionPresent = await c.connect();
            if (this.stopped) {
              await c.disconnect().catch(() => undefined);
              return;
            }
            this.connection = c;
            this.connected = true;
            const reconnect = this.everConnected;
            this.everConnected = true;
            this.backoff.reset();
            this.log('info', reconnect ? 'mqtt reconnected' : 'mqtt connected', { endpoint: this.settings.endpoint, port: this.settings.port, sessionPresent });
            for (const t of this.subscriptions) await c.subscribe(t, mqtt.QoS.AtLeastOnce);
            for (const h of this.connectedHandlers) await h({ reconnect, sessionPresent });
            await this.flush();
          } catch (e) {
            await c?.disconnect().catch(() => undefined);
            if (this.connection === c) this.connection = undefined;
            this.connected = false;
            if (this.stopped) return;
            const delay = this.backoff.next();
            const reason = reasonOf(e);
            this.retries++;
            this.settings.onProgress?.({ step: 'backoff', retries: this.retries, reason });
            this.log('warn', `mqtt connect to ${this.settings.endpoint}:${this.settings.port} failed: ${reason}; retrying in ${Math.round(delay / 1000)} s`, { attempt: this.backoff.attempts });
            await sleep(delay, this.abort.signal);
          }
        }
      })().finally(() => {
        this.reconnecting = undefined;
      });
    }
    return this.reconnecting;
  }

  private flushing: Promise<void> | undefined;

  /** One flush at a time, in order: a publish during a flush is picked up by the running loop. */
  private flush(): Promise<void> {
    if (!this.flushing) this.flushing = this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.connected && this.connection && this.outbox.length) {
      const m = this.outbox[0]!;
      try {
        await this.connection.publish(m.topic, m.payload, mqtt.QoS.AtLeastOnce);
        this.outbox.shift();
        m.resolve();
      } catch (e) {
        this.log('warn', `mqtt publish failed, kept for the next connection: ${reasonOf(e)}`);
        return;
      }
    }
  }

  async subscribe(topic: string): Promise<void> {
    this.subscriptions.add(topic);
    if (this.connected && this.connection) await this.connection.subscribe(topic, mqtt.QoS.AtLeastOnce);
  }

  publish(topic: string, payload: string): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.stopped) return reject(new Error('transport stopped'));
      if (this.outbox.length >= MAX_OUTBOX) {
        const dropped = this.outbox.shift()!;
        dropped.reject(new Error('outbox full: oldest message dropped'));
      }
      this.outbox.push({ topic, payload, resolve, reject });
      void this.flush();
    });
  }

  onMessage(handler: (topic: string, payload: string) => void): void {
    this.messageHandlers.push(handler);
  }
  onConnected(handler: Connected): void {
    this.connectedHandlers.push(handler);
  }
  onDisconnected(handler: (reason: string) => void): void {
    this.disconnectedHandlers.push(handler);
  }

  async disconnect(): Promise<void> {
    this.stopped = true;
    this.abort.abort();
    const c = this.connection;
    this.connection = undefined;
    this.connected = false;
    for (const m of this.outbox.splice(0)) m.reject(new Error('transport stopped'));
    await c?.disconnect().catch(() => undefined);
    await this.reconnecting?.catch(() => undefined);
  }
}

export const sdkTransportFactory = (settings: TransportSettings): MqttTransport => new SdkMqttTransport(settings);
