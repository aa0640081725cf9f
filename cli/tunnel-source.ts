/**
 * The source side of an AWS IoT Secure Tunneling tunnel (what localproxy does in `source`
 * mode), following aws-samples/aws-iot-securetunneling-localproxy
 * docs/V3WebSocketProtocolGuide.md: connect to `<endpoint>/tunnel?local-proxy-mode=source`
 * with the `access-token` header and subprotocol `aws.iot.securetunneling-3.0`; wait for
 * SERVICE_IDS; listen on a loopback port; the first accepted TCP connection starts a stream
 * (STREAM_START with connection id 1), later ones while it lives send CONNECTION_START; DATA
 * both ways; a local close sends CONNECTION_RESET; resets from the peer close connections.
 */
import { createServer, type Server, type Socket } from 'node:net';
import WebSocket from 'ws';
import {
  encodeFrame, FrameReader, MAX_TUNNEL_PAYLOAD, messageBytes, TUNNEL_PATH, TUNNEL_SUBPROTOCOLS, type TunnelMessage,
} from '../lambdas/contracts/tunnel-frames.js';

export interface SourceOptions {
  readonly endpoint: string;
  readonly accessToken: string;
  readonly serviceId: string;
  /** Loopback port to listen on; 0 picks a free one. */
  readonly port?: number;
  /** Extra CA certificates for the endpoint's TLS. */
  readonly ca?: string;
}

export interface SourceSession {
  /** The loopback port clients (ssh) connect to. */
  readonly port: number;
  /** Resolves when the tunnel connection ends, with the reason. */
  readonly ended: Promise<string>;
  close(): Promise<void>;
}

/** Connects, waits for the service's SERVICE_IDS (refusing a tunnel without `serviceId`), then listens. */
export async function startSource(o: SourceOptions): Promise<SourceSession> {
  const url = `${o.endpoint.replace(/\/+$/, '')}${TUNNEL_PATH}?local-proxy-mode=source`;
  const ws = new WebSocket(url, [...TUNNEL_SUBPROTOCOLS], { headers: { 'access-token': o.accessToken }, ...(o.ca ? { ca: o.ca } : {}) });
  const reader = new FrameReader();
  const conns = new Map<number, Socket>();
  let stream = 0;
  let active = false;
  let nextConnection = 1;
  let ready: (() => void) | undefined;
  let failed: ((e: Error) => void) | undefined;
  const serviceIds = new Promise<void>((resolve, reject) => { ready = resolve; failed = reject; });

  const send = (m: TunnelMessage) => { if (ws.readyState === WebSocket.OPEN) ws.send(encodeFrame(m)); };
  const dropAll = () => { for (const s of conns.values()) s.destroy(); conns.clear(); active = false; };

  function handle(m: TunnelMessage): void {
    const cid = m.connectionId ?? 1;
    if (m.type === 'SERVICE_IDS') {
      if (m.availableServiceIds?.includes(o.serviceId)) ready?.();
      else failed?.(new Error(`the tunnel offers ${JSON.stringify(m.availableServiceIds ?? [])}, not ${o.serviceId}`));
    } else if (m.type === 'DATA' && m.streamId === stream && m.payload) {
      conns.get(cid)?.write(m.payload);
    } else if (m.type === 'CONNECTION_RESET' && m.streamId === stream) {
      const s = conns.get(cid);
      conns.delete(cid);
      s?.end();
      if (conns.size === 0) active = false;
    } else if ((m.type === 'STREAM_RESET' && m.streamId === stream) || m.type === 'SESSION_RESET') {
      dropAll();
    } else if (m.type === 'STREAM_START' || m.type === 'CONNECTION_START') {
      ws.close(1002, `a source does not accept ${m.type}`);
    }
  }

  const ended = new Promise<string>((resolve) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary) { ws.close(1003, 'text frame'); return; }
      try {
        for (const m of reader.push(messageBytes(data))) handle(m);
      } catch (e) {
        ws.close(1002, `malformed frame: ${(e as Error).message}`.slice(0, 120));
      }
    });
    ws.on('unexpected-response', (_req, res) => {
      const why = `the tunnel service refused the connection (HTTP ${res.statusCode}): the access token was already used, the tunnel is closed, or it expired`;
      failed?.(new Error(why));
      resolve(why);
      ws.terminate();
    });
    ws.on('error', (e) => { failed?.(e); resolve(`tunnel connection failed: ${e.message}`); });
    ws.on('close', (code, reason) => {
      dropAll();
      const why = `tunnel closed (${code}${reason.length ? ` ${reason.toString()}` : ''})`;
      failed?.(new Error(why));
      resolve(why);
    });
  });

  await serviceIds;

  const server: Server = createServer((socket) => {
    const cid = nextConnection++;
    if (!active) {
      stream += 1;
      active = true;
      send({ type: 'STREAM_START', streamId: stream, serviceId: o.serviceId, connectionId: cid });
    } else {
      send({ type: 'CONNECTION_START', streamId: stream, serviceId: o.serviceId, connectionId: cid });
    }
    const streamAtOpen = stream;
    conns.set(cid, socket);
    socket.on('data', (chunk: Buffer) => {
      for (let i = 0; i < chunk.length; i += MAX_TUNNEL_PAYLOAD) {
        send({ type: 'DATA', streamId: streamAtOpen, serviceId: o.serviceId, connectionId: cid, payload: chunk.subarray(i, i + MAX_TUNNEL_PAYLOAD) });
      }
    });
    socket.on('error', () => undefined);
    socket.on('close', () => {
      if (conns.get(cid) !== socket) return;
      conns.delete(cid);
      if (streamAtOpen === stream) send({ type: 'CONNECTION_RESET', streamId: stream, serviceId: o.serviceId, connectionId: cid });
      if (conns.size === 0) active = false;
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  void ended.then(() => server.close());

  return {
    port,
    ended,
    async close() {
      dropAll();
      ws.close(1000, 'closed by the CLI');
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
