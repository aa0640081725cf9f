/** The MQTT link the agent needs; the SDK implementation lives in transport-sdk.ts. */
export interface MqttTransport {
  /** Resolves once connected the first time; afterwards it reconnects by itself until disconnect(). */
  connect(): Promise<void>;
  subscribe(topic: string): Promise<void>;
  /** QoS 1. While offline the message waits in a bounded outbox and goes out on reconnect. */
  publish(topic: string, payload: string): Promise<void>;
  onMessage(handler: (topic: string, payload: string) => void): void;
  /** Called after every successful (re)connect, before queued messages are flushed. */
  onConnected(handler: (info: { readonly reconnect: boolean; readonly sessionPresent: boolean }) => void | Promise<void>): void;
  onDisconnected(handler: (reason: string) => void): void;
  disconnect(): Promise<void>;
}

export interface TransportSettings {
  readonly endpoint: string;
  readonly port: number;
  readonly clientId: string;
  readonly certificatePem: string;
  readonly keyPem: string;
  readonly caPem: string;
  readonly log?: (level: 'info' | 'warn' | 'error', message: string, fields?: Record<string, unknown>) => void;
  readonly random?: () => number;
  readonly minReconnectMs?: number;
  readonly maxReconnectMs?: number;
  /**
   * Told when a connect attempt (TLS handshake, MQTT CONNECT) starts and when a backoff after a
   * failed one starts; `retries` counts the failed attempts so far, `reason` says why the last failed.
   */
  readonly onProgress?: (p: { readonly step: 'connecting' | 'backoff'; readonly retries: number; readonly reason?: string }) => void;
}

export type TransportFactory = (settings: TransportSettings) => MqttTransport;

export const MAX_OUTBOX = 200;
